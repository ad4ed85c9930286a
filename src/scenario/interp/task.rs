//! Scenario tasks at run time, as asyncio's `Task`: the state a run shares
//! and one cell per task instance (the context a step runs in, and
//! spawning, are in `task_run`).
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
use super::located::{note, touched, Note, Notes};
use super::primitives::Primitives;
use super::task_run::TaskEnd;
use super::{LogLine, RunRecord};
use crate::resource::Guard;
use crate::scenario::model::{Scenario, TaskOutcome};
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
pub(super) enum Target {
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
    pub(super) recorded: bool,
    pub(super) target: RefCell<Target>,
    result: RefCell<Option<TaskResult>>,
    waiters: RefCell<Vec<Waker>>,
    /// `cancelling()`.
    requests: Cell<u32>,
    /// A request reached the core and was not delivered yet.
    pub(super) pending: Cell<bool>,
    /// The message of the pending request.
    pub(super) message: RefCell<Option<String>>,
    /// Cancelled before it ran, with no request sent to the core.
    pub(super) early: Cell<bool>,
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
    pub(super) fn new(name: &str, recorded: bool, notes: &Notes) -> Rc<Self> {
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
    pub(super) fn finish(self: &Rc<Self>, result: TaskResult) {
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
