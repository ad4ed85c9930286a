//! `deadlock`: two locks taken in opposite orders, a deadlock only some
//! schedules reach.

use std::collections::BTreeSet;
use std::rc::Rc;

use cancelsim::{spawn_named, yield_now, Check, Config, Report, SchedulerKind};

use crate::common::sweep;
use crate::{codes, found};

// ----- 9. a deadlock only some schedules reach ------------------------------

/// `left` takes `a` then `b`; `right` first yields twice, then takes its two
/// locks in `a`, `b` order, or `b`, `a` when `opposite_order`. Under Fifo `left` is done before `right` locks.
async fn two_locks(opposite_order: bool) {
    let a = Rc::new(futures::lock::Mutex::new(0u32));
    let b = Rc::new(futures::lock::Mutex::new(0u32));
    let (left_a, left_b) = (Rc::clone(&a), Rc::clone(&b));
    let left = spawn_named("left", async move {
        let mut first = left_a.lock().await;
        yield_now().await;
        let mut second = left_b.lock().await;
        *first += 1;
        *second += 1;
    })
    .abort_on_drop();
    let right = spawn_named("right", async move {
        yield_now().await;
        yield_now().await;
        let (x, y) = if opposite_order { (&b, &a) } else { (&a, &b) };
        let mut first = x.lock().await;
        yield_now().await;
        let mut second = y.lock().await;
        *first += 1;
        *second += 1;
    })
    .abort_on_drop();
    let _ = left.await;
    let _ = right.await;
}

async fn locks_in_opposite_orders() {
    two_locks(true).await;
}

async fn locks_in_one_order() {
    two_locks(false).await;
}

fn assert_deadlock(report: &Report) {
    for (failure, violation) in found(report, "deadlock") {
        assert!(failure.repro().injections.is_empty(), "{report}");
        assert_eq!(violation.task_name(), Some("main"), "{violation}");
        let message = violation.message();
        assert!(
            message.contains("left#1 at await point") && message.contains("right#2 at await point"),
            "{violation}"
        );
    }
}

#[test]
fn deadlock_is_missed_by_fifo_alone() {
    Check::new(locks_in_opposite_orders).run().assert_clean();
}

#[test]
fn deadlock_is_found_by_random_schedules() {
    let report = Check::new(locks_in_opposite_orders)
        .seeds(0..64)
        .scheduler(SchedulerKind::Random)
        .run();
    assert_deadlock(&report);
    assert_eq!(codes(&report), BTreeSet::from(["deadlock"]));
}

#[test]
fn deadlock_is_found_by_pct() {
    for depth in [2, 3] {
        let report = Check::new(locks_in_opposite_orders)
            // PCT's change points fall within its horizon: about the number
            // of real choices of the run (4 here), not the default 1000
            // under which one seed in a few hundred preempts in time.
            .config(Config::default().pct_horizon(8))
            .seeds(0..64)
            .scheduler(SchedulerKind::Pct { depth })
            .run();
        assert_deadlock(&report);
    }
}

#[test]
fn one_lock_order_is_clean_under_every_schedule() {
    Check::new(locks_in_one_order)
        .seeds(0..64)
        .scheduler(SchedulerKind::Random)
        .run()
        .assert_clean();
    for depth in [2, 3] {
        Check::new(locks_in_one_order)
            .seeds(0..64)
            .scheduler(SchedulerKind::Pct { depth })
            .run()
            .assert_clean();
    }
    sweep(locks_in_one_order)
        .seeds(0..8)
        .scheduler(SchedulerKind::Random)
        .run()
        .assert_clean();
}
