//! An expiry found at a wait inside a dependency (its `sleep`, its
//! channel) names where the deadline it expired was set: the report's
//! `first found at ... on sleep (src/dep.rs:..), under the deadline set
//! at src/service.rs:..` points at the code's `timeout` too, without a
//! trip to the trace. A wait that is the timeout itself says nothing more.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use cancelsim::time::{sleep, timeout};
use cancelsim::Check;

/// A dependency: its own wait, away from the caller's `timeout`.
async fn resolve() {
    sleep(Duration::from_millis(5)).await; // marker: dependency sleep
}

/// A gauge counted around the dependency's call, inside the timeout: not
/// restored when the call expires (there is no guard).
async fn lookup(in_flight: Rc<Cell<u32>>) {
    let call = async {
        in_flight.set(in_flight.get() + 1);
        resolve().await;
        in_flight.set(in_flight.get() - 1);
    };
    let _ = timeout(Duration::from_millis(100), call).await; // marker: deadline
}

fn location(marker: &str, token: &str) -> String {
    let source = include_str!("deadline_label.rs");
    let (index, line) = source
        .lines()
        .enumerate()
        .find(|(_, line)| line.ends_with(&format!("// marker: {marker}")))
        .unwrap();
    format!(
        "tests/deadline_label.rs:{}:{}",
        index + 1,
        line.find(token).unwrap() + 1
    )
}

fn report() -> cancelsim::Report {
    Check::new(|| async {
        let in_flight = Rc::new(Cell::new(0));
        lookup(Rc::clone(&in_flight)).await;
        assert_eq!(in_flight.get(), 0, "a lookup is still counted");
    })
    .without_cancellation()
    .timeout_at_every_await(true)
    .run()
}

#[test]
fn an_expiry_in_a_dependency_names_where_its_deadline_was_set() {
    let report = report();
    assert!(!report.is_clean(), "{report}");
    let expected = format!(
        "first found at main#0 await point 1 on sleep ({}), under the deadline set at {}",
        location("dependency sleep", "sleep("),
        location("deadline", "timeout(")
    );
    assert!(
        report.to_string().contains(&expected),
        "{expected} in\n{report}"
    );
    assert_eq!(report.to_string(), self::report().to_string());
}

#[test]
fn a_wait_on_the_timeout_itself_names_it_once() {
    let report = Check::new(|| async {
        let in_flight = Rc::new(Cell::new(0));
        in_flight.set(1);
        let _ = timeout(Duration::from_millis(100), std::future::pending::<()>()).await;
        in_flight.set(0);
    })
    .without_cancellation()
    .timeout_at_every_await(true)
    .run();
    assert!(
        !report.to_string().contains("under the deadline set at"),
        "{report}"
    );
}
