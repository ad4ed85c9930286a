//! A test that returns within the grace time of its shutdown signal: the
//! runtime's shutdown drops the tasks still running, and one that never
//! acted on the signal — not woken by it, asleep on its own timer until
//! after the grace time — is `cancel-ignored` all the same (trial 15's
//! deadline watchers). A task that listens for the token passes, and so
//! does one that ignores it but whose sleep ends within the grace time
//! (it would have finished in time). A test that returns within the
//! grace time runs its tasks on until it is over: a handler still working
//! in short steps then ignored the signal.
#![cfg(cancelsim)]

use std::time::Duration;

use cancelsim::{Check, Report, ViolationCode};
use cancelsim_tokio as tokio;
use cancelsim_tokio_util as tokio_util;
use tokio::time::{sleep, Instant};
use tokio_util::sync::CancellationToken;

/// A watcher that expires a request after `budget`; `listens`: it also
/// stops when the token is cancelled.
async fn watcher(token: CancellationToken, budget: Duration, listens: bool) {
    let deadline = Instant::now() + budget;
    if listens {
        tokio::select! {
            _ = token.cancelled() => {}
            _ = tokio::time::sleep_until(deadline) => {}
        }
    } else {
        tokio::time::sleep_until(deadline).await; // marker: deaf sleep
    }
}

/// Starts two watchers, works a little, shuts down, and returns at once:
/// well within the 1 s grace time of the signal.
async fn serve(budget: Duration, listens: bool) {
    let token = CancellationToken::new();
    tokio::cancelsim::register_signal({
        let token = token.clone();
        move || token.cancel()
    });
    for _ in 0..2 {
        drop(tokio::spawn(watcher(token.clone(), budget, listens)));
        sleep(Duration::from_millis(5)).await;
    }
    sleep(Duration::from_millis(10)).await;
    token.cancel();
}

fn sweep(budget_ms: u64, listens: bool) -> Report {
    Check::new(move || serve(Duration::from_millis(budget_ms), listens))
        .tokio_preset()
        .run()
}

#[test]
fn a_watcher_asleep_past_the_grace_time_at_the_end_ignored_the_signal() {
    let report = sweep(5000, false);
    assert!(!report.is_clean(), "{report}");
    let violations: Vec<_> = report
        .failures()
        .iter()
        .flat_map(|failure| failure.violations())
        .collect();
    assert!(
        violations
            .iter()
            .all(|v| v.kind() == ViolationCode::CancelIgnored),
        "{report}"
    );
    let first = violations[0];
    assert!(
        first
            .message()
            .contains(", past its 1.000s grace time, not woken by the signal"),
        "{report}"
    );
    let source = include_str!("signal_at_test_end.rs");
    let line = source
        .lines()
        .position(|line| line.ends_with("// marker: deaf sleep"))
        .unwrap()
        + 1;
    assert!(
        first.to_string().contains(&format!(
            "on sleep (crates/cancelsim-tokio-util/tests/signal_at_test_end.rs:{line}:"
        )),
        "{report}"
    );
    assert_eq!(report.to_string(), sweep(5000, false).to_string());
}

#[test]
fn a_watcher_that_listens_for_the_token_passes() {
    let report = sweep(5000, true);
    report.assert_clean();
    assert!(report.counts().per_kind["signal"] > 0, "{report}");
}

/// Deaf, but its sleep ends within the grace time: it would have ended
/// in time, had the test waited.
#[test]
fn a_deaf_watcher_whose_sleep_ends_within_the_grace_time_passes() {
    sweep(200, false).assert_clean();
}

/// The test sends one request to a handler and returns 20 ms after the
/// signal, within its grace time.
async fn one_request(steps: u32, listens: bool) {
    let token = CancellationToken::new();
    tokio::cancelsim::register_signal({
        let token = token.clone();
        move || token.cancel()
    });
    let (done_tx, _done_rx) = tokio::sync::oneshot::channel::<u32>();
    drop(tokio::spawn({
        let token = token.clone();
        async move {
            for _ in 0..steps {
                if listens && token.is_cancelled() {
                    return;
                }
                sleep(Duration::from_millis(100)).await; // marker: step
            }
            done_tx.send(steps).unwrap();
        }
    }));
    sleep(Duration::from_millis(10)).await;
    token.cancel();
    sleep(Duration::from_millis(20)).await;
}

fn sweep_steps(steps: u32, listens: bool) -> Report {
    Check::new(move || one_request(steps, listens))
        .tokio_preset()
        .run()
}

/// Deaf, in short steps: each sleep ends within the grace time, but the
/// work does not; run on until the grace time is over, it is still
/// running.
#[test]
fn a_handler_working_on_in_short_steps_past_the_grace_time_ignored_the_signal() {
    let report = sweep_steps(30, false);
    let messages: Vec<String> = report
        .failures()
        .iter()
        .flat_map(|failure| failure.violations())
        .map(|v| format!("{}: {}", v.code(), v.message()))
        .collect();
    assert!(!messages.is_empty(), "{report}");
    assert!(
        messages.iter().all(|m| m.starts_with("cancel-ignored: ")),
        "{report}"
    );
    let trace = report.failures()[0].trace().to_string();
    assert!(
        trace.contains("root finished within the signal's grace time: the tasks run on until 1.0"),
        "{trace}"
    );
    assert_eq!(report.to_string(), sweep_steps(30, false).to_string());
}

/// The same handler checking the token between steps passes; so does a
/// deaf one that finishes within the grace time, though its report to
/// the gone test then panics (the test did not wait for it: not reported).
#[test]
fn a_handler_that_stops_or_ends_within_the_grace_time_passes() {
    sweep_steps(30, true).assert_clean();
    sweep_steps(3, false).assert_clean();
}
