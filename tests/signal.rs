//! The program's own cooperative cancellation signal
//! (`cancel::register_signal`), fired by `Check::signal_at_every_await`:
//! every user task alive when it fires owes an exit within the grace
//! budget; one that ignores it is `cancel-ignored`, also when the program
//! aborts it after waiting; a body that registers none is told so.

mod common;

use std::cell::{Cell, RefCell};
use std::pin::pin;
use std::rc::Rc;
use std::time::Duration;

use cancelsim::cancel::register_signal;
use cancelsim::check::run_repro;
use cancelsim::time::sleep;
use cancelsim::{Check, Config, InjectionKind, Report, Repro, SchedulerKind, ViolationCode};
use common::ms;
use futures::channel::oneshot;
use futures::future::{select, Either};

const SOURCE: &str = include_str!("signal.rs");

fn line_of(marker: &str) -> u32 {
    SOURCE
        .lines()
        .position(|l| l.contains(marker) && !l.contains(&format!("\"{marker}")))
        .unwrap_or_else(|| panic!("`{marker}` is not in this file")) as u32
        + 1
}

/// The stop channel the signal closes, shared with the root so that the
/// test itself can stop the worker at its end.
type Stop = Rc<Cell<Option<oneshot::Sender<()>>>>;

fn register_stop() -> (Stop, oneshot::Receiver<()>) {
    let (tx, rx) = oneshot::channel();
    let stop: Stop = Rc::new(Cell::new(Some(tx)));
    let signal = Rc::clone(&stop);
    register_signal(move || drop(signal.take()));
    (stop, rx)
}

/// A ticking worker. `listens`: it waits on its tick and the stop signal
/// together (correct); otherwise only on its tick (the bug). The test stops
/// it after 35 ms, then aborts whatever still runs (the shutdown "signal,
/// wait, then abort").
async fn ticker(listens: bool) {
    let (stop, stopped) = register_stop();
    let worker = cancelsim::spawn_named("worker", async move {
        let mut stopped = stopped;
        loop {
            let tick = pin!(sleep(ms(10))); // marker: ticker waits
            if listens {
                if let Either::Right(_) = select(tick, &mut stopped).await {
                    return;
                }
            } else {
                tick.await;
            }
        }
    });
    sleep(ms(35)).await;
    drop(stop.take());
    sleep(ms(5)).await;
    worker.abort();
}

#[test]
fn a_worker_that_ignores_the_signal_and_is_aborted_is_cancel_ignored() {
    let report = Check::new(|| ticker(false))
        .signal_at_every_await(true)
        .run();
    assert!(report.counts().per_kind["signal"] > 0, "{report}");
    let failure = report
        .failures()
        .first()
        .unwrap_or_else(|| panic!("the ignored signal is found: {report}"));
    assert_eq!(failure.repro().injections[0].kind, InjectionKind::Signal);
    let violation = &failure.violations()[0];
    assert_eq!(violation.kind(), ViolationCode::CancelIgnored);
    assert_eq!(violation.task_name(), Some("worker"));
    assert!(violation.await_point().is_some_and(|point| point >= 1));
    let at = violation
        .wait()
        .and_then(|wait| wait.at)
        .expect("where it waits");
    assert_eq!(at.line(), line_of("marker: ticker waits"));
    assert!(
        violation
            .message()
            .contains("ignored the cancellation signal fired at"),
        "{}",
        violation.message()
    );
    assert!(violation.message().contains("when it was aborted"));
    let trace = failure.trace().to_string();
    assert!(
        trace.contains("cancellation signal fired: every live task must finish"),
        "{trace}"
    );
    assert!(trace.contains("injected signal at await point"), "{trace}");
}

#[test]
fn a_worker_that_listens_for_the_signal_is_clean() {
    let report = Check::new(|| ticker(true))
        .signal_at_every_await(true)
        .run();
    report.assert_clean();
    assert!(report.counts().per_kind["signal"] > 0, "{report}");
    assert!(!report.counts().signal_unregistered);
}

#[test]
fn without_signal_injection_the_ignoring_worker_is_not_flagged() {
    let report = Check::new(|| ticker(false)).run();
    report.assert_clean();
    assert!(!report.counts().per_kind.contains_key("signal"));
}

/// A worker that honours the signal with a cleanup of `cleanup` virtual
/// time, waited in `pieces` equal sleeps; the root joins it.
async fn slow_cleanup(cleanup: Duration, pieces: u32) {
    let (stop, stopped) = register_stop();
    let worker = cancelsim::spawn_named("flusher", async move {
        let mut stopped = stopped;
        loop {
            let tick = pin!(sleep(ms(10)));
            if let Either::Right(_) = select(tick, &mut stopped).await {
                for _ in 0..pieces {
                    sleep(cleanup / pieces).await; // marker: flusher cleanup
                }
                return;
            }
        }
    });
    sleep(ms(25)).await;
    drop(stop.take());
    worker.await.unwrap();
}

fn assert_flusher_ignored(report: &Report) {
    let violation = report
        .failures()
        .iter()
        .flat_map(|failure| failure.violations())
        .find(|v| v.kind() == ViolationCode::CancelIgnored)
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(violation.task_name(), Some("flusher"));
    assert!(
        violation
            .message()
            .contains("the cancellation signal fired at"),
        "{}",
        violation.message()
    );
    assert!(
        violation.message().contains("1.000s of virtual time"),
        "{}",
        violation.message()
    );
    let at = violation.wait().and_then(|wait| wait.at).expect("where");
    assert_eq!(at.line(), line_of("marker: flusher cleanup"));
}

#[test]
fn a_cleanup_longer_than_the_grace_time_is_cancel_ignored() {
    // Waited in four sleeps: the flusher is polled, still running, 1.5 s
    // after the signal.
    let report = Check::new(|| slow_cleanup(Duration::from_secs(2), 4))
        .signal_at_every_await(true)
        .run();
    assert_flusher_ignored(&report);
}

/// The same 2 s cleanup waited in one sleep: the flusher is never polled
/// while over its budget, only when it returns, 2 s after the signal.
#[test]
fn a_cleanup_longer_than_the_grace_time_in_one_sleep_is_cancel_ignored() {
    let report = Check::new(|| slow_cleanup(Duration::from_secs(2), 1))
        .signal_at_every_await(true)
        .run();
    assert_flusher_ignored(&report);
}

#[test]
fn a_cleanup_within_the_grace_time_is_clean() {
    Check::new(|| slow_cleanup(ms(10), 1))
        .signal_at_every_await(true)
        .run()
        .assert_clean();
}

#[test]
fn the_grace_time_is_configurable() {
    Check::new(|| slow_cleanup(Duration::from_secs(2), 4))
        .config(Config::default().cancel_grace(100, Duration::from_secs(5)))
        .signal_at_every_await(true)
        .run()
        .assert_clean();
}

#[test]
fn the_root_owes_no_exit() {
    // Only user tasks alive when the signal fires owe one; the root (the
    // test) runs on for as long as it likes.
    Check::new(|| async {
        let (_stop, _stopped) = register_stop();
        for _ in 0..5 {
            sleep(Duration::from_secs(1)).await;
        }
    })
    .signal_at_every_await(true)
    .run()
    .assert_clean();
}

/// A ticker that runs until its owner stops it: long-lived work a
/// shutdown signal would stop.
async fn endless_ticker() {
    loop {
        sleep(ms(1)).await;
    }
}

#[test]
fn a_body_that_registers_no_signal_is_told_so() {
    // The ticker outlives the body: its owner aborts it as the body ends.
    let report = Check::new(|| async {
        let _ticker = cancelsim::spawn(endless_ticker()).abort_on_drop();
        let worker = cancelsim::spawn(sleep(ms(5)));
        worker.await.unwrap();
    })
    .signal_at_every_await(true)
    .run();
    assert!(report.is_clean(), "{report}");
    assert!(report.counts().signal_unregistered);
    assert!(!report.counts().per_kind.contains_key("signal"));
    assert!(
        report
            .to_string()
            .contains("no cancellation signal swept: the body registered none"),
        "{report}"
    );
    // cancelsim's API, for a cancelsim check.
    let text = report.to_string();
    assert!(
        text.contains("cancelsim::cancel::register_signal(|| token.cancel())")
            && !text.contains("tokio::cancelsim"),
        "{text}"
    );
}

#[test]
fn a_tokio_check_that_registers_no_signal_is_told_the_tokio_api_only() {
    // The ticker is still alive when the body ends (the runtime's shutdown
    // drops it).
    let report = Check::new(|| async {
        drop(cancelsim::spawn(endless_ticker()));
        let worker = cancelsim::spawn(sleep(ms(5)));
        worker.await.unwrap();
    })
    .tokio_preset()
    .run();
    assert!(report.counts().signal_unregistered);
    let text = report.to_string();
    let line = text
        .lines()
        .find(|line| line.contains("no cancellation signal swept"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.contains("call tokio::cancelsim::register_signal(|| token.cancel()) in the test")
            && !line.contains("cancelsim::cancel::"),
        "{line}"
    );
}

/// Short-lived work only (every spawned task ends before the body
/// does): a shutdown signal has nothing to stop, and the report says
/// nothing about one, in a cancelsim check and a tokio one alike.
#[test]
fn a_body_with_only_short_lived_work_is_not_told_about_a_signal() {
    for tokio in [false, true] {
        let check = Check::new(|| async {
            let worker = cancelsim::spawn(sleep(ms(5)));
            worker.await.unwrap();
            let _ = cancelsim::spawn(async {}).await;
        });
        let report = if tokio {
            check.tokio_preset().run()
        } else {
            check.signal_at_every_await(true).run()
        };
        assert!(report.is_clean(), "{report}");
        // No signal was registered, and none swept ...
        assert!(report.counts().signal_unregistered);
        assert_eq!(report.counts().long_lived_baselines, 0, "{report}");
        // ... but nothing outlived the body for one to stop.
        assert!(
            !report.to_string().contains("no cancellation signal"),
            "{report}"
        );
    }
}

/// A long-lived loop the body leaves running (a tokio test's runtime
/// drops it at shutdown): the note is printed, and counted per baseline.
#[test]
fn a_body_that_leaves_a_long_lived_loop_is_told_about_a_signal() {
    let report = Check::new(|| async {
        drop(cancelsim::spawn(endless_ticker()));
        sleep(ms(5)).await;
    })
    .tokio_preset()
    .seeds(0..3)
    .run();
    assert!(report.is_clean(), "{report}");
    // Every baseline: the seeds' and the schedules the preset explores.
    let baselines = report.counts().baselines;
    assert!(baselines >= 3, "{report}");
    assert_eq!(report.counts().long_lived_baselines, baselines, "{report}");
    let text = report.to_string();
    assert!(
        text.contains(
            "no cancellation signal swept: the body registered none, and a spawned task outlived it"
        ),
        "{text}"
    );
    assert!(
        report
            .to_json()
            .contains(&format!("\"long_lived_baselines\": {baselines}")),
        "{}",
        report.to_json()
    );
}

#[test]
fn a_check_that_asks_for_no_signal_says_nothing_about_one() {
    let report = Check::new(|| async { sleep(ms(5)).await }).run();
    assert!(!report.counts().signal_unregistered);
    assert!(!report.to_string().contains("no cancellation signal"));
}

#[test]
fn a_signal_that_panics_is_a_panic_violation() {
    let report = Check::new(|| async {
        register_signal(|| panic!("the shutdown channel is gone"));
        sleep(ms(5)).await;
    })
    .signal_at_every_await(true)
    .run();
    let violation = report
        .failures()
        .iter()
        .flat_map(|failure| failure.violations())
        .find(|v| v.kind() == ViolationCode::Panic)
        .unwrap_or_else(|| panic!("{report}"));
    assert!(
        violation
            .message()
            .contains("the registered cancellation signal panicked: the shutdown channel is gone"),
        "{}",
        violation.message()
    );
}

/// Two registrations; the log says which signal fired, how often.
async fn two_registrations(log: Rc<RefCell<Vec<&'static str>>>) {
    let first = Rc::clone(&log);
    register_signal(move || first.borrow_mut().push("first"));
    let second = Rc::clone(&log);
    register_signal(move || second.borrow_mut().push("second"));
    sleep(ms(1)).await;
    sleep(ms(1)).await;
}

#[test]
fn the_first_registration_counts_and_the_signal_fires_once() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let body = {
        let log = Rc::clone(&log);
        move || two_registrations(Rc::clone(&log))
    };
    let repro: Repro = "cancelsim:v1 seed=0 scheduler=fifo inject=signal@0:1,signal@0:2"
        .parse()
        .unwrap();
    let outcome = run_repro(&body, &Config::default(), &repro);
    assert!(outcome.is_clean(), "{:?}", outcome.violations);
    assert_eq!(*log.borrow(), ["first"]);
    let fired = outcome
        .trace
        .to_string()
        .matches("cancellation signal fired")
        .count();
    assert_eq!(fired, 1, "{}", outcome.trace);
}

#[test]
fn register_signal_outside_a_simulation_does_nothing() {
    let called = Rc::new(Cell::new(false));
    let flag = Rc::clone(&called);
    register_signal(move || flag.set(true));
    assert!(!called.get());
    assert_eq!(Rc::strong_count(&called), 1, "the closure is not kept");
}

#[test]
fn a_signal_repro_replays_the_same_failure_with_an_identical_trace() {
    let report = Check::new(|| ticker(false))
        .signal_at_every_await(true)
        .run();
    let failure = report
        .failures()
        .first()
        .unwrap_or_else(|| panic!("{report}"));
    let line = failure.repro().to_string();
    assert!(line.contains("inject=signal@"), "{line}");
    let repro: Repro = line.parse().unwrap();
    assert_eq!(&repro, failure.repro());
    let body = || ticker(false);
    let first = run_repro(&body, &Config::default(), &repro);
    let second = run_repro(&body, &Config::default(), &repro);
    assert!(first.has(ViolationCode::CancelIgnored));
    assert_eq!(first.violations, second.violations);
    assert_eq!(first.trace.to_string(), second.trace.to_string());
    assert_eq!(first.trace.to_string(), failure.trace().to_string());
}

#[test]
fn the_json_lines_show_the_signal_injection_and_its_firing() {
    let repro: Repro = "cancelsim:v1 seed=0 scheduler=fifo inject=signal@1:1"
        .parse()
        .unwrap();
    let outcome = run_repro(&|| ticker(true), &Config::default(), &repro);
    assert!(outcome.is_clean(), "{:?}", outcome.violations);
    let json = outcome.trace.to_json_lines();
    let events: Vec<serde_json::Value> = json
        .lines()
        .skip(1)
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let injected = events
        .iter()
        .find(|e| e["kind"] == "injected")
        .unwrap_or_else(|| panic!("{json}"));
    assert_eq!(injected["injection"], "signal");
    assert_eq!(injected["task_name"], "worker");
    assert_eq!(injected["point"], 1);
    let fired = events
        .iter()
        .position(|e| e["kind"] == "signal_fired")
        .unwrap_or_else(|| panic!("{json}"));
    assert_eq!(events[fired]["task_name"], "worker");
    // The worker listened: it ends right after the signal, at the same
    // instant, before the test's own stop at 35 ms.
    let ended = events
        .iter()
        .find(|e| e["kind"] == "complete" && e["task_name"] == "worker")
        .unwrap_or_else(|| panic!("{json}"));
    assert_eq!(ended["time_ns"], events[fired]["time_ns"]);
}

#[test]
fn a_signal_sweep_is_the_same_twice_and_explores_with_random_schedules() {
    let run = || {
        Check::new(|| ticker(false))
            .signal_at_every_await(true)
            .explore_schedules(SchedulerKind::Random, 4)
            .threads(2)
            .run()
    };
    let (a, b) = (run(), run());
    assert_eq!(a.counts(), b.counts());
    assert_eq!(a.to_string(), b.to_string());
    assert_eq!(a.counts().baselines, 5);
}
