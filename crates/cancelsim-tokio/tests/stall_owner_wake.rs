//! A stall stands for a slow operation, not a task deaf to its owner: a
//! task stalled where it waits for its owner's stop (a token's
//! `cancelled()`, a shutdown channel) sees the owner's stop at once, as on
//! tokio, so the owner's `timeout(1s, handle)` does not expire for it.
//! (Trial 9: a backoff refresher waiting on `token.cancelled()`, awaited by
//! a test helper's `timeout(1s, task).expect(..)`, was reported.) A stall
//! where the task waits on something else still holds it there.
//! (Only with `--cfg cancelsim`.)
#![cfg(cancelsim)]

use std::time::Duration;

use cancelsim_tokio::sync::oneshot;
use cancelsim_tokio::time::{sleep, timeout};

mod common;
use common::{failing_repros as failing, tokio_sweep as sweep};

/// The owner stops a worker that waits for the stop (with `slow_job`, it
/// first does a 10 ms job it does not interrupt), then gives it a second.
async fn owner(slow_job: bool) {
    let (stop, stopped) = oneshot::channel::<()>();
    let worker = cancelsim_tokio::spawn(async move {
        if slow_job {
            sleep(Duration::from_millis(10)).await;
        }
        let _ = stopped.await;
    });
    sleep(Duration::from_millis(20)).await;
    let _ = stop.send(());
    timeout(Duration::from_secs(1), worker)
        .await
        .expect("the worker stops within a second")
        .unwrap();
}

#[test]
fn a_stalled_wait_for_the_owners_stop_sees_the_stop() {
    let report = sweep(|| owner(false));
    // The worker was stalled where it waits for the stop...
    assert!(
        report.counts().per_kind.get("stall").copied().unwrap_or(0) > 0,
        "{report}"
    );
    // ... and no stall failed the run (the owner's own timeout expired
    // by an injection is another matter: its `expect` is reported).
    let repros = failing(&report);
    assert!(!repros.iter().any(|r| r.contains("stall@")), "{repros:?}");
}

#[test]
fn a_stall_in_the_job_before_it_still_holds_the_task() {
    // Stalled in its 10 ms job, the worker is still running when the
    // second is over: the owner's `expect` is code under test here.
    let report = sweep(|| owner(true));
    let repros = failing(&report);
    assert!(
        repros.iter().any(|r| r.contains("inject=stall@1:1")),
        "{repros:?}"
    );
    assert!(
        report
            .to_string()
            .contains("the worker stops within a second"),
        "{report}"
    );
}
