//! A stall that met no deadline: the program awaited the stalled task
//! under a `timeout` (a quorum's `join_next`), another task answered
//! first, and the program went on without it — nothing aborted it, no
//! timeout expired for it. A check made while it still runs is reported
//! as what it is (the test counts on a straggler finishing within its own
//! wait), not as an abort that left state half-done (trial 12: a quorum
//! read whose gauges are guarded, checked 50 ms after the quorum).
//! (Only with `--cfg cancelsim`.)
#![cfg(cancelsim)]

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use cancelsim::ViolationCode;
use cancelsim_tokio::task::JoinSet;
use cancelsim_tokio::time::{sleep, timeout};

mod common;
use common::tokio_sweep as sweep;

/// Takes the gauge down when dropped.
struct Dec(Arc<AtomicUsize>);

impl Drop for Dec {
    fn drop(&mut self) {
        self.0.fetch_sub(1, SeqCst);
    }
}

/// Two replicas, the first answer taken under a deadline, the straggler
/// left to a background drain; `drained` waits for the drain before the
/// check, else the test sleeps a fixed 50 ms.
async fn quorum(drained: bool) {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let mut set = JoinSet::new();
    for ms in [5, 10] {
        let gauge = Arc::clone(&in_flight);
        set.spawn(async move {
            gauge.fetch_add(1, SeqCst);
            let _dec = Dec(gauge);
            sleep(Duration::from_millis(ms)).await;
        });
    }
    let _first = timeout(Duration::from_millis(100), set.join_next()).await;
    let drain = cancelsim_tokio::spawn(async move { while set.join_next().await.is_some() {} });
    if drained {
        drain.await.unwrap();
    } else {
        sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(in_flight.load(SeqCst), 0, "a replica still counted");
}

#[test]
fn a_check_while_an_unaborted_straggler_runs_says_so() {
    let report = sweep(|| quorum(false));
    let stalls: Vec<_> = report
        .failures()
        .iter()
        .filter(|f| f.repro().to_string().contains("inject=stall@"))
        .collect();
    assert!(!stalls.is_empty(), "{report}");
    for failure in stalls {
        let violation = &failure.violations()[0];
        assert_eq!(violation.kind(), ViolationCode::Panic, "{report}");
        let text = violation.to_string();
        assert!(
            text.contains("no deadline of your program met this task: nothing aborted it"),
            "{text}"
        );
        assert!(
            text.contains("the check ran while the task was still running"),
            "{text}"
        );
        assert!(!text.contains("The abort dropped the task"), "{text}");
        // No deadline cut its work: no counterfactual one wait earlier.
        assert!(!text.contains("counterfactual:"), "{text}");
    }
}

#[test]
fn a_check_after_the_straggler_is_drained_passes() {
    let report = sweep(|| quorum(true));
    report.assert_clean();
    assert!(
        report.counts().per_kind.get("stall").copied().unwrap_or(0) > 0,
        "{report}"
    );
}

#[test]
fn the_straggler_report_is_the_same_every_time() {
    let text = |report: cancelsim::Report| {
        report
            .failures()
            .iter()
            .map(|f| format!("{} {:?}", f.repro(), f.violations()))
            .collect::<Vec<_>>()
    };
    assert_eq!(text(sweep(|| quorum(false))), text(sweep(|| quorum(false))));
}
