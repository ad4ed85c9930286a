//! Aborts that cannot come earlier than the program makes them (trial 16,
//! tokio-graceful-shutdown's runners): a task that aborts itself as it
//! finishes (a guard dropped in its last poll: a no-op on tokio), and a
//! child that only its owner's abort-on-drop guard aborts (it goes only
//! with the owner, so the owner never sees it cancelled). Neither makes
//! the task one the sweep may drop at its earlier await points. Nor does
//! an abort of a task whose result was taken (through its `AbortHandle`
//! or its `JoinHandle`): a no-op. (Only with `--cfg cancelsim`.)
#![cfg(cancelsim)]

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cancelsim::{Check, Report};
use cancelsim_tokio::task::AbortHandle;

fn sweep<F, Fut>(body: F) -> Report
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()>,
{
    Check::new(body).tokio_preset().run()
}

/// Aborts the task behind the handle in its slot when dropped.
struct AbortOnDrop(Arc<Mutex<Option<AbortHandle>>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(handle) = self.0.lock().unwrap().take() {
            handle.abort();
        }
    }
}

/// A task holding a guard that aborts the task itself: dropped in its
/// last poll, the abort does nothing.
async fn self_abort_at_end(abort_self: bool) {
    let slot: Arc<Mutex<Option<AbortHandle>>> = Arc::default();
    let done = Arc::new(AtomicBool::new(false));
    let (tx, rx) = cancelsim_tokio::sync::oneshot::channel::<()>();
    let handle = cancelsim_tokio::spawn({
        let slot = slot.clone();
        let done = done.clone();
        async move {
            let _guard = AbortOnDrop(slot);
            rx.await.unwrap();
            done.store(true, Ordering::SeqCst);
        }
    });
    if abort_self {
        *slot.lock().unwrap() = Some(handle.abort_handle());
    }
    cancelsim_tokio::time::sleep(Duration::from_millis(10)).await;
    tx.send(()).unwrap();
    let _ = handle.await;
    assert!(
        done.load(Ordering::SeqCst),
        "task was dropped before it finished"
    );
}

#[test]
fn a_task_that_aborts_itself_as_it_finishes_is_not_dropped_earlier() {
    sweep(|| self_abort_at_end(true)).assert_clean();
}

#[test]
fn without_the_self_abort_the_same_task_passes_too() {
    sweep(|| self_abort_at_end(false)).assert_clean();
}

/// A child aborted only by its owner's guard, which the owner holds while
/// it awaits the child: the test aborts the owner.
async fn child_aborted_with_its_owner() {
    let saw_cancel = Arc::new(AtomicBool::new(false));
    let child = cancelsim_tokio::spawn(async {
        cancelsim_tokio::time::sleep(Duration::from_millis(1000)).await;
    });
    let slot = Arc::new(Mutex::new(Some(child.abort_handle())));
    let owner = cancelsim_tokio::spawn({
        let saw_cancel = saw_cancel.clone();
        async move {
            let _guard = AbortOnDrop(slot);
            if let Err(error) = child.await {
                if error.is_cancelled() {
                    saw_cancel.store(true, Ordering::SeqCst);
                }
            }
        }
    });
    cancelsim_tokio::time::sleep(Duration::from_millis(500)).await;
    owner.abort();
    let _ = owner.await;
    assert!(
        !saw_cancel.load(Ordering::SeqCst),
        "the owner saw its child cancelled while it still held the guard"
    );
}

#[test]
fn a_child_only_its_owners_guard_aborts_is_not_dropped_while_the_owner_lives() {
    sweep(child_aborted_with_its_owner).assert_clean();
}

/// The child's abort through the owner's drop still comes: the owner's
/// own drops (at each of its await points) abort the child with it.
#[test]
fn the_owners_drop_still_aborts_the_child_in_the_sweep() {
    let report = sweep(child_aborted_with_its_owner);
    assert!(report.counts().per_kind["cancel-drop"] > 0, "{report}");
}

/// A runner that takes its worker's result, then aborts it (a no-op on
/// tokio, as tokio-graceful-shutdown's runner does): a slower worker
/// would still be awaited, never aborted, so the abort plans no stall.
async fn abort_after_the_result_was_taken() {
    let worker = cancelsim_tokio::spawn(async {
        cancelsim_tokio::time::sleep(Duration::from_millis(10)).await;
        7
    });
    let abort = worker.abort_handle();
    let runner = cancelsim_tokio::spawn(async move {
        let value = worker.await.unwrap();
        abort.abort();
        value
    });
    assert_eq!(runner.await.unwrap(), 7);
}

#[test]
fn an_abort_after_the_result_was_taken_plans_no_stall() {
    let report = sweep(abort_after_the_result_was_taken);
    report.assert_clean();
    assert_eq!(report.counts().per_kind.get("stall"), None, "{report}");
}

/// The same through the `JoinHandle` itself: its result taken by a
/// `select!` on `&mut handle`, then `handle.abort()` (a no-op on tokio).
async fn join_handle_aborted_after_its_result_was_taken() {
    let mut worker = cancelsim_tokio::spawn(async {
        cancelsim_tokio::time::sleep(Duration::from_millis(10)).await;
        7
    });
    let value = cancelsim_tokio::select! {
        biased;
        value = &mut worker => value.unwrap(),
        _ = std::future::pending::<()>() => unreachable!(),
    };
    worker.abort();
    assert_eq!(value, 7);
}

#[test]
fn a_join_handles_abort_after_its_result_was_taken_plans_no_stall() {
    let report = sweep(join_handle_aborted_after_its_result_was_taken);
    report.assert_clean();
    assert_eq!(report.counts().per_kind.get("stall"), None, "{report}");
}
