//! tokio code whose test checks the result a timeout decides passes the
//! sweep (the expiry is excused: the test fails the same way when the
//! timed-out operation never started), and its buggy twins, whose expiry
//! leaves state half-done, still fail it. Real tokio passes the correct
//! programs; the buggy ones fail only when the timeout fires.
#![cfg(cancelsim)]

use std::cell::{Cell, RefCell};
use std::time::Duration;

use cancelsim::{Check, Report};
use cancelsim_tokio::sync::mpsc;
use cancelsim_tokio::task::JoinSet;
use cancelsim_tokio::time::{sleep, timeout, timeout_at, Instant};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

// ----- the code under test --------------------------------------------------------

/// A lookup that falls back to 0 when its backend is late.
async fn lookup() -> u32 {
    timeout(ms(50), async {
        sleep(ms(5)).await;
        7
    })
    .await
    .unwrap_or(0)
}

/// Waits for its jobs for up to 5 s, then aborts the rest: how many.
async fn drain() -> usize {
    let mut set = JoinSet::new();
    set.spawn(sleep(ms(1)));
    let drained = timeout(Duration::from_secs(5), async {
        while set.join_next().await.is_some() {}
    })
    .await;
    let mut aborted = 0;
    if drained.is_err() {
        aborted = set.len();
        set.shutdown().await;
    }
    aborted
}

/// Collects what its job finished by the deadline.
async fn collect() -> Vec<u32> {
    let deadline = Instant::now() + ms(100);
    let mut set = JoinSet::new();
    set.spawn(async {
        sleep(ms(10)).await;
        1
    });
    let mut results = Vec::new();
    while let Ok(Some(Ok(value))) = timeout_at(deadline, set.join_next()).await {
        results.push(value);
    }
    results
}

/// Buggy: counts itself in flight across the await.
async fn counted_lookup(in_flight: &Cell<u32>) -> u32 {
    timeout(ms(50), async {
        in_flight.set(in_flight.get() + 1);
        sleep(ms(5)).await;
        in_flight.set(in_flight.get() - 1);
        7
    })
    .await
    .unwrap_or(0)
}

/// Buggy: writes half the entry before the fetch's await.
async fn refresh(entry: &RefCell<(u32, u32)>, version: u32) {
    let _ = timeout(ms(50), async {
        entry.borrow_mut().0 = version;
        sleep(ms(5)).await;
        entry.borrow_mut().1 = version;
    })
    .await;
}

/// Buggy: holds the received item in a local across the await.
async fn forward(rx: &mut mpsc::UnboundedReceiver<u32>, out: &RefCell<Vec<u32>>) {
    let _ = timeout(ms(50), async {
        if let Some(item) = rx.recv().await {
            sleep(ms(5)).await;
            out.borrow_mut().push(item);
        }
    })
    .await;
}

// ----- the tests, as a tokio user writes them --------------------------------------

#[cancelsim_tokio::test(crate = "cancelsim_tokio")]
async fn lookup_returns_the_backends_value() {
    assert_eq!(lookup().await, 7);
}

#[cancelsim_tokio::test(crate = "cancelsim_tokio")]
async fn drain_aborts_nothing_when_jobs_are_quick() {
    assert_eq!(drain().await, 0);
}

#[cancelsim_tokio::test(crate = "cancelsim_tokio")]
async fn collector_gets_every_result() {
    assert_eq!(collect().await, vec![1]);
}

#[cancelsim_tokio::test(crate = "cancelsim_tokio")]
#[should_panic(expected = "the expiry at this await point left state half-done")]
async fn in_flight_counter_is_left_at_one() {
    let in_flight = Cell::new(0);
    let _ = counted_lookup(&in_flight).await;
    assert_eq!(in_flight.get(), 0);
}

#[cancelsim_tokio::test(crate = "cancelsim_tokio")]
#[should_panic(expected = "left: (1, 0)")]
async fn cache_entry_is_written_half() {
    let entry = RefCell::new((0, 0));
    refresh(&entry, 1).await;
    assert_eq!(*entry.borrow(), (1, 1));
}

#[cancelsim_tokio::test(crate = "cancelsim_tokio")]
#[should_panic(expected = "an item was lost")]
async fn forwarded_item_is_lost() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    tx.send(1).unwrap();
    let out = RefCell::new(Vec::new());
    forward(&mut rx, &out).await;
    let mut seen = out.take();
    while let Ok(item) = rx.try_recv() {
        seen.push(item);
    }
    assert_eq!(seen, vec![1], "an item was lost");
}

// ----- what the report says ----------------------------------------------------------

fn sweep<F, Fut>(body: F) -> Report
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future,
{
    Check::new(body).tokio_preset().run()
}

#[test]
fn the_excused_expiries_are_counted_and_shown() {
    for report in [
        sweep(|| async { assert_eq!(lookup().await, 7) }),
        sweep(|| async { assert_eq!(drain().await, 0) }),
        sweep(|| async { assert_eq!(collect().await, vec![1]) }),
    ] {
        report.assert_clean();
        assert!(report.counts().timeout_results_excused > 0, "{report}");
        let text = report.to_string();
        assert!(
            text.contains("under timeout at crates/cancelsim-tokio/tests/timeout_results.rs:")
                || text.contains("under timeout at tests/timeout_results.rs:"),
            "{text}"
        );
        assert!(report.to_json().contains("\"timeout_results_excused\""));
    }
}

#[test]
fn the_half_done_twin_names_its_task_and_await_point() {
    let report = sweep(|| async {
        let in_flight = Cell::new(0);
        let _ = counted_lookup(&in_flight).await;
        assert_eq!(in_flight.get(), 0);
    });
    let failure = report
        .failures()
        .first()
        .unwrap_or_else(|| panic!("{report}"));
    let violation = &failure.violations()[0];
    assert_eq!(violation.code(), "panic");
    assert_eq!(violation.task_name(), Some("main"));
    let injection = violation.injection().expect("injected");
    assert_eq!(injection.to_string(), "timeout@0:1");
    assert!(
        violation.hint().contains("left state half-done"),
        "{violation}"
    );
    assert_eq!(report.counts().timeout_results_excused, 0);
}

#[test]
fn same_seed_same_report() {
    let body = || async {
        assert_eq!(drain().await, 0);
        assert_eq!(collect().await, vec![1]);
    };
    let (first, second) = (sweep(body), sweep(body));
    assert!(first.counts().timeout_results_excused > 0, "{first}");
    assert_eq!(first.to_string(), second.to_string());
    assert_eq!(first.to_json(), second.to_json());
}

/// The collector test again, but its assertion is declared an invariant:
/// the expiry that loses the result is then a failure, for this test only.
#[cancelsim_tokio::test(crate = "cancelsim_tokio")]
#[should_panic(expected = "how the code handles the expiry itself")]
async fn a_strict_test_fails_on_the_result_a_timeout_decides() {
    cancelsim_tokio::cancelsim::strict_timeout_results();
    assert_eq!(collect().await, vec![1]);
}

/// A lookup that hands the timeout's result to its caller.
async fn lookup_result() -> Result<u32, cancelsim_tokio::time::error::Elapsed> {
    timeout(ms(50), async {
        sleep(ms(5)).await;
        7
    })
    .await
}

/// An assertion that shows `Err(Elapsed(()))` among its values checks the
/// result the timeout decides, as `.ok() == Some(7)` does: excused (trial
/// 7 found it reported as an unwrap of the expiry). An unwrap of the
/// `Elapsed` in the code is still never excused.
#[test]
fn an_assertion_showing_the_elapsed_is_a_checked_result_not_an_unwrap() {
    let report = sweep(|| async { assert_eq!(lookup_result().await, Ok(7)) });
    report.assert_clean();
    assert!(report.counts().timeout_results_excused > 0, "{report}");
    let report = sweep(|| async {
        let value = cancelsim_tokio::spawn(async { lookup_result().await.unwrap() })
            .await
            .unwrap();
        assert_eq!(value, 7);
    });
    assert!(!report.is_clean(), "{report}");
}
