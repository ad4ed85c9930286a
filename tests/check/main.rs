//! The runner itself: repro lines, report counts and coverage, thread-count
//! independence, sampling and sharding, the JSON and JUnit forms,
//! `assert_clean`, and the `CANCELSIM_*` environment (through a child
//! process, so this process's environment is never touched).
//!
//! One module per concern; the programs they check are here.

use std::mem::ManuallyDrop;

use cancelsim::time::{sleep, timeout};
use cancelsim::{resource, spawn_named, yield_now};

#[path = "../common/mod.rs"]
mod common;
use common::{location_in, ms};

mod environment;
mod formats;
mod report;
mod repro;
mod sampling;

/// A clean program with four await points, all resumed:
/// `main` 1 (the sleep inside a timeout), `main` 2 (joining the child),
/// `child` 1 (sleep), `child` 2 (yield).
async fn small_program() {
    let child = spawn_named("child", async {
        sleep(ms(10)).await;
        yield_now().await;
    })
    .abort_on_drop();
    let _ = timeout(ms(100), sleep(ms(5))).await;
    let _ = child.await;
}

/// Releases its resources by hand on the success path only, so a drop at any
/// of its five await points leaks one: `main` 1 (sleep), `worker` 1 (sleep),
/// `main` 2 (yield), `main` 3 (join), `worker` 2 (yield), in that order.
async fn leaky_program() {
    let worker = spawn_named("worker", async {
        let conn = ManuallyDrop::new(resource::acquire("db"));
        sleep(ms(5)).await;
        yield_now().await;
        ManuallyDrop::into_inner(conn).release();
    })
    .abort_on_drop();
    let log = ManuallyDrop::new(resource::acquire("log"));
    sleep(ms(1)).await;
    yield_now().await;
    let _ = worker.await;
    ManuallyDrop::into_inner(log).release();
}

/// `tests/check/main.rs:LINE:COLUMN` of `token` on the first line of this
/// file that contains `marker`.
fn location_of(marker: &str, token: &str) -> String {
    location_in(
        "tests/check/main.rs",
        include_str!("main.rs"),
        marker,
        token,
    )
}
