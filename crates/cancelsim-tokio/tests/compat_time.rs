//! Time items against real tokio: `sleep` and its resets, `timeout_at`,
//! `interval` and its missed-tick lateness, `advance`.
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
fn sleep_reset_deadline_and_is_elapsed_agree_with_tokio() {
    let (real, sim) = both!(|rt, log, start| async move {
        let ms = |at: rt::time::Instant| (at - start).as_millis();
        let sleep = rt::time::sleep(Duration::from_millis(20));
        rt::pin!(sleep);
        note!(
            log,
            start,
            "new: deadline {} elapsed {}",
            ms(sleep.deadline()),
            sleep.is_elapsed()
        );
        // Polled once (registered), then reset earlier.
        rt::select! {
            biased;
            _ = sleep.as_mut() => note!(log, start, "20 ms sleep done too early"),
            _ = rt::time::sleep(Duration::from_millis(2)) => note!(log, start, "pending"),
        }
        sleep.as_mut().reset(start + Duration::from_millis(5));
        note!(
            log,
            start,
            "reset earlier: deadline {}",
            ms(sleep.deadline())
        );
        sleep.as_mut().await;
        note!(log, start, "woke: elapsed {}", sleep.is_elapsed());
        // Reset after completion: it completes again, later.
        sleep
            .as_mut()
            .reset(rt::time::Instant::now() + Duration::from_millis(15));
        note!(
            log,
            start,
            "reset after completion: deadline {} elapsed {}",
            ms(sleep.deadline()),
            sleep.is_elapsed()
        );
        rt::select! {
            biased;
            _ = sleep.as_mut() => note!(log, start, "done too early"),
            _ = rt::time::sleep(Duration::from_millis(3)) => note!(log, start, "still pending"),
        }
        // Moved later while registered.
        let later = sleep.deadline() + Duration::from_millis(10);
        sleep.as_mut().reset(later);
        sleep.as_mut().await;
        note!(
            log,
            start,
            "woke at the later deadline {}",
            ms(sleep.deadline())
        );
        // A deadline in the past completes at once.
        sleep.as_mut().reset(start);
        sleep.as_mut().await;
        note!(
            log,
            start,
            "past deadline: done at once, elapsed {}",
            sleep.is_elapsed()
        );
        // Never polled, deadline passed.
        let unpolled = rt::time::sleep(Duration::from_millis(1));
        rt::time::sleep(Duration::from_millis(4)).await;
        note!(
            log,
            start,
            "unpolled past sleep: elapsed {}",
            unpolled.is_elapsed()
        );
    });
    assert_eq!(real, sim);
    assert_eq!(sim.len(), 9, "{sim:?}");
}

#[test]
fn timeout_at_agrees_with_tokio() {
    let (real, sim) = both!(|rt, log, start| async move {
        let slow = rt::time::timeout_at(
            start + Duration::from_millis(10),
            rt::time::sleep(Duration::from_millis(20)),
        )
        .await;
        note!(log, start, "slow: {:?}", slow.map_err(|e| e.to_string()));
        let fast = rt::time::timeout_at(start + Duration::from_millis(30), async {
            rt::time::sleep(Duration::from_millis(5)).await;
            3
        })
        .await;
        note!(log, start, "fast: {:?}", fast);
        // The deadline is absolute: awaiting the timeout later does not move it.
        let late = rt::time::timeout_at(
            start + Duration::from_millis(25),
            rt::time::sleep(Duration::from_millis(100)),
        );
        rt::time::sleep(Duration::from_millis(5)).await;
        let late = late.await;
        note!(log, start, "late: {:?}", late.is_err());
        // A past deadline: a ready future still wins, a pending one expires at once.
        let ready = rt::time::timeout_at(start, async { 1 }).await;
        note!(log, start, "past, ready: {:?}", ready);
        let pending = rt::time::timeout_at(start, rt::time::sleep(Duration::from_millis(1))).await;
        note!(log, start, "past, pending: {:?}", pending.is_err());
    });
    assert_eq!(real, sim);
    assert_eq!(
        sim.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
        [10, 15, 25, 25, 25]
    );
}

#[test]
fn interval_at_and_resets_agree_with_tokio() {
    let (real, sim) = both!(|rt, log, start| async move {
        let ms = |at: rt::time::Instant| (at - start).as_millis();
        let mut ticker =
            rt::time::interval_at(start + Duration::from_millis(5), Duration::from_millis(10));
        note!(log, start, "period {:?}", ticker.period());
        for _ in 0..2 {
            let at = ticker.tick().await;
            note!(log, start, "tick for {}", ms(at));
        }
        ticker.reset(); // one period from now
        let at = ticker.tick().await;
        note!(log, start, "after reset: tick for {}", ms(at));
        ticker.reset_immediately();
        let at = ticker.tick().await;
        note!(log, start, "after reset_immediately: tick for {}", ms(at));
        let at = ticker.tick().await;
        note!(log, start, "then: tick for {}", ms(at));
        ticker.reset_after(Duration::from_millis(3));
        let at = ticker.tick().await;
        note!(log, start, "after reset_after(3): tick for {}", ms(at));
        ticker.reset_at(start + Duration::from_millis(60));
        let at = ticker.tick().await;
        note!(log, start, "after reset_at(60): tick for {}", ms(at));
        let at = ticker.tick().await;
        note!(log, start, "then: tick for {}", ms(at));
        // reset_at in the past: the tick is due at once, then the schedule
        // goes on from it (Burst).
        ticker.reset_at(start + Duration::from_millis(66));
        let at = ticker.tick().await;
        note!(log, start, "after reset_at(66): tick for {}", ms(at));
        let at = ticker.tick().await;
        note!(log, start, "then: tick for {}", ms(at));
        note!(log, start, "period still {:?}", ticker.period());
    });
    assert_eq!(real, sim);
    assert_eq!(
        sim.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
        [0, 5, 15, 25, 25, 35, 38, 60, 70, 70, 76, 76]
    );
}

/// tokio's `Interval` treats a tick up to 5 ms late as on time (the next
/// tick is one period after the scheduled one, whatever the
/// `MissedTickBehavior`); the facade applies `Delay` to any lateness.
#[test]
fn interval_delay_within_five_ms_of_lateness_agrees_with_tokio() {
    let (real, sim) = both!(|rt, log, start| async move {
        let ms = |at: rt::time::Instant| (at - start).as_millis();
        let mut ticker = rt::time::interval(Duration::from_millis(10));
        ticker.set_missed_tick_behavior(rt::time::MissedTickBehavior::Delay);
        for i in 0..4 {
            let at = ticker.tick().await;
            note!(log, start, "tick for {}", ms(at));
            if i == 1 {
                rt::time::sleep(Duration::from_millis(13)).await; // 3 ms late
            }
        }
    });
    // tokio: ticks for 0, 10, 20 (at 23), 30; the facade: 0, 10, 20 (at 23), 33.
    assert_eq!(real, sim);
}

/// `time::advance` on tokio's paused clock jumps the clock at once: a timer
/// due within the jump fires after it (its task runs after the advancing
/// one resumes), and its task sees the new time. The facade's `advance` is
/// a sleep: such a timer fires at its own deadline, before `advance`
/// returns.
/// With no timer inside the jump they agree.
#[test]
fn advance_agrees_with_tokio_except_for_timers_inside_the_jump() {
    let (real, sim) = both!(|rt, log, start| async move {
        rt::time::advance(Duration::from_millis(7)).await;
        note!(log, start, "advanced 7");
        let task = rt::spawn({
            let log = Arc::clone(&log);
            async move {
                rt::time::sleep(Duration::from_millis(5)).await;
                note!(log, start, "timer due at 12 fired");
            }
        });
        rt::task::yield_now().await; // the task registers its timer
        rt::time::advance(Duration::from_millis(10)).await;
        note!(log, start, "advanced 10 more");
        task.await.unwrap();
        note!(log, start, "joined");
    });
    assert_eq!(
        real,
        log_of(&[
            (7, "advanced 7"),
            (17, "advanced 10 more"),
            (17, "timer due at 12 fired"),
            (17, "joined"),
        ])
    );
    // Intended difference: the timer fires at its deadline.
    assert_eq!(
        sim,
        log_of(&[
            (7, "advanced 7"),
            (12, "timer due at 12 fired"),
            (17, "advanced 10 more"),
            (17, "joined"),
        ])
    );
}
