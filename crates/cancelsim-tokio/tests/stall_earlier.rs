//! A stall cut short by the program's deadline is judged by the same run
//! with the task held one wait earlier: a check that fails the same way
//! there counts on the work finishing before the deadline (trial 10: a
//! session host's test asserts `handled: 4` after a shutdown whose grace
//! aborted a slow request — the correct host and the one that leaves
//! `busy` up both failed, and their reports said the same); one that does
//! not sees state the cut left half-done. The verdict is the violation's
//! `counterfactual:` line and picks its hint; it never excuses the run.
//! (Only with `--cfg cancelsim`.)
#![cfg(cancelsim)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cancelsim::ViolationCode;
use cancelsim_tokio::sync::{mpsc, watch};
use cancelsim_tokio::task::yield_now;
use cancelsim_tokio::time::{sleep, timeout_at, Instant};

mod common;
use common::tokio_sweep as sweep;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Stats {
    busy: usize,
    handled: usize,
}

/// Takes `busy` down when dropped: when the job ends, or is aborted.
struct Busy(Arc<Mutex<Stats>>);

impl Busy {
    fn enter(stats: &Arc<Mutex<Stats>>) -> Self {
        stats.lock().unwrap().busy += 1;
        Busy(Arc::clone(stats))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.lock().unwrap().busy -= 1;
    }
}

/// Serves jobs (a duration of work each) until stopped; `guarded` keeps
/// `busy` in a guard, else it is taken down after the work's await.
async fn session(
    mut inbox: mpsc::Receiver<u64>,
    stats: Arc<Mutex<Stats>>,
    mut stop: watch::Receiver<bool>,
    guarded: bool,
) {
    loop {
        let job = cancelsim_tokio::select! {
            _ = stop.changed() => None,
            job = inbox.recv() => job,
        };
        let Some(ms) = job else { return };
        if guarded {
            let _busy = Busy::enter(&stats);
            sleep(Duration::from_millis(ms)).await;
            stats.lock().unwrap().handled += 1;
        } else {
            stats.lock().unwrap().busy += 1;
            sleep(Duration::from_millis(ms)).await;
            let mut stats = stats.lock().unwrap();
            stats.busy -= 1;
            stats.handled += 1;
        }
    }
}

/// Gives the session one job, then shuts it down: stop, a second's grace,
/// abort; returns the stats after.
async fn serve_one_job(guarded: bool) -> Stats {
    let stats = Arc::new(Mutex::new(Stats::default()));
    let (stop_tx, stop_rx) = watch::channel(false);
    let (tx, rx) = mpsc::channel(8);
    let mut session = cancelsim_tokio::spawn(session(rx, Arc::clone(&stats), stop_rx, guarded));
    // The session waits for its first job (await point 1)...
    yield_now().await;
    tx.send(7).await.unwrap();
    // ... and works on it (await point 2) when the shutdown begins.
    yield_now().await;
    stop_tx.send(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(1);
    if timeout_at(deadline, &mut session).await.is_err() {
        session.abort();
        let _ = session.await;
    }
    let stats = stats.lock().unwrap().clone();
    stats
}

/// The test asserts the job was handled — true only while the job takes
/// less than the grace.
async fn host(guarded: bool) {
    let stats = serve_one_job(guarded).await;
    assert_eq!(
        stats,
        Stats {
            busy: 0,
            handled: 1
        }
    );
}

/// The one failing group's violation, as the report prints it.
fn stall_violation(report: &cancelsim::Report) -> String {
    let [group] = report.failure_groups() else {
        panic!("one failure group expected:\n{report}");
    };
    let failure = &report.failures()[group.first];
    assert_eq!(failure.repro().injections.len(), 1, "{report}");
    let injection = failure.repro().injections[0].to_string();
    assert_eq!(injection, "stall@1:2", "{report}");
    let violation = &failure.violations()[0];
    assert_eq!(violation.kind(), ViolationCode::Panic, "{report}");
    violation.to_string()
}

#[test]
fn a_check_that_fails_the_same_way_one_wait_earlier_counts_on_the_work_finishing() {
    let report = sweep(|| host(true));
    let text = stall_violation(&report);
    assert!(text.contains("handled: 0"), "{text}");
    assert!(
        text.contains(
            "counterfactual: stall@1:1 (the task held at its previous await point instead, \
             against every wake too: a counterfactual run, not a repro line) fails the same way"
        ),
        "{text}"
    );
    assert!(
        text.contains("the check counts on the work finishing before your deadline"),
        "{text}"
    );
    assert!(!text.contains("is what left it half-done"), "{text}");
    assert!(
        report.counts().counterfactual_runs >= 1,
        "{}",
        report.counts().counterfactual_runs
    );
}

#[test]
fn a_check_that_passes_or_differs_one_wait_earlier_sees_the_cut_state() {
    let report = sweep(|| host(false));
    let text = stall_violation(&report);
    assert!(text.contains("busy: 1"), "{text}");
    assert!(
        text.contains(
            "counterfactual: stall@1:1 (the task held at its previous await point instead, \
             against every wake too: a counterfactual run, not a repro line) fails another way"
        ),
        "{text}"
    );
    assert!(
        text.contains("most likely state the cut at this await point left half-done"),
        "{text}"
    );
}

/// The same host whose test checks only that nothing is left busy.
async fn host_busy_only() {
    let stats = serve_one_job(false).await;
    assert_eq!(stats.busy, 0, "a job is still counted busy");
}

#[test]
fn a_check_that_passes_one_wait_earlier_blames_the_cut() {
    let report = sweep(host_busy_only);
    let text = stall_violation(&report);
    assert!(
        text.contains(
            "counterfactual: stall@1:1 (the task held at its previous await point instead, \
             against every wake too: a counterfactual run, not a repro line) passes"
        ),
        "{text}"
    );
    assert!(
        text.contains("the cut at this await point is what left it half-done"),
        "{text}"
    );
}

#[test]
fn the_counterfactual_gives_the_same_verdict_every_time() {
    for guarded in [true, false] {
        let first = stall_violation(&sweep(move || host(guarded)));
        let again = stall_violation(&sweep(move || host(guarded)));
        assert_eq!(first, again);
    }
}
