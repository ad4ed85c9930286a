//! Memory: a finished task leaves nothing behind. Its future is dropped as
//! soon as it ends (not when it is joined), and its slot in the task table
//! is reused, so a world that spawns and joins forever stays the same size.
//! No timing and no RSS here: the observables are drop flags and the task
//! table's slot count.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use cancelsim::{spawn, yield_now, Config, Sim, TraceMode};

mod common;
use common::{drop_flag, sim, DropFlag};

/// Seed of the simulations of this file.
const SEED: u64 = 5;

/// A hand-written future that yields `yields` times, then returns 7 (or
/// panics, when `panics`). Its drop flag is a field, not a local of an async
/// body: it is dropped with the future itself, when whoever owns the future
/// frees it, and not when the body returns.
struct Countdown {
    yields: u32,
    panics: bool,
    _flag: DropFlag,
}

impl Future for Countdown {
    type Output = u32;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        if self.yields > 0 {
            self.yields -= 1;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if self.panics {
            panic!("countdown failed");
        }
        Poll::Ready(7)
    }
}

#[test]
fn a_finished_tasks_future_is_dropped_before_anyone_joins_it() {
    sim(SEED)
        .block_on(async {
            let (flag, dropped) = drop_flag();
            let task = spawn(Countdown {
                yields: 1,
                panics: false,
                _flag: flag,
            });
            yield_now().await; // the task yields once
            assert!(!task.is_finished());
            assert!(!dropped.get(), "a live task keeps its future");
            yield_now().await; // the task returns
            assert!(task.is_finished());
            assert!(
                dropped.get(),
                "the future is freed when the task returns, not when it is joined"
            );
            assert_eq!(task.await.unwrap(), 7);
        })
        .unwrap();
}

#[test]
fn a_panicked_tasks_future_is_dropped_before_anyone_joins_it() {
    sim(SEED)
        .block_on(async {
            let (flag, dropped) = drop_flag();
            let task = spawn(Countdown {
                yields: 0,
                panics: true,
                _flag: flag,
            });
            yield_now().await; // the task panics
            assert!(task.is_finished());
            assert!(dropped.get(), "the future is freed when the task panics");
            assert!(task.await.unwrap_err().is_panic());
        })
        .unwrap();
}

/// Spawns and joins `cycles` tasks, `at_once` alive at a time.
async fn spawn_and_join(cycles: usize, at_once: usize) {
    for _ in 0..cycles / at_once {
        let tasks: Vec<_> = (0..at_once)
            .map(|n| {
                spawn(async move {
                    yield_now().await;
                    n
                })
            })
            .collect();
        for (n, task) in tasks.into_iter().enumerate() {
            assert_eq!(task.await.unwrap(), n);
        }
    }
}

#[test]
fn the_task_table_does_not_grow_over_100_000_spawn_join_cycles() {
    let mut sim = Sim::new(Config::default().seed(SEED).trace(TraceMode::Off));
    sim.block_on(spawn_and_join(100_000, 1)).unwrap();
    assert_eq!(sim.live_tasks(), 0);
    // The root and one task at a time: two slots, reused 100,000 times.
    assert_eq!(sim.task_slots(), 2);
}

#[test]
fn the_task_table_grows_only_to_the_most_tasks_alive_at_once() {
    let mut sim = Sim::new(Config::default().seed(SEED).trace(TraceMode::Off));
    sim.block_on(spawn_and_join(100, 10)).unwrap();
    assert_eq!(sim.task_slots(), 11, "the root and 10 tasks at a time");
    sim.block_on(spawn_and_join(100_000, 10)).unwrap();
    assert_eq!(sim.live_tasks(), 0);
    assert_eq!(
        sim.task_slots(),
        11,
        "a second block_on and 100,000 more spawns reuse the same slots"
    );
}
