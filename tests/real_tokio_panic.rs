//! Real tokio's "no reactor" panic in a task whose panic the program
//! handles (a `JoinError` matched, a group shut down) fails the run: the
//! run does not show what the code does on tokio, so it is not a pass.
//! The twin that uses the simulation's own timer is clean.

use std::time::Duration;

use cancelsim::{Check, ViolationCode};

/// A worker that sleeps — on real tokio's clock when `real` — and a body
/// that goes on whatever the worker's end.
async fn program(real: bool) {
    let worker = cancelsim::spawn_named("worker", async move {
        if real {
            tokio::time::sleep(Duration::from_millis(1)).await;
        } else {
            cancelsim::time::sleep(Duration::from_millis(1)).await;
        }
    });
    if let Err(error) = worker.await {
        // Handled: a failed worker is logged and skipped.
        let _ = error.is_panic();
    }
}

#[test]
fn a_handled_real_tokio_panic_fails_its_run_naming_the_task() {
    let report = Check::new(|| program(true)).run();
    assert!(!report.is_clean(), "{report}");
    let violation = report.real_tokio_called().expect("the real tokio panic");
    assert_eq!(violation.kind(), ViolationCode::Panic);
    assert_eq!(violation.task_name(), Some("worker"));
    assert!(
        violation
            .message()
            .contains("the program handled the panic"),
        "{}",
        violation.message()
    );
    assert!(
        violation
            .hint()
            .contains("real tokio was called inside the simulation"),
        "{}",
        violation.hint()
    );
    // Every run shows it: the baseline first.
    assert!(
        report.to_string().contains("first found at baseline"),
        "{report}"
    );
}

#[test]
fn the_twin_on_the_simulations_clock_is_clean() {
    let report = Check::new(|| program(false)).run();
    report.assert_clean();
    assert!(report.real_tokio_called().is_none());
}
