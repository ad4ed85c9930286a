//! Nothing silently green: `assert_clean` fails a sweep that asked for a
//! cancellation mode and injected none, and says why.

use std::time::Duration;

use cancelsim::{CancelMode, Check};

fn message(report: &cancelsim::Report) -> String {
    let caught = std::panic::catch_unwind(|| report.assert_clean()).expect_err("must panic");
    caught
        .downcast_ref::<String>()
        .cloned()
        .expect("a formatted message")
}

#[test]
fn a_body_that_never_suspends_injected_nothing_and_fails_assert_clean() {
    let report = Check::new(|| async { 1 + 1 })
        .cancel_at_every_await(CancelMode::Both)
        .run();
    assert!(report.is_clean(), "no violation was found…");
    let message = message(&report);
    assert!(
        message.contains("the sweep injected no cancel-drop and no cancel-coop although asked to"),
        "{message}"
    );
    assert!(
        message.contains("the body has no await point to inject at"),
        "{message}"
    );
}

#[test]
fn a_sweep_that_injected_every_requested_kind_passes_assert_clean() {
    let report = Check::new(|| async {
        cancelsim::time::sleep(Duration::from_millis(1)).await;
    })
    .cancel_at_every_await(CancelMode::Both)
    .run();
    report.assert_clean();
    assert!(report.counts().fired_per_kind["cancel-drop"] > 0);
    assert!(report.counts().fired_per_kind["cancel-coop"] > 0);
    assert_eq!(report.counts().requested, ["cancel-drop", "cancel-coop"]);
}

#[test]
fn a_check_that_asked_for_no_cancellation_requires_none() {
    Check::new(|| async { 1 }).run().assert_clean();
}
