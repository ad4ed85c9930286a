//! Executing steps: a block step by step, each step kind, and what a step
//! ends with (go on, break, return, or raise). Awaiting tasks is in `join`
//! and `gather`, the primitives in `primitives`, handlers in
//! `try_handlers`.

use std::rc::Rc;
use std::task::Poll;

use futures::future::LocalBoxFuture;

use super::exc::{CancelledError, Exc, Raise};
use super::future::cancellable;
use super::gather::{gather, wait, wait_for};
use super::group::run_group;
use super::join::{join, shield_join, shielded, wait_first};
use super::located::{enter_step, note, waking_itself, working, Note, SpawnKind};
use super::task_run::{shield_task, spawn_task, Ctx};
use super::timeout::run_timeout;
use super::try_handlers::{reraise, run_try};
use super::values::Value;
use crate::cancel::{checkpoint, shield};
use crate::resource;
use crate::scenario::model::{Block, Step, StepKind};
use crate::time;

pub(super) enum Flow {
    Next,
    Break,
    Return(String),
}

pub(super) type Exec = Result<Flow, Raise>;

pub(super) fn exec_block(ctx: Rc<Ctx>, block: Block) -> LocalBoxFuture<'static, Exec> {
    Box::pin(async move {
        for step in block.iter() {
            match exec_step(&ctx, step).await? {
                Flow::Next => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Next)
    })
}

/// Runs `step` as the current one (what the notes of the events it causes
/// point at).
async fn exec_step(ctx: &Rc<Ctx>, step: &Step) -> Exec {
    let outer = enter_step(Some((step.span, step.kind.keyword())));
    let result = run_step(ctx, step).await;
    enter_step(outer);
    result
}

async fn run_step(ctx: &Rc<Ctx>, step: &Step) -> Exec {
    let shared = &ctx.shared;
    match &step.kind {
        // asyncio.sleep(0) yields without a timer.
        StepKind::Sleep(duration) if duration.is_zero() => {
            waking_itself();
            checkpoint().await.map_err(|token| ctx.cancelled(token))?
        }
        StepKind::Sleep(duration) => cancellable(ctx, time::sleep(*duration)).await?,
        StepKind::Yield => {
            waking_itself();
            checkpoint().await.map_err(|token| ctx.cancelled(token))?
        }
        StepKind::Work(duration) => {
            if let Some(task) = crate::task::current_id() {
                note(&shared.record, Note::Work { task });
            }
            working();
            crate::work(*duration)
        }
        StepKind::Blocking { cost, log } => {
            let (job_shared, task) = (Rc::clone(shared), ctx.task.clone());
            let log = log.as_ref().map(|log| ctx.text(log));
            shared.job_started();
            let parent = crate::task::current_id();
            let kind = SpawnKind::Blocking;
            let name = None;
            note(
                &shared.record,
                Note::Spawn {
                    parent,
                    child: None,
                    kind,
                    name,
                },
            );
            let job = crate::blocking(*cost, move || {
                if let Some(text) = log {
                    job_shared.log(&task, &text);
                }
                job_shared.job_done();
            });
            cancellable(ctx, job).await?;
        }
        StepKind::Acquire(name) => acquire(ctx, name).await?,
        StepKind::Release(name) => release(ctx, name)?,
        StepKind::Log(text) => shared.log(&ctx.task, &ctx.text(text)),
        StepKind::Let { var, value } => ctx.set(var, Value::Str(ctx.text(value))),
        StepKind::Spawn { task, args, name } => {
            let group = ctx.groups.borrow().last().cloned();
            if let Some(group) = &group {
                group.check_open()?;
            }
            let args = args.iter().map(|arg| ctx.text(arg)).collect();
            let name = name.as_deref().unwrap_or(task);
            spawn_task(shared, task, name, args, group.as_ref());
        }
        StepKind::Join { task, expect, into } => {
            for cell in ctx.tasks("join", task)? {
                let value = join(ctx, &cell, *expect).await?;
                ctx.set_text(into.as_ref(), value);
            }
        }
        StepKind::Cancel { task, message } => {
            let message = message.as_ref().map(|message| ctx.text(message));
            if let Some(Value::Tasks(tasks)) = ctx.vars.borrow().get(task).cloned() {
                for cell in tasks {
                    cell.cancel(message.clone());
                }
            } else if let Some(cell) = shared.cell(task) {
                cell.cancel(message);
            }
        }
        StepKind::Uncancel { into } => {
            let left = ctx.cell.uncancel();
            // It takes back a cancellation swallowed here, or the one being
            // handled (asyncio: the party that made a cancel undoes it).
            let mut taken_back = ctx.swallowed.borrow_mut().pop();
            if taken_back.is_none() {
                for frame in ctx.handling.borrow_mut().iter_mut().rev() {
                    if let Some(Raise::Cancelled(cancelled)) = &mut frame.exc {
                        if let Some(token) = cancelled.token.take() {
                            taken_back = Some(token);
                            break;
                        }
                    }
                }
            }
            ctx.absorb(taken_back);
            ctx.set_text(into.as_ref(), left.to_string());
        }
        StepKind::Cancelling { into } => {
            ctx.set(into, Value::Str(ctx.cell.cancelling().to_string()))
        }
        StepKind::Result { task, into } => {
            let value = match ctx.task("result", task)?.retrieve() {
                Some(result) => result.awaited()?,
                None => {
                    return Err(Raise::Error(Exc::new(
                        "InvalidStateError",
                        "Result is not set.",
                    )))
                }
            };
            ctx.set(into, Value::Str(value));
        }
        StepKind::Timeout { duration, body } => {
            return run_timeout(ctx, *duration, body.clone()).await;
        }
        StepKind::Shield { body, into } => {
            // The body runs as protected work of its own (cancelsim's
            // `shield` spawns it); the task then awaits the outer future.
            let (inner, work) = shield_task(ctx, body.clone());
            let mut spawning = Box::pin(shield(work));
            if let Poll::Ready(Err(token)) = futures::poll!(spawning.as_mut()) {
                return Err(ctx.cancelled(token));
            }
            drop(spawning);
            let value = shielded(ctx, &inner).await?;
            ctx.set_text(into.as_ref(), value);
        }
        StepKind::ShieldTask { task, into } => {
            let value = shield_join(ctx, task).await?;
            ctx.set_text(into.as_ref(), value);
        }
        StepKind::Try {
            body,
            handlers,
            otherwise,
            finally,
        } => return run_try(ctx, body, handlers, otherwise.as_ref(), finally.as_ref()).await,
        StepKind::If {
            cond,
            then,
            otherwise,
        } => {
            let block = if ctx.holds(cond)? {
                Some(then)
            } else {
                otherwise.as_ref()
            };
            if let Some(block) = block {
                return exec_block(Rc::clone(ctx), block.clone()).await;
            }
        }
        StepKind::WaitFirst(tasks) => wait_first(ctx, tasks).await?,
        StepKind::Wait {
            tasks,
            when,
            timeout,
            done,
            pending,
        } => {
            let cells = all_tasks(ctx, "wait", tasks)?;
            let (finished, left) = wait(ctx, &cells, *when, *timeout).await?;
            if let Some(var) = done {
                ctx.set(var, finished);
            }
            if let Some(var) = pending {
                ctx.set(var, left);
            }
        }
        StepKind::WaitFor {
            task,
            timeout,
            into,
        } => {
            let cell = ctx.task("wait-for", task)?;
            let value = wait_for(ctx, &cell, *timeout).await?;
            ctx.set_text(into.as_ref(), value);
        }
        StepKind::Gather {
            tasks,
            return_exceptions,
            into,
        } => {
            let cells = all_tasks(ctx, "gather", tasks)?;
            let results = gather(ctx, &cells, *return_exceptions).await?;
            ctx.set_text(into.as_ref(), results);
        }
        StepKind::Group(body) => return run_group(ctx, body.clone()).await,
        StepKind::Repeat { count, body } => {
            for _ in 0..*count {
                match exec_block(Rc::clone(ctx), body.clone()).await? {
                    Flow::Next => {}
                    Flow::Break => break,
                    returned => return Ok(returned),
                }
            }
        }
        StepKind::Break => return Ok(Flow::Break),
        StepKind::Raise { kind: None, .. } => return Err(reraise(ctx)),
        StepKind::Raise {
            kind: Some(kind),
            message,
        } => {
            let message = message.as_ref().map(|m| ctx.text(m)).unwrap_or_default();
            return Err(if kind == "CancelledError" {
                Raise::Cancelled(CancelledError::raised(Some(message)))
            } else {
                Raise::Error(Exc::new(kind, message))
            });
        }
        StepKind::Fail(message) => return Err(Raise::Error(Exc::runtime(ctx.text(message)))),
        StepKind::Return(value) => return Ok(Flow::Return(ctx.text(value))),
        StepKind::Put {
            queue,
            value,
            nowait,
        } => {
            let queue = shared.primitives.queue(queue);
            let item = ctx.text(value);
            if *nowait {
                queue.put_nowait(item).map_err(Raise::Error)?;
            } else {
                queue.put(ctx, item).await?;
            }
        }
        StepKind::Get {
            queue,
            into,
            nowait,
        } => {
            let queue = shared.primitives.queue(queue);
            let item = if *nowait {
                queue.get_nowait().map_err(Raise::Error)?
            } else {
                queue.get(ctx).await?
            };
            ctx.set_text(into.as_ref(), item);
        }
        StepKind::TaskDone(queue) => shared
            .primitives
            .queue(queue)
            .task_done()
            .map_err(Raise::Error)?,
        StepKind::SetEvent(event) => shared.primitives.event(event).set(),
        StepKind::ClearEvent(event) => shared.primitives.event(event).clear(),
        StepKind::WaitOn(name) => {
            let primitives = &shared.primitives;
            if let Some(condition) = primitives.condition(name) {
                condition.wait(ctx).await?;
            } else if shared.scenario.primitives[name].kind.keyword() == "queue" {
                primitives.queue(name).join(ctx).await?;
            } else {
                primitives.event(name).wait(ctx).await?;
            }
        }
        StepKind::Notify { condition, count } => {
            let condition = shared.primitives.condition(condition).expect("checked");
            condition.notify(*count).map_err(Raise::Error)?;
        }
    }
    Ok(Flow::Next)
}

/// Every task that the names stand for (sets expanded), in order.
fn all_tasks(
    ctx: &Ctx,
    keyword: &str,
    names: &[String],
) -> Result<Vec<Rc<super::task::TaskCell>>, Raise> {
    let mut cells = Vec::new();
    for name in names {
        cells.extend(ctx.tasks(keyword, name)?);
    }
    Ok(cells)
}

/// `acquire NAME`: a declared semaphore or condition's lock, or a tracked
/// lock; each held one is a tracked resource.
async fn acquire(ctx: &Ctx, name: &str) -> Result<(), Raise> {
    let shared = &ctx.shared;
    if let Some(semaphore) = shared.primitives.semaphore(name) {
        semaphore.acquire(ctx).await?;
    } else if let Some(condition) = shared.primitives.condition(name) {
        condition.lock.acquire(ctx).await?;
    } else {
        shared.lock(name).acquire(ctx).await?;
    }
    if let Some(task) = crate::task::current_id() {
        let name = name.to_string();
        note(&shared.record, Note::Acquire { task, name });
    }
    let guard = resource::acquire(name);
    shared.guards.0.borrow_mut().push((name.to_string(), guard));
    Ok(())
}

/// `release NAME`.
fn release(ctx: &Ctx, name: &str) -> Result<(), Raise> {
    let shared = &ctx.shared;
    let guard = {
        let mut guards = shared.guards.0.borrow_mut();
        let index = guards.iter().position(|(held, _)| held == name);
        index.map(|index| guards.remove(index).1)
    };
    let Some(guard) = guard else {
        return Err(Raise::Error(Exc::runtime(format!(
            "release {name}: not held"
        ))));
    };
    if let Some(task) = crate::task::current_id() {
        note(&shared.record, Note::Release { task });
    }
    guard.release();
    if let Some(semaphore) = shared.primitives.semaphore(name) {
        semaphore.release();
        Ok(())
    } else if let Some(condition) = shared.primitives.condition(name) {
        condition.lock.release().map_err(Raise::Error)
    } else {
        shared.lock(name).release().map_err(Raise::Error)
    }
}
