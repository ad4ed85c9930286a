//! Runtime items against real tokio: `LocalSet::run_until` with
//! `spawn_local`, `Handle::current().spawn`, `#[main]` on a function other
//! than `main`, and the multi-thread builder's `block_on` (facade only).
//! The same program runs, written once as a macro over the crate it runs
//! on, on tokio's paused current-thread runtime and on the facade (see
//! `compat.rs`); the logs must agree, or differ exactly as documented.
#![cfg(cancelsim)]

use std::sync::Arc;
use std::time::Duration;

#[macro_use]
mod common;
use common::*;

#[test]
fn local_set_run_until_with_spawn_local_agrees_with_tokio() {
    let (real, sim) = both!(|rt, log, start| async move {
        use std::cell::Cell;
        use std::rc::Rc;
        let local = rt::task::LocalSet::new();
        let out = local
            .run_until(async {
                let shared = Rc::new(Cell::new(0)); // not Send
                let first = rt::task::spawn_local({
                    let shared = Rc::clone(&shared);
                    let log = Arc::clone(&log);
                    async move {
                        rt::time::sleep(Duration::from_millis(5)).await;
                        shared.set(shared.get() + 1);
                        note!(log, start, "spawn_local task ran");
                        7
                    }
                });
                let second = local.spawn_local({
                    let shared = Rc::clone(&shared);
                    let log = Arc::clone(&log);
                    async move {
                        rt::time::sleep(Duration::from_millis(8)).await;
                        shared.set(shared.get() + 10);
                        note!(log, start, "LocalSet::spawn_local task ran");
                    }
                });
                let value = first.await.unwrap();
                second.await.unwrap();
                value + shared.get()
            })
            .await;
        note!(log, start, "run_until gave {out}");
    });
    assert_eq!(real, sim);
    assert_eq!(
        sim,
        log_of(&[
            (5, "spawn_local task ran"),
            (8, "LocalSet::spawn_local task ran"),
            (8, "run_until gave 18"),
        ])
    );
}

#[test]
fn handle_current_spawn_agrees_with_tokio() {
    let (real, sim) = both!(|rt, log, start| async move {
        let handle = rt::runtime::Handle::current();
        let task = handle.spawn({
            let log = Arc::clone(&log);
            async move {
                rt::time::sleep(Duration::from_millis(5)).await;
                note!(log, start, "spawned through the handle");
                9
            }
        });
        let value = task.await.unwrap();
        note!(log, start, "joined {value}");
    });
    assert_eq!(real, sim);
    assert_eq!(
        sim,
        log_of(&[(5, "spawned through the handle"), (5, "joined 9")])
    );
}

#[cancelsim_tokio::main(crate = "cancelsim_tokio")]
async fn computed_on_a_simulated_main() -> (u32, u128) {
    let start = cancelsim_tokio::time::Instant::now();
    let task = cancelsim_tokio::spawn(async {
        cancelsim_tokio::time::sleep(Duration::from_millis(25)).await;
        40
    });
    let value = task.await.unwrap() + 2;
    (value, start.elapsed().as_millis())
}

#[test]
fn main_attribute_on_a_non_main_fn_returns_its_value_facade_only() {
    assert!(!cancelsim::in_simulation());
    assert_eq!(computed_on_a_simulated_main(), (42, 25));
    // Each call is a fresh runtime, a fresh virtual clock.
    assert_eq!(computed_on_a_simulated_main(), (42, 25));
}

/// The flavor `#[tokio::main]` runs on, and whether the body ran before a
/// task woken at the same instant (tokio's current-thread runtime polls
/// its `block_on` future first).
macro_rules! flavored_main {
    ($rt:ident) => {
        async {
            let flavor = $rt::runtime::Handle::current().runtime_flavor();
            let order = Arc::new(std::sync::Mutex::new(Vec::new()));
            let o = Arc::clone(&order);
            let task = $rt::spawn(async move {
                $rt::time::sleep(Duration::from_millis(5)).await;
                o.lock().unwrap().push("task");
            });
            $rt::task::yield_now().await; // the task's timer first
            $rt::time::sleep(Duration::from_millis(5)).await;
            order.lock().unwrap().push("main");
            task.await.unwrap();
            let order = order.lock().unwrap().clone();
            (format!("{flavor:?}"), order)
        }
    };
}

#[cancelsim_tokio::main(crate = "cancelsim_tokio", flavor = "current_thread")]
async fn simulated_current_thread_main() -> (String, Vec<&'static str>) {
    flavored_main!(cancelsim_tokio).await
}

#[tokio::main(flavor = "current_thread", start_paused = true)]
async fn real_current_thread_main() -> (String, Vec<&'static str>) {
    flavored_main!(tokio).await
}

#[cancelsim_tokio::main(crate = "cancelsim_tokio")]
async fn simulated_default_main() -> String {
    format!(
        "{:?}",
        cancelsim_tokio::runtime::Handle::current().runtime_flavor()
    )
}

#[test]
fn a_current_thread_main_runs_as_tokios_current_thread_runtime() {
    let real = real_current_thread_main();
    assert_eq!(real, ("CurrentThread".to_string(), vec!["main", "task"]));
    assert_eq!(simulated_current_thread_main(), real);
    // `#[tokio::main]` without a flavor is tokio's multi-thread runtime.
    assert_eq!(simulated_default_main(), "MultiThread");
}

#[test]
fn multi_thread_builder_block_on_facade_only() {
    let runtime = cancelsim_tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let (sum, elapsed) = runtime.block_on(async {
        let start = cancelsim_tokio::time::Instant::now();
        let tasks: Vec<_> = (1..=4u64)
            .map(|i| {
                cancelsim_tokio::spawn(async move {
                    cancelsim_tokio::time::sleep(Duration::from_millis(10 * i)).await;
                    i
                })
            })
            .collect();
        let mut sum = 0;
        for task in tasks {
            sum += task.await.unwrap();
        }
        (sum, start.elapsed())
    });
    assert_eq!((sum, elapsed), (10, Duration::from_millis(40)));
    // The runtime is kept across `block_on` calls.
    let again = runtime.block_on(async {
        cancelsim_tokio::time::sleep(Duration::from_millis(1)).await;
        "again"
    });
    assert_eq!(again, "again");
}
