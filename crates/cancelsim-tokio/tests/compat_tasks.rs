//! Tasks against real tokio: `yield_now` interleaving, abort handles and
//! when an aborted future is dropped, the task builder, `spawn_blocking`,
//! `join!` / `try_join!`.
//! The same program runs, written once as a macro over the crate it runs
//! on, on tokio's paused current-thread runtime and on the facade (see
//! `compat.rs`); the logs must agree, or differ exactly as documented.
#![cfg(cancelsim)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

#[macro_use]
mod common;
use common::*;

#[test]
fn yield_now_interleaves_two_tasks_as_tokio() {
    let (real, sim) = both!(|rt, log, start| async move {
        let mut tasks = Vec::new();
        for name in ["a", "b"] {
            let log = Arc::clone(&log);
            tasks.push(rt::spawn(async move {
                for i in 0..3 {
                    note!(log, start, "{name}{i}");
                    rt::task::yield_now().await;
                }
            }));
        }
        note!(log, start, "spawned");
        for task in tasks {
            task.await.unwrap();
        }
        note!(log, start, "joined");
    });
    let order =
        |log: &[(u128, String)]| -> Vec<String> { log.iter().map(|(_, s)| s.clone()).collect() };
    // Both interleave: in each round every task runs one step (and the
    // spawner only runs again when both are done).
    for log in [&real, &sim] {
        let steps = order(log);
        assert_eq!(steps.first().map(String::as_str), Some("spawned"));
        assert_eq!(steps.last().map(String::as_str), Some("joined"));
        for (round, pair) in steps[1..7].chunks(2).enumerate() {
            let mut pair = pair.to_vec();
            pair.sort();
            assert_eq!(pair, [format!("a{round}"), format!("b{round}")], "{log:?}");
        }
        assert!(log.iter().all(|(t, _)| *t == 0));
    }
    // Documented difference in the order within a round: the facade runs
    // yielded tasks in FIFO order; tokio's current-thread scheduler keeps
    // yielded tasks in a "defer" list that it wakes last-in first-out, so
    // the order within a round alternates. tokio promises no order here.
    assert_eq!(
        order(&sim),
        ["spawned", "a0", "b0", "a1", "b1", "a2", "b2", "joined"]
    );
    assert_eq!(
        order(&real),
        ["spawned", "a0", "b0", "b1", "a1", "a2", "b2", "joined"]
    );
}

#[test]
fn abort_handle_and_is_finished_agree_with_tokio() {
    let (real, sim) = both!(|rt, log, start| async move {
        let forever = rt::spawn(async {
            rt::time::sleep(Duration::from_secs(3600)).await;
        });
        let abort = forever.abort_handle();
        rt::time::sleep(Duration::from_millis(5)).await;
        note!(
            log,
            start,
            "running: handle {} abort handle {}",
            forever.is_finished(),
            abort.is_finished()
        );
        abort.abort();
        rt::task::yield_now().await;
        note!(
            log,
            start,
            "aborted, after a yield: handle {} abort handle {}",
            forever.is_finished(),
            abort.is_finished()
        );
        let error = forever.await.unwrap_err();
        note!(log, start, "joined: cancelled {}", error.is_cancelled());
        note!(
            log,
            start,
            "abort handle after join: {}",
            abort.is_finished()
        );

        let short = rt::spawn(async {
            rt::time::sleep(Duration::from_millis(10)).await;
            2
        });
        rt::time::sleep(Duration::from_millis(5)).await;
        note!(log, start, "short, mid-sleep: {}", short.is_finished());
        rt::time::sleep(Duration::from_millis(10)).await;
        note!(
            log,
            start,
            "short, unjoined, past its end: {}",
            short.is_finished()
        );
        let short = short.await.map_err(|_| ());
        note!(log, start, "short joined: {short:?}");

        // Aborting a finished task changes nothing: the value is kept.
        let done = rt::spawn(async { 3 });
        rt::task::yield_now().await;
        note!(log, start, "done: {}", done.is_finished());
        done.abort();
        done.abort_handle().abort();
        let done = done.await.map_err(|_| ());
        note!(log, start, "done after abort: {done:?}");
    });
    assert_eq!(real, sim);
    assert_eq!(sim.len(), 9, "{sim:?}");
}

/// When the aborted task's future is dropped: tokio's `abort()` only marks
/// the task, and the runtime drops its future the next time it would run it,
/// so right after `abort()` `is_finished()` is still false and the future's
/// destructors have not run (they never run while the aborting task holds a
/// lock they want). The facade's `abort()` is cancelsim's `request_abort`,
/// which does the same.
#[test]
fn abort_drops_the_future_when_the_task_next_runs_as_tokio() {
    let (real, sim) = both!(|rt, log, start| async move {
        struct OnDrop(Log, rt::time::Instant, Arc<Mutex<()>>);
        impl Drop for OnDrop {
            fn drop(&mut self) {
                let (log, start) = (&self.0, self.1);
                let free = self.2.try_lock().is_ok();
                note!(log, start, "aborted future dropped, mutex free: {free}");
            }
        }
        let shared = Arc::new(Mutex::new(()));
        let forever = rt::spawn({
            let guard = OnDrop(Arc::clone(&log), start, Arc::clone(&shared));
            async move {
                let _guard = guard;
                rt::time::sleep(Duration::from_secs(3600)).await;
            }
        });
        rt::task::yield_now().await; // the task waits in its sleep
        {
            let _held = shared.lock().unwrap();
            forever.abort();
            note!(
                log,
                start,
                "right after abort: finished {}",
                forever.is_finished()
            );
        }
        rt::task::yield_now().await;
        note!(
            log,
            start,
            "after a yield: finished {}",
            forever.is_finished()
        );
        let error = forever.await.unwrap_err();
        note!(log, start, "cancelled {}", error.is_cancelled());
    });
    assert_eq!(
        real,
        log_of(&[
            (0, "right after abort: finished false"),
            (0, "aborted future dropped, mutex free: true"),
            (0, "after a yield: finished true"),
            (0, "cancelled true"),
        ])
    );
    assert_eq!(
        sim, real,
        "the facade's abort drops the future later, as tokio's"
    );
}

/// tokio's task `Builder` exists only with `--cfg tokio_unstable` (and the
/// `tracing` feature), which this workspace does not set: there is nothing
/// to compare with, so this tests the facade alone.
#[test]
fn task_builder_names_the_task_facade_only() {
    let mut sim = cancelsim::Sim::new(cancelsim::Config::default());
    let value = sim
        .block_on(async {
            let handle = cancelsim_tokio::task::Builder::new()
                .name("named-worker")
                .spawn(async {
                    cancelsim_tokio::time::sleep(Duration::from_millis(3)).await;
                    5
                })
                .unwrap();
            let unnamed = cancelsim_tokio::task::Builder::new()
                .spawn(async { 6 })
                .unwrap();
            handle.await.unwrap() + unnamed.await.unwrap()
        })
        .unwrap();
    assert_eq!(value, 11);
    let trace = sim.trace().to_string();
    assert!(trace.contains("named-worker"), "{trace}");
}

#[test]
fn spawn_blocking_result_agrees_with_tokio_and_costs_one_ms_by_default() {
    let program = || {
        both!(|rt, log, start| async move {
            let value = rt::task::spawn_blocking(|| 6 * 7).await.unwrap();
            note!(log, start, "blocking gave {value}");
            let text = rt::runtime::Handle::current()
                .spawn_blocking(|| "handle".to_string())
                .await
                .unwrap();
            note!(log, start, "handle's blocking gave {text}");
        })
    };
    let (real, sim) = with_blocking_cost(Duration::ZERO, program);
    assert_eq!(real, sim);
    assert_eq!(
        sim,
        log_of(&[
            (0, "blocking gave 42"),
            (0, "handle's blocking gave handle")
        ])
    );
    // Documented difference: by default each blocking call costs the
    // facade 1 ms of virtual time; tokio's paused clock does not move.
    let (real, sim) = with_blocking_cost(Duration::from_millis(1), program);
    assert_eq!(
        real,
        log_of(&[
            (0, "blocking gave 42"),
            (0, "handle's blocking gave handle")
        ])
    );
    assert_eq!(
        sim,
        log_of(&[
            (1, "blocking gave 42"),
            (2, "handle's blocking gave handle")
        ])
    );
}

#[test]
fn join_and_try_join_agree_with_tokio() {
    let (real, sim) = both!(|rt, log, start| async move {
        let (a, b) = rt::join!(
            async {
                rt::time::sleep(Duration::from_millis(10)).await;
                note!(log, start, "join: a");
                1
            },
            async {
                rt::time::sleep(Duration::from_millis(5)).await;
                note!(log, start, "join: b");
                2
            },
        );
        note!(log, start, "join gave {a} {b}");
        let failed: Result<(u8, u8), String> = rt::try_join!(
            async {
                rt::time::sleep(Duration::from_millis(20)).await;
                note!(log, start, "try_join: slow branch finished (should not)");
                Ok::<u8, String>(1)
            },
            async {
                rt::time::sleep(Duration::from_millis(5)).await;
                Err::<u8, String>("bad".to_string())
            },
        );
        note!(log, start, "try_join gave {failed:?}");
        let ok: Result<(u8, u8), String> = rt::try_join!(
            async {
                rt::time::sleep(Duration::from_millis(3)).await;
                Ok::<u8, String>(1)
            },
            async {
                rt::time::sleep(Duration::from_millis(4)).await;
                Ok::<u8, String>(2)
            },
        );
        note!(log, start, "try_join gave {ok:?}");
        rt::time::sleep(Duration::from_millis(30)).await; // the dropped branch stays dropped
        note!(log, start, "end");
    });
    assert_eq!(real, sim);
    assert_eq!(
        sim,
        log_of(&[
            (5, "join: b"),
            (10, "join: a"),
            (10, "join gave 1 2"),
            (15, "try_join gave Err(\"bad\")"),
            (19, "try_join gave Ok((1, 2))"),
            (49, "end"),
        ])
    );
}
