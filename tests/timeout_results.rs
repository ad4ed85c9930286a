//! Timeout expiries and the counterfactual that judges them: a failing
//! run of an injected expiry is run again with that timeout expired before
//! its operation started. A test that fails the same way checks the result
//! the timeout decides (excused, counted, shown); one that does not was
//! failed by state the expiry left half-done (the failure stands, and its
//! hint says so). Each correct program has a buggy twin.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use cancelsim::time::{sleep, timeout};
use cancelsim::{Check, Report, Violation, ViolationCode};
use futures::channel::mpsc;
use futures::StreamExt;

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// The tokio preset's sweep of `body`.
fn sweep<F, Fut>(body: F) -> Report
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future,
{
    Check::new(body).tokio_preset().run()
}

/// Asserts that `report` is clean with excused expiries shown.
fn excused(report: &Report) {
    report.assert_clean();
    assert!(report.counts().timeout_results_excused > 0, "{report}");
    let text = report.to_string();
    assert!(
        text.contains("excused: the test fails the same way"),
        "{text}"
    );
    assert!(
        text.contains("under timeout at tests/timeout_results.rs:"),
        "{text}"
    );
}

/// The one violation of the report's first failure, which must be under an
/// injected expiry of the root's await point `point`.
fn the_violation(report: &Report, point: u32) -> Violation {
    let failure = report
        .failures()
        .first()
        .unwrap_or_else(|| panic!("expected a failure: {report}"));
    let injection = failure.repro().injections[0];
    assert_eq!(injection.kind.name(), "timeout", "{report}");
    assert_eq!(
        injection.to_string(),
        format!("timeout@0:{point}"),
        "{report}"
    );
    assert_eq!(report.counts().timeout_results_excused, 0, "{report}");
    failure.violations()[0].clone()
}

fn half_done(violation: &Violation) {
    assert_eq!(violation.kind(), ViolationCode::Panic);
    assert_eq!(violation.task_name(), Some("main"));
    assert!(
        violation.hint().starts_with(
            "expiring this timeout before its operation started does not fail this way"
        ),
        "{}",
        violation.hint()
    );
}

// ----- a lookup with a fallback ---------------------------------------------------

/// Correct: the backend is slow only past the deadline, and then the
/// caller gets the default.
async fn lookup() -> u32 {
    timeout(ms(50), async {
        sleep(ms(5)).await;
        7
    })
    .await
    .unwrap_or(0)
}

#[test]
fn a_test_of_a_lookups_value_is_excused() {
    excused(&sweep(|| async { assert_eq!(lookup().await, 7) }));
}

/// Buggy twin: the lookup counts itself in flight across its await.
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

#[test]
fn a_counter_the_expiry_leaves_at_one_is_found() {
    let report = sweep(|| async {
        let in_flight = Cell::new(0);
        let _ = counted_lookup(&in_flight).await;
        assert_eq!(in_flight.get(), 0, "in flight");
    });
    let violation = the_violation(&report, 1);
    assert!(violation.message().contains("left: 1"), "{violation}");
    half_done(&violation);
}

// ----- a drain with a deadline ------------------------------------------------------

/// Spawns jobs of these durations (ms), joins them (the last first) for up
/// to 5 s, then aborts the rest: how many it aborted.
async fn drain(jobs: &[u64]) -> usize {
    let mut pending: Vec<_> = jobs
        .iter()
        .map(|&n| cancelsim::spawn(sleep(ms(n))))
        .collect();
    let drained = timeout(Duration::from_secs(5), async {
        while let Some(job) = pending.last_mut() {
            let _ = job.await;
            pending.pop();
        }
    })
    .await;
    let mut aborted = 0;
    if drained.is_err() {
        aborted = pending.len();
        for job in pending {
            job.abort();
        }
    }
    aborted
}

#[test]
fn a_drain_counting_what_it_aborted_is_excused() {
    excused(&sweep(|| async {
        assert_eq!(drain(&[1]).await, 0);
    }));
}

// ----- a collector ------------------------------------------------------------------

#[test]
fn a_collector_asserting_its_results_is_excused() {
    excused(&sweep(|| async {
        let mut job = cancelsim::spawn(async {
            sleep(ms(10)).await;
            1
        });
        let mut results = Vec::new();
        if let Ok(Ok(value)) = timeout(ms(100), &mut job).await {
            results.push(value);
        }
        assert_eq!(results, vec![1]);
    }));
}

// ----- a cache updated in two halves ------------------------------------------------

#[derive(Default)]
struct Cache {
    key: Cell<u32>,
    value: Cell<u32>,
}

/// Buggy: half the entry is written before the fetch's await.
async fn refresh_in_halves(cache: &Cache, version: u32) {
    cache.key.set(version);
    sleep(ms(5)).await;
    cache.value.set(version);
}

/// Fixed: the entry is written after the last await, at once.
async fn refresh_at_once(cache: &Cache, version: u32) {
    sleep(ms(5)).await;
    cache.key.set(version);
    cache.value.set(version);
}

#[test]
fn a_cache_written_half_before_the_await_is_found() {
    // The counterfactual fails the same assertion, with another message
    // (`(0, 0)` against the expiry's `(1, 0)`): not the same failure.
    let report = sweep(|| async {
        let cache = Cache::default();
        let _ = timeout(ms(50), refresh_in_halves(&cache, 1)).await;
        assert_eq!((cache.key.get(), cache.value.get()), (1, 1));
    });
    let violation = the_violation(&report, 1);
    assert!(violation.message().contains("left: (1, 0)"), "{violation}");
    half_done(&violation);
}

#[test]
fn a_cache_written_at_once_is_excused() {
    excused(&sweep(|| async {
        let cache = Cache::default();
        let _ = timeout(ms(50), refresh_at_once(&cache, 1)).await;
        assert_eq!((cache.key.get(), cache.value.get()), (1, 1));
    }));
}

// ----- an item taken from a channel -------------------------------------------------

/// Buggy: the item is held in a local across the await, and lost when the
/// expiry drops the future.
async fn forward_late(rx: &mut mpsc::UnboundedReceiver<u32>, out: &RefCell<Vec<u32>>) {
    if let Some(item) = rx.next().await {
        sleep(ms(5)).await;
        out.borrow_mut().push(item);
    }
}

/// Fixed: the item is stored before the await.
async fn forward_first(rx: &mut mpsc::UnboundedReceiver<u32>, out: &RefCell<Vec<u32>>) {
    if let Some(item) = rx.next().await {
        out.borrow_mut().push(item);
        sleep(ms(5)).await;
    }
}

/// Sends one item, forwards it under a timeout, and asserts that it is
/// either forwarded or still in the channel.
async fn nothing_lost(late: bool) {
    let (tx, mut rx) = mpsc::unbounded();
    tx.unbounded_send(1).expect("receiver alive");
    let out = RefCell::new(Vec::new());
    let _ = if late {
        timeout(ms(50), forward_late(&mut rx, &out)).await
    } else {
        timeout(ms(50), forward_first(&mut rx, &out)).await
    };
    let mut seen = out.take();
    while let Ok(item) = rx.try_recv() {
        seen.push(item);
    }
    assert_eq!(seen, vec![1], "an item was lost");
}

#[test]
fn an_item_lost_from_a_local_buffer_is_found() {
    let report = sweep(|| nothing_lost(true));
    let violation = the_violation(&report, 1);
    assert!(
        violation.message().contains("an item was lost"),
        "{violation}"
    );
    half_done(&violation);
}

#[test]
fn an_item_stored_before_the_await_is_not_lost() {
    sweep(|| nothing_lost(false)).assert_clean();
}

// ----- what the rule leaves alone -----------------------------------------------------

#[test]
fn an_unwrap_of_the_elapsed_in_the_code_is_never_excused() {
    let report = sweep(|| async {
        let job = cancelsim::spawn(async {
            timeout(ms(50), sleep(ms(5)))
                .await
                .expect("the job's deadline");
        });
        let _ = job.await;
    });
    assert!(!report.is_clean(), "{report}");
    assert_eq!(report.counts().timeout_results_excused, 0, "{report}");
}

/// Code that waits forever once its deadline passed: the run never ends,
/// with the timeout expired from its first poll too, yet that is no check
/// of the result: never excused. Its twin gives up with a default.
async fn lookup_or_hang(hang: bool) -> u32 {
    match timeout(ms(50), sleep(ms(5))).await {
        Ok(()) => 7,
        Err(_) if hang => std::future::pending().await,
        Err(_) => 0,
    }
}

#[test]
fn code_that_hangs_after_the_expiry_is_never_excused() {
    let report = sweep(|| async {
        lookup_or_hang(true).await;
    });
    assert!(!report.is_clean(), "{report}");
    assert_eq!(report.counts().timeout_results_excused, 0, "{report}");
    let violation = the_violation(&report, 1);
    assert!(
        matches!(
            violation.kind(),
            ViolationCode::StepLimit | ViolationCode::Deadlock
        ),
        "{violation}"
    );
}

#[test]
fn code_that_gives_up_after_the_expiry_passes() {
    sweep(|| async {
        lookup_or_hang(false).await;
    })
    .assert_clean();
}

#[test]
fn excused_runs_can_be_made_failures_again() {
    let report = Check::new(|| async { assert_eq!(lookup().await, 7) })
        .tokio_preset()
        .excuse_timeout_results(false)
        .run();
    let violation = the_violation(&report, 1);
    assert!(
        violation.hint().contains("fails the same way"),
        "{violation}"
    );
}

#[test]
fn same_seed_same_report_excused_count_included() {
    let body = || async {
        let cache = Cache::default();
        let _ = timeout(ms(50), refresh_at_once(&cache, 1)).await;
        let _ = timeout(ms(50), refresh_in_halves(&cache, 2)).await;
        assert_eq!(lookup().await, 7);
    };
    let first = Check::new(body).tokio_preset().seeds(0..3).run();
    let second = Check::new(body).tokio_preset().seeds(0..3).run();
    assert!(first.counts().timeout_results_excused > 0, "{first}");
    assert_eq!(first.counts(), second.counts());
    assert_eq!(first.to_string(), second.to_string());
    assert_eq!(first.to_json(), second.to_json());
}

// ----- a test whose assertions are invariants -------------------------------------

/// A collector that returns what it gathered only if its timeout does not
/// fire (T4-MB1 of the tokio-user trial): on expiry every item gathered
/// is lost, and the never-started re-run loses them too, so the sweep
/// excuses the failure by default. A test that says its assertion is an
/// invariant (`time::strict_timeout_results()`) gets it as a failure.
async fn collect_all(strict: bool) {
    if strict {
        cancelsim::time::strict_timeout_results();
    }
    let (tx, mut rx) = mpsc::unbounded::<u32>();
    let sent = std::rc::Rc::new(Cell::new(0));
    let producer = cancelsim::spawn({
        let sent = std::rc::Rc::clone(&sent);
        async move {
            for item in 0..3 {
                sleep(ms(5)).await;
                tx.unbounded_send(item).expect("the collector is alive");
                sent.set(sent.get() + 1);
            }
        }
    });
    let got = timeout(ms(1000), async {
        let mut got = Vec::new();
        while let Some(item) = rx.next().await {
            got.push(item);
        }
        got
    })
    .await
    .unwrap_or_default();
    producer.await.expect("the producer ends");
    assert_eq!(got.len(), sent.get(), "every item sent was collected");
}

#[test]
fn a_collector_losing_what_it_gathered_is_excused_unless_the_test_is_strict() {
    let lenient = Check::new(|| collect_all(false))
        .without_cancellation()
        .timeout_at_every_await(true)
        .run();
    lenient.assert_clean();
    assert!(lenient.counts().timeout_results_excused > 0, "{lenient}");
    let strict = Check::new(|| collect_all(true))
        .without_cancellation()
        .timeout_at_every_await(true)
        .run();
    assert!(!strict.is_clean(), "{strict}");
    assert_eq!(strict.counts().timeout_results_excused, 0, "{strict}");
    let violation = &strict.failures()[0].violations()[0];
    assert_eq!(violation.kind(), ViolationCode::Panic, "{strict}");
    assert!(
        violation
            .message()
            .contains("every item sent was collected"),
        "{strict}"
    );
    assert!(
        violation
            .hint()
            .contains("how the code handles the expiry itself"),
        "{}",
        violation.hint()
    );
}

/// The known limit (trial 4, T4-FA1): a drain of staggered jobs whose test
/// asserts that it aborted none. Expired after it joined one job, it
/// aborts two; never started, three: the messages differ, so the run is
/// reported as state left half-done, and the hint names the other reading
/// (a result that depends on how far the operation got). A job stalled
/// past the deadline (the drain awaits it under its timeout) fails it the
/// same way, and its hint names both readings too.
#[test]
fn a_drain_of_staggered_jobs_is_reported_with_both_readings() {
    let report = sweep(|| async {
        assert_eq!(drain(&[30, 20, 10]).await, 0, "nothing aborted");
    });
    assert!(!report.is_clean(), "{report}");
    let under = |kind: &str| {
        report
            .failures()
            .iter()
            .filter(|failure| failure.repro().injections[0].kind.name() == kind)
            .flat_map(|failure| failure.violations())
            .find(|violation| violation.message().contains("nothing aborted"))
            .unwrap_or_else(|| panic!("the drain's assertion fails under a {kind}: {report}"))
            .clone()
    };
    let violation = under("timeout");
    half_done(&violation);
    assert!(
        violation
            .hint()
            .contains("depends on how far the operation got"),
        "{}",
        violation.hint()
    );
    let stalled = under("stall");
    assert!(stalled.hint().starts_with("a stall:"), "{}", stalled.hint());
    assert!(
        stalled.hint().contains("depends on how far the wait got"),
        "{}",
        stalled.hint()
    );
}

// ----- a retried call the other side already applied ------------------------------

/// A ledger task applies withdrawals sent with a oneshot for the reply;
/// the client retries a call that timed out. `dedup`: the ledger skips a
/// request id it has seen (the fix).
async fn retried_withdrawal(dedup: bool) {
    use tokio::sync::{mpsc as tmpsc, oneshot};
    let (tx, mut rx) = tmpsc::channel::<(u32, oneshot::Sender<u32>)>(4);
    let ledger = cancelsim::spawn(async move {
        let (mut balance, mut seen) = (100u32, Vec::new());
        while let Some((id, reply)) = rx.recv().await {
            if !dedup || !seen.contains(&id) {
                seen.push(id);
                balance -= 10;
            }
            sleep(ms(1)).await;
            let _ = reply.send(balance);
        }
        balance
    });
    for _attempt in 0..3 {
        let call = async {
            let (reply, answer) = oneshot::channel();
            tx.send((7, reply)).await.ok()?;
            answer.await.ok()
        };
        if let Ok(Some(_)) = timeout(ms(50), call).await {
            break;
        }
    }
    drop(tx);
    assert_eq!(ledger.await.unwrap(), 90, "one withdrawal of 10");
}

#[test]
fn a_retry_the_other_side_already_applied_is_found_with_the_idempotency_hint() {
    let report = Check::new(|| retried_withdrawal(false))
        .without_cancellation()
        .timeout_at_every_await(true)
        .run();
    assert!(!report.is_clean(), "{report}");
    let violation = &report.failures()[0].violations()[0];
    assert!(
        violation.message().contains("one withdrawal of 10"),
        "{report}"
    );
    assert!(
        violation.hint().contains("make the request idempotent"),
        "{}",
        violation.hint()
    );
    let fixed = Check::new(|| retried_withdrawal(true))
        .without_cancellation()
        .timeout_at_every_await(true)
        .run();
    fixed.assert_clean();
}
