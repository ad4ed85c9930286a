//! A task awaited inside a `timeout` is stalled at its await points when
//! the sweep drops only what the program could (`drop_only_abortable`):
//! the timeout then expires because the task is slow, with the task still
//! running at the deadline, and the program's own abort there drops it
//! where it waits. A job that hands a permit back only when it finishes
//! leaks it; one that holds it as a guard does not.

mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use cancelsim::check::{await_points, run_repro};
use cancelsim::time::{sleep, timeout};
use cancelsim::{CancelMode, Check, Config, Repro, SchedulerKind, ViolationCode};
use common::ms;

/// Gives a permit back when dropped.
struct Permit(Rc<Cell<u32>>);

impl Drop for Permit {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

/// A job takes the one permit and hands it back when done; the caller
/// waits for it for 1 s and aborts it then. Buggy unless `guarded`: the
/// job returns the permit after its await, so a job aborted at the
/// deadline keeps it.
async fn permit_returned_by_the_job(guarded: bool) {
    let available = Rc::new(Cell::new(0u32));
    let mut job = cancelsim::spawn_named("job", {
        let available = Rc::clone(&available);
        async move {
            if guarded {
                let _permit = Permit(available);
                sleep(ms(5)).await; // a slow dependency, some day
            } else {
                sleep(ms(5)).await;
                available.set(available.get() + 1);
            }
        }
    })
    .abort_on_drop();
    if timeout(Duration::from_secs(1), &mut job).await.is_err() {
        job.abort();
        let _ = job.await;
    }
    assert_eq!(available.get(), 1, "permit leaked");
}

fn sweep(guarded: bool) -> cancelsim::Report {
    Check::new(move || permit_returned_by_the_job(guarded))
        .cancel_at_every_await(CancelMode::Drop)
        .drop_only_abortable(true)
        .timeout_at_every_await(true)
        .run()
}

#[test]
fn a_task_awaited_inside_a_timeout_is_stalled_not_dropped() {
    let points = await_points(
        &|| permit_returned_by_the_job(true),
        &Config::default(),
        0,
        SchedulerKind::Fifo,
    );
    let job: Vec<(u32, bool, bool)> = points
        .iter()
        .filter(|p| p.task_name.as_deref() == Some("job"))
        .map(|p| (p.ordinal, p.abortable, p.awaited_at_deadline))
        .collect();
    assert_eq!(job, [(1, false, true)], "{points:#?}");
    // The root awaits nothing else under a timeout.
    assert!(!points[0].awaited_at_deadline, "{points:#?}");
}

#[test]
fn a_permit_leaked_by_a_job_aborted_at_the_deadline_is_found() {
    let report = sweep(false);
    let failure = report
        .failures()
        .iter()
        .find(|failure| failure.repro().to_string().contains("stall@1:1"))
        .unwrap_or_else(|| panic!("a stall of the job finds the leak: {report}"));
    let violation = &failure.violations()[0];
    assert_eq!(violation.kind(), ViolationCode::Panic, "{violation}");
    assert_eq!(violation.task_name(), Some("main"), "{violation}");
    assert!(violation.message().contains("permit leaked"), "{violation}");
    assert!(
        violation
            .hint()
            .contains("held this task's wait here until your own deadline aborted it"),
        "{violation}"
    );
}

#[test]
fn a_permit_held_as_a_guard_is_clean() {
    let report = sweep(true);
    report.assert_clean();
    assert_eq!(report.counts().per_kind.get("stall"), Some(&1), "{report}");
}

#[test]
fn a_stall_replays_identically() {
    let report = sweep(false);
    let failure = report
        .failures()
        .iter()
        .find(|failure| failure.repro().to_string().contains("stall@"))
        .unwrap_or_else(|| panic!("{report}"));
    let line: Repro = failure
        .repro()
        .to_string()
        .parse()
        .expect("a repro line parses");
    let replay = || {
        run_repro(
            &|| permit_returned_by_the_job(false),
            &Config::default(),
            &line,
        )
        .trace
        .to_string()
    };
    let first = replay();
    assert!(first.contains("injected stall at await point 1"), "{first}");
    assert!(first.contains("permit leaked"), "{first}");
    assert_eq!(replay(), first);
    assert_eq!(sweep(false).to_string(), report.to_string());
}
