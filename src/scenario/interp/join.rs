//! Awaiting tasks: `join` (`await task`, asyncio's rules: a cancel of the
//! awaiter goes to the awaited task; a task that ended cancelled raises
//! `CancelledError` in its awaiter), `shield TASK`
//! (`await asyncio.shield(task)`) and `wait-first`
//! (`asyncio.wait(…, return_when=FIRST_COMPLETED)`).

use std::rc::Rc;

use super::exc::{CancelledError, Exc, Raise};
use super::future::{await_future, Fut};
use super::task::{Awaiting, TaskCell, TaskResult};
use super::task_run::Ctx;
use crate::cancel::OrCancel;
use crate::scenario::model::{JoinExpect, ReturnWhen};

/// `await task`: its result, or the `CancelledError` of the awaiter.
pub(super) async fn await_task(ctx: &Ctx, inner: &Rc<TaskCell>) -> Result<TaskResult, Raise> {
    ctx.cell.set_awaiting(Awaiting::Task(Rc::clone(inner)));
    let result = loop {
        match inner.wait().or_cancel().await {
            Ok(_) => break Ok(inner.retrieve().expect("done")),
            // The awaited task had ended when the request came: asyncio
            // raises it here, and the result is lost.
            Err(token) if inner.is_done() => break Err(ctx.cancelled(token)),
            // A request the harness made of the awaiter: asyncio forwards
            // it to the awaited task.
            Err(token) => {
                ctx.note_delivered();
                let message = ctx.cell.delivered();
                ctx.absorb(Some(token));
                inner.cancel(message);
            }
        }
    };
    ctx.cell.set_awaiting(Awaiting::Nothing);
    result
}

/// `join TASK [expect=…]`: the task's value (`none` when the expected
/// outcome is an exception, which the join takes).
pub(super) async fn join(
    ctx: &Ctx,
    cell: &Rc<TaskCell>,
    expect: JoinExpect,
) -> Result<String, Raise> {
    let result = await_task(ctx, cell).await?;
    let accepts = |kind| expect == kind || expect == JoinExpect::Any;
    let none = || Ok("none".to_string());
    match result {
        TaskResult::Value(value) if accepts(JoinExpect::Value) => Ok(value),
        TaskResult::Value(_) => Err(Raise::Error(Exc::runtime(format!(
            "join {}: expected {}, got value",
            cell.name,
            expect.name()
        )))),
        // The awaited task's cancellation is expected, unless the awaiter
        // is being cancelled itself.
        TaskResult::Cancelled(_)
            if accepts(JoinExpect::Cancelled) && ctx.cell.cancelling() == 0 =>
        {
            none()
        }
        TaskResult::Cancelled(message) => Err(Raise::Cancelled(CancelledError::raised(message))),
        TaskResult::Error(exc) if exc.is_timeout() && accepts(JoinExpect::Timeout) => none(),
        TaskResult::Error(exc) if !exc.is_timeout() && accepts(JoinExpect::Error) => none(),
        TaskResult::Error(exc) => Err(Raise::Error(exc)),
    }
}

/// `shield TASK`: `await asyncio.shield(task)`. The awaiter's cancel
/// raises `CancelledError` in the awaiter and does not reach the task; the
/// task's own outcome comes through as `await task` gives it.
pub(super) async fn shield_join(ctx: &Ctx, task: &str) -> Result<String, Raise> {
    let cell = ctx.task("shield", task)?;
    shielded(ctx, &cell).await
}

/// `await asyncio.shield(inner)`: a task already done gives its result at
/// once; else the awaiter waits on an outer future that the task's done
/// callback completes (a cancel of the awaiter cancels only that future).
pub(super) async fn shielded(ctx: &Ctx, inner: &Rc<TaskCell>) -> Result<String, Raise> {
    if let Some(result) = inner.retrieve() {
        return result.awaited();
    }
    let outer = Fut::new();
    let done = Rc::clone(&outer);
    inner.on_done(Rc::new(move || done.set_done()));
    await_future(ctx, &outer).await?;
    match inner.result().expect("done when the outer future is") {
        // The outer future is cancelled: no message.
        TaskResult::Cancelled(_) => Err(Raise::Cancelled(CancelledError::raised(None))),
        other => other.awaited(),
    }
}

/// `wait-first A B …`: `asyncio.wait(…, return_when=FIRST_COMPLETED)`.
pub(super) async fn wait_first(ctx: &Ctx, tasks: &[String]) -> Result<(), Raise> {
    let cells = tasks
        .iter()
        .map(|task| ctx.task("wait-first", task))
        .collect::<Result<Vec<_>, _>>()?;
    super::gather::wait(ctx, &cells, ReturnWhen::FirstCompleted, None)
        .await
        .map(|_| ())
}
