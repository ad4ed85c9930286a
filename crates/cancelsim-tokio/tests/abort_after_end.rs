//! A task the program aborts after it ended, its result not taken yet: a
//! quorum read's straggler, as fast as the others in the test, done when
//! `abort_all` comes. A slower straggler would be aborted where it waits:
//! the sweep stalls it at its await points, and the program's own abort
//! drops it there. (Trial 11: a replica's outstanding-request count, left
//! up when a straggler's read was aborted mid-`sleep`, was missed.)
//! (Only with `--cfg cancelsim`.)
#![cfg(cancelsim)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cancelsim::{Check, Report};
use cancelsim_tokio::task::JoinSet;
use cancelsim_tokio::time::sleep;

/// One replica's read: counts itself outstanding across the latency; the
/// fixed one with a guard, so that an abort counts it out too.
async fn read(outstanding: Arc<AtomicUsize>, fixed: bool) -> u32 {
    struct Out(Arc<AtomicUsize>);
    impl Drop for Out {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::SeqCst);
        }
    }
    outstanding.fetch_add(1, Ordering::SeqCst);
    let guard = fixed.then(|| Out(outstanding.clone()));
    sleep(Duration::from_millis(10)).await; // marker: replica latency
    if guard.is_none() {
        outstanding.fetch_sub(1, Ordering::SeqCst);
    }
    drop(guard);
    7
}

/// Asks three replicas, answers once two agree, aborts the stragglers.
async fn quorum(fixed: bool) {
    let outstanding = Arc::new(AtomicUsize::new(0));
    let mut reads = JoinSet::new();
    for _ in 0..3 {
        reads.spawn(read(outstanding.clone(), fixed));
    }
    let mut answers = 0;
    while let Some(answer) = reads.join_next().await {
        if answer.is_ok() {
            answers += 1;
        }
        if answers == 2 {
            break;
        }
    }
    reads.abort_all();
    while reads.join_next().await.is_some() {}
    assert_eq!(
        outstanding.load(Ordering::SeqCst),
        0,
        "nothing left outstanding"
    );
}

fn sweep(fixed: bool) -> Report {
    Check::new(move || quorum(fixed)).tokio_preset().run()
}

#[test]
fn a_straggler_aborted_after_its_end_is_stalled_and_the_leak_found() {
    let report = sweep(false);
    assert!(!report.is_clean(), "{report}");
    let text = report.to_string();
    assert!(text.contains("nothing left outstanding"), "{text}");
    assert!(
        text.contains("injected: stall@3:1"),
        "the third replica, stalled: {text}"
    );
    assert!(
        text.contains("on sleep (crates/cancelsim-tokio/tests/abort_after_end.rs:"),
        "{text}"
    );
    sweep(true).assert_clean();
}

#[test]
fn same_seed_same_trace_with_the_straggler_stalled() {
    let repro: cancelsim::Repro = "cancelsim:v1 seed=0 scheduler=current-thread inject=stall@3:1"
        .parse()
        .expect("a valid repro");
    let body = || quorum(false);
    let config = cancelsim::Config::default().runtime_shutdown(true);
    let run = || cancelsim::check::run_repro(&body, &config, &repro);
    let (first, again) = (run(), run());
    assert_eq!(first.fired.len(), 1, "{}", first.trace);
    assert!(!first.is_clean(), "{}", first.trace);
    assert_eq!(first.trace.to_string(), again.trace.to_string());
}

/// The quorum with its guard, checked right after `abort_all`: with the
/// straggler slower (stalled), its abort is still pending when the check
/// runs — tokio drops an aborted task when the runtime next runs it — and
/// the report says so, not that a guard is missing.
async fn checked_right_after_abort() {
    let outstanding = Arc::new(AtomicUsize::new(0));
    let mut reads = JoinSet::new();
    for _ in 0..3 {
        reads.spawn(read(outstanding.clone(), true));
    }
    let mut answers = 0;
    while let Some(answer) = reads.join_next().await {
        answers += usize::from(answer.is_ok());
        if answers == 2 {
            break;
        }
    }
    reads.abort_all();
    assert_eq!(
        outstanding.load(Ordering::SeqCst),
        0,
        "nothing left outstanding"
    );
}

#[test]
fn a_check_right_after_abort_all_is_told_the_abort_was_pending() {
    let report = Check::new(checked_right_after_abort).tokio_preset().run();
    assert!(!report.is_clean(), "{report}");
    let text = report.to_string();
    assert!(text.contains("injected: stall@3:1"), "{text}");
    assert!(text.contains("was still to be dropped"), "{text}");
    assert!(text.contains("shutdown().await"), "{text}");
}
