//! Timeouts: `Elapsed` and the inner future dropped, the tie at the deadline
//! as a recorded choice, the timer of a finished timeout cancelled.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use cancelsim::time::{sleep, timeout, Elapsed, Instant};
use cancelsim::{spawn, Config, Schedule, SchedulerKind, Sim};

use crate::common::{drop_flag, ms, sim};
use crate::SEED;

#[test]
fn timeout_fires_with_elapsed_and_drops_the_inner_future() {
    let mut sim = sim(SEED);
    sim.block_on(async {
        let (guard, dropped) = drop_flag();
        let result = timeout(ms(10), async move {
            let _guard = guard;
            sleep(Duration::from_secs(1)).await;
            5
        })
        .await;
        let elapsed: Elapsed = result.unwrap_err();
        assert_eq!(elapsed.to_string(), "deadline has elapsed");
        assert!(
            dropped.get(),
            "the inner future is dropped when the timeout fires"
        );
        assert_eq!(Instant::now().since_start(), ms(10));
    })
    .unwrap();
    let text = sim.trace().to_string();
    assert!(
        text.contains("timeout #0 fired (tests/time/timeout.rs:"),
        "{text}"
    );
}

#[test]
fn timeout_returns_the_value_when_the_inner_future_completes_first() {
    let (value, now) = sim(SEED)
        .block_on(async {
            let value = timeout(ms(10), async {
                sleep(ms(4)).await;
                7
            })
            .await;
            (value, Instant::now())
        })
        .unwrap();
    assert_eq!(value, Ok(7));
    assert_eq!(now.since_start(), ms(4));
}

/// The program of the deadline-tie tests: the inner future is done at the
/// very instant the 10ms timeout falls due.
async fn inner_done_at_the_deadline() -> Result<&'static str, Elapsed> {
    timeout(ms(10), async {
        sleep(ms(10)).await;
        "in time"
    })
    .await
}

/// Runs [`inner_done_at_the_deadline`] under `scheduler`: its result, the
/// schedule it took and its trace text.
fn deadline_tie(
    seed: u64,
    scheduler: SchedulerKind,
) -> (Result<&'static str, Elapsed>, String, String) {
    let mut sim = Sim::new(Config::default().seed(seed).scheduler(scheduler));
    let value = sim.block_on(inner_done_at_the_deadline()).unwrap();
    (value, sim.schedule().to_string(), sim.trace().to_string())
}

/// The tie is a recorded choice, not a fixed rule: two timers fall due at
/// 10ms (`m?/2`, which fires first), then the race (`m?/2`: 0 = the inner
/// future, 1 = the timeout). `Fifo` takes the natural order.
#[test]
fn at_the_deadline_fifo_lets_the_inner_future_win_and_records_the_choice() {
    let (value, schedule, text) = deadline_tie(SEED, SchedulerKind::Fifo);
    assert_eq!(value, Ok("in time"));
    assert_eq!(schedule, "m0/2 m0/2 |");
    assert!(!text.contains("timeout #0 fired"), "{text}");
}

/// A replayed schedule whose race decision picks option 1 makes the timeout
/// win: the inner future's value is dropped and the caller gets `Elapsed`.
#[test]
fn at_the_deadline_a_schedule_choosing_option_1_lets_the_timeout_win() {
    for recorded in ["m0/2 m1/2 |", "m1/2 m1/2 |"] {
        let schedule: Schedule = recorded.parse().unwrap();
        let replay = SchedulerKind::Replay(Arc::new(schedule));
        let (value, taken, text) = deadline_tie(SEED, replay);
        assert!(value.is_err(), "{recorded}: {value:?}");
        assert_eq!(taken, recorded, "the replay took the recorded decisions");
        assert!(
            text.contains("timeout #0 fired (tests/time/timeout.rs:"),
            "{text}"
        );
    }
    // Which of the two timers fired first does not decide the race.
    let schedule: Schedule = "m1/2 m0/2 |".parse().unwrap();
    let (value, _, _) = deadline_tie(SEED, SchedulerKind::Replay(Arc::new(schedule)));
    assert_eq!(value, Ok("in time"));
}

/// Under `Random` both outcomes happen across seeds, and each run's recorded
/// schedule replays to the same outcome and the same trace.
#[test]
fn at_the_deadline_random_picks_either_winner_and_the_replay_agrees() {
    let mut outcomes = BTreeSet::new();
    for seed in 0..32 {
        let (value, schedule, text) = deadline_tie(seed, SchedulerKind::Random);
        let race = schedule.split(' ').nth(1).expect("two decisions");
        assert_eq!(value.is_err(), race == "m1/2", "seed {seed}: {schedule}");
        outcomes.insert(value.is_ok());
        let replay = SchedulerKind::Replay(Arc::new(schedule.parse().unwrap()));
        let (replayed, replayed_schedule, _) = deadline_tie(seed, replay);
        assert_eq!(replayed, value, "seed {seed}");
        assert_eq!(replayed_schedule, schedule, "seed {seed}");
        let (again, _, again_text) = deadline_tie(seed, SchedulerKind::Random);
        assert_eq!((again, again_text), (value, text), "seed {seed}");
    }
    assert_eq!(
        outcomes,
        BTreeSet::from([false, true]),
        "both the inner future and the timeout win under some seed"
    );
}

#[test]
fn the_timer_of_a_finished_timeout_is_cancelled() {
    // Were the 60s timer left armed, the clock would jump to it before the
    // world found it deadlocked.
    let mut sim = sim(SEED);
    let result = sim.block_on(async {
        timeout(Duration::from_secs(60), sleep(ms(1)))
            .await
            .unwrap();
        futures::future::pending::<()>().await;
    });
    match result {
        Err(cancelsim::SimError::Deadlock { time, .. }) => assert_eq!(time.since_start(), ms(1)),
        other => panic!("expected a deadlock at 1ms, got {other:?}"),
    }
}

/// Code inside a `timeout` may call back into the world (abort, cancel):
/// the timeout must not hold the world borrowed while it polls.
#[test]
fn code_inside_a_timeout_can_abort_and_cancel_other_tasks() {
    let mut sim = sim(SEED);
    let (aborted, cancelled) = sim
        .block_on(async {
            let victim = spawn(sleep(ms(100)));
            let target = spawn(async { cancelsim::cancel::cancelled().await });
            let inner = timeout(ms(50), async {
                victim.abort();
                target.cancel();
                sleep(ms(1)).await;
                (victim, target)
            });
            let (victim, target) = inner.await.unwrap();
            (
                victim.await.unwrap_err().is_cancelled(),
                target.await.is_ok(),
            )
        })
        .unwrap();
    assert!(aborted && cancelled);
}
