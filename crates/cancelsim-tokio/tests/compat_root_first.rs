//! The order of the `block_on` future (the root, `main#0`) against real
//! tokio: its current-thread scheduler polls that future at the top of
//! each turn, before the tasks woken with it, and a root woken by a task
//! waits until the queue runs dry or 61 tasks have run; a task's
//! `yield_now` wakes it at the top of the next turn.
//! The same program runs, written once as a macro over the crate it runs
//! on, on tokio's paused current-thread runtime and on the facade (see
//! `compat.rs`); the logs must agree.
#![cfg(cancelsim)]

use std::sync::Arc;
use std::time::Duration;

#[macro_use]
mod common;
use common::*;

/// The root and two tasks wake at 20 ms, the task registered first: tokio
/// polls the root first, then the tasks in wake order.
#[test]
fn the_root_runs_before_tasks_woken_at_the_same_instant() {
    let (real, sim) = both!(|rt, log, start| async move {
        let l2 = Arc::clone(&log);
        let x = rt::spawn(async move {
            rt::time::sleep(Duration::from_millis(20)).await;
            note!(l2, start, "x")
        });
        rt::time::sleep(Duration::from_millis(5)).await;
        let l3 = Arc::clone(&log);
        let y = rt::spawn(async move {
            rt::time::sleep(Duration::from_millis(15)).await;
            note!(l3, start, "y")
        });
        rt::time::sleep(Duration::from_millis(15)).await;
        note!(log, start, "main2");
        x.await.unwrap();
        y.await.unwrap();
    });
    assert_eq!(real, log_of(&[(20, "main2"), (20, "x"), (20, "y")]));
    assert_eq!(sim, real);
}

/// A task's send wakes the root while other tasks are queued, and a later
/// one wakes another task: the root waits until the queue runs dry.
#[test]
fn a_root_woken_by_a_task_waits_for_the_queued_tasks() {
    let (real, sim) = both!(|rt, log, start| async move {
        let (to_main, from_a) = rt::sync::oneshot::channel::<()>();
        let (to_d, from_b) = rt::sync::oneshot::channel::<()>();
        let l = Arc::clone(&log);
        let d = rt::spawn(async move {
            from_b.await.unwrap();
            note!(l, start, "d")
        });
        let l = Arc::clone(&log);
        let a = rt::spawn(async move {
            to_main.send(()).unwrap();
            note!(l, start, "a sent")
        });
        let l = Arc::clone(&log);
        let b = rt::spawn(async move {
            to_d.send(()).unwrap();
            note!(l, start, "b sent")
        });
        let l = Arc::clone(&log);
        let c = rt::spawn(async move { note!(l, start, "c") });
        from_a.await.unwrap();
        note!(log, start, "main");
        for task in [d, a, b, c] {
            task.await.unwrap();
        }
    });
    assert_eq!(
        real,
        log_of(&[
            (0, "a sent"),
            (0, "b sent"),
            (0, "c"),
            (0, "d"),
            (0, "main")
        ])
    );
    assert_eq!(sim, real);
}

/// The root woken by the first of 100 queued tasks runs after 61 of them
/// (tokio's `event_interval`), before the rest.
#[test]
fn a_woken_root_runs_after_a_turn_of_61_tasks() {
    let (real, sim) = both!(|rt, log, start| async move {
        let (to_main, from_first) = rt::sync::oneshot::channel::<()>();
        let mut to_main = Some(to_main);
        let mut tasks = Vec::new();
        for n in 0..100 {
            let l = Arc::clone(&log);
            let to_main = to_main.take();
            tasks.push(rt::spawn(async move {
                if let Some(to_main) = to_main {
                    to_main.send(()).unwrap();
                }
                note!(l, start, "t{n}")
            }));
        }
        from_first.await.unwrap();
        note!(log, start, "main");
        for task in tasks {
            task.await.unwrap();
        }
    });
    let main_at = real.iter().position(|(_, what)| what == "main");
    assert_eq!(main_at, Some(61), "{real:?}");
    assert_eq!(sim, real);
}

/// `#[tokio::test]` (current-thread): the baseline and every explored
/// schedule poll the body first when its timer is due with the tasks'.
#[cancelsim_tokio::test(crate = "cancelsim_tokio")]
async fn the_test_body_runs_first_in_every_schedule() {
    use cancelsim_tokio as rt;
    let ran = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tasks: Vec<_> = (0..2)
        .map(|_| {
            let ran = Arc::clone(&ran);
            rt::spawn(async move {
                rt::time::sleep(Duration::from_millis(20)).await;
                ran.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            })
        })
        .collect();
    rt::task::yield_now().await;
    rt::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(ran.load(std::sync::atomic::Ordering::SeqCst), 0);
    for task in tasks {
        task.await.unwrap();
    }
}

/// tokio defers a task's `yield_now` wake to the top of the next turn: a
/// task that yields runs again after the root a task woke meanwhile.
#[test]
fn a_yielding_task_runs_again_after_the_woken_root() {
    let (real, sim) = both!(|rt, log, start| async move {
        let (to_main, from_b) = rt::sync::oneshot::channel::<()>();
        let l = Arc::clone(&log);
        let a = rt::spawn(async move {
            note!(l, start, "a1");
            rt::task::yield_now().await;
            note!(l, start, "a2")
        });
        let b = rt::spawn(async move { to_main.send(()).unwrap() });
        from_b.await.unwrap();
        note!(log, start, "main");
        a.await.unwrap();
        b.await.unwrap();
    });
    assert_eq!(real, log_of(&[(0, "a1"), (0, "main"), (0, "a2")]));
    assert_eq!(sim, real);
}
