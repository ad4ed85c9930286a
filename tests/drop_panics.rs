//! A `Drop` that panics while a task's future is dropped (an abort, a drop
//! injection, a runtime shutdown) is a violation with the panic's message
//! and the await point the future was dropped at, never a silent pass.

use std::time::Duration;

use cancelsim::time::sleep;
use cancelsim::{CancelMode, Check, Config, ViolationCode};

/// Cleanup that panics, as a buggy guard's `Drop` does.
struct PanickingGuard;

impl Drop for PanickingGuard {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("cleanup failed in Drop");
        }
    }
}

/// Cleanup that records its failure instead.
struct QuietGuard;

impl Drop for QuietGuard {
    fn drop(&mut self) {}
}

async fn holds_guard<G>(guard: G) {
    let _guard = guard;
    sleep(Duration::from_millis(5)).await;
}

#[test]
fn a_drop_that_panics_under_an_injected_abort_is_a_panic_violation() {
    let report = Check::new(|| async {
        let child = cancelsim::spawn_named("worker", holds_guard(PanickingGuard));
        let _ = child.await;
    })
    .cancel_at_every_await(CancelMode::Drop)
    .run();
    let violation = report
        .failures()
        .iter()
        .flat_map(|failure| failure.violations())
        .find(|v| v.message().contains("a Drop panicked"))
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(violation.kind(), ViolationCode::Panic);
    assert_eq!(violation.task_name(), Some("worker"));
    assert_eq!(violation.await_point(), Some(1));
    assert!(violation.message().contains("cleanup failed in Drop"));
}

#[test]
fn a_drop_that_panics_under_the_programs_own_abort_is_reported_in_the_baseline() {
    let report = Check::new(|| async {
        let child = cancelsim::spawn_named("worker", holds_guard(PanickingGuard));
        sleep(Duration::from_millis(1)).await;
        child.abort();
        let _ = child.await;
    })
    .run();
    assert!(!report.is_clean(), "the baseline itself drops the guard");
    assert!(report.to_string().contains("cleanup failed in Drop"));
}

#[test]
fn a_drop_that_panics_at_runtime_shutdown_is_reported() {
    let report = Check::new(|| async {
        cancelsim::spawn_named("background", holds_guard(PanickingGuard)).detach();
        sleep(Duration::from_millis(1)).await; // the task is at its await point
    })
    .config(Config::default().runtime_shutdown(true))
    .run();
    let text = report.to_string();
    assert!(text.contains("a Drop panicked"), "{text}");
    assert!(text.contains("background"), "{text}");
}

#[test]
fn the_quiet_twins_are_clean() {
    Check::new(|| async {
        let child = cancelsim::spawn_named("worker", holds_guard(QuietGuard)).abort_on_drop();
        let _ = child.await;
    })
    .cancel_at_every_await(CancelMode::Drop)
    .run()
    .assert_clean();
    Check::new(|| async {
        cancelsim::spawn_named("background", holds_guard(QuietGuard)).detach();
        sleep(Duration::from_millis(1)).await;
    })
    .config(Config::default().runtime_shutdown(true))
    .run()
    .assert_clean();
}
