//! Executing steps: a block step by step, each step kind, and what a step
//! ends with (go on, return, or raise).

use std::cell::RefCell;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::Poll;

use futures::future::LocalBoxFuture;

use super::group::run_group;
use super::task::{spawn_task, Ctx};
use super::timeout::run_timeout;
use super::try_handlers::run_try;
use crate::cancel::{checkpoint, shield, Cancelled, OrCancel};
use crate::resource;
use crate::scenario::model::{Block, JoinExpect, Step, StepKind};
use crate::time;

/// Why a block stopped early (an exception, in asyncio's words).
pub(super) enum Raise {
    Cancelled(Cancelled),
    /// A timeout error, with the cancellation it came from (its `__cause__`).
    Timeout(Option<Cancelled>),
    Error(String),
}

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
        StepKind::Sleep(duration) => {
            time::sleep(*duration)
                .or_cancel()
                .await
                .map_err(Raise::Cancelled)?;
        }
        StepKind::Yield => checkpoint().await.map_err(Raise::Cancelled)?,
        StepKind::Work(duration) => crate::work(*duration),
        StepKind::Blocking { cost, log } => {
            let (job_shared, task, log) = (Rc::clone(shared), ctx.task.clone(), log.clone());
            shared.in_flight.set(shared.in_flight.get() + 1);
            crate::blocking(*cost, move || {
                if let Some(text) = log {
                    job_shared.log(&task, &text);
                }
                job_shared.job_done();
            })
            .or_cancel()
            .await
            .map_err(Raise::Cancelled)?;
        }
        StepKind::Acquire(name) => {
            let name = name.clone();
            let locks = Rc::clone(shared);
            poll_fn(|cx| {
                let mut locks = locks.locks.borrow_mut();
                let (held, waiters) = locks.entry(name.clone()).or_default();
                if *held {
                    waiters.push(cx.waker().clone());
                    Poll::Pending
                } else {
                    *held = true;
                    Poll::Ready(())
                }
            })
            .or_cancel()
            .await
            .map_err(Raise::Cancelled)?;
            let guard = resource::acquire(&name);
            ctx.guards.0.borrow_mut().push((name, guard));
        }
        StepKind::Release(name) => {
            let guard = {
                let mut guards = ctx.guards.0.borrow_mut();
                let index = guards.iter().position(|(held, _)| held == name);
                index.map(|index| guards.remove(index).1)
            };
            match guard {
                Some(guard) => {
                    guard.release();
                    shared.unlock(name);
                }
                None => return Err(Raise::Error(format!("release {name}: not held"))),
            }
        }
        StepKind::Log(text) => shared.log(&ctx.task, text),
        StepKind::Spawn(task) => {
            let group = ctx.groups.borrow().last().cloned();
            spawn_task(shared, task, group.as_ref());
        }
        StepKind::Join { task, expect } => {
            let cell = shared
                .cell(task)
                .ok_or_else(|| Raise::Error(format!("join {task}: never spawned")))?;
            let outcome = match cell.wait().or_cancel().await {
                Ok(outcome) => outcome,
                Err(cancelled) => {
                    // asyncio: cancelling a task that awaits another task
                    // cancels the awaited one too; the awaiter sees its
                    // cancellation once that one has ended.
                    cell.cancel();
                    cell.wait().await;
                    return Err(Raise::Cancelled(cancelled));
                }
            };
            if !expect.accepts(&outcome) {
                return Err(Raise::Error(format!(
                    "join {task}: expected {}, got {outcome}",
                    expect_name(*expect)
                )));
            }
        }
        StepKind::Cancel(task) => {
            if let Some(cell) = shared.cell(task) {
                cell.cancel();
            }
        }
        StepKind::Timeout { duration, body } => {
            return run_timeout(ctx, *duration, body.clone()).await;
        }
        StepKind::Shield(body) => {
            let inner = Rc::new(Ctx {
                shared: Rc::clone(shared),
                task: ctx.task.clone(),
                cell: None,
                guards: Rc::clone(&ctx.guards),
                absorbed: Rc::clone(&ctx.absorbed),
                groups: RefCell::new(Vec::new()),
            });
            shared.in_flight.set(shared.in_flight.get() + 1);
            let counter = Rc::clone(shared);
            let body = exec_block(inner, body.clone());
            let work = async move {
                let result = body.await;
                counter.job_done();
                result
            };
            return match shield(work).await {
                Ok(result) => result,
                Err(cancelled) => Err(Raise::Cancelled(cancelled)),
            };
        }
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
        StepKind::WaitFirst(tasks) => {
            let cells = tasks
                .iter()
                .map(|task| {
                    shared
                        .cell(task)
                        .ok_or_else(|| Raise::Error(format!("wait-first {task}: never spawned")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            poll_fn(|cx| {
                if cells.iter().any(|cell| cell.is_done()) {
                    return Poll::Ready(());
                }
                for cell in &cells {
                    cell.register(cx.waker());
                }
                Poll::Pending
            })
            .or_cancel()
            .await
            .map_err(Raise::Cancelled)?;
        }
        StepKind::Group(body) => return run_group(ctx, body.clone()).await,
        StepKind::Repeat { count, body } => {
            for _ in 0..*count {
                if let Flow::Return(value) = exec_block(Rc::clone(ctx), body.clone()).await? {
                    return Ok(Flow::Return(value));
                }
            }
        }
        StepKind::Fail(message) => return Err(Raise::Error(message.clone())),
        StepKind::Return(value) => return Ok(Flow::Return(value.clone())),
    }
    Ok(Flow::Next)
}

fn expect_name(expect: JoinExpect) -> &'static str {
    match expect {
        JoinExpect::Value => "value",
        JoinExpect::Cancelled => "cancelled",
        JoinExpect::Timeout => "timeout",
        JoinExpect::Error => "error",
        JoinExpect::Any => "any",
    }
}
