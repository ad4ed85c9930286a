//! Blocking work is the slow backend an injected expiry holds, for a
//! `select!` against a timer and for the outer of two nested `timeout`s as
//! for a `timeout`: a renderer on `spawn_blocking` that answers over a
//! oneshot with `.expect(..)` panics on the receiver its caller's expired
//! `select!` dropped — found as one `unobserved-panic`; its twin that lets
//! a gone caller go passes. The trace says until when the work was held;
//! the same line replays the same trace.
//! (Only with `--cfg cancelsim`.)
#![cfg(cancelsim)]

use std::time::Duration;

use cancelsim::{Check, Config, ViolationCode};
use cancelsim_tokio::sync::oneshot;
use cancelsim_tokio::time::{sleep, timeout};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Renders on the blocking pool; answers over a oneshot. `strict`: the
/// renderer `expect`s its caller to be there.
fn render(strict: bool) -> oneshot::Receiver<u8> {
    let (tx, rx) = oneshot::channel();
    drop(cancelsim_tokio::task::spawn_blocking(move || {
        if strict {
            tx.send(7).expect("caller went away");
        } else {
            let _ = tx.send(7);
        }
    }));
    rx
}

/// Three renders, each raced against a 2 s timer.
async fn raced(strict: bool) {
    for _ in 0..3 {
        let rx = render(strict);
        cancelsim_tokio::select! {
            _ = rx => {}
            _ = sleep(ms(2000)) => {}
        }
    }
    sleep(ms(10)).await;
}

/// Three renders, each under a 2 s timeout inside a 3 s one.
async fn nested(strict: bool) {
    for _ in 0..3 {
        let rx = render(strict);
        let _ = timeout(ms(3000), async { timeout(ms(2000), rx).await }).await;
    }
    sleep(ms(10)).await;
}

#[test]
fn a_renderer_that_expects_its_racing_caller_is_found() {
    let report = Check::new(|| raced(true)).tokio_preset().run();
    let codes: Vec<_> = report
        .failure_groups()
        .iter()
        .map(|group| group.code.as_str())
        .collect();
    assert_eq!(codes, ["unobserved-panic"], "{report}");
    let failure = &report.failures()[0];
    let violation = &failure.violations()[0];
    assert_eq!(violation.kind(), ViolationCode::UnobservedPanic);
    assert!(violation.message().contains("caller went away"), "{report}");
    assert!(violation.injection().unwrap().kind.is_expiry(), "{report}");
    let trace = failure.trace().to_string();
    assert!(
        trace.contains("blocking work held until after 2.000s: the injected expiry makes it"),
        "{trace}"
    );
    // Replayed: the same trace, the work ending just after the timer.
    let repro = failure.repro().to_string();
    let replay = || {
        cancelsim::check::run_repro(&|| raced(true), &Config::default(), &repro.parse().unwrap())
            .trace
            .to_string()
    };
    assert_eq!(replay(), replay());
}

#[test]
fn a_renderer_that_lets_a_gone_racing_caller_go_passes() {
    let report = Check::new(|| raced(false)).tokio_preset().run();
    report.assert_clean();
    assert!(report.counts().per_kind["timeout"] > 0, "{report}");
}

/// The outer timeout's expiry holds the work past the outer deadline
/// (the inner one, due earlier, fires by itself meanwhile).
#[test]
fn the_outer_of_two_timeouts_holds_the_work_until_its_own_deadline() {
    let report = Check::new(|| nested(false)).tokio_preset().run();
    report.assert_clean();
    assert!(report.counts().per_kind["timeout-outer"] > 0, "{report}");
    let line = "cancelsim:v1 seed=0 scheduler=fifo inject=timeout-outer@0:1";
    let outcome =
        cancelsim::check::run_repro(&|| nested(true), &Config::default(), &line.parse().unwrap());
    let trace = outcome.trace.to_string();
    assert!(
        trace.contains("blocking work held until after 3.000s"),
        "{trace}"
    );
    assert!(!outcome.is_clean(), "the renderer's expect fails: {trace}");
}
