//! A timeout around the wait for spawned work expires when that work is
//! slow: the work is still running at the deadline, and the program's own
//! abort path (`abort_all`, `JoinSet::shutdown`, a dropped set) drops it
//! where it waits. The sweep stalls every task whose end is awaited
//! inside a `timeout` (or a `select!` against a timer), so that the
//! half-done state such an abort leaves is found, although real tokio
//! passes these programs every day the jobs are quick. Correct code —
//! state behind a guard, written in one step, a test's own
//! `timeout(5s, handle).await.expect("worker hung")` — stays clean.
#![cfg(cancelsim)]

use std::future::Future;
use std::pin::Pin;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cancelsim::{Check, Report};
use cancelsim_tokio::sync::Semaphore;
use cancelsim_tokio::task::JoinSet;
use cancelsim_tokio::time::{sleep, timeout};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

// ----- the programs ------------------------------------------------------------------

/// Buggy: the job hands its permit back only when it finishes; a job
/// aborted at the drain's deadline never does.
async fn permit_leak_on_deadline_abort() {
    let sem = Arc::new(Semaphore::new(1));
    sem.acquire().await.unwrap().forget();
    let mut set = JoinSet::new();
    let s = sem.clone();
    set.spawn(async move {
        sleep(ms(5)).await; // a slow dependency, some day
        s.add_permits(1);
    });
    if timeout(Duration::from_secs(1), set.join_next())
        .await
        .is_err()
    {
        set.abort_all();
        while set.join_next().await.is_some() {}
    }
    assert_eq!(sem.available_permits(), 1, "permit leaked");
}

/// Fixed: the job holds its permit as a guard, which its drop returns.
async fn permit_held_as_a_guard() {
    let sem = Arc::new(Semaphore::new(1));
    let permit = sem.clone().acquire_owned().await.unwrap();
    let mut set = JoinSet::new();
    set.spawn(async move {
        let _permit = permit;
        sleep(ms(5)).await;
    });
    if timeout(Duration::from_secs(1), set.join_next())
        .await
        .is_err()
    {
        set.abort_all();
        while set.join_next().await.is_some() {}
    }
    assert_eq!(sem.available_permits(), 1, "permit leaked");
}

/// A record a job writes: its id and its result, once known.
type Records = Arc<Mutex<Vec<(u32, Option<u32>)>>>;

/// A job of the pool: its id and where it records.
type Job = fn(u32, Records) -> Pin<Box<dyn Future<Output = ()> + Send>>;

/// A pool of jobs, drained for up to 1 s, then shut down.
async fn pool(job: Job) {
    let records: Records = Arc::default();
    let mut set = JoinSet::new();
    for id in 0..2 {
        set.spawn(job(id, Arc::clone(&records)));
    }
    let grace = Duration::from_secs(1);
    let _ = timeout(grace, async { while set.join_next().await.is_some() {} }).await;
    set.shutdown().await;
    let records = records.lock().unwrap();
    assert!(
        records.iter().all(|(_, result)| result.is_some()),
        "a torn record: {records:?}"
    );
}

/// The pool again, taking its first result before the drain: the later
/// job is waited for under the deadline, though the set does not poll it
/// there until it finishes.
async fn pool_after_a_first_result(job: Job) {
    let records: Records = Arc::default();
    let mut set = JoinSet::new();
    for id in 0..2 {
        set.spawn(job(id, Arc::clone(&records)));
    }
    let _first = set.join_next().await;
    let grace = Duration::from_secs(1);
    let _ = timeout(grace, async { while set.join_next().await.is_some() {} }).await;
    set.shutdown().await;
    let records = records.lock().unwrap();
    assert!(
        records.iter().all(|(_, result)| result.is_some()),
        "a torn record: {records:?}"
    );
}

/// Buggy: the record is pushed half-written before the await.
fn torn_record_job(id: u32, records: Records) -> Pin<Box<dyn Future<Output = ()> + Send>> {
    Box::pin(async move {
        records.lock().unwrap().push((id, None));
        sleep(ms(1 + 4 * u64::from(id))).await;
        let mut records = records.lock().unwrap();
        if let Some(record) = records.iter_mut().find(|(of, _)| *of == id) {
            record.1 = Some(id * 10);
        }
    })
}

/// Fixed: the record is written in one synchronous step after the await.
fn whole_record_job(id: u32, records: Records) -> Pin<Box<dyn Future<Output = ()> + Send>> {
    Box::pin(async move {
        sleep(ms(5)).await;
        records.lock().unwrap().push((id, Some(id * 10)));
    })
}

/// Buggy: gives up on a slow job at the deadline and reads the record the
/// job has only half written.
async fn reads_a_late_jobs_record(whole: bool) {
    let records: Records = Arc::default();
    let job = cancelsim_tokio::spawn(if whole {
        whole_record_job(0, Arc::clone(&records))
    } else {
        torn_record_job(0, Arc::clone(&records))
    });
    let _ = timeout(Duration::from_secs(1), job).await;
    let records = records.lock().unwrap();
    assert!(
        records.iter().all(|(_, result)| result.is_some()),
        "a torn record: {records:?}"
    );
}

/// A correct worker awaited under the test's own timeout.
async fn worker_under_the_tests_timeout() {
    let handle = cancelsim_tokio::spawn(async {
        sleep(ms(5)).await;
        7
    });
    let value = timeout(Duration::from_secs(5), handle)
        .await
        .expect("worker hung")
        .unwrap();
    assert_eq!(value, 7);
}

/// The same, the test's own deadline a `select!` against a timer.
async fn worker_under_the_tests_select() {
    let handle = cancelsim_tokio::spawn(async {
        sleep(ms(5)).await;
        7
    });
    cancelsim_tokio::select! {
        value = handle => assert_eq!(value.unwrap(), 7),
        _ = sleep(Duration::from_secs(5)) => panic!("worker hung"),
    }
}

/// Buggy: the permit leak again, the drain's deadline a `select!`.
async fn permit_leak_on_a_select_deadline() {
    let sem = Arc::new(Semaphore::new(1));
    sem.acquire().await.unwrap().forget();
    let mut set = JoinSet::new();
    let s = sem.clone();
    set.spawn(async move {
        sleep(ms(5)).await;
        s.add_permits(1);
    });
    cancelsim_tokio::select! {
        _ = set.join_next() => {}
        _ = sleep(Duration::from_secs(1)) => set.abort_all(),
    }
    while set.join_next().await.is_some() {}
    assert_eq!(sem.available_permits(), 1, "permit leaked");
}

// ----- the tests, as a tokio user writes them -------------------------------------------

#[cancelsim_tokio::test(crate = "cancelsim_tokio")]
#[should_panic(expected = "inject=stall@")]
async fn buggy_repro_permit_leak_on_deadline_abort() {
    permit_leak_on_deadline_abort().await;
}

#[cancelsim_tokio::test(crate = "cancelsim_tokio")]
#[should_panic(expected = "inject=stall@")]
async fn buggy_repro_torn_record_on_shutdown() {
    pool(torn_record_job).await;
}

#[cancelsim_tokio::test(crate = "cancelsim_tokio")]
async fn fixed_permit_guard() {
    permit_held_as_a_guard().await;
}

#[cancelsim_tokio::test(crate = "cancelsim_tokio")]
async fn fixed_whole_record() {
    pool(whole_record_job).await;
}

#[cancelsim_tokio::test(crate = "cancelsim_tokio")]
async fn worker_finishes_in_time() {
    let handle = cancelsim_tokio::spawn(async {
        sleep(ms(5)).await;
        7
    });
    let value = timeout(Duration::from_secs(5), handle)
        .await
        .expect("worker hung")
        .unwrap();
    assert_eq!(value, 7);
}

// ----- the sweeps ----------------------------------------------------------------------

fn sweep<F, Fut>(body: F) -> Report
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future,
{
    // Every `timeout` in this file is the test's own, as the test
    // macros say of a test function's lines.
    Check::new(body).tokio_preset().test_file(file!()).run()
}

/// The failure of a buggy program: a panic of `main` in a stall run.
fn assert_flagged_by_a_stall(report: &Report, message: &str) {
    let failure = report
        .failures()
        .iter()
        .find(|failure| {
            failure.repro().to_string().contains("stall@")
                && failure
                    .violations()
                    .iter()
                    .any(|v| v.message().contains(message))
        })
        .unwrap_or_else(|| panic!("no stall run found it:\n{report}"));
    let violation = failure
        .violations()
        .iter()
        .find(|v| v.message().contains(message))
        .expect("found above");
    assert_eq!(violation.code(), "panic", "{violation}");
    assert_eq!(violation.task_name(), Some("main"), "{violation}");
    assert!(violation.hint().contains("a stall"), "{violation}");
}

#[test]
fn a_permit_leaked_by_a_job_aborted_at_the_deadline_is_found() {
    let report = sweep(permit_leak_on_deadline_abort);
    assert_flagged_by_a_stall(&report, "permit leaked");
}

#[test]
fn a_permit_held_as_a_guard_is_clean() {
    sweep(permit_held_as_a_guard).assert_clean();
}

#[test]
fn a_record_torn_by_the_pools_shutdown_is_found() {
    let report = sweep(|| pool(torn_record_job));
    assert_flagged_by_a_stall(&report, "a torn record");
}

#[test]
fn a_job_the_drain_does_not_poll_is_stalled_too() {
    let report = sweep(|| pool_after_a_first_result(torn_record_job));
    assert_flagged_by_a_stall(&report, "a torn record");
    sweep(|| pool_after_a_first_result(whole_record_job)).assert_clean();
}

#[test]
fn a_record_written_in_one_step_is_clean() {
    sweep(|| pool(whole_record_job)).assert_clean();
}

#[test]
fn a_record_read_before_the_late_job_finished_it_is_found() {
    let report = sweep(|| reads_a_late_jobs_record(false));
    assert_flagged_by_a_stall(&report, "a torn record");
    let hint = report.failures()[0].violations()[0].hint();
    assert!(hint.contains("the code went on without it"), "{hint}");
}

#[test]
fn a_record_the_late_job_writes_in_one_step_is_clean() {
    sweep(|| reads_a_late_jobs_record(true)).assert_clean();
}

/// A clean sweep in which the worker was stalled, and the test's own
/// assertion on its deadline (an `expect`, a `select!` panic) was counted,
/// not reported.
fn assert_clean_with_the_tests_own_deadline_hit(report: &Report) {
    report.assert_clean();
    assert!(
        report
            .counts()
            .fired_per_kind
            .get("stall")
            .is_some_and(|&n| n > 0),
        "{report}"
    );
    assert!(report.counts().assertion_timeouts > 0, "{report}");
}

#[test]
fn the_tests_own_timeout_around_a_correct_worker_is_clean() {
    assert_clean_with_the_tests_own_deadline_hit(&sweep(worker_under_the_tests_timeout));
}

#[test]
fn the_tests_own_select_around_a_correct_worker_is_clean() {
    assert_clean_with_the_tests_own_deadline_hit(&sweep(worker_under_the_tests_select));
}

#[test]
fn a_permit_leaked_at_a_select_deadline_is_found() {
    let report = sweep(permit_leak_on_a_select_deadline);
    assert_flagged_by_a_stall(&report, "permit leaked");
}

#[test]
fn same_seed_same_report() {
    let (first, second) = (
        sweep(permit_leak_on_deadline_abort),
        sweep(permit_leak_on_deadline_abort),
    );
    assert_eq!(first.to_string(), second.to_string());
    assert_eq!(first.to_json(), second.to_json());
    let (first, second) = (&first.failures()[0], &second.failures()[0]);
    assert_eq!(first.trace().to_string(), second.trace().to_string());
}

/// The target of `a_stall_replays`: the buggy pool's sweep, or the one
/// run `CANCELSIM_REPLAY` names.
#[test]
fn replay_target() {
    let report = sweep(|| pool(torn_record_job));
    assert!(!report.is_clean());
    if std::env::var_os("CANCELSIM_REPLAY").is_some() {
        assert_eq!(report.counts().runs, 1);
    }
}

#[test]
fn a_stall_replays() {
    let report = sweep(|| pool(torn_record_job));
    let failure = report
        .failures()
        .iter()
        .find(|failure| failure.repro().to_string().contains("stall@"))
        .unwrap_or_else(|| panic!("{report}"));
    let repro = failure.repro().to_string();
    let output = Command::new(std::env::current_exe().expect("the test binary"))
        .args(["--exact", "replay_target", "--nocapture"])
        .env("CANCELSIM_REPLAY", &repro)
        .output()
        .expect("the child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!("cancelsim: replaying {repro}\n")),
        "{stdout}"
    );
    assert!(stdout.contains(&failure.trace().to_string()), "{stdout}");
    assert!(stdout.contains("a torn record"), "{stdout}");
}
