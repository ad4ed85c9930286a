//! Walking one task's steps: every task, primitive and variable it names,
//! what it spawns and sets, and the misplaced `break` and `raise`.

use std::collections::BTreeSet;

use miette::SourceSpan;

use crate::scenario::model::{Block, Cond, PrimitiveKind, StepKind, TaskDef, Text};

/// A `spawn` step.
pub(super) struct Spawn<'a> {
    pub(super) task: &'a str,
    /// The name of the instance.
    pub(super) name: &'a str,
    pub(super) args: usize,
    pub(super) span: SourceSpan,
}

/// What one task names.
#[derive(Default)]
pub(super) struct Uses<'a> {
    pub(super) spawns: Vec<Spawn<'a>>,
    /// (keyword, task, where).
    pub(super) tasks: Vec<(&'static str, &'a str, SourceSpan)>,
    /// (keyword, name, the kinds it takes, where).
    pub(super) primitives: Vec<(&'static str, &'a str, &'static [PrimitiveKind], SourceSpan)>,
    /// Variables read, and where.
    pub(super) reads: Vec<(&'a str, SourceSpan)>,
    /// Variables set anywhere in the task (and its parameters).
    pub(super) assigned: BTreeSet<&'a str>,
    /// Variables that hold sets of tasks (`wait`'s `done=` and `pending=`).
    pub(super) sets: BTreeSet<&'a str>,
}

const QUEUE: &[PrimitiveKind] = &[PrimitiveKind::Queue { maxsize: 0 }];
const EVENT: &[PrimitiveKind] = &[PrimitiveKind::Event];
const CONDITION: &[PrimitiveKind] = &[PrimitiveKind::Condition];
const LOCKS: &[PrimitiveKind] = &[
    PrimitiveKind::Semaphore { value: 0 },
    PrimitiveKind::Condition,
];
const WAITABLE: &[PrimitiveKind] = &[
    PrimitiveKind::Event,
    PrimitiveKind::Condition,
    PrimitiveKind::Queue { maxsize: 0 },
];

/// A misplaced step: where, what, how to fix it.
pub(super) type Misplaced = (SourceSpan, String, String);

pub(super) fn walk_task(task: &TaskDef) -> Result<Uses<'_>, Misplaced> {
    let mut uses = Uses::default();
    uses.assigned.extend(task.params.iter().map(String::as_str));
    walk(&task.body, Place::default(), &mut uses)?;
    Ok(uses)
}

fn text<'a>(text: &'a Text, span: SourceSpan, uses: &mut Uses<'a>) {
    uses.reads.extend(text.vars().map(|var| (var, span)));
}

fn cond<'a>(cond: &'a Cond, span: SourceSpan, uses: &mut Uses<'a>) {
    match cond {
        Cond::Done(task) => uses.tasks.push(("if done", task, span)),
        Cond::Cancelled(task) => uses.tasks.push(("if cancelled", task, span)),
        Cond::IsSet(name) => uses.primitives.push(("if is-set", name, EVENT, span)),
        Cond::Empty(name) => uses.primitives.push(("if empty", name, QUEUE, span)),
        Cond::Equal(a, b) => {
            text(a, span, uses);
            text(b, span, uses);
        }
        Cond::Not(inner) => self::cond(inner, span, uses),
        Cond::Cancelling => {}
    }
}

/// Where a step is written.
#[derive(Clone, Copy, Default)]
struct Place {
    /// Inside a `repeat` (of this function).
    repeat: bool,
    /// Inside an exception handler.
    handler: bool,
    /// Inside an `except*` handler (of this function).
    star: bool,
    /// Inside a `repeat` within an `except*` handler (`break` may leave it).
    star_repeat: bool,
}

fn walk<'a>(block: &'a Block, place: Place, uses: &mut Uses<'a>) -> Result<(), Misplaced> {
    for step in block.iter() {
        let span = step.span;
        uses.assigned.extend(step.kind.assigns());
        match &step.kind {
            StepKind::Return(_) | StepKind::Break
                if place.star
                    && (matches!(step.kind, StepKind::Return(_)) || !place.star_repeat) =>
            {
                return Err((
                    span,
                    format!("`{}` in an `except*` handler", step.kind.keyword()),
                    "Python does not allow `return` or `break` in an `except*` block; set a variable there and act on it after the `try`".to_string(),
                ));
            }
            StepKind::Spawn { task, args, name } => {
                for arg in args {
                    text(arg, span, uses);
                }
                uses.spawns.push(Spawn {
                    task,
                    name: name.as_deref().unwrap_or(task),
                    args: args.len(),
                    span,
                });
            }
            StepKind::Join { task, .. }
            | StepKind::Result { task, .. }
            | StepKind::ShieldTask { task, .. }
            | StepKind::WaitFor { task, .. } => {
                uses.tasks.push((step.kind.keyword(), task, span));
            }
            StepKind::Cancel { task, message } => {
                uses.tasks.push(("cancel", task, span));
                if let Some(message) = message {
                    text(message, span, uses);
                }
            }
            StepKind::WaitFirst(tasks)
            | StepKind::Wait { tasks, .. }
            | StepKind::Gather { tasks, .. } => {
                for task in tasks {
                    uses.tasks.push((step.kind.keyword(), task, span));
                }
                if let StepKind::Wait { done, pending, .. } = &step.kind {
                    uses.sets
                        .extend(done.iter().chain(pending.iter()).map(String::as_str));
                }
            }
            StepKind::Put { queue, value, .. } => {
                uses.primitives.push(("put", queue, QUEUE, span));
                text(value, span, uses);
            }
            StepKind::Get { queue, .. } => uses.primitives.push(("get", queue, QUEUE, span)),
            StepKind::TaskDone(queue) => uses.primitives.push(("task-done", queue, QUEUE, span)),
            StepKind::SetEvent(event) => uses.primitives.push(("set", event, EVENT, span)),
            StepKind::ClearEvent(event) => uses.primitives.push(("clear", event, EVENT, span)),
            StepKind::WaitOn(name) => uses.primitives.push(("wait", name, WAITABLE, span)),
            StepKind::Notify { condition, count } => {
                let keyword = if count.is_some() {
                    "notify"
                } else {
                    "notify-all"
                };
                uses.primitives.push((keyword, condition, CONDITION, span));
            }
            StepKind::Acquire(name) => uses.primitives.push(("acquire", name, LOCKS, span)),
            StepKind::Release(name) => uses.primitives.push(("release", name, LOCKS, span)),
            StepKind::Log(value)
            | StepKind::Let { value, .. }
            | StepKind::Fail(value)
            | StepKind::Return(value) => text(value, span, uses),
            StepKind::Blocking { log: Some(log), .. } => text(log, span, uses),
            StepKind::Raise { kind: None, .. } if !place.handler => {
                return Err((
                    span,
                    "a bare `raise` (or `reraise`) outside an exception handler".to_string(),
                    "re-raising needs an exception being handled: put it inside `except { … }`, or name a type: `raise ValueError \"why\"`".to_string(),
                ));
            }
            StepKind::Raise {
                message: Some(message),
                ..
            } => text(message, span, uses),
            StepKind::Break if !place.repeat => {
                return Err((
                    span,
                    "`break` outside `repeat`".to_string(),
                    "`break` leaves the innermost `repeat { … }`; use `return` to end the task"
                        .to_string(),
                ));
            }
            StepKind::If { cond: c, .. } => cond(c, span, uses),
            StepKind::Try { handlers, .. } => {
                for handler in handlers {
                    uses.assigned.extend(handler.bind.as_deref());
                }
            }
            _ => {}
        }
        match &step.kind {
            StepKind::Repeat { body, .. } => {
                let inner = Place {
                    repeat: true,
                    star_repeat: place.star,
                    ..place
                };
                walk(body, inner, uses)?;
            }
            // A shield's body is a function of its own (`break` cannot
            // leave it, `return` ends it).
            StepKind::Shield { body, .. } => {
                let inner = Place {
                    handler: place.handler,
                    ..Place::default()
                };
                walk(body, inner, uses)?;
            }
            StepKind::Try {
                body,
                handlers,
                otherwise,
                finally,
            } => {
                walk(body, place, uses)?;
                for handler in handlers {
                    let inner = Place {
                        handler: true,
                        star: place.star || handler.star,
                        star_repeat: place.star_repeat && !handler.star,
                        ..place
                    };
                    walk(&handler.body, inner, uses)?;
                }
                for block in otherwise.iter().chain(finally.iter()) {
                    walk(block, place, uses)?;
                }
            }
            other => {
                for nested in other.blocks() {
                    walk(nested, place, uses)?;
                }
            }
        }
    }
    Ok(())
}
