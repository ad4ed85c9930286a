//! An abort that follows what the task reported (trial 7's registry): two
//! workers send "done" at the same instant; only the first send wakes the
//! test (its waker is consumed), yet the test's poll reads both and aborts
//! a worker. The abort follows the report: the sweep never drops the
//! workers before it (that made the test wait for ever for the report: a
//! false deadlock), only after it and before the wait the abort found them
//! at. A worker that ran while the
//! test slept is still dropped at every await point.
#![cfg(cancelsim)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cancelsim::check::await_points;
use cancelsim::{Check, Config, SchedulerKind};
use cancelsim_tokio::task::JoinSet;
use cancelsim_tokio::time::sleep;

#[macro_use]
mod common;
use common::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The trial's reproduction, as it was reported.
async fn abort_after_two_workers_reported() {
    let (tx, mut rx) = cancelsim_tokio::sync::mpsc::unbounded_channel();
    let mut set = JoinSet::new();
    let mut handles = Vec::new();
    for w in 0..2u32 {
        let tx = tx.clone();
        handles.push(set.spawn(async move {
            sleep(ms(1)).await; // marker: worker
            tx.send(w).unwrap();
            std::future::pending::<()>().await
        }));
    }
    drop(tx);
    let _got = [rx.recv().await.unwrap(), rx.recv().await.unwrap()];
    handles[1].abort();
    handles[0].abort();
    while set.join_next().await.is_some() {}
}

/// A registry whose workers, after their report, book it in two counters;
/// the test stops them when a coordinator says so (at 10 ms, long after
/// the reports: the abort follows them although the coordinator woke the
/// test). `split`: an await between the two counters (buggy: an abort
/// there leaves them apart, which the sweep must still find after the
/// report); otherwise one step (fixed).
async fn registry(split: bool) {
    let booked = Arc::new(AtomicU32::new(0));
    let settled = Arc::new(AtomicU32::new(0));
    let (tx, mut rx) = cancelsim_tokio::sync::mpsc::unbounded_channel();
    let mut set = JoinSet::new();
    let mut handles = Vec::new();
    for w in 0..2u32 {
        let (tx, booked, settled) = (tx.clone(), Arc::clone(&booked), Arc::clone(&settled));
        handles.push(set.spawn(async move {
            sleep(ms(1)).await;
            tx.send(w).unwrap();
            sleep(ms(1)).await;
            booked.fetch_add(1, Ordering::SeqCst);
            if split {
                sleep(ms(1)).await;
            }
            settled.fetch_add(1, Ordering::SeqCst);
            std::future::pending::<()>().await
        }));
    }
    drop(tx);
    let (stop_tx, stop_rx) = cancelsim_tokio::sync::oneshot::channel();
    let coordinator = cancelsim_tokio::spawn(async move {
        sleep(ms(10)).await;
        let _ = stop_tx.send(());
    });
    let _got = [rx.recv().await.unwrap(), rx.recv().await.unwrap()];
    stop_rx.await.unwrap();
    handles[1].abort();
    handles[0].abort();
    while set.join_next().await.is_some() {}
    coordinator.await.unwrap();
    assert_eq!(
        booked.load(Ordering::SeqCst),
        settled.load(Ordering::SeqCst),
        "a worker's booking is half done"
    );
}

/// The worker runs while the test sleeps; the test's timer decides the
/// abort, which may come at any of the worker's await points.
async fn sleep_then_abort() {
    let worker = cancelsim_tokio::spawn(async {
        loop {
            sleep(ms(3)).await; // marker: ticker
        }
    });
    sleep(ms(10)).await;
    worker.abort();
    let _ = worker.await;
}

/// A task's name: its spawn site's file and line (`tests/FILE:LINE` of
/// the marked line, minus `back` lines: a test file's site is named with
/// its directory).
fn site(marker: &str, back: usize) -> String {
    let line = include_str!("abort_after_report.rs")
        .lines()
        .position(|l| l.ends_with(&format!("// marker: {marker}")))
        .expect("marked line");
    format!("tests/abort_after_report.rs:{}", line + 1 - back)
}

/// Per task named `name`: (ordinal, dropped there by the sweep: abortable
/// or aborted at a deadline).
fn dropped_at<F, Fut>(body: &F, name: &str) -> Vec<Vec<(u32, bool)>>
where
    F: Fn() -> Fut,
    Fut: std::future::Future,
{
    let points = await_points(body, &Config::default(), 0, SchedulerKind::Fifo);
    let mut tasks: Vec<(cancelsim::TaskId, Vec<(u32, bool)>)> = Vec::new();
    for point in points
        .iter()
        .filter(|p| p.task_name.as_deref() == Some(name))
    {
        let at = (point.ordinal, point.abortable || point.aborted_at_deadline);
        match tasks.iter_mut().find(|(task, _)| *task == point.task) {
            Some((_, list)) => list.push(at),
            None => tasks.push((point.task, vec![at])),
        }
    }
    assert!(!tasks.is_empty(), "no task named {name}: {points:#?}");
    tasks.into_iter().map(|(_, list)| list).collect()
}

#[test]
fn the_reported_reproduction_is_clean() {
    let report = Check::new(abort_after_two_workers_reported)
        .tokio_preset()
        .run();
    report.assert_clean();
    // Both workers: never dropped before their report; nor at the wait
    // after it, where the abort found them (a drop there is the abort
    // itself, sooner: a question for the schedules).
    let workers = dropped_at(&abort_after_two_workers_reported, &site("worker", 1));
    assert_eq!(
        workers,
        [[(1, false), (2, false)], [(1, false), (2, false)]]
    );
}

#[test]
fn the_reproduction_agrees_with_tokio() {
    let (real, sim) = both!(|rt, log, start| async move {
        let (tx, mut rx) = rt::sync::mpsc::unbounded_channel();
        let mut set = rt::task::JoinSet::new();
        let mut handles = Vec::new();
        for w in 0..2u32 {
            let tx = tx.clone();
            handles.push(set.spawn(async move {
                rt::time::sleep(Duration::from_millis(1)).await;
                tx.send(w).unwrap();
                std::future::pending::<()>().await
            }));
        }
        drop(tx);
        let got = [rx.recv().await.unwrap(), rx.recv().await.unwrap()];
        note!(log, start, "got {got:?}");
        handles[1].abort();
        handles[0].abort();
        while let Some(joined) = set.join_next().await {
            note!(
                log,
                start,
                "cancelled {}",
                joined.unwrap_err().is_cancelled()
            );
        }
    });
    assert_eq!(real, sim);
    assert_eq!(real.len(), 3, "{real:?}");
}

#[test]
fn the_fixed_registry_is_clean() {
    let report = Check::new(|| registry(false)).tokio_preset().run();
    report.assert_clean();
    assert!(report.counts().per_kind["cancel-drop"] >= 2, "{report}");
}

#[test]
fn a_booking_an_abort_after_the_report_splits_is_found_and_replays() {
    let report = Check::new(|| registry(true)).tokio_preset().run();
    assert!(!report.is_clean(), "{report}");
    assert!(!report.to_string().contains("deadlock"), "{report}");
    let failure = report
        .failures()
        .iter()
        .find(|failure| {
            failure
                .repro()
                .injections
                .iter()
                .any(|injection| injection.kind.name() == "cancel-drop" && injection.point == 3)
        })
        .unwrap_or_else(|| panic!("a drop between the two counters: {report}"));
    let replay = || {
        cancelsim::check::run_repro(&|| registry(true), &Config::default(), failure.repro())
            .trace
            .to_string()
    };
    let first = replay();
    assert!(first.contains("a worker's booking is half done"), "{first}");
    assert_eq!(replay(), first, "same seed, identical trace");
}

#[test]
fn a_task_that_ran_while_the_test_slept_is_dropped_at_every_await_point() {
    let ticker = dropped_at(&sleep_then_abort, &site("ticker", 2));
    assert_eq!(ticker, [[(1, true), (2, true), (3, true), (4, true)]]);
    let report = Check::new(sleep_then_abort).tokio_preset().run();
    report.assert_clean();
}
