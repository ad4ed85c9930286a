//! `leaked-task`: tasks still alive when the root ends (a race loser left
//! running, background work with its handle dropped, a child orphaned by its
//! cancelled parent, blocking work past the drain budget), and their fixed
//! twins (abort on drop, `detach()`, blocking work finished in the drain).

use std::cell::Cell;
use std::collections::BTreeSet;
use std::rc::Rc;

use cancelsim::time::{sleep, timeout};
use cancelsim::{blocking, invariant, spawn_named, yield_now, Check, Config, Violation};
use futures::future::{select, Either};

use crate::common::{location_in, ms, sweep};
use crate::{codes, failing_injections, found, set};

/// `tests/oracles/leaked_tasks.rs:LINE:COLUMN` of `token` on the first line of
/// this file that contains `marker` (source locations without hard-coded
/// numbers).
fn location_of(marker: &str, token: &str) -> String {
    location_in(
        "tests/oracles/leaked_tasks.rs",
        include_str!("leaked_tasks.rs"),
        marker,
        token,
    )
}

// ----- 5. the loser of a race left running ----------------------------------

/// Bug: the slower replica's handle is dropped, which does not stop it.
async fn race_leaving_the_loser() -> u32 {
    let primary = spawn_named("primary", async {
        sleep(ms(10)).await;
        1
    });
    let replica = spawn_named("replica", async {
        sleep(ms(30)).await;
        2
    });
    match select(primary, replica).await {
        Either::Left((won, _loser)) | Either::Right((won, _loser)) => won.unwrap_or(0),
    }
}

/// Fixed: both handles abort their task when dropped.
async fn race_aborting_the_loser() -> u32 {
    let primary = spawn_named("primary", async {
        sleep(ms(10)).await;
        1
    })
    .abort_on_drop();
    let replica = spawn_named("replica", async {
        sleep(ms(30)).await;
        2
    })
    .abort_on_drop();
    match select(primary, replica).await {
        Either::Left((won, _loser)) | Either::Right((won, _loser)) => won.unwrap_or(0),
    }
}

#[test]
fn race_loser_left_running_is_a_leaked_task() {
    let report = sweep(race_leaving_the_loser).run();
    let baseline = &report.failures()[0];
    assert!(baseline.repro().injections.is_empty(), "{report}");
    let leaks: Vec<&Violation> = baseline
        .violations()
        .iter()
        .filter(|v| v.code() == "leaked-task")
        .collect();
    assert_eq!(leaks.len(), 1, "{report}");
    assert_eq!(leaks[0].task_name(), Some("replica"), "{}", leaks[0]);
    assert_eq!(leaks[0].await_point(), Some(1), "{}", leaks[0]);
    assert!(codes(&report).contains("leaked-task"), "{report}");
}

#[test]
fn race_loser_aborted_is_clean() {
    sweep(race_aborting_the_loser).run().assert_clean();
}

// ----- 5b. background work: detached, or its handle just dropped -------------

/// The background flush of [`detached_flush`] and [`dropped_flush`]: still
/// sleeping when the root ends, done 10ms later (within the drain budget).
fn spawn_flush(flushed: Rc<Cell<bool>>) -> cancelsim::JoinHandle<()> {
    let flush = async move {
        sleep(ms(10)).await;
        flushed.set(true);
    };
    spawn_named("flusher", flush) // flusher spawned
}

/// Fixed: the flush is meant to outlive the root and says so with
/// `detach()`; the drain lets it finish (the invariant checks that it did).
async fn detached_flush() {
    let flushed = Rc::new(Cell::new(false));
    spawn_flush(Rc::clone(&flushed)).detach();
    yield_now().await; // the flusher starts its sleep
    invariant("the flush ran", move || flushed.get());
}

/// Bug: the same flush with its handle dropped. Dropping a handle detaches
/// nothing: the task is still alive when the root ends, a leak (and the drain
/// does not run it on).
async fn dropped_flush() {
    let flushed = Rc::new(Cell::new(false));
    drop(spawn_flush(Rc::clone(&flushed)));
    yield_now().await; // the flusher starts its sleep
    invariant("the flush ran", move || flushed.get());
}

#[test]
fn a_detached_task_alive_when_the_root_ends_is_not_a_leak() {
    // The baseline only: an injected abort of the flusher would (rightly)
    // break the invariant.
    Check::new(detached_flush).run().assert_clean();
}

#[test]
fn a_task_alive_when_the_root_ends_with_its_handle_dropped_is_a_leaked_task() {
    let report = Check::new(dropped_flush).run();
    assert_eq!(report.failures().len(), 1, "the baseline fails:\n{report}");
    let baseline = &report.failures()[0];
    assert!(baseline.repro().injections.is_empty(), "{report}");
    // The leak, and, since the drain runs detached work only, the flush
    // never ran.
    let codes: Vec<&str> = baseline.violations().iter().map(Violation::code).collect();
    assert_eq!(codes, ["leaked-task", "invariant"], "{report}");
    let leak = &baseline.violations()[0];
    assert_eq!(leak.task_name(), Some("flusher"), "{leak}");
    assert_eq!(leak.await_point(), Some(1), "{leak}");
    // A leak is located at the spawn; `await_point` says where it waits.
    assert_eq!(
        leak.location(),
        Some(location_of("// flusher spawned", "spawn_named")),
        "{leak}"
    );
    assert!(
        leak.message()
            .contains("still alive when the root finished"),
        "{leak}"
    );
}

// ----- 6. a child orphaned when its parent is cancelled ---------------------

/// Bug: the parent's handle to its child is a plain one; dropping the parent
/// at an await point orphans the child.
async fn parent_orphaning_its_child() {
    let parent = spawn_named("parent", async {
        let child = spawn_named("child", async { sleep(ms(50)).await });
        sleep(ms(10)).await;
        let _ = child.await;
    })
    .abort_on_drop();
    let _ = parent.await;
}

/// Fixed: the child is aborted with its parent.
async fn parent_owning_its_child() {
    let parent = spawn_named("parent", async {
        let child = spawn_named("child", async { sleep(ms(50)).await }).abort_on_drop();
        sleep(ms(10)).await;
        let _ = child.await;
    })
    .abort_on_drop();
    let _ = parent.await;
}

#[test]
fn child_orphaned_by_a_cancelled_parent_is_a_leaked_task() {
    let report = sweep(parent_orphaning_its_child).run();
    assert!(
        report
            .failures()
            .iter()
            .all(|f| !f.repro().injections.is_empty()),
        "the baseline is clean:\n{report}"
    );
    assert_eq!(codes(&report), BTreeSet::from(["leaked-task"]));
    for (_, violation) in found(&report, "leaked-task") {
        assert_eq!(violation.task_name(), Some("child"), "{violation}");
        assert_eq!(violation.await_point(), Some(1), "{violation}");
    }
    // Dropping the parent at either of its await points orphans the child.
    assert_eq!(
        failing_injections(&report),
        set(&["parent cancel-drop@1", "parent cancel-drop@2",])
    );
}

#[test]
fn child_aborted_with_its_parent_is_clean() {
    sweep(parent_owning_its_child).run().assert_clean();
}

// ----- 11. blocking work outliving its awaiter ------------------------------

/// The saver writes to disk on a blocking worker; the caller gives up after
/// 5 ms, aborting the saver while the write (20 ms) is in progress.
async fn save_on_blocking_worker() {
    let started = Rc::new(Cell::new(false));
    let written = Rc::new(Cell::new(false));
    let (check_started, check_written) = (Rc::clone(&started), Rc::clone(&written));
    invariant("a started write reaches the disk", move || {
        !check_started.get() || check_written.get()
    });
    let saver = spawn_named("saver", async move {
        sleep(ms(1)).await;
        started.set(true);
        blocking(ms(20), move || written.set(true)).await; // blocking write
    })
    .abort_on_drop();
    let _ = timeout(ms(5), saver).await;
}

#[test]
fn blocking_work_finishes_in_the_drain() {
    sweep(save_on_blocking_worker).run().assert_clean();
}

#[test]
fn blocking_work_past_the_drain_budget_is_a_leaked_task() {
    let report = Check::new(save_on_blocking_worker)
        .config(Config::default().drain_budget(1_000, ms(5)))
        .run();
    assert_eq!(report.failures().len(), 1, "{report}");
    let (_, leak) = found(&report, "leaked-task")[0];
    assert_eq!(leak.task_name(), Some("blocking"), "{leak}");
    assert!(leak.message().contains("after the drain budget"), "{leak}");
    // The write did not happen either.
    assert_eq!(codes(&report), BTreeSet::from(["invariant", "leaked-task"]));
}
