//! Real tokio called from inside a simulation build: the report's hint
//! names the dependency compiled against real tokio and the usual
//! culprits, and does not tell a user who already builds with `--cfg
//! cancelsim` to do so.
#![cfg(cancelsim)]

use std::time::Duration;

use cancelsim::{Check, ViolationCode};

/// The hint of the one violation of a check of `body`.
fn hint_of<F, Fut>(body: F) -> (String, String)
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    let report = Check::new(body).run();
    let violation = &report.failures()[0].violations()[0];
    assert_eq!(violation.kind(), ViolationCode::Panic);
    (
        violation.message().to_string(),
        violation.hint().to_string(),
    )
}

fn assert_explains_a_real_tokio_dependency(message: &str, hint: &str) {
    assert!(message.contains("there is no reactor running"), "{message}");
    assert!(
        hint.contains("a dependency compiled against real tokio"),
        "{hint}"
    );
    assert!(hint.contains("cancelsim-tokio-util"), "{hint}");
    assert!(hint.contains("cancelsim-tokio-stream"), "{hint}");
    assert!(hint.contains("send_timeout"), "{hint}");
    assert!(
        !hint.contains("--cfg cancelsim"),
        "this is a simulation build already: {hint}"
    );
}

#[test]
fn a_spawn_on_real_tokio_is_explained_as_a_dependency_on_real_tokio() {
    let (message, hint) = hint_of(|| async {
        // What tokio-util's `TaskTracker::spawn` does: real tokio's spawn.
        drop(tokio::spawn(async {}));
    });
    assert_explains_a_real_tokio_dependency(&message, &hint);
}

#[test]
fn send_timeout_is_named_with_its_rewrite() {
    let (message, hint) = hint_of(|| async {
        // `sync` is tokio's own in the facade: its `send_timeout` makes a
        // timer on real tokio.
        let (tx, _rx) = cancelsim_tokio::sync::mpsc::channel::<u8>(1);
        let _ = tx.send_timeout(1, Duration::from_millis(5)).await;
    });
    assert_explains_a_real_tokio_dependency(&message, &hint);
    assert!(
        hint.contains("tokio::time::timeout(d, tx.send(v))"),
        "{hint}"
    );
}

/// The rewrite the hint gives works in the simulation.
#[test]
fn the_rewrite_of_send_timeout_runs_in_the_simulation() {
    let report = Check::new(|| async {
        let (tx, _rx) = cancelsim_tokio::sync::mpsc::channel::<u8>(1);
        tx.send(1).await.unwrap();
        let full = cancelsim_tokio::time::timeout(Duration::from_millis(5), tx.send(2)).await;
        assert!(full.is_err(), "the channel is full");
    })
    .run();
    report.assert_clean();
}

/// Real tokio called in a spawned task (tokio-stream's `chunks_timeout` in
/// a consumer, in trial 6): its panic is an unobserved one, and the body
/// fails first on a channel the dead consumer closed. Both groups point at
/// real tokio, the body's as a consequence.
#[test]
fn a_real_tokio_panic_in_a_task_explains_every_violation_of_its_run() {
    let report = Check::new(|| async {
        let (tx, mut rx) = cancelsim_tokio::sync::mpsc::channel::<u8>(1);
        let consumer = cancelsim_tokio::spawn(async move {
            // A timer made on real tokio's runtime, as tokio-stream's
            // time adapters make theirs.
            tokio::time::sleep(Duration::from_millis(1)).await;
            while rx.recv().await.is_some() {}
        });
        cancelsim_tokio::task::yield_now().await;
        tx.send(1).await.unwrap();
        drop(tx);
        consumer.await.unwrap();
    })
    .run();
    let violations = report.failures()[0].violations();
    let unobserved = violations
        .iter()
        .find(|v| v.kind() == ViolationCode::UnobservedPanic)
        .unwrap_or_else(|| panic!("{report}"));
    assert_explains_a_real_tokio_dependency(unobserved.message(), unobserved.hint());
    assert!(
        unobserved.hint().contains("cancelsim-tokio-stream"),
        "{report}"
    );
    let body = violations
        .iter()
        .find(|v| v.kind() == ViolationCode::Panic)
        .unwrap_or_else(|| panic!("{report}"));
    assert!(body.message().contains("SendError"), "{report}");
    assert!(
        body.hint()
            .contains("real tokio was called inside the simulation in this run"),
        "{report}"
    );
}
