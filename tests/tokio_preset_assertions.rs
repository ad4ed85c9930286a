//! The rules about the test's own code: a `timeout` the test writes around
//! its own awaits and fails on is its assertion, not a bug of the code under
//! test; real tokio called inside a simulation is explained as such.

use std::time::Duration;

use cancelsim::time::{sleep, timeout};
use cancelsim::{Check, ViolationCode};

/// A test that asserts "the work finishes in time" with its own timeout.
async fn asserts_with_its_own_timeout() {
    let work = cancelsim::spawn(async {
        sleep(Duration::from_millis(5)).await;
        7
    });
    let value = timeout(Duration::from_secs(1), work)
        .await
        .expect("the work finishes within a second");
    assert_eq!(value.ok(), Some(7));
}

#[test]
fn the_tests_own_timeout_is_its_assertion_when_its_file_is_known() {
    let report = Check::new(asserts_with_its_own_timeout)
        .tokio_preset()
        .test_file(file!())
        .run();
    report.assert_clean();
    assert!(report.counts().assertion_timeouts > 0, "{report}");
    assert!(report.counts().per_kind["timeout"] > 0);
    assert!(report
        .to_string()
        .contains("expired a timeout the test itself asserts on"));
}

#[test]
fn without_the_test_file_the_same_timeout_is_expired_and_the_expect_panics() {
    let report = Check::new(asserts_with_its_own_timeout)
        .tokio_preset()
        .run();
    let failure = report
        .failures()
        .iter()
        .find(|failure| {
            failure
                .repro()
                .injections
                .iter()
                .any(|i| i.kind.name() == "timeout")
        })
        .unwrap_or_else(|| panic!("a timeout injection fails the expect: {report}"));
    let violation = &failure.violations()[0];
    assert_eq!(violation.kind(), ViolationCode::Panic);
    assert!(violation
        .message()
        .contains("the work finishes within a second"));
}

/// A timeout in the code under test (another task here) that fails on its
/// expiry is a bug: only the root's own, in the test's file, is an assertion.
#[test]
fn a_timeout_in_a_spawned_task_is_still_expired() {
    let report = Check::new(|| async {
        let worker = cancelsim::spawn(async {
            timeout(Duration::from_secs(1), sleep(Duration::from_millis(5)))
                .await
                .expect("the worker's own deadline");
        });
        let _ = worker.await;
    })
    .tokio_preset()
    .test_file(file!())
    .run();
    assert_eq!(report.counts().assertion_timeouts, 0);
    assert!(report.counts().per_kind["timeout"] > 0);
    assert!(
        !report.is_clean(),
        "the worker's expect panics under an injected expiry"
    );
}

#[test]
fn real_tokio_inside_the_simulation_is_explained() {
    let report = Check::new(|| async {
        // A dependency compiled against real tokio would do this.
        drop(tokio::spawn(async {}));
    })
    .run();
    let violation = &report.failures()[0].violations()[0];
    assert_eq!(violation.kind(), ViolationCode::Panic);
    assert!(violation.message().contains("there is no reactor running"));
    assert!(
        violation
            .hint()
            .contains("real tokio was called inside the simulation"),
        "{}",
        violation.hint()
    );
    assert!(violation.hint().contains("--cfg cancelsim"));
}

/// A test that wraps the code under test in a timeout and tolerates the
/// expiry, then checks the state: its timeout is still expired, so a
/// cancel-unsafe call is found.
#[test]
fn a_tolerated_timeout_in_the_test_still_finds_cancel_unsafe_code() {
    use std::cell::Cell;
    use std::rc::Rc;
    let report = Check::new(|| async {
        let in_flight = Rc::new(Cell::new(0));
        let call = {
            let in_flight = Rc::clone(&in_flight);
            async move {
                in_flight.set(in_flight.get() + 1);
                sleep(Duration::from_millis(5)).await;
                in_flight.set(in_flight.get() - 1); // skipped when dropped
            }
        };
        let _ = timeout(Duration::from_millis(50), call).await;
        assert_eq!(in_flight.get(), 0, "a call is still counted");
    })
    .tokio_preset()
    .test_file(file!())
    .run();
    let failure = &report.failures()[0];
    assert_eq!(failure.violations()[0].kind(), ViolationCode::Panic);
    assert!(failure.violations()[0]
        .message()
        .contains("a call is still counted"));
    assert_eq!(report.counts().assertion_timeouts, 0);
}

/// A test asserting its own timeout did not fire (`assert!(r.is_ok())`,
/// not an `expect`): an injected expiry there breaks the test's assumption
/// about time, not the code.
#[test]
fn asserting_that_the_tests_own_timeout_did_not_fire_is_its_assertion() {
    let report = Check::new(|| async {
        let worker = cancelsim::spawn(sleep(Duration::from_millis(5)));
        assert!(timeout(Duration::from_millis(50), worker).await.is_ok());
    })
    .tokio_preset()
    .test_file(file!())
    .run();
    report.assert_clean();
    assert!(report.counts().assertion_timeouts > 0, "{report}");
}

/// An injected expiry is a real one: the caller gets `Err(Elapsed)` at
/// the deadline, never before it, whatever the inner future waits on.
#[test]
fn an_injected_expiry_comes_at_the_deadline() {
    let report = Check::new(|| async {
        let start = cancelsim::time::Instant::now();
        let (tx, rx) = futures::channel::oneshot::channel::<u32>();
        let sender = cancelsim::spawn(async move {
            sleep(Duration::from_millis(10)).await;
            let _ = tx.send(7);
        });
        if timeout(Duration::from_secs(1), rx).await.is_err() {
            assert!(
                start.elapsed() >= Duration::from_secs(1),
                "Elapsed after only {:?}",
                start.elapsed()
            );
        }
        sender.await.unwrap();
    })
    .timeout_at_every_await(true)
    .run();
    report.assert_clean();
    assert!(report.counts().fired_per_kind["timeout"] >= 2, "{report}");
}

/// Code under test written beside its test, in the same file: it unwraps
/// its own timeout, a bug.
async fn fetch_or_panic(rx: futures::channel::oneshot::Receiver<u32>) -> u32 {
    timeout(Duration::from_millis(50), rx)
        .await
        .expect("fetch timed out")
        .unwrap_or(0)
}

async fn test_of_fetch() {
    let (tx, rx) = futures::channel::oneshot::channel();
    let sender = cancelsim::spawn(async move {
        sleep(Duration::from_millis(10)).await;
        let _ = tx.send(1);
    });
    assert_eq!(fetch_or_panic(rx).await, 1);
    sender.await.unwrap();
}

/// The line range of `test_of_fetch` (the test macros pass the test
/// function's lines).
fn test_of_fetch_lines() -> (u32, u32) {
    let source = include_str!("tokio_preset_assertions.rs");
    let first = source
        .lines()
        .position(|line| line.starts_with("async fn test_of_fetch()"))
        .expect("the test function");
    let last = first
        + source
            .lines()
            .skip(first)
            .position(|line| line == "}")
            .expect("its end");
    (first as u32 + 1, last as u32 + 1)
}

#[test]
fn code_in_the_tests_file_but_outside_the_test_function_is_code_under_test() {
    let (first, last) = test_of_fetch_lines();
    let report = Check::new(test_of_fetch)
        .tokio_preset()
        .test_file(file!())
        .test_lines(first, last)
        .run();
    let found = report.failures().iter().any(|failure| {
        failure.violations().iter().any(|violation| {
            violation.kind() == ViolationCode::Panic
                && violation.message().contains("fetch timed out")
        })
    });
    assert!(found, "{report}");
    assert_eq!(report.counts().assertion_timeouts, 0, "{report}");
}

#[test]
fn without_the_test_lines_the_whole_file_is_the_tests() {
    // What the lines are for: the file alone takes the code's timeout for
    // the test's own, and its unwrap for the test's assertion.
    let report = Check::new(test_of_fetch)
        .tokio_preset()
        .test_file(file!())
        .run();
    report.assert_clean();
    assert!(report.counts().assertion_timeouts > 0, "{report}");
}

/// A lookup whose only wait is its own short delay, under a generous
/// timeout; the test asserts the happy path's value.
async fn asserts_the_happy_path() {
    let value = timeout(Duration::from_millis(50), async {
        sleep(Duration::from_millis(5)).await;
        7
    })
    .await
    .unwrap_or(0);
    assert_eq!(value, 7, "the lookup's value");
}

#[test]
fn a_sleep_under_a_timeout_is_expired_by_default() {
    // The sleep may stand for a slow dependency: the expiry is swept, and
    // the happy-path assertion fails after it — the same way as when the
    // timeout expires before the lookup starts, so the run is excused,
    // counted and shown, not failed.
    let report = Check::new(asserts_the_happy_path).tokio_preset().run();
    report.assert_clean();
    assert!(report.counts().fired_per_kind["timeout"] > 0, "{report}");
    assert!(report.counts().timeout_results_excused > 0, "{report}");
    assert!(
        report.to_string().contains("timeout expiries excused")
            && report.to_string().contains("the lookup's value"),
        "{report}"
    );
    // Made failures again, they say what the counterfactual found.
    let report = Check::new(asserts_the_happy_path)
        .tokio_preset()
        .excuse_timeout_results(false)
        .run();
    let failure = report
        .failures()
        .first()
        .unwrap_or_else(|| panic!("{report}"));
    assert!(failure.violations()[0]
        .message()
        .contains("the lookup's value"));
    assert_eq!(failure.repro().injections[0].kind.name(), "timeout");
    assert_eq!(report.counts().timeout_results_excused, 0);
    let hint = failure.violations()[0].hint();
    assert!(
        hint.contains("the test assumes the timeout never fires"),
        "{hint}"
    );
    assert!(hint.contains("fails the same way"), "{hint}");
}

#[test]
fn timeouts_only_where_late_leaves_a_timeout_over_the_codes_own_sleep() {
    let report = Check::new(asserts_the_happy_path)
        .tokio_preset()
        .timeouts_only_where_late(true)
        .run();
    report.assert_clean();
    assert!(
        !report.counts().per_kind.contains_key("timeout"),
        "{report}"
    );
}

#[test]
fn timeouts_only_where_late_still_expires_a_wait_on_another_task() {
    // The reply of a task can be late: the expiry is swept there.
    let report = Check::new(|| async {
        let (reply, replied) = futures::channel::oneshot::channel::<u32>();
        let server = cancelsim::spawn(async move {
            sleep(Duration::from_millis(5)).await;
            let _ = reply.send(7);
        });
        let value = timeout(Duration::from_millis(50), replied)
            .await
            .map_or(0, |reply| reply.unwrap_or(0));
        assert!(value == 7 || value == 0);
        server.await.unwrap();
    })
    .tokio_preset()
    .timeouts_only_where_late(true)
    .run();
    report.assert_clean();
    assert!(report.counts().per_kind["timeout"] > 0, "{report}");
}
