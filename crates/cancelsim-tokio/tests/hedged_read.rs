//! A hedged read (trial 13): ask the primary; if it has not answered
//! after `hedge_after`, ask the backup too and take whichever answers
//! first. A replica client that counts its requests in flight with
//! `+= 1; await; -= 1` leaks a count when the losing request is dropped —
//! which needs the hedge timer to win (an injected expiry: the primary is
//! slow) *and* the next `select!` to poll the backup before the primary.
//! The sweep expires timeouts under explored schedules besides the seeds'
//! own, so it finds that order; the twin with a guard passes.
//! (Only with `--cfg cancelsim`.)
#![cfg(cancelsim)]

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use cancelsim::{Check, ViolationCode};
use cancelsim_tokio::time::sleep;

struct Replica {
    latency: Duration,
    in_flight: AtomicUsize,
    guard: bool,
}

struct Leave<'a>(&'a AtomicUsize);

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, SeqCst);
    }
}

impl Replica {
    fn new(latency_ms: u64, guard: bool) -> Self {
        Replica {
            latency: Duration::from_millis(latency_ms),
            in_flight: AtomicUsize::new(0),
            guard,
        }
    }

    async fn get(&self) -> u32 {
        self.in_flight.fetch_add(1, SeqCst);
        if self.guard {
            let _leave = Leave(&self.in_flight);
            sleep(self.latency).await; // the RPC
        } else {
            sleep(self.latency).await; // the RPC
            self.in_flight.fetch_sub(1, SeqCst);
        }
        7
    }
}

async fn hedged_get(primary: &Replica, backup: &Replica) -> u32 {
    let first = primary.get();
    cancelsim_tokio::pin!(first);
    cancelsim_tokio::select! {
        v = &mut first => return v,
        _ = sleep(Duration::from_millis(20)) => {}
    }
    cancelsim_tokio::select! {
        v = &mut first => v,
        v = backup.get() => v,
    }
}

async fn reads(guard: bool) {
    let (primary, backup) = (Replica::new(5, guard), Replica::new(5, guard));
    for _ in 0..3 {
        assert_eq!(hedged_get(&primary, &backup).await, 7);
    }
    assert_eq!(primary.in_flight.load(SeqCst), 0, "primary gauge");
    assert_eq!(backup.in_flight.load(SeqCst), 0, "backup gauge");
}

fn sweep(guard: bool) -> cancelsim::Report {
    Check::new(move || reads(guard)).tokio_preset().run()
}

#[test]
fn a_gauge_leaked_by_the_losing_hedge_is_found() {
    let report = sweep(false);
    assert!(!report.is_clean(), "{report}");
    let violation = &report.failures()[0].violations()[0];
    assert_eq!(violation.kind(), ViolationCode::Panic, "{report}");
    assert!(violation.message().contains("backup gauge"), "{report}");
    assert!(
        report.failures()[0]
            .repro()
            .to_string()
            .contains("scheduler=current-thread"),
        "found under an explored schedule: {report}"
    );
    assert_eq!(report.to_string(), sweep(false).to_string());
}

#[test]
fn the_guarded_gauges_pass() {
    let report = sweep(true);
    report.assert_clean();
    assert!(report.counts().explored_expiry_schedules > 0, "{report}");
}
