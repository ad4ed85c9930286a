//! Executing steps: a block step by step, each step kind, and what a step
//! ends with (go on, return, or raise).

use std::rc::Rc;

use futures::future::LocalBoxFuture;

use super::exc::{CancelledError, Exc, Raise};
use super::future::cancellable;
use super::group::run_group;
use super::join::{join, shield_join, wait_first};
use super::task::{shield_task, spawn_task, Ctx, TaskResult};
use super::timeout::run_timeout;
use super::try_handlers::run_try;
use crate::cancel::{checkpoint, shield};
use crate::resource;
use crate::scenario::model::{Block, Step, StepKind};
use crate::time;

pub(super) enum Flow {
    Next,
    Return(String),
}

pub(super) type Exec = Result<Flow, Raise>;

pub(super) fn exec_block(ctx: Rc<Ctx>, block: Block) -> LocalBoxFuture<'static, Exec> {
    Box::pin(async move {
        for step in block.iter() {
            if let Flow::Return(value) = exec_step(&ctx, step).await? {
                return Ok(Flow::Return(value));
            }
        }
        Ok(Flow::Next)
    })
}

async fn exec_step(ctx: &Rc<Ctx>, step: &Step) -> Exec {
    let shared = &ctx.shared;
    match &step.kind {
        // asyncio.sleep(0) yields without a timer.
        StepKind::Sleep(duration) if duration.is_zero() => {
            checkpoint().await.map_err(|token| ctx.cancelled(token))?
        }
        StepKind::Sleep(duration) => cancellable(ctx, time::sleep(*duration)).await?,
        StepKind::Yield => checkpoint().await.map_err(|token| ctx.cancelled(token))?,
        StepKind::Work(duration) => crate::work(*duration),
        StepKind::Blocking { cost, log } => {
            let (job_shared, task, log) = (Rc::clone(shared), ctx.task.clone(), log.clone());
            shared.job_started();
            let job = crate::blocking(*cost, move || {
                if let Some(text) = log {
                    job_shared.log(&task, &text);
                }
                job_shared.job_done();
            });
            cancellable(ctx, job).await?;
        }
        StepKind::Acquire(name) => {
            shared.lock(name).acquire(ctx).await?;
            let guard = resource::acquire(name);
            shared.guards.0.borrow_mut().push((name.clone(), guard));
        }
        StepKind::Release(name) => {
            let guard = {
                let mut guards = shared.guards.0.borrow_mut();
                let index = guards.iter().position(|(held, _)| held == name);
                index.map(|index| guards.remove(index).1)
            };
            match guard {
                Some(guard) => {
                    guard.release();
                    shared.lock(name).release().map_err(Raise::Error)?;
                }
                None => {
                    return Err(Raise::Error(Exc::runtime(format!(
                        "release {name}: not held"
                    ))))
                }
            }
        }
        StepKind::Log(text) => shared.log(&ctx.task, text),
        StepKind::Spawn(task) => {
            let group = ctx.groups.borrow().last().cloned();
            if let Some(group) = &group {
                group.check_open()?;
            }
            spawn_task(shared, task, group.as_ref());
        }
        StepKind::Join { task, expect } => join(ctx, task, *expect).await?,
        StepKind::Cancel(task) => {
            if let Some(cell) = shared.cell(task) {
                cell.cancel(None);
            }
        }
        StepKind::Timeout { duration, body } => {
            return run_timeout(ctx, *duration, body.clone()).await;
        }
        StepKind::Shield(body) => {
            let (inner, work) = shield_task(ctx, body.clone());
            match shield(work).await {
                Err(token) => return Err(ctx.cancelled(token)),
                Ok(_) => match inner.result() {
                    Some(TaskResult::Error(exc)) => return Err(Raise::Error(exc)),
                    Some(TaskResult::Cancelled(message)) => {
                        return Err(Raise::Cancelled(CancelledError::raised(message)))
                    }
                    Some(TaskResult::Value(_)) | None => {}
                },
            }
        }
        StepKind::ShieldTask(task) => shield_join(ctx, task).await?,
        StepKind::Try {
            body,
            on_cancel,
            on_error,
            finally,
        } => {
            return run_try(
                ctx,
                body,
                on_cancel.as_ref(),
                on_error.as_ref(),
                finally.as_ref(),
            )
            .await
        }
        StepKind::WaitFirst(tasks) => wait_first(ctx, tasks).await?,
        StepKind::Group(body) => return run_group(ctx, body.clone()).await,
        StepKind::Repeat { count, body } => {
            for _ in 0..*count {
                if let Flow::Return(value) = exec_block(Rc::clone(ctx), body.clone()).await? {
                    return Ok(Flow::Return(value));
                }
            }
        }
        StepKind::Fail(message) => return Err(Raise::Error(Exc::runtime(message.clone()))),
        StepKind::Return(value) => return Ok(Flow::Return(value.clone())),
    }
    Ok(Flow::Next)
}
