//! Sleeps: virtual time moved by exactly their duration, `sleep_until`,
//! and the waker a sleep wakes wherever it is polled.

use std::time::Duration;

use cancelsim::time::{sleep, sleep_until, Instant};
use cancelsim::{spawn, yield_now};

use crate::common::{ms, sim};
use crate::SEED;

#[test]
fn sleep_advances_virtual_time_by_exactly_its_duration() {
    let mut sim = sim(SEED);
    let times = sim
        .block_on(async {
            let start = Instant::now();
            sleep(ms(1500)).await;
            let after_sleep = Instant::now();
            sleep(Duration::from_nanos(1)).await;
            (start, after_sleep, Instant::now())
        })
        .unwrap();
    assert_eq!(times.0, Instant::ZERO);
    assert_eq!(times.1.since_start(), ms(1500));
    assert_eq!(times.2.as_nanos(), 1_500_000_001);
    assert_eq!(sim.now(), times.2);
}

#[test]
fn a_simulated_day_of_sleeps_takes_one_poll_per_sleep() {
    let mut sim = sim(SEED);
    let elapsed = sim
        .block_on(async {
            let start = Instant::now();
            for _ in 0..24 * 60 {
                sleep(Duration::from_secs(60)).await;
            }
            start.elapsed()
        })
        .unwrap();
    assert_eq!(elapsed, Duration::from_secs(24 * 3600));
    assert_eq!(sim.now().since_start(), Duration::from_secs(24 * 3600));
    // The clock jumps from timer to timer: nothing polls in between.
    assert_eq!(sim.steps(), 24 * 60 + 1);
}

#[test]
fn sleep_until_wakes_at_the_deadline() {
    let woke_at = sim(SEED)
        .block_on(async {
            sleep(ms(100)).await;
            sleep_until(Instant::ZERO + ms(250)).await;
            Instant::now()
        })
        .unwrap();
    assert_eq!(woke_at.since_start(), ms(250));
}

#[test]
fn sleep_until_a_past_instant_returns_without_suspending() {
    let mut sim = sim(SEED);
    let now = sim
        .block_on(async {
            sleep(ms(100)).await;
            sleep_until(Instant::ZERO + ms(50)).await;
            sleep_until(Instant::now()).await;
            Instant::now()
        })
        .unwrap();
    assert_eq!(now.since_start(), ms(100));
    assert_eq!(sim.steps(), 2, "only the first sleep suspends");
}

#[test]
fn a_sleep_polled_by_a_combinator_wakes_through_the_combinators_waker() {
    use futures::stream::{FuturesUnordered, StreamExt};
    let mut sim = sim(SEED);
    let finished = sim
        .block_on(async {
            let start = Instant::now();
            let mut sleeps: FuturesUnordered<_> = [30u64, 10, 20]
                .into_iter()
                .map(|delay| async move {
                    sleep(ms(delay)).await;
                    (delay, start.elapsed())
                })
                .collect();
            let mut finished = Vec::new();
            while let Some(done) = sleeps.next().await {
                finished.push(done);
            }
            finished
        })
        .unwrap();
    assert_eq!(
        finished,
        [(10, ms(10)), (20, ms(20)), (30, ms(30))],
        "each sleep wakes the combinator at its own deadline"
    );
}

#[test]
fn a_sleep_armed_in_one_task_and_awaited_in_another_wakes_the_second() {
    let mut sim = sim(SEED);
    let woke_at = sim
        .block_on(async {
            let (hand_over, receive) = futures::channel::oneshot::channel();
            let first = spawn(async move {
                let mut nap = Box::pin(sleep(ms(10)));
                // Polled once here, so its timer is armed for this task.
                let polled = futures::poll!(nap.as_mut());
                assert!(polled.is_pending());
                assert!(hand_over.send(nap).is_ok(), "the second task is waiting");
            });
            let second = spawn(async move {
                let nap = receive.await.expect("handed over");
                nap.await;
                Instant::now()
            });
            first.await.unwrap();
            second.await.unwrap()
        })
        .unwrap();
    assert_eq!(woke_at.since_start(), ms(10));
}

#[test]
fn a_sleep_from_another_simulation_dropped_here_cancels_nothing() {
    let mut first = sim(SEED);
    let stale = first
        .block_on(async {
            let mut nap = Box::pin(sleep(ms(10)));
            assert!(futures::poll!(nap.as_mut()).is_pending());
            // Handed out armed, not awaited.
            Some(nap)
        })
        .unwrap()
        .expect("the armed sleep");
    drop(first);
    let mut second = sim(SEED);
    let woke = second
        .block_on(async move {
            let mine = spawn(async {
                sleep(ms(10)).await;
                Instant::now()
            });
            // `mine` arms its timer: same instant and place in its list as
            // the stale key had in the first simulation.
            yield_now().await;
            drop(stale);
            mine.await.unwrap()
        })
        .unwrap();
    assert_eq!(woke.since_start(), ms(10));
}
