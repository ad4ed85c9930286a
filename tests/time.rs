//! Virtual time: sleeps, deadlines, timeouts, CPU work and blocking work.
//! No test here looks at the wall clock: virtual time is the only clock.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use cancelsim::cancel::{checkpoint, Cancelled, OrCancel};
use cancelsim::time::{sleep, sleep_until, timeout, Elapsed, Instant};
use cancelsim::{
    blocking, spawn, spawn_named, work, yield_now, Config, Schedule, SchedulerKind, Sim, TraceMode,
};

mod common;
use common::{drop_flag, ms, sim};

/// Seed of the simulations of this file.
const SEED: u64 = 3;

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
    assert!(text.contains("timeout #0 fired (tests/time.rs:"), "{text}");
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
        assert!(text.contains("timeout #0 fired (tests/time.rs:"), "{text}");
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

#[test]
fn work_moves_the_clock_inside_a_poll_and_delays_a_due_sleeper() {
    let mut sim = sim(SEED);
    let (sleeper_woke_at, worker_done_at) = sim
        .block_on(async {
            let sleeper = spawn(async {
                sleep(ms(5)).await;
                Instant::now()
            });
            let worker = spawn(async {
                let before = Instant::now();
                work(ms(10));
                assert_eq!(Instant::now() - before, ms(10));
                Instant::now()
            });
            (sleeper.await.unwrap(), worker.await.unwrap())
        })
        .unwrap();
    assert_eq!(worker_done_at.since_start(), ms(10));
    assert_eq!(
        sleeper_woke_at.since_start(),
        ms(10),
        "the sleeper due at 5ms cannot run while the worker holds the CPU"
    );
    assert!(sim.trace().to_string().contains("work 0.010s"));
}

#[test]
fn blocking_completes_after_its_cost() {
    let mut sim = sim(SEED);
    let (value, now) = sim
        .block_on(async {
            let value = blocking(ms(30), || 40 + 2).await;
            (value, Instant::now())
        })
        .unwrap();
    assert_eq!(value, 42);
    assert_eq!(now.since_start(), ms(30));
    let text = sim.trace().to_string();
    assert!(
        text.contains("blocking work started for 0.030s at tests/time.rs:"),
        "{text}"
    );
    assert!(text.contains("blocking work finished"), "{text}");
}

/// Asserts that `flag` is still clear just before `at` and set just after
/// it (once the work due at `at` has run), looking from a task of its own.
async fn assert_set_at(flag: &Rc<Cell<bool>>, at: Duration, what: &str) {
    let flag = Rc::clone(flag);
    let (before, after, seen_at) = spawn(async move {
        sleep(at - ms(1)).await;
        let before = flag.get();
        sleep(ms(1)).await;
        yield_now().await;
        (before, flag.get(), Instant::now())
    })
    .await
    .unwrap();
    assert!(!before);
    assert!(after, "{what}");
    assert_eq!(seen_at.since_start(), at);
}

#[test]
fn blocking_work_runs_to_completion_when_its_awaiter_is_aborted() {
    sim(SEED)
        .block_on(async {
            let ran = Rc::new(Cell::new(false));
            let awaiter = spawn({
                let ran = Rc::clone(&ran);
                async move {
                    blocking(ms(30), move || ran.set(true)).await;
                }
            });
            yield_now().await; // the awaiter starts the blocking work
            awaiter.abort();
            assert!(awaiter.await.unwrap_err().is_cancelled());
            assert!(!ran.get(), "the work takes 30ms");
            assert_set_at(
                &ran,
                ms(30),
                "the blocking work ran although its awaiter was aborted",
            )
            .await;
        })
        .unwrap();
}

/// A cooperative cancel request reaches a task waiting on blocking work
/// through `or_cancel`: the awaiter ends with `Err(Cancelled)` at once, and
/// the work itself still runs to completion, its side effect at `cost`.
#[test]
fn blocking_work_runs_to_completion_when_its_awaiter_is_cooperatively_cancelled() {
    sim(SEED)
        .block_on(async {
            let ran = Rc::new(Cell::new(false));
            let awaiter = spawn({
                let ran = Rc::clone(&ran);
                async move {
                    let result = blocking(ms(30), move || ran.set(true)).or_cancel().await;
                    (result, Instant::now())
                }
            });
            yield_now().await; // the awaiter starts the blocking work
            awaiter.cancel();
            let (result, ended_at) = awaiter.await.unwrap();
            assert_eq!(result, Err(Cancelled), "the request reached the awaiter");
            assert_eq!(ended_at, Instant::ZERO, "without waiting for the work");
            assert!(!ran.get(), "the work takes 30ms");
            assert_set_at(
                &ran,
                ms(30),
                "the blocking work ran although its awaiter was cancelled",
            )
            .await;
        })
        .unwrap();
}

/// A plain `.await` on blocking work has no cancel point: a request made
/// while the task waits is delivered at its next checkpoint, after the work
/// is done (its side effect at `cost`, seen by the awaiter).
#[test]
fn a_cancel_request_during_a_plain_blocking_await_is_delivered_after_the_work() {
    sim(SEED)
        .block_on(async {
            let ran = Rc::new(Cell::new(false));
            let awaiter = spawn({
                let ran = Rc::clone(&ran);
                async move {
                    blocking(ms(30), {
                        let ran = Rc::clone(&ran);
                        move || ran.set(true)
                    })
                    .await;
                    let seen = (ran.get(), Instant::now());
                    (seen, checkpoint().await)
                }
            });
            yield_now().await;
            awaiter.cancel();
            yield_now().await;
            assert!(!awaiter.is_finished(), "the request waits for the work");
            let ((ran_before_checkpoint, at), delivered) = awaiter.await.unwrap();
            assert!(ran_before_checkpoint);
            assert_eq!(at.since_start(), ms(30));
            assert_eq!(delivered, Err(Cancelled));
        })
        .unwrap();
}

/// A timer that falls due while another task burns CPU fires before that
/// task's next poll: the clock moved inside the poll, and the sleeper must
/// not wait until the world goes idle.
#[test]
fn a_timer_due_during_cpu_work_fires_before_the_next_poll() {
    let mut sim = Sim::new(Config::default());
    let woke_at = sim
        .block_on(async {
            let worker = cancelsim::spawn_named("worker", async {
                for _ in 0..10 {
                    cancelsim::work(Duration::from_millis(10));
                    cancelsim::yield_now().await;
                }
            });
            sleep(Duration::from_millis(25)).await;
            let woke_at = Instant::now();
            assert!(!worker.is_finished(), "the worker must still be running");
            worker.abort();
            woke_at
        })
        .unwrap();
    // Due at 25ms, fired at 30ms when the clock passed it; queued behind the
    // worker, which had already yielded, so it runs at 40ms — not at 100ms
    // when the worker is done.
    assert_eq!(woke_at.since_start(), Duration::from_millis(40));
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

/// Four sleepers due at the same instant, and the order they woke in.
async fn same_instant_sleepers() -> Vec<&'static str> {
    let log = Rc::new(std::cell::RefCell::new(Vec::new()));
    for name in ["a", "b", "c", "d"] {
        let log = Rc::clone(&log);
        spawn(async move {
            sleep(ms(5)).await;
            log.borrow_mut().push(name);
        })
        .detach();
    }
    sleep(ms(10)).await;
    let order = log.borrow().clone();
    order
}

#[test]
fn timers_due_at_the_same_instant_fire_in_the_order_the_scheduler_picks() {
    // Fifo: registration order, each choice recorded as the first.
    let mut fifo = Sim::new(Config::default().seed(SEED));
    assert_eq!(
        fifo.block_on(same_instant_sleepers()).unwrap(),
        ["a", "b", "c", "d"]
    );
    let recorded = fifo.schedule().to_string();
    let timer_choices: Vec<&str> = recorded
        .split_whitespace()
        .filter(|token| token.starts_with('m'))
        .collect();
    assert_eq!(timer_choices, ["m0/4", "m0/3", "m0/2"]);

    // The same run with other timer choices: the third of four first, then
    // the first of the rest, then the second of the last two.
    let mut picks = ["m2/4", "m0/3", "m1/2"].into_iter();
    let edited: Vec<&str> = recorded
        .split_whitespace()
        .map(|token| {
            if token.starts_with('m') {
                picks.next().unwrap()
            } else {
                token
            }
        })
        .collect();
    let schedule: cancelsim::Schedule = edited.join(" ").parse().unwrap();
    let mut replay = Sim::new(Config::default().seed(SEED).scheduler(
        cancelsim::SchedulerKind::Replay(std::sync::Arc::new(schedule)),
    ));
    assert_eq!(
        replay.block_on(same_instant_sleepers()).unwrap(),
        ["c", "a", "d", "b"]
    );
}

/// 400 tasks with random sleeps (a world past the cache-hint threshold,
/// with many instants in the timer queue): every sleeper wakes at its own
/// deadline, in deadline order; the same seed gives the same trace, and two
/// seeds of the random scheduler order the same-instant wakes differently.
async fn many_sleepers(log: Rc<std::cell::RefCell<Vec<(u64, u32)>>>) -> u64 {
    let handles: Vec<_> = (0..400u32)
        .map(|task| {
            let log = Rc::clone(&log);
            spawn(async move {
                for round in 0..5u64 {
                    // Few distinct durations: many tasks share an instant.
                    let ms_left = u64::from(task % 7 + 1) * 10 + round;
                    sleep(ms(ms_left)).await;
                    let now = Instant::now().as_nanos();
                    log.borrow_mut().push((now, task));
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await.unwrap();
    }
    Instant::now().as_nanos()
}

fn run_many_sleepers(config: Config) -> (u64, Vec<(u64, u32)>, String) {
    let log = Rc::new(std::cell::RefCell::new(Vec::new()));
    let mut sim = Sim::new(config);
    let end = sim.block_on(many_sleepers(Rc::clone(&log))).unwrap();
    let trace = sim.trace().to_string();
    let log = log.borrow().clone();
    (end, log, trace)
}

#[test]
fn hundreds_of_sleepers_wake_at_their_deadlines_deterministically() {
    let (end, log, trace) = run_many_sleepers(Config::default().seed(SEED));
    assert_eq!(log.len(), 2000);
    // Each task's deadlines, summed: the wakes happen exactly then.
    for task in 0..400u32 {
        let mut due = 0;
        let times: Vec<u64> = log
            .iter()
            .filter(|(_, t)| *t == task)
            .map(|(now, _)| *now)
            .collect();
        for (round, now) in times.into_iter().enumerate() {
            due += (u64::from(task % 7 + 1) * 10 + round as u64) * 1_000_000;
            assert_eq!(now, due, "task {task} round {round}");
        }
    }
    assert!(log.windows(2).all(|pair| pair[0].0 <= pair[1].0));
    assert_eq!(end, log.last().unwrap().0);
    // Same seed, same trace.
    assert_eq!(run_many_sleepers(Config::default().seed(SEED)).2, trace);
    // The random scheduler: two seeds order the same-instant wakes
    // differently, each reproducibly.
    let random = |seed| {
        run_many_sleepers(
            Config::default()
                .seed(seed)
                .scheduler(cancelsim::SchedulerKind::Random),
        )
    };
    let (one, two) = (random(1), random(2));
    assert_ne!(one.1, two.1);
    assert_eq!(random(1).2, one.2);
}

#[test]
fn a_poll_keeps_its_own_time_when_work_moves_the_clock_inside_it() {
    // The full trace folds a poll into the record after it; the capped
    // trace keeps plain events. Both must say the same.
    let mut texts = Vec::new();
    for trace in [TraceMode::Full, TraceMode::Last(100)] {
        let mut sim = Sim::new(Config::default().seed(SEED).trace(trace));
        sim.block_on(async {
            spawn_named("worker", async { work(ms(10)) }).await.unwrap();
        })
        .unwrap();
        let text = sim.trace().to_string();
        let line = |event: &str| {
            text.lines()
                .find(|line| line.contains("worker#1") && line.contains(event))
                .unwrap_or_else(|| panic!("no `{event}` of the worker in:\n{text}"))
                .split_whitespace()
                .nth(1)
                .map(str::to_string)
        };
        assert_eq!(line("poll").as_deref(), Some("0.000s"), "{text}");
        assert_eq!(line("work 0.010s").as_deref(), Some("0.010s"), "{text}");
        texts.push(text.lines().skip(3).collect::<Vec<_>>().join("\n"));
    }
    assert_eq!(texts[0], texts[1]);
}
