//! The test's own deadline, met by an injection elsewhere (trial 16,
//! tokio-graceful-shutdown): an expiry injected at the code's own 500 ms
//! `timeout` holds its operation until that deadline, so the test's
//! `timeout(50ms, ..).expect(..)` fires first. The operation was slower,
//! not stuck: the same run with the test's deadline lifted passes, and the
//! run counts as the test's assertion, not a failure. Code that never
//! finishes after the expiry still fails: without the test's deadline its
//! run never ends. (Only with `--cfg cancelsim`.)
#![cfg(cancelsim)]

use std::time::Duration;

use cancelsim::{Check, Report, ViolationCode};
use cancelsim_tokio::sync::oneshot;
use cancelsim_tokio::time::{sleep, timeout};

/// The code under test: a lookup under its own 500 ms deadline, answered
/// by a backend task after 1 ms; `hang_on_expiry`: the mistake of waiting
/// forever once the deadline passed.
async fn lookup(hang_on_expiry: bool) -> Option<u32> {
    let (tx, rx) = oneshot::channel();
    let _backend = cancelsim_tokio::spawn(async move {
        sleep(Duration::from_millis(1)).await;
        let _ = tx.send(7);
    });
    match timeout(Duration::from_millis(500), rx).await {
        Ok(answer) => answer.ok(),
        Err(_) if hang_on_expiry => {
            std::future::pending::<()>().await;
            None
        }
        Err(_) => None,
    }
}

fn sweep(hang_on_expiry: bool) -> Report {
    // The test's lines, as `#[tokio::test]` gives them: `lookup` above is
    // the code under test.
    let first = line!();
    Check::new(move || async move {
        let _answer = timeout(Duration::from_millis(50), lookup(hang_on_expiry))
            .await
            .expect("the lookup answers within 50 ms");
    })
    .tokio_preset()
    .test_file(file!())
    .test_lines(first, line!())
    .run()
}

#[test]
fn a_test_deadline_shorter_than_the_codes_is_the_tests_assertion() {
    let report = sweep(false);
    report.assert_clean();
    // Counted: the expiries of the test's own timeout, and the runs in
    // which the code's expiry outlasted it.
    assert!(report.counts().assertion_timeouts > 0, "{report}");
}

#[test]
fn code_that_never_finishes_after_the_expiry_still_fails() {
    let report = sweep(true);
    assert!(!report.is_clean(), "{report}");
    let kinds: Vec<_> = report
        .failures()
        .iter()
        .flat_map(|failure| failure.violations().iter().map(|v| v.kind()))
        .collect();
    assert!(kinds.contains(&ViolationCode::Panic), "{report}");
    // Each failing run was made again with the test's deadline lifted.
    assert!(
        report.counts().counterfactual_runs >= report.counts().failed_runs,
        "{report}"
    );
    assert!(
        report
            .to_string()
            .contains("the lookup answers within 50 ms"),
        "{report}"
    );
}

/// tokio-graceful-shutdown's shape: the test's own 500 ms `timeout`
/// around the operation in one branch of a `join!`, and in the other its
/// own 50 ms wait for what the first branch sends when done. An expiry
/// injected at the operation's deadlines (the code's, or the test's own
/// 500 ms one around it) makes the 50 ms wait fire: the test's timing,
/// counted. The timeout the injection expires keeps its deadline in the
/// run made again, the test's others are lifted.
fn sweep_beside() -> Report {
    let first = line!();
    Check::new(|| async {
        let (done_tx, done_rx) = oneshot::channel();
        cancelsim_tokio::join!(
            async {
                let _answer = timeout(Duration::from_millis(500), lookup(false))
                    .await
                    .unwrap();
                let _ = done_tx.send(());
            },
            async {
                sleep(Duration::from_millis(20)).await;
                timeout(Duration::from_millis(50), done_rx)
                    .await
                    .unwrap()
                    .unwrap();
            }
        );
    })
    .tokio_preset()
    .test_file(file!())
    .test_lines(first, line!())
    .run()
}

#[test]
fn a_test_deadline_beside_the_expired_one_is_the_tests_assertion_too() {
    let report = sweep_beside();
    report.assert_clean();
    assert!(report.counts().assertion_timeouts > 0, "{report}");
    assert!(report.counts().per_kind["timeout-outer"] > 0, "{report}");
}

/// The code under test, tokio-graceful-shutdown's `Toplevel` in small: a
/// worker that stops when told, and a shutdown that gives it `grace` and
/// reports `Err` when it is not done by then.
async fn serve_until_shutdown(stop: oneshot::Receiver<()>, grace: Duration) -> Result<(), String> {
    let (stop_worker, stopped) = oneshot::channel::<()>();
    let worker = cancelsim_tokio::spawn(async move {
        let _ = stopped.await;
        sleep(Duration::from_millis(1)).await;
    });
    let _ = stop.await;
    drop(stop_worker);
    match timeout(grace, worker).await {
        Ok(joined) => joined.map_err(|e| e.to_string()),
        Err(_) => Err("shutdown timed out".into()),
    }
}

/// Its test (tokio-graceful-shutdown's `nested_subsystem_receives_shutdown`
/// in shape): shut down, wait for the result with the test's own 100 ms
/// deadline (the grace's own length: an injected expiry of the grace ends
/// the shutdown at the same instant), and check it is `Ok`. `strict`:
/// the test asks to see runs an expiry decides.
fn sweep_shutdown(strict: bool) -> Report {
    let first = line!();
    Check::new(move || async move {
        if strict {
            cancelsim::time::strict_timeout_results();
        }
        let (stop_tx, stop_rx) = oneshot::channel();
        let toplevel =
            cancelsim_tokio::spawn(serve_until_shutdown(stop_rx, Duration::from_millis(100)));
        sleep(Duration::from_millis(100)).await;
        let _ = stop_tx.send(());
        let result = timeout(Duration::from_millis(100), toplevel)
            .await
            .unwrap()
            .unwrap();
        assert!(result.is_ok());
    })
    .tokio_preset()
    .test_file(file!())
    .test_lines(first, line!())
    .run()
}

#[test]
fn a_test_deadline_tied_with_the_expired_one_then_a_check_of_its_result_is_excused() {
    // With the test's deadline lifted the run fails on `assert!(is_ok())`,
    // as it does with the grace expired from its first poll: the test
    // checks the result the expiry decides.
    let report = sweep_shutdown(false);
    report.assert_clean();
    assert!(report.counts().timeout_results_excused > 0, "{report}");
    let example = report.counts().timeout_result_example.clone().unwrap();
    assert!(example.contains("result.is_ok()"), "{report}");
}

#[test]
fn a_strict_test_sees_the_runs_its_shutdown_deadline_decides() {
    let report = sweep_shutdown(true);
    assert!(!report.is_clean(), "{report}");
    assert!(
        report.failures().iter().any(|failure| failure
            .violations()
            .iter()
            .any(|v| v.kind() == ViolationCode::Panic)),
        "{report}"
    );
}
