//! An expiry that holds an operation other tasks wait on too (a shared
//! connection's handshake behind a `OnceCell`): their own timeouts fire in
//! the failing run, not where the operation never started. The failure is
//! then not read as state left half-done; its hint says the count the test
//! asserts depends on how slow the shared dependency is (trial 13: a
//! correct lazy client whose test allowed at most two dials).

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use cancelsim::time::{sleep, timeout};
use cancelsim::{Check, Report, ViolationCode};
use tokio::sync::OnceCell;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Two handlers share one lazily dialed connection (a 10 ms handshake),
/// each under a 250 ms deadline, then a third request; the test allows at
/// most `max_dials` dials.
async fn handlers(max_dials: u32) {
    let conn = Rc::new(OnceCell::<u32>::new());
    let dials = Rc::new(Cell::new(0));
    let request = {
        let (conn, dials) = (Rc::clone(&conn), Rc::clone(&dials));
        move || {
            let (conn, dials) = (Rc::clone(&conn), Rc::clone(&dials));
            async move {
                let dial = || async {
                    dials.set(dials.get() + 1);
                    sleep(ms(10)).await; // the handshake
                    7
                };
                timeout(ms(250), conn.get_or_init(dial)).await.ok().copied()
            }
        }
    };
    let first = cancelsim::spawn_named("first", request());
    let second = cancelsim::spawn_named("second", request());
    let _ = first.await;
    let _ = second.await;
    let _ = request().await;
    assert!(dials.get() <= max_dials, "dialed {} times", dials.get());
}

fn sweep(max_dials: u32) -> Report {
    Check::new(move || handlers(max_dials))
        .without_cancellation()
        .timeout_at_every_await(true)
        .run()
}

#[test]
fn a_count_the_shared_slowness_decides_is_not_read_as_half_done() {
    let report = sweep(2);
    assert!(!report.is_clean(), "{report}");
    let failure = report
        .failures()
        .iter()
        .find(|failure| failure.violations()[0].message().contains("dialed 3 times"))
        .unwrap_or_else(|| panic!("{report}"));
    let violation = &failure.violations()[0];
    assert_eq!(violation.kind(), ViolationCode::Panic);
    assert!(
        violation.hint().contains("other tasks waited on too")
            && !violation.hint().starts_with("expiring this timeout before"),
        "{}",
        violation.hint()
    );
    assert_eq!(report.to_string(), sweep(2).to_string());
}

#[test]
fn a_test_that_asserts_what_holds_either_way_passes() {
    // Each expiry cancels at most the dial in flight: three at most.
    sweep(3).assert_clean();
}
