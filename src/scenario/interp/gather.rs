//! Awaiting several tasks: `gather` (asyncio.gather's future, state for
//! state: a cancel of the awaiter cancels the children), `wait`
//! (asyncio.wait: returns the sets of tasks done and pending) and
//! `wait-for` (asyncio.wait_for, 3.11).

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Duration;

use super::exc::{CancelledError, Exc, Raise};
use super::future::cancellable;
use super::located::{note, Note};
use super::task::{Awaiting, TaskCell, TaskResult};
use super::task_run::Ctx;
use super::values::Value;
use crate::cancel::OrCancel;
use crate::scenario::model::ReturnWhen;
use crate::time;

/// asyncio.gather's `_GatheringFuture`.
pub(super) struct Gathering {
    children: Vec<Rc<TaskCell>>,
    return_exceptions: bool,
    cancel_requested: Cell<bool>,
    finished: Cell<usize>,
    distinct: usize,
    result: RefCell<Option<Result<Vec<TaskResult>, Raise>>>,
    waker: RefCell<Option<Waker>>,
}

impl Gathering {
    /// `outer.cancel(msg)`: cancels the children; true if one of them took it.
    pub(super) fn cancel(&self, message: Option<String>) -> bool {
        if self.result.borrow().is_some() {
            return false;
        }
        let mut taken = false;
        for child in &self.children {
            taken |= child.cancel(message.clone());
        }
        if taken {
            self.cancel_requested.set(true);
        }
        taken
    }

    fn set(&self, result: Result<Vec<TaskResult>, Raise>) {
        *self.result.borrow_mut() = Some(result);
        if let Some(waker) = self.waker.borrow_mut().take() {
            waker.wake();
        }
    }

    /// `_done_callback`.
    fn child_done(&self, child: &TaskCell) {
        self.finished.set(self.finished.get() + 1);
        if self.result.borrow().is_some() {
            return;
        }
        if !self.return_exceptions {
            match child.retrieve() {
                Some(TaskResult::Cancelled(message)) => {
                    return self.set(Err(Raise::Cancelled(CancelledError::raised(message))))
                }
                Some(TaskResult::Error(exc)) => return self.set(Err(Raise::Error(exc))),
                _ => {}
            }
        }
        if self.finished.get() == self.distinct {
            if self.cancel_requested.get() {
                self.set(Err(Raise::Cancelled(CancelledError::raised(None))));
            } else {
                let results = self
                    .children
                    .iter()
                    .map(|child| child.result().expect("all done"))
                    .collect();
                self.set(Ok(results));
            }
        }
    }
}

/// The same task only once, in order.
fn distinct(tasks: &[Rc<TaskCell>]) -> Vec<Rc<TaskCell>> {
    let mut seen: Vec<Rc<TaskCell>> = Vec::new();
    for task in tasks {
        if !seen.iter().any(|s| Rc::ptr_eq(s, task)) {
            seen.push(Rc::clone(task));
        }
    }
    seen
}

/// Adds `listener` as a done callback of each task (asyncio's
/// `add_done_callback`: it runs one loop iteration after the task ends,
/// or from now when it has).
fn listen(tasks: &[Rc<TaskCell>], listener: impl Fn(&TaskCell) + 'static) {
    let listener = Rc::new(listener);
    for task in tasks {
        let (listener, task) = (Rc::clone(&listener), Rc::clone(task));
        let cell = Rc::clone(&task);
        cell.on_done(Rc::new(move || listener(&task)));
    }
}

/// `await asyncio.gather(*tasks, return_exceptions=…)`: the results, as
/// the exported program shows them (`[a, b, ValueError: x]`).
pub(super) async fn gather(
    ctx: &Ctx,
    tasks: &[Rc<TaskCell>],
    return_exceptions: bool,
) -> Result<String, Raise> {
    let gathering = Rc::new(Gathering {
        children: tasks.to_vec(),
        return_exceptions,
        cancel_requested: Cell::new(false),
        finished: Cell::new(0),
        distinct: distinct(tasks).len(),
        result: RefCell::new(None),
        waker: RefCell::new(None),
    });
    if tasks.is_empty() {
        return Ok("[]".to_string());
    }
    let outer = Rc::clone(&gathering);
    listen(&distinct(tasks), move |child| outer.child_done(child));
    ctx.cell
        .set_awaiting(Awaiting::Gather(Rc::clone(&gathering)));
    let waiting = Rc::clone(&gathering);
    let result = poll_fn(move |cx| match waiting.result.borrow_mut().take() {
        Some(result) => Poll::Ready(result),
        None => {
            *waiting.waker.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        }
    })
    .or_cancel()
    .await;
    ctx.cell.set_awaiting(Awaiting::Nothing);
    let results = match result {
        Ok(result) => result?,
        // Gathering had ended when the request came: it is raised here.
        Err(token) => return Err(ctx.cancelled(token)),
    };
    let shown: Vec<String> = results
        .iter()
        .map(|result| match result {
            TaskResult::Value(value) => value.clone(),
            other => other
                .exception()
                .map(|exc| exc.detail())
                .unwrap_or_default(),
        })
        .collect();
    Ok(format!("[{}]", shown.join(", ")))
}

/// `done, pending = await asyncio.wait(tasks, timeout=…, return_when=…)`.
pub(super) async fn wait(
    ctx: &Ctx,
    tasks: &[Rc<TaskCell>],
    when: ReturnWhen,
    timeout: Option<Duration>,
) -> Result<(Value, Value), Raise> {
    let tasks = distinct(tasks);
    let counter = Rc::new(Cell::new(tasks.len()));
    let released = Rc::new(Cell::new(false));
    let waker: Rc<RefCell<Option<Waker>>> = Rc::default();
    let (count, release, wake) = (Rc::clone(&counter), Rc::clone(&released), Rc::clone(&waker));
    listen(&tasks, move |task| {
        count.set(count.get().saturating_sub(1));
        let failed = matches!(task.result(), Some(TaskResult::Error(_)));
        if count.get() == 0
            || when == ReturnWhen::FirstCompleted
            || (when == ReturnWhen::FirstException && failed)
        {
            release.set(true);
            if let Some(waker) = wake.borrow_mut().take() {
                waker.wake();
            }
        }
    });
    let waiter = poll_fn(|cx| {
        if released.get() {
            Poll::Ready(())
        } else {
            *waker.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        }
    });
    match timeout {
        Some(timeout) => {
            // The timeout only releases the wait, it raises nothing.
            let _watched = ctx.shared.deadlines.watch(timeout);
            let mut deadline = std::pin::pin!(time::timeout(timeout, waiter).expiry_first());
            if cancellable(ctx, deadline.as_mut()).await?.is_err() {
                note_timeout(ctx, deadline.scope());
            }
        }
        None => cancellable(ctx, waiter).await?,
    }
    let (done, pending): (Vec<_>, Vec<_>) = tasks.into_iter().partition(|task| task.is_done());
    Ok((Value::Tasks(done), Value::Tasks(pending)))
}

/// `await asyncio.wait_for(task, timeout)` (3.11).
pub(super) async fn wait_for(
    ctx: &Ctx,
    task: &Rc<TaskCell>,
    timeout: Duration,
) -> Result<String, Raise> {
    // The waiter: released by the task's done callback.
    let released = Rc::new(Cell::new(false));
    let waker: Rc<RefCell<Option<Waker>>> = Rc::default();
    let (release, wake) = (Rc::clone(&released), Rc::clone(&waker));
    listen(std::slice::from_ref(task), move |_| {
        release.set(true);
        if let Some(waker) = wake.borrow_mut().take() {
            waker.wake();
        }
    });
    let done = poll_fn(move |cx| {
        if released.get() {
            Poll::Ready(())
        } else {
            *waker.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        }
    });
    let watched = ctx.shared.deadlines.watch(timeout);
    let mut deadline = std::pin::pin!(time::timeout(timeout, done).expiry_first());
    let waited = cancellable(ctx, deadline.as_mut()).await;
    if matches!(waited, Ok(Err(_))) {
        note_timeout(ctx, deadline.scope());
    }
    drop(watched);
    match waited {
        // Cancelled while waiting: the task's result if it is done (the
        // cancellation is lost, as in 3.11), else the task is cancelled
        // and awaited, and the cancellation raised.
        Err(Raise::Cancelled(cancelled)) => {
            if let Some(result) = task.retrieve() {
                drop(cancelled);
                return result.awaited();
            }
            cancel_and_wait(ctx, task).await?;
            Err(Raise::Cancelled(cancelled))
        }
        Err(other) => Err(other),
        Ok(Ok(())) => task.retrieve().expect("released when done").awaited(),
        Ok(Err(_elapsed)) => {
            cancel_and_wait(ctx, task).await?;
            match task.retrieve().expect("done") {
                TaskResult::Cancelled(_) => Err(Raise::Error(Exc::timeout())),
                other => other.awaited(),
            }
        }
    }
}

fn note_timeout(ctx: &Ctx, scope: Option<u32>) {
    if let Some(scope) = scope {
        note(&ctx.shared.record, Note::Timeout { scope });
    }
}

/// `_cancel_and_wait`: cancels the task and waits (cancellably) until it
/// has ended.
async fn cancel_and_wait(ctx: &Ctx, task: &Rc<TaskCell>) -> Result<(), Raise> {
    task.cancel(None);
    cancellable(ctx, task.wait()).await.map(|_| ())
}
