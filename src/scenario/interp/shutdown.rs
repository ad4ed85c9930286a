//! asyncio.run's end: once `main` has ended, the tasks still running are
//! cancelled and awaited, then the blocking work still in flight.

use std::future::poll_fn;
use std::rc::Rc;
use std::task::Poll;

use super::task::{Shared, TaskCell, TaskResult};

/// What asyncio.run's shutdown does in a run.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Shutdown {
    /// All of it (a baseline): cancel every task still running, wait for
    /// them, then for the blocking jobs still running (the default
    /// executor's shutdown).
    Full,
    /// A sweep's run: tasks still running when `main` ends normally are
    /// leaks for the oracles to report, so only the shields' bodies are
    /// cancelled (and the world drains blocking work). When the harness
    /// cancelled `main` itself (as asyncio.run does on Ctrl-C), every task
    /// is cancelled and awaited, as asyncio.run does then.
    Sweep,
}

/// asyncio.run's shutdown after `main` ended: cancels the tasks still
/// running, in the order they were created, and waits for them. The names
/// of the scenario's tasks it cancelled go into the run's record.
pub(super) async fn shut_down(shared: Rc<Shared>, mode: Shutdown) {
    if mode == Shutdown::Full {
        // run_until_complete stops the loop one iteration after main's
        // last step: the tasks ready by then run once more (before this
        // root, spawned then, runs), and what they schedule once more
        // (but not what main's last step scheduled).
        let late = shared.scheduled_by_main_end.borrow().clone();
        let mut cancelled_early = Vec::new();
        for cell in shared.all.borrow().iter() {
            if !cell.is_done() && late.contains(&(Rc::as_ptr(cell) as usize)) {
                cell.cancel(None);
                cancelled_early.push(Rc::as_ptr(cell) as usize);
            }
        }
        crate::yield_now().await;
        *shared.scheduled_by_main_end.borrow_mut() = cancelled_early;
    }
    let main = shared.cell("main");
    let main_cancelled_by_harness = main.is_some_and(|main| {
        main.injected.get() && matches!(main.result(), Some(TaskResult::Cancelled(_)))
    });
    let all = mode == Shutdown::Full || main_cancelled_by_harness;
    let leftovers: Vec<Rc<TaskCell>> = shared
        .all
        .borrow()
        .iter()
        .filter(|cell| !cell.is_done() && (all || cell.is_shield()))
        .cloned()
        .collect();
    shared.record.borrow_mut().cancelled_at_shutdown = leftovers
        .iter()
        .filter(|cell| !cell.is_shield())
        .map(|cell| cell.name.clone())
        .collect();
    // Each task is cancelled once (those of main's last step already).
    let early = std::mem::take(&mut *shared.scheduled_by_main_end.borrow_mut());
    for cell in &leftovers {
        if mode == Shutdown::Sweep || !early.contains(&(Rc::as_ptr(cell) as usize)) {
            cell.cancel(None);
        }
    }
    for cell in &leftovers {
        cell.wait().await;
    }
    if mode == Shutdown::Sweep {
        return;
    }
    poll_fn(|cx| {
        if shared.jobs.get() == 0 {
            Poll::Ready(())
        } else {
            *shared.idle.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        }
    })
    .await;
}
