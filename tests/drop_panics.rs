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
        // (Runs that drop the root leave the worker alive: its guard then
        // panics at teardown, a violation of its own, found first.)
        .find(|v| v.message().contains("a Drop panicked") && v.message().contains("aborted"))
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

/// A task left alive at the end of the run (a deadlock stops the run with
/// it still waiting) whose guard panics in `Drop` when the world is torn down.
async fn deadlocked_with_a_guard<G: 'static>(guard: G) {
    let stuck = cancelsim::spawn_named("stuck", async move {
        let _guard = guard;
        std::future::pending::<()>().await;
    });
    let _ = stuck.await;
}

fn teardown_violation(report: &cancelsim::Report) -> Option<cancelsim::Violation> {
    report
        .failures()
        .iter()
        .flat_map(|failure| failure.violations())
        .find(|v| v.message().contains("at teardown"))
        .cloned()
}

#[test]
fn a_drop_that_panics_at_teardown_of_a_left_over_task_is_a_panic_violation() {
    let report = Check::new(|| deadlocked_with_a_guard(PanickingGuard)).run();
    let violation = teardown_violation(&report).unwrap_or_else(|| panic!("{report}"));
    assert_eq!(violation.kind(), ViolationCode::Panic);
    assert_eq!(violation.task_name(), Some("stuck"));
    assert_eq!(violation.await_point(), Some(1));
    assert!(violation.message().contains("cleanup failed in Drop"));
    // The trace of the failing run shows it too, the same every time.
    let failure = &report.failures()[0];
    let text = failure.trace().to_string();
    assert!(text.contains("cleanup failed in Drop"), "{text}");
    let body = || deadlocked_with_a_guard(PanickingGuard);
    let again = cancelsim::check::run_repro(&body, &Config::default(), failure.repro());
    let twice = cancelsim::check::run_repro(&body, &Config::default(), failure.repro());
    assert_eq!(again.trace.to_string(), twice.trace.to_string());
    assert!(again
        .violations
        .iter()
        .any(|v| v.message().contains("at teardown")));
}

#[test]
fn the_quiet_twin_at_teardown_has_no_panic_violation() {
    let report = Check::new(|| deadlocked_with_a_guard(QuietGuard)).run();
    assert!(
        report.failures()[0].has(ViolationCode::Deadlock),
        "{report}"
    );
    assert!(teardown_violation(&report).is_none(), "{report}");
}

#[test]
fn a_sim_dropped_with_a_task_whose_drop_panics_says_so() {
    let mut sim = cancelsim::Sim::new(Config::default());
    sim.block_on(async {
        cancelsim::spawn_named("left", holds_guard(PanickingGuard)).detach();
        cancelsim::yield_now().await;
    })
    .unwrap();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(sim)))
        .expect_err("dropping the Sim reports the panic");
    let message = caught.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("cleanup failed in Drop"), "{message}");
    assert!(message.contains("left"), "{message}");
    assert!(message.contains("await point 1"), "{message}");

    let mut quiet = cancelsim::Sim::new(Config::default());
    quiet
        .block_on(async {
            cancelsim::spawn_named("left", holds_guard(QuietGuard)).detach();
            cancelsim::yield_now().await;
        })
        .unwrap();
    drop(quiet);
}

#[test]
fn a_drop_that_panics_when_an_injection_drops_the_root_is_a_panic_violation() {
    let body = |guard_panics: bool| {
        move || async move {
            let guard: Box<dyn std::any::Any> = if guard_panics {
                Box::new(PanickingGuard)
            } else {
                Box::new(QuietGuard)
            };
            sleep(Duration::from_millis(5)).await;
            std::mem::forget(guard);
        }
    };
    let report = Check::new(body(true))
        .cancel_at_every_await(CancelMode::Drop)
        .run();
    let violation = report
        .failures()
        .iter()
        .flat_map(|failure| failure.violations())
        .find(|v| v.message().contains("root's future was dropped"))
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(violation.kind(), ViolationCode::Panic);
    assert_eq!(violation.task_name(), Some("main"));
    assert_eq!(violation.await_point(), Some(1));
    assert!(violation.message().contains("cleanup failed in Drop"));
    assert!(violation.hint().starts_with("a Drop must not panic"));
    Check::new(body(false))
        .cancel_at_every_await(CancelMode::Drop)
        .run()
        .assert_clean();
}
