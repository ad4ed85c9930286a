//! A task's run: the context its steps run in ([`Ctx`]: its cell, its
//! variables, the exceptions it handles, its cleanups), how its body runs
//! and ends, and spawning (tasks, shields, and the root's `main`).

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use super::exc::{CancelledError, Raise};
use super::group::Group;
use super::located::{note, touched, Note, SpawnKind, StepAt, Tracked};
use super::step::{exec_block, Flow};
use super::task::{Awaiting, Shared, Target, TaskCell, TaskResult};
use super::values::{Value, Vars};
use crate::cancel::{checkpoint, Cancelled};
use crate::scenario::model::Block;
use crate::time::Instant;

/// What a task's future returns: the `Cancelled` values it ended with or
/// legitimately consumed, so that only a real `swallow` reads as swallowed.
#[derive(Debug)]
pub(super) struct TaskEnd {
    _tokens: Vec<Cancelled>,
}

/// What a step runs in: its task, and what it holds.
pub(super) struct Ctx {
    pub(super) shared: Rc<Shared>,
    /// The scenario task the step is written in (log lines name it).
    pub(super) task: String,
    pub(super) cell: Rc<TaskCell>,
    pub(super) absorbed: RefCell<Vec<Cancelled>>,
    /// The `group`s the step is inside, innermost last.
    pub(super) groups: RefCell<Vec<Rc<Group>>>,
    /// The task's variables.
    pub(super) vars: Vars,
    /// The exceptions being handled, innermost last (for a bare `raise`).
    pub(super) handling: RefCell<Vec<Handling>>,
    /// The cleanups running (handlers and `finally` blocks), innermost
    /// last: the `try` step and the block's keyword.
    pub(super) cleanups: RefCell<Vec<Option<(StepAt, &'static str)>>>,
    /// Delivered requests a handler swallowed: an `uncancel` acknowledges
    /// one (asyncio's way to take a cancellation back); the others are
    /// dropped when the task ends, which the `cancel-swallowed` oracle sees.
    pub(super) swallowed: RefCell<Vec<Cancelled>>,
}

/// An exception a handler is handling.
pub(super) struct Handling {
    /// It, until a bare `raise` takes it.
    pub(super) exc: Option<Raise>,
    /// A bare `raise` re-raised it.
    pub(super) reraised: bool,
}

impl Ctx {
    fn new(shared: &Rc<Shared>, task: &str, cell: &Rc<TaskCell>, vars: Vars) -> Rc<Self> {
        Rc::new(Ctx {
            shared: Rc::clone(shared),
            task: task.to_string(),
            cell: Rc::clone(cell),
            absorbed: RefCell::new(Vec::new()),
            groups: RefCell::new(Vec::new()),
            vars,
            handling: RefCell::new(Vec::new()),
            cleanups: RefCell::new(Vec::new()),
            swallowed: RefCell::new(Vec::new()),
        })
    }

    /// Notes that a request was delivered to the current task here, and
    /// the cleanup it interrupts, if it does.
    pub(super) fn note_delivered(&self) {
        let cleanup = self.cleanups.borrow().last().copied().flatten();
        if let Some(task) = crate::task::current_id() {
            note(&self.shared.record, Note::Delivered { task, cleanup });
        }
        if let Some(((span, _), block)) = cleanup {
            let scenario = &self.shared.scenario;
            let (line, column) =
                crate::scenario::error::line_column(&scenario.source, span.offset());
            let place = format!("{block} of the try at {}:{line}:{column}", scenario.path);
            let mut record = self.shared.record.borrow_mut();
            if !record.interrupted_cleanups.contains(&place) {
                record.interrupted_cleanups.push(place);
            }
        }
    }

    /// Keeps a delivered request that the scenario legitimately consumed
    /// (turned into a timeout error, forwarded to an awaited task).
    pub(super) fn absorb(&self, cancelled: Option<Cancelled>) {
        self.absorbed.borrow_mut().extend(cancelled);
    }

    /// The `CancelledError` a delivered request raises here.
    pub(super) fn cancelled(&self, token: Cancelled) -> Raise {
        self.note_delivered();
        let message = self.cell.delivered();
        Raise::Cancelled(CancelledError {
            token: Some(token),
            message,
        })
    }
}

/// Runs `body` as the task of `ctx`, records how it ended and ends its cell.
async fn run_task(ctx: Rc<Ctx>, body: Block) -> TaskEnd {
    let cell = Rc::clone(&ctx.cell);
    if matches!(*cell.target.borrow(), Target::None) {
        if let Some(key) = crate::world::with(|world| world.current_key()) {
            *cell.target.borrow_mut() = Target::Key(key);
        }
    }
    // asyncio: a task cancelled before its first step never runs its body.
    let result = if cell.early.get() {
        cell.pending.set(false);
        Err(Raise::Cancelled(CancelledError::raised(
            cell.message.borrow_mut().take(),
        )))
    } else if cell.pending.get() {
        match checkpoint().await {
            Err(token) => Err(ctx.cancelled(token)),
            Ok(()) => exec_block(Rc::clone(&ctx), body).await,
        }
    } else {
        exec_block(Rc::clone(&ctx), body).await
    };
    // asyncio: a request made during the task's last step (it cancelled
    // itself) cancels it.
    let result = match result {
        Ok(flow) if cell.pending.get() => match checkpoint().await {
            Err(token) => Err(ctx.cancelled(token)),
            Ok(()) => Ok(flow),
        },
        other => other,
    };
    drop(std::mem::take(&mut *ctx.swallowed.borrow_mut()));
    let mut tokens = std::mem::take(&mut *ctx.absorbed.borrow_mut());

    let result = match result {
        Ok(Flow::Next | Flow::Break) => TaskResult::Value("none".to_string()),
        Ok(Flow::Return(value)) => TaskResult::Value(value),
        Err(Raise::Cancelled(cancelled)) => {
            tokens.extend(cancelled.token);
            TaskResult::Cancelled(cancelled.message)
        }
        Err(Raise::Error(exc)) => TaskResult::Error(exc),
    };
    if let Some(task) = crate::task::current_id() {
        let outcome = result.outcome();
        note(&ctx.shared.record, Note::Complete { task, outcome });
    }
    if cell.recorded {
        ctx.shared
            .record
            .borrow_mut()
            .outcomes
            .insert(cell.name.clone(), (result.outcome(), Instant::now()));
    }
    cell.set_awaiting(Awaiting::Nothing);
    cell.finish(result);
    TaskEnd { _tokens: tokens }
}

/// Spawns task `task` as `name` with `args` for its parameters (into
/// `group`, if any).
pub(super) fn spawn_task(
    shared: &Rc<Shared>,
    task: &str,
    name: &str,
    args: Vec<String>,
    group: Option<&Rc<Group>>,
) -> Rc<TaskCell> {
    let cell = TaskCell::new(name, true, &shared.record);
    touched(Rc::as_ptr(&cell));
    if let Some(group) = group {
        group.adopt(&cell);
    }
    let def = &shared.scenario.tasks[task];
    let vars: Vars = Rc::new(RefCell::new(
        def.params
            .iter()
            .cloned()
            .zip(args.into_iter().map(Value::Str))
            .collect(),
    ));
    let ctx = Ctx::new(shared, name, &cell, vars);
    let future = Tracked::new(
        run_task(ctx, def.body.clone()),
        &shared.record,
        &shared.deadlines,
    );
    let handle = crate::spawn_named(name, future);
    note(
        &shared.record,
        Note::Spawn {
            parent: crate::task::current_id(),
            child: Some(handle.id()),
            kind: SpawnKind::Task,
            name: Some(name.to_string()),
        },
    );
    *cell.target.borrow_mut() = Target::Handle(handle);
    shared
        .cells
        .borrow_mut()
        .insert(name.to_string(), Rc::clone(&cell));
    shared.all.borrow_mut().push(Rc::clone(&cell));
    cell
}

/// The task that runs a shield's body (asyncio's `shield(coro)` wraps the
/// coroutine in a task) and its future, for `cancel::shield` to spawn:
/// protected work, which the sweep does not inject into and the world
/// drains when the root ends.
pub(super) fn shield_task(
    ctx: &Ctx,
    body: Block,
) -> (Rc<TaskCell>, impl Future<Output = TaskEnd> + 'static) {
    let cell = TaskCell::new("shield", false, &ctx.shared.record);
    let inner = Ctx::new(&ctx.shared, &ctx.task, &cell, Rc::clone(&ctx.vars));
    ctx.shared.all.borrow_mut().push(Rc::clone(&cell));
    note(
        &ctx.shared.record,
        Note::Spawn {
            parent: crate::task::current_id(),
            child: None,
            kind: SpawnKind::Shield,
            name: None,
        },
    );
    let future = Tracked::new(
        run_task(inner, body),
        &ctx.shared.record,
        &ctx.shared.deadlines,
    );
    (cell, future)
}

/// Runs `main` as the current task (the root): asyncio.run's main task.
pub(super) async fn run_main(shared: Rc<Shared>) -> TaskEnd {
    let cell = TaskCell::new("main", true, &shared.record);
    shared
        .cells
        .borrow_mut()
        .insert("main".to_string(), Rc::clone(&cell));
    shared.all.borrow_mut().push(Rc::clone(&cell));
    let body = shared.scenario.main().body.clone();
    let ctx = Ctx::new(&shared, "main", &cell, Vars::default());
    run_task(ctx, body).await
}
