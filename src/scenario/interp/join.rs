//! Awaiting tasks: `join` (`await task`, asyncio's rules: a cancel of the
//! awaiter goes to the awaited task; a task that ended cancelled raises
//! `CancelledError` in its awaiter) and `wait-first`
//! (`asyncio.wait(…, return_when=FIRST_COMPLETED)`).

use std::future::poll_fn;
use std::rc::Rc;
use std::task::Poll;

use super::exc::{CancelledError, Exc, Raise};
use super::future::cancellable;
use super::task::{Awaiting, Ctx, TaskCell, TaskResult};
use crate::cancel::OrCancel;
use crate::scenario::model::JoinExpect;

/// `await task`: its result, or the `CancelledError` of the awaiter.
pub(super) async fn await_task(ctx: &Ctx, inner: &Rc<TaskCell>) -> Result<TaskResult, Raise> {
    ctx.cell.set_awaiting(Awaiting::Task(Rc::clone(inner)));
    let result = loop {
        match inner.wait().or_cancel().await {
            Ok(result) => break Ok(result),
            // The awaited task had ended when the request came: asyncio
            // raises it here, and the result is lost.
            Err(token) if inner.is_done() => break Err(ctx.cancelled(token)),
            // A request the harness made of the awaiter: asyncio forwards
            // it to the awaited task.
            Err(token) => {
                let message = ctx.cell.delivered();
                ctx.absorb(Some(token));
                inner.cancel(message);
            }
        }
    };
    ctx.cell.set_awaiting(Awaiting::Nothing);
    result
}

/// `join TASK [expect=…]`.
pub(super) async fn join(ctx: &Ctx, task: &str, expect: JoinExpect) -> Result<(), Raise> {
    let cell = ctx
        .shared
        .cell(task)
        .ok_or_else(|| Raise::Error(Exc::runtime(format!("join {task}: never spawned"))))?;
    let result = await_task(ctx, &cell).await?;
    let accepts = |kind| expect == kind || expect == JoinExpect::Any;
    match result {
        TaskResult::Value(_) if accepts(JoinExpect::Value) => Ok(()),
        TaskResult::Value(_) => Err(Raise::Error(Exc::runtime(format!(
            "join {task}: expected {}, got value",
            expect.name()
        )))),
        // The awaited task's cancellation is expected, unless the awaiter
        // is being cancelled itself.
        TaskResult::Cancelled(_)
            if accepts(JoinExpect::Cancelled) && ctx.cell.cancelling() == 0 =>
        {
            Ok(())
        }
        TaskResult::Cancelled(message) => Err(Raise::Cancelled(CancelledError::raised(message))),
        TaskResult::Error(exc) if exc.is_timeout() && accepts(JoinExpect::Timeout) => Ok(()),
        TaskResult::Error(exc) if !exc.is_timeout() && accepts(JoinExpect::Error) => Ok(()),
        TaskResult::Error(exc) => Err(Raise::Error(exc)),
    }
}

/// `shield TASK`: `await asyncio.shield(task)`. The awaiter's cancel
/// raises `CancelledError` in the awaiter and does not reach the task; the
/// task's own outcome comes through as `await task` gives it.
pub(super) async fn shield_join(ctx: &Ctx, task: &str) -> Result<(), Raise> {
    let cell = ctx
        .shared
        .cell(task)
        .ok_or_else(|| Raise::Error(Exc::runtime(format!("shield {task}: never spawned"))))?;
    match cancellable(ctx, cell.wait()).await? {
        TaskResult::Value(_) => Ok(()),
        TaskResult::Cancelled(message) => Err(Raise::Cancelled(CancelledError::raised(message))),
        TaskResult::Error(exc) => Err(Raise::Error(exc)),
    }
}

/// `wait-first A B …`: until one of the tasks has ended.
pub(super) async fn wait_first(ctx: &Ctx, tasks: &[String]) -> Result<(), Raise> {
    let cells = tasks
        .iter()
        .map(|task| {
            ctx.shared.cell(task).ok_or_else(|| {
                Raise::Error(Exc::runtime(format!("wait-first {task}: never spawned")))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    // asyncio.wait learns of a task already done through its done
    // callback, one loop iteration later.
    if cells.iter().any(|cell| cell.is_done()) {
        return cancellable(ctx, crate::yield_now()).await;
    }
    let any_done = poll_fn(|cx| {
        if cells.iter().any(|cell| cell.is_done()) {
            return Poll::Ready(());
        }
        for cell in &cells {
            cell.register(cx.waker());
        }
        Poll::Pending
    });
    cancellable(ctx, any_done).await
}
