//! The tokio preset drops the futures the program itself could drop: the
//! test body, and tasks the program aborts while they run. A task spawned
//! and merely awaited, one in a `JoinSet` that is drained, one that only an
//! owner's `Drop` stops as the test ends: nothing drops them mid-way in a
//! real run, so the sweep does not either.
#![cfg(cancelsim)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cancelsim::check::await_points;
use cancelsim::{Check, Config, SchedulerKind};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

async fn body() {
    let plain = cancelsim_tokio::spawn(cancelsim_tokio::time::sleep(ms(5))); // marker: plain
    let mut set = cancelsim_tokio::task::JoinSet::new();
    set.spawn(cancelsim_tokio::time::sleep(ms(5))); // marker: drained
    let handled = cancelsim_tokio::spawn(two_waits()); // marker: handled
    let abort = handled.abort_handle();
    let mut stopped = cancelsim_tokio::task::JoinSet::new();
    stopped.spawn(two_waits()); // marker: stopped
    plain.await.unwrap();
    while set.join_next().await.is_some() {}
    abort.abort();
    stopped.abort_all();
    let _ = handled.await;
    while stopped.join_next().await.is_some() {}
}

/// A 1 ms wait, then a long one (where the program's abort finds it: a
/// drop there is the abort itself, sooner, so only the first is a drop
/// target).
async fn two_waits() {
    cancelsim_tokio::time::sleep(ms(1)).await;
    cancelsim_tokio::time::sleep(ms(50)).await;
}

/// A task's name: its spawn site, `tests/drop_targets.rs:LINE`.
fn site(marker: &str) -> String {
    let line = include_str!("drop_targets.rs")
        .lines()
        .position(|l| l.ends_with(&format!("// marker: {marker}")))
        .expect("marked line");
    format!("tests/drop_targets.rs:{}", line + 1)
}

#[test]
fn only_the_root_and_tasks_aborted_while_they_run_are_drop_targets() {
    let points = await_points(&body, &Config::default(), 0, SchedulerKind::Fifo);
    let abortable = |name: &str| {
        points
            .iter()
            .find(|p| p.task_name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("{name}: {points:#?}"))
            .abortable
    };
    assert!(points[0].abortable, "the root");
    assert!(!abortable(&site("plain")), "a plain spawn");
    assert!(!abortable(&site("drained")), "a drained JoinSet's task");
    assert!(
        abortable(&site("handled")),
        "aborted through its AbortHandle"
    );
    assert!(abortable(&site("stopped")), "aborted by JoinSet::abort_all");
}

/// A token bucket whose refill task lives as long as the bucket: its
/// `Drop` stops it, as the test ends. Correct code.
struct Bucket {
    tokens: Arc<AtomicU32>,
    refill: cancelsim_tokio::task::JoinHandle<()>,
}

impl Bucket {
    fn new() -> Bucket {
        let tokens = Arc::new(AtomicU32::new(0));
        let refill = cancelsim_tokio::spawn({
            let tokens = Arc::clone(&tokens);
            async move {
                loop {
                    cancelsim_tokio::time::sleep(ms(10)).await;
                    tokens.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
        Bucket { tokens, refill }
    }

    async fn take(&self) {
        while self
            .tokens
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_err()
        {
            cancelsim_tokio::time::sleep(ms(1)).await;
        }
    }
}

impl Drop for Bucket {
    fn drop(&mut self) {
        self.refill.abort();
    }
}

#[test]
fn a_task_its_owner_stops_as_the_test_ends_is_not_dropped_mid_way() {
    let report = Check::new(|| async {
        let bucket = Bucket::new();
        for _ in 0..3 {
            bucket.take().await;
        }
    })
    .tokio_preset()
    .run();
    report.assert_clean();
}

/// A watchdog aborts a hung task at 100 ms: the task cannot end before,
/// so the sweep does not drop it where it waits since t = 0 (that would
/// move the program's abort before its deadline).
async fn watchdog(buggy: bool) {
    let start = cancelsim_tokio::time::Instant::now();
    let in_flight = Arc::new(AtomicU32::new(0));
    let hung = cancelsim_tokio::spawn({
        let in_flight = Arc::clone(&in_flight);
        async move {
            in_flight.fetch_add(1, Ordering::SeqCst);
            std::future::pending::<()>().await;
            in_flight.fetch_sub(1, Ordering::SeqCst); // never reached
        }
    });
    let abort = hung.abort_handle();
    let dog = async move {
        cancelsim_tokio::time::sleep(ms(100)).await;
        abort.abort();
    };
    let waiter = async move {
        let ended = hung.await;
        (ended.is_err(), start.elapsed())
    };
    let ((cancelled, at), ()) = cancelsim_tokio::join!(waiter, dog);
    assert!(cancelled);
    assert!(
        at >= ms(100),
        "the hung task ended at {at:?}, before its watchdog"
    );
    if buggy {
        // The counter the aborted task left behind: found in the baseline.
        assert_eq!(
            in_flight.load(Ordering::SeqCst),
            0,
            "a call is still counted"
        );
    }
}

#[test]
fn a_watchdogs_abort_is_not_moved_before_its_deadline() {
    let report = Check::new(|| watchdog(false)).tokio_preset().run();
    report.assert_clean();
}

#[test]
fn what_a_watchdogs_abort_leaves_behind_is_still_found() {
    let report = Check::new(|| watchdog(true)).tokio_preset().run();
    assert!(
        report.to_string().contains("a call is still counted"),
        "{report}"
    );
}

/// Collects a `JoinSet` until a deadline, then aborts the rest; a
/// `JoinError` before the deadline can only be a crash, and fails the test
/// with its `Display` ("task 2 was cancelled").
async fn collect_until_deadline() -> Vec<u32> {
    let mut set = cancelsim_tokio::task::JoinSet::new();
    set.spawn(async {
        cancelsim_tokio::time::sleep(ms(10)).await;
        1
    });
    set.spawn(std::future::pending::<u32>()); // hung: aborted at the deadline
    let deadline = cancelsim_tokio::time::Instant::now() + ms(100);
    let mut out = Vec::new();
    loop {
        match cancelsim_tokio::time::timeout_at(deadline, set.join_next()).await {
            Ok(Some(Ok(v))) => out.push(v),
            Ok(Some(Err(e))) => panic!("job failed: {e}"),
            Ok(None) | Err(_) => break,
        }
    }
    set.abort_all();
    while set.join_next().await.is_some() {}
    out
}

#[test]
fn a_deadlines_abort_all_is_not_moved_before_the_deadline() {
    let report = Check::new(|| async {
        // What holds whether or not the sweep makes the fast job late (a
        // timeout expiry at the `join_next`): no crash, nothing made up.
        let out = collect_until_deadline().await;
        assert!(out.iter().all(|&v| v == 1), "{out:?}");
    })
    .tokio_preset()
    .run();
    report.assert_clean();
    // The hung job is stalled where it waits, and dropped at the deadline.
    assert!(
        report
            .counts()
            .fired_per_kind
            .get("stall")
            .is_some_and(|&n| n > 0),
        "{report}"
    );
}

/// The aborter polls a flag the task sets (nothing wakes it but its own
/// 1 ms timer): a stall of the task would hold it for ever, the aborter
/// polling on; the stall ends by itself after a minute of virtual time,
/// as a slow wait does, and the program finishes.
#[test]
fn a_stall_ends_when_the_aborter_waits_for_the_task_itself() {
    let report = Check::new(|| async {
        let busy = Arc::new(AtomicU32::new(0));
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let task = cancelsim_tokio::spawn({
            let (busy, done) = (Arc::clone(&busy), Arc::clone(&done));
            async move {
                busy.fetch_add(1, Ordering::SeqCst);
                cancelsim_tokio::time::sleep(ms(1)).await;
                busy.fetch_sub(1, Ordering::SeqCst);
                done.store(true, Ordering::SeqCst);
                std::future::pending::<()>().await;
            }
        });
        while !done.load(Ordering::SeqCst) {
            cancelsim_tokio::time::sleep(ms(1)).await;
        }
        task.abort();
        let _ = task.await;
        assert_eq!(busy.load(Ordering::SeqCst), 0);
    })
    .tokio_preset()
    .run();
    report.assert_clean();
    assert!(
        report
            .counts()
            .fired_per_kind
            .get("stall")
            .is_some_and(|&n| n > 0),
        "{report}"
    );
}
