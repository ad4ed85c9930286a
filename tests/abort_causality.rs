//! What a program's abort of a running task followed from: a task polled
//! while the aborter's wake was pending (woken, not yet polled) did
//! something the aborter's poll can observe — two workers send at the same
//! instant, only the first send wakes the receiver, yet its poll reads
//! both — so the abort comes at the task's await points from the one that
//! poll reached. A task that ran while the aborter waited for something
//! else has no such link: its abort may come at any of its await points.

mod common;

use cancelsim::check::await_points;
use cancelsim::time::sleep;
use cancelsim::{Check, Config, SchedulerKind};
use common::ms;
use futures::StreamExt;

/// Two workers report at the same instant, then wait; the test aborts
/// them once it has both reports (trial 7's false deadlock).
async fn abort_after_both_reported() {
    both_reported(false).await;
}

/// The same, the test aborting them only when a timekeeper says so, at
/// 10 ms: it was the timekeeper that woke the test for the abort, but the
/// abort still follows the reports the test read earlier.
async fn abort_when_told_after_both_reported() {
    both_reported(true).await;
}

async fn both_reported(told: bool) {
    let (tx, mut rx) = futures::channel::mpsc::unbounded::<u32>();
    let mut workers = Vec::new();
    for w in 0..2u32 {
        let tx = tx.clone();
        workers.push(cancelsim::spawn_named(&format!("worker{w}"), async move {
            sleep(ms(1)).await;
            tx.unbounded_send(w).unwrap();
            cancelsim::yield_now().await;
            std::future::pending::<()>().await
        }));
    }
    drop(tx);
    let got = [rx.next().await, rx.next().await];
    assert!(got.iter().all(Option::is_some), "{got:?}");
    if told {
        let (tx, rx) = futures::channel::oneshot::channel::<()>();
        cancelsim::spawn_named("timekeeper", async move {
            sleep(ms(10)).await;
            let _ = tx.send(());
        })
        .detach();
        rx.await.unwrap();
    } else {
        // Let the workers reach their last wait (point 3).
        cancelsim::yield_now().await;
        cancelsim::yield_now().await;
    }
    workers[1].abort();
    workers[0].abort();
    for worker in workers {
        let _ = worker.await;
    }
}

/// Per named task: (ordinal, abortable) at each of its await points.
fn abortable_points<F, Fut>(body: &F, task: &str) -> Vec<(u32, bool)>
where
    F: Fn() -> Fut,
    Fut: std::future::Future,
{
    await_points(body, &Config::default(), 0, SchedulerKind::Fifo)
        .iter()
        .filter(|point| point.task_name.as_deref() == Some(task))
        .map(|point| (point.ordinal, point.abortable))
        .collect()
}

/// Each worker of `body` may be dropped only at the await point after its
/// report (point 2), never at the one before (point 1), nor where the
/// abort found it (point 3: that drop is the abort itself, sooner in the
/// same wait, a question for the schedules), and the sweep of `body` is
/// clean.
fn assert_both_aborted_only_after_their_report<F, Fut>(body: F)
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    for worker in ["worker0", "worker1"] {
        assert_eq!(
            abortable_points(&body, worker),
            [(1, false), (2, true), (3, false)],
            "{worker}"
        );
    }
    Check::new(body).tokio_preset().run().assert_clean();
}

#[test]
fn a_task_polled_while_its_aborter_was_woken_is_aborted_after_that_poll() {
    // worker0's send woke the test; worker1's found its waker consumed,
    // but ran while the test's wake was pending: both are aborted after
    // their report, never before it.
    assert_both_aborted_only_after_their_report(abort_after_both_reported);
}

#[test]
fn the_link_holds_when_another_task_wakes_the_aborter_later() {
    assert_both_aborted_only_after_their_report(abort_when_told_after_both_reported);
}

/// A worker ticks every 3 ms; a timekeeper tells the test at 10 ms to stop
/// it. The worker last ran at 9 ms, while the test waited for the
/// timekeeper, not while it was woken: nothing links the abort to the
/// worker's progress, so it may come at any of its await points before the
/// one it found the worker at (that one is the baseline's own abort).
async fn abort_when_told() {
    let worker = cancelsim::spawn_named("ticker", async {
        loop {
            sleep(ms(3)).await;
        }
    });
    let (tx, rx) = futures::channel::oneshot::channel::<()>();
    cancelsim::spawn_named("timekeeper", async move {
        sleep(ms(10)).await;
        let _ = tx.send(());
    })
    .detach();
    rx.await.unwrap();
    worker.abort();
    let _ = worker.await;
}

#[test]
fn a_task_that_ran_while_its_aborter_waited_for_another_may_be_aborted_anywhere() {
    assert_eq!(
        abortable_points(&abort_when_told, "ticker"),
        [(1, true), (2, true), (3, true), (4, false)]
    );
}

/// tokio-graceful-shutdown's runner in small (trial 16): a parent starts a
/// child, the child a grandchild it stops when dropped (an abort-on-drop
/// guard). The grandchild fails after 100 ms (its error recorded); the
/// parent, once the child has started and the grandchild is done, aborts
/// the child, which is still waiting for the grandchild there. The abort
/// rests on the grandchild's end, which never woke the child's aborter on
/// the child's behalf: dropping the child where the abort found it, but
/// as soon as it got there, would stop the grandchild before it failed — a
/// run no schedule can give, so it is not injected.
async fn parent_aborts_child_once_grandchild_done() {
    use futures::channel::oneshot;
    use std::cell::RefCell;
    use std::rc::Rc;

    struct AbortOnDrop(cancelsim::JoinHandle<()>);
    impl Drop for AbortOnDrop {
        fn drop(&mut self) {
            self.0.abort();
        }
    }

    let errors = Rc::new(RefCell::new(Vec::new()));
    let parent = {
        let errors = Rc::clone(&errors);
        cancelsim::spawn_named("parent", async move {
            let (started_tx, started_rx) = oneshot::channel::<()>();
            let (done_tx, done_rx) = oneshot::channel::<()>();
            let (told_tx, told_rx) = oneshot::channel::<()>();
            let child = cancelsim::spawn_named("child", async move {
                let grandchild = cancelsim::spawn_named("grandchild", async move {
                    sleep(ms(100)).await;
                    errors.borrow_mut().push("grandchild failed");
                    let _ = told_tx.send(());
                    let _ = done_tx.send(());
                });
                let _guard = AbortOnDrop(grandchild);
                let _ = started_tx.send(());
                let _ = done_rx.await;
                std::future::pending::<()>().await
            });
            let _ = started_rx.await;
            let _ = told_rx.await;
            child.abort();
            let _ = child.await;
        })
    };
    parent.await.unwrap();
    assert_eq!(*errors.borrow(), ["grandchild failed"]);
}

#[test]
fn a_task_is_not_dropped_where_the_programs_abort_found_it() {
    assert_eq!(
        abortable_points(&parent_aborts_child_once_grandchild_done, "child"),
        [(1, false)]
    );
    Check::new(parent_aborts_child_once_grandchild_done)
        .tokio_preset()
        .run()
        .assert_clean();
}
