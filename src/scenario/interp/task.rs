//! Scenario tasks at run time, as asyncio's `Task`: the state a run shares,
//! one cell per task instance, the context a step runs in, and spawning.
//!
//! A [`TaskCell`] keeps what asyncio's `Task` keeps and cancelsim's core
//! does not: the count of cancel requests (`cancelling()` / `uncancel()`),
//! whether a request is still undelivered (asyncio's `_must_cancel`: further
//! requests coalesce into it), and what the task awaits (asyncio's
//! `_fut_waiter`: cancelling a task that awaits another task cancels that
//! task instead). A request the interpreter makes reaches the core as one
//! cooperative cancel, delivered at the task's next await point.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::future::{poll_fn, Future};
use std::panic::Location;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Poll, Waker};

use super::blocked::Deadlines;
use super::exc::{CancelledError, Exc, Raise};
use super::future::{call_soon, Fut, Lock};
use super::group::Group;
use super::located::{note, touched, Note, Notes, SpawnKind, StepAt, Tracked};
use super::primitives::Primitives;
use super::step::{exec_block, Flow};
use super::values::{Value, Vars};
use super::{LogLine, RunRecord};
use crate::cancel::{checkpoint, Cancelled};
use crate::resource::Guard;
use crate::scenario::model::{Block, Scenario, TaskOutcome};
use crate::time::Instant;
use crate::trace::{CancelVia, SourceLocation};
use crate::vocab::TaskKey;
use crate::JoinHandle;

/// What every task of one run shares.
pub(super) struct Shared {
    pub(super) scenario: Arc<Scenario>,
    pub(super) record: Rc<RefCell<RunRecord>>,
    /// The latest instance of each task name.
    pub(super) cells: RefCell<BTreeMap<String, Rc<TaskCell>>>,
    /// Tracked exclusive resources (asyncio locks), and who holds them.
    pub(super) locks: RefCell<BTreeMap<String, Rc<Lock>>>,
    /// The declared queues, events, conditions and semaphores.
    pub(super) primitives: Primitives,
    /// The deadlines running (for the blocked-loop rule).
    pub(super) deadlines: Rc<Deadlines>,
    pub(super) guards: Guards,
    /// Blocking jobs not yet finished.
    pub(super) jobs: Cell<u32>,
    /// Every task instance, in the order they were created.
    pub(super) all: RefCell<Vec<Rc<TaskCell>>>,
    /// Woken when the last blocking job ends.
    pub(super) idle: RefCell<Option<Waker>>,
    /// The tasks `main`'s last step spawned or cancelled (their cells'
    /// addresses): they run one step less before asyncio.run's shutdown.
    pub(super) scheduled_by_main_end: RefCell<Vec<usize>>,
}

impl Shared {
    pub(super) fn new(scenario: Arc<Scenario>, record: Rc<RefCell<RunRecord>>) -> Rc<Self> {
        Rc::new(Shared {
            primitives: Primitives::new(&scenario.primitives),
            deadlines: Rc::new(Deadlines::new(Arc::clone(&scenario))),
            scenario,
            record,
            cells: RefCell::new(BTreeMap::new()),
            locks: RefCell::new(BTreeMap::new()),
            guards: Guards::default(),
            jobs: Cell::new(0),
            all: RefCell::new(Vec::new()),
            idle: RefCell::new(None),
            scheduled_by_main_end: RefCell::new(Vec::new()),
        })
    }

    pub(super) fn log(&self, task: &str, text: &str) {
        let index = self.record.borrow().logs.len();
        self.record.borrow_mut().logs.push(LogLine {
            time: Instant::now(),
            task: task.to_string(),
            text: text.to_string(),
        });
        let task = crate::task::current_id();
        note(&self.record, Note::Log { task, index });
    }

    pub(super) fn job_started(&self) {
        self.jobs.set(self.jobs.get() + 1);
    }

    pub(super) fn job_done(&self) {
        self.jobs.set(self.jobs.get() - 1);
        if self.jobs.get() == 0 {
            if let Some(waker) = self.idle.borrow_mut().take() {
                waker.wake();
            }
        }
    }

    pub(super) fn cell(&self, task: &str) -> Option<Rc<TaskCell>> {
        self.cells.borrow().get(task).cloned()
    }

    pub(super) fn lock(&self, name: &str) -> Rc<Lock> {
        Rc::clone(
            self.locks
                .borrow_mut()
                .entry(name.to_string())
                .or_insert_with(|| Rc::new(Lock::default())),
        )
    }
}

/// How a task ended.
#[derive(Clone, Debug)]
pub(super) enum TaskResult {
    Value(String),
    Cancelled(Option<String>),
    Error(Exc),
}

impl TaskResult {
    /// What `await task` gives for it: the value, or the exception raised.
    pub(super) fn awaited(self) -> Result<String, Raise> {
        match self {
            TaskResult::Value(value) => Ok(value),
            TaskResult::Cancelled(message) => {
                Err(Raise::Cancelled(CancelledError::raised(message)))
            }
            TaskResult::Error(exc) => Err(Raise::Error(exc)),
        }
    }

    /// The exception as a value (`gather(return_exceptions=True)`): for a
    /// cancelled task, a `CancelledError` with no message (the task's
    /// `_cancel_message` is gone once it ended cancelled).
    pub(super) fn exception(&self) -> Option<Exc> {
        match self {
            TaskResult::Value(_) => None,
            TaskResult::Cancelled(_) => Some(Exc::new("CancelledError", "")),
            TaskResult::Error(exc) => Some(exc.clone()),
        }
    }

    pub(super) fn outcome(&self) -> TaskOutcome {
        match self {
            TaskResult::Value(value) => TaskOutcome::Value(value.clone()),
            TaskResult::Cancelled(_) => TaskOutcome::Cancelled,
            TaskResult::Error(exc) if exc.is_timeout() => TaskOutcome::Timeout,
            TaskResult::Error(exc) => TaskOutcome::Error(exc.detail()),
        }
    }
}

/// Whom a cancel request of the core goes to.
enum Target {
    /// Not running yet.
    None,
    Handle(JoinHandle<TaskEnd>),
    /// A task whose handle the interpreter does not hold (`main`, which
    /// runs as the root; a shield's body, spawned by `shield`).
    Key(TaskKey),
}

/// What a task awaits, for asyncio's forwarding of `cancel()`.
#[derive(Clone)]
pub(super) enum Awaiting {
    Nothing,
    /// Another task: a request is forwarded to it.
    Task(Rc<TaskCell>),
    /// A future of a primitive: a request cancels it.
    Future(Rc<Fut>),
    /// `gather`'s future: a request cancels its children.
    Gather(Rc<super::gather::Gathering>),
}

/// One task instance, as the others see it (asyncio's `Task`).
pub(super) struct TaskCell {
    /// Its name (outcomes and `join` use it).
    pub(super) name: String,
    /// Whether its outcome goes into the run's record (not for the task
    /// that runs a shield's body).
    recorded: bool,
    target: RefCell<Target>,
    result: RefCell<Option<TaskResult>>,
    waiters: RefCell<Vec<Waker>>,
    /// `cancelling()`.
    requests: Cell<u32>,
    /// A request reached the core and was not delivered yet.
    pending: Cell<bool>,
    /// The message of the pending request.
    message: RefCell<Option<String>>,
    /// Cancelled before it ran, with no request sent to the core.
    early: Cell<bool>,
    /// A request the harness injected was delivered to it.
    pub(super) injected: Cell<bool>,
    /// Its `CancelledError` was handed out once.
    retrieved: Cell<bool>,
    awaiting: RefCell<Awaiting>,
    pub(super) groups: RefCell<Vec<Rc<Group>>>,
    /// Called when it ends (asyncio's done callbacks).
    listeners: RefCell<Vec<Rc<dyn Fn()>>>,
    /// Where its cancel requests are noted.
    notes: Notes,
}

impl TaskCell {
    fn new(name: &str, recorded: bool, notes: &Notes) -> Rc<Self> {
        Rc::new(TaskCell {
            notes: Rc::clone(notes),
            name: name.to_string(),
            recorded,
            target: RefCell::new(Target::None),
            result: RefCell::new(None),
            waiters: RefCell::new(Vec::new()),
            requests: Cell::new(0),
            pending: Cell::new(false),
            message: RefCell::new(None),
            early: Cell::new(false),
            injected: Cell::new(false),
            retrieved: Cell::new(false),
            awaiting: RefCell::new(Awaiting::Nothing),
            groups: RefCell::new(Vec::new()),
            listeners: RefCell::new(Vec::new()),
        })
    }

    /// asyncio's `Task.cancel(msg)`: false if the task is done.
    #[track_caller]
    pub(super) fn cancel(&self, message: Option<String>) -> bool {
        self.request(CancelVia::Handle, Some(Location::caller()), message)
    }

    /// The request an expired `timeout` scope makes (asyncio's `timeout`
    /// cancels the task that entered it).
    pub(super) fn cancel_by_timeout(&self, scope: Option<u32>, at: SourceLocation) -> bool {
        let via = scope.map_or(CancelVia::Handle, CancelVia::Timeout);
        self.request(via, Some(at), None)
    }

    fn request(&self, via: CancelVia, at: Option<SourceLocation>, message: Option<String>) -> bool {
        if self.is_done() {
            return false;
        }
        touched(self as *const TaskCell);
        self.requests.set(self.requests.get() + 1);
        let awaiting = self.awaiting.borrow().clone();
        match awaiting {
            Awaiting::Task(inner) => {
                if inner.request(CancelVia::Handle, at, message.clone()) {
                    return true;
                }
            }
            Awaiting::Future(future) => future.cancel(),
            Awaiting::Gather(gathering) => {
                if gathering.cancel(message.clone()) {
                    return true;
                }
            }
            Awaiting::Nothing => {}
        }
        if !self.pending.replace(true) {
            *self.message.borrow_mut() = message;
            match &*self.target.borrow() {
                Target::Handle(handle) => {
                    note(
                        &self.notes,
                        Note::Request {
                            target: handle.id(),
                        },
                    );
                    handle.cancel_via(via, at);
                }
                Target::Key(key) => {
                    note(&self.notes, Note::Request { target: key.id });
                    crate::world::with(|world| world.request_cancel(*key, via, at));
                }
                // Not running yet: it starts cancelled.
                Target::None => self.early.set(true),
            }
        }
        true
    }

    /// A request was delivered to the task (as `Err(Cancelled)` at one of
    /// its await points): the message it carries. A request the harness
    /// injected counts as a `cancel()` too.
    pub(super) fn delivered(&self) -> Option<String> {
        if !self.pending.replace(false) {
            self.requests.set(self.requests.get() + 1);
            self.injected.set(true);
        }
        self.message.borrow_mut().take()
    }

    /// asyncio's `Task.uncancel()`: the requests left.
    pub(super) fn uncancel(&self) -> u32 {
        self.requests.set(self.requests.get().saturating_sub(1));
        self.requests.get()
    }

    /// asyncio's `Task.cancelling()`.
    pub(super) fn cancelling(&self) -> u32 {
        self.requests.get()
    }

    pub(super) fn set_awaiting(&self, awaiting: Awaiting) {
        *self.awaiting.borrow_mut() = awaiting;
    }

    pub(super) fn is_done(&self) -> bool {
        self.result.borrow().is_some()
    }

    /// `task.cancelled()`.
    pub(super) fn is_cancelled(&self) -> bool {
        matches!(*self.result.borrow(), Some(TaskResult::Cancelled(_)))
    }

    /// Calls `listener` (one loop iteration) after it has ended; at once
    /// (one iteration from now) if it has.
    pub(super) fn on_done(&self, listener: Rc<dyn Fn()>) {
        if self.is_done() {
            call_soon(move || listener());
        } else {
            self.listeners.borrow_mut().push(listener);
        }
    }

    /// Does it run a shield's body?
    pub(super) fn is_shield(&self) -> bool {
        !self.recorded
    }

    pub(super) fn result(&self) -> Option<TaskResult> {
        self.result.borrow().clone()
    }

    /// The result as `await task` or `task.result()` gets it: the
    /// `CancelledError` a task ended with carries its message the first
    /// time only (asyncio hands out the exception it ended with once, then
    /// makes new ones with no message).
    pub(super) fn retrieve(&self) -> Option<TaskResult> {
        let result = self.result()?;
        Some(match result {
            TaskResult::Cancelled(_) if self.retrieved.replace(true) => TaskResult::Cancelled(None),
            other => other,
        })
    }

    /// Ends the task: its done callbacks (its groups' first: they were
    /// added when it was created) run one loop iteration later, as asyncio
    /// runs them; a task awaiting it is woken (and runs as late).
    fn finish(self: &Rc<Self>, result: TaskResult) {
        *self.result.borrow_mut() = Some(result.clone());
        for group in std::mem::take(&mut *self.groups.borrow_mut()) {
            let (child, result) = (Rc::clone(self), result.clone());
            call_soon(move || group.child_done(&child, &result));
        }
        for listener in std::mem::take(&mut *self.listeners.borrow_mut()) {
            call_soon(move || listener());
        }
        for waker in std::mem::take(&mut *self.waiters.borrow_mut()) {
            waker.wake();
        }
    }

    pub(super) fn register(&self, waker: &Waker) {
        let mut waiters = self.waiters.borrow_mut();
        if !waiters.iter().any(|w| w.will_wake(waker)) {
            waiters.push(waker.clone());
        }
    }

    /// Resolves with the task's result once it has ended.
    pub(super) fn wait(self: &Rc<Self>) -> impl Future<Output = TaskResult> + Unpin {
        let cell = Rc::clone(self);
        poll_fn(move |cx| match &*cell.result.borrow() {
            Some(result) => Poll::Ready(result.clone()),
            None => {
                cell.register(cx.waker());
                Poll::Pending
            }
        })
    }
}

/// What a task's future returns: the `Cancelled` values it ended with or
/// legitimately consumed, so that only a real `swallow` reads as swallowed.
#[derive(Debug)]
pub(super) struct TaskEnd {
    _tokens: Vec<Cancelled>,
}

/// The tracked resources held, by name, oldest first. As an asyncio lock,
/// a resource has no owner: any task may release it. Whatever is still held
/// when the run ends stays held: a scenario has no RAII, so a missing
/// `release` is a leak the oracle must see.
#[derive(Default)]
pub(super) struct Guards(pub(super) RefCell<Vec<(String, Guard)>>);

impl Drop for Guards {
    fn drop(&mut self) {
        for (_, guard) in self.0.get_mut().drain(..) {
            std::mem::forget(guard);
        }
    }
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
