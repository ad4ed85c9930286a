//! CPU work (`work`, the clock moved inside a poll) and blocking work (run
//! to completion whatever happens to its awaiter).

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use cancelsim::cancel::{checkpoint, Cancelled, OrCancel};
use cancelsim::time::{sleep, Instant};
use cancelsim::{blocking, spawn, spawn_named, work, yield_now, Config, Sim, TraceMode};

use crate::common::{ms, sim};
use crate::SEED;

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
        text.contains("blocking work started for 0.030s at tests/time/work.rs:"),
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
