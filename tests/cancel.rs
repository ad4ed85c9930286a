//! Cooperative cancellation: requests delivered once as `Err(Cancelled)`, the
//! signal that stays set, `or_cancel`, `shield`, and when a cancelled task
//! counts as finished.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use cancelsim::cancel::{cancelled, checkpoint, is_cancelled, shield, Cancelled, OrCancel};
use cancelsim::time::{sleep, Instant};
use cancelsim::{spawn, yield_now};
use futures::FutureExt;

mod common;
use common::{drop_flag, ms, sim};

/// Seed of the simulations of this file.
const SEED: u64 = 5;

#[test]
fn checkpoint_delivers_a_request_once_then_returns_ok() {
    let mut sim = sim(SEED);
    let results = sim
        .block_on(async {
            let task = spawn(async {
                let first = checkpoint().await; // swallowed below
                let second = checkpoint().await;
                (first, second)
            });
            task.cancel();
            task.await.unwrap()
        })
        .unwrap();
    assert_eq!(results, (Err(Cancelled), Ok(())));
    let text = sim.trace().to_string();
    assert_eq!(
        text.matches("cancel requested by main#0").count(),
        1,
        "{text}"
    );
    assert_eq!(
        text.matches("cancel delivered as Err(Cancelled) at tests/cancel.rs:")
            .count(),
        1,
        "{text}"
    );
}

#[test]
fn two_cancel_calls_are_two_requests() {
    let results = sim(SEED)
        .block_on(async {
            let task =
                spawn(async { (checkpoint().await, checkpoint().await, checkpoint().await) });
            task.cancel();
            task.cancel();
            task.await.unwrap()
        })
        .unwrap();
    assert_eq!(results, (Err(Cancelled), Err(Cancelled), Ok(())));
}

#[test]
fn a_new_request_after_a_swallowed_one_is_delivered_again() {
    let results = sim(SEED)
        .block_on(async {
            let task = spawn(async {
                let first = checkpoint().await;
                sleep(ms(10)).await;
                let second = checkpoint().await;
                let third = checkpoint().await;
                (first, second, third)
            });
            task.cancel();
            sleep(ms(5)).await;
            task.cancel();
            task.await.unwrap()
        })
        .unwrap();
    assert_eq!(results, (Err(Cancelled), Err(Cancelled), Ok(())));
}

#[test]
fn the_cancel_signal_stays_set_after_the_request_is_delivered() {
    sim(SEED)
        .block_on(async {
            let task = spawn(async {
                let before = is_cancelled();
                cancelled().await;
                let after_signal = is_cancelled();
                let delivered = checkpoint().await;
                let after_delivery = is_cancelled();
                let signal_again = cancelled().now_or_never().is_some();
                (
                    before,
                    after_signal,
                    delivered,
                    after_delivery,
                    signal_again,
                )
            });
            yield_now().await; // the task waits in cancelled()
            assert!(!task.is_finished());
            task.cancel();
            let (before, after_signal, delivered, after_delivery, signal_again) =
                task.await.unwrap();
            assert!(!before);
            assert!(after_signal);
            assert_eq!(delivered, Err(Cancelled));
            assert!(after_delivery, "delivery does not clear the signal");
            assert!(signal_again, "cancelled() is ready at once once set");
        })
        .unwrap();
}

#[test]
fn is_cancelled_is_false_outside_a_simulation_and_for_an_uncancelled_task() {
    assert!(!is_cancelled());
    let inside = sim(SEED).block_on(async { is_cancelled() }).unwrap();
    assert!(!inside);
}

#[test]
fn or_cancel_drops_the_inner_future_and_returns_cancelled() {
    sim(SEED)
        .block_on(async {
            let (guard, dropped) = drop_flag();
            let task = spawn(async move {
                async move {
                    let _guard = guard;
                    sleep(Duration::from_secs(1)).await;
                    1
                }
                .or_cancel()
                .await
            });
            sleep(ms(10)).await;
            task.cancel();
            assert!(!dropped.get(), "cooperative: seen at the task's next poll");
            assert_eq!(task.await.unwrap(), Err(Cancelled));
            assert!(dropped.get());
            assert_eq!(Instant::now().since_start(), ms(10));
        })
        .unwrap();
}

#[test]
fn or_cancel_returns_the_value_when_the_inner_future_completes() {
    let out = sim(SEED)
        .block_on(async {
            spawn(async {
                async {
                    sleep(ms(5)).await;
                    3
                }
                .or_cancel()
                .await
            })
            .await
            .unwrap()
        })
        .unwrap();
    assert_eq!(out, Ok(3));
}

#[test]
fn shield_work_completes_while_the_cancelled_awaiter_sees_cancelled_at_once() {
    sim(SEED)
        .block_on(async {
            let done_at = Rc::new(Cell::new(None));
            let task = spawn({
                let done_at = Rc::clone(&done_at);
                async move {
                    shield(async move {
                        sleep(ms(50)).await;
                        // The work is its own task: the awaiter's request is not its own.
                        let inner_checkpoint = checkpoint().await;
                        done_at.set(Some(Instant::now()));
                        inner_checkpoint
                    })
                    .await
                }
            });
            sleep(ms(10)).await;
            task.cancel();
            assert_eq!(task.await.unwrap(), Err(Cancelled));
            assert_eq!(Instant::now().since_start(), ms(10), "no wait for the work");
            assert_eq!(done_at.get(), None);
            sleep(ms(100)).await;
            assert_eq!(done_at.get().map(Instant::since_start), Some(ms(50)));
        })
        .unwrap();
}

#[test]
fn shield_gives_the_value_when_not_cancelled() {
    let out = sim(SEED)
        .block_on(async {
            shield(async {
                sleep(ms(5)).await;
                "kept"
            })
            .await
        })
        .unwrap();
    assert_eq!(out, Ok("kept"));
}

#[test]
fn shield_work_completes_when_the_awaiter_is_aborted() {
    sim(SEED)
        .block_on(async {
            let done = Rc::new(Cell::new(false));
            let (guard, awaiter_dropped) = drop_flag();
            let task = spawn({
                let done = Rc::clone(&done);
                async move {
                    let _guard = guard;
                    shield(async move {
                        sleep(ms(50)).await;
                        done.set(true);
                    })
                    .await
                }
            });
            sleep(ms(10)).await;
            task.abort();
            assert!(awaiter_dropped.get());
            assert!(task.await.unwrap_err().is_cancelled());
            assert!(!done.get());
            sleep(ms(100)).await;
            assert!(
                done.get(),
                "shielded work runs on after its awaiter is aborted"
            );
        })
        .unwrap();
}

#[test]
fn a_cancelled_task_is_not_finished_until_its_cleanup_returns() {
    sim(SEED)
        .block_on(async {
            let task = spawn(async {
                cancelled().await;
                sleep(ms(20)).await; // cleanup
                Instant::now()
            });
            yield_now().await;
            task.cancel();
            assert!(!task.is_finished(), "right after the request");
            sleep(ms(10)).await;
            assert!(!task.is_finished(), "during its cleanup");
            sleep(ms(20)).await;
            assert!(task.is_finished());
            assert_eq!(task.await.unwrap().since_start(), ms(20));
        })
        .unwrap();
}

#[test]
fn a_request_waits_for_the_next_await_point_after_cpu_work() {
    let (delivered_at, polls) = sim(SEED)
        .block_on(async {
            let polls = Rc::new(Cell::new(0));
            let task = spawn({
                let polls = Rc::clone(&polls);
                async move {
                    loop {
                        polls.set(polls.get() + 1);
                        cancelsim::work(ms(10));
                        if checkpoint().await.is_err() {
                            return Instant::now();
                        }
                    }
                }
            });
            yield_now().await;
            task.cancel();
            (task.await.unwrap(), polls)
        })
        .unwrap();
    // First poll: 10ms of work, then checkpoint suspends; the request made
    // meanwhile is delivered when it resumes.
    assert_eq!(delivered_at.since_start(), ms(10));
    assert_eq!(polls.get(), 1);
}
