//! Scenario tasks at run time: the state a run shares, one cell per task
//! instance (asyncio's cancel/uncancel counter), held resources, the
//! context a step runs in, and spawning a task.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::future::{poll_fn, Future};
use std::panic::Location;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Poll, Waker};

use super::group::Group;
use super::step::{exec_block, Flow, Raise};
use super::{LogLine, RunRecord};
use crate::cancel::Cancelled;
use crate::resource::Guard;
use crate::scenario::model::{Outcome, Scenario};
use crate::time::Instant;
use crate::trace::{CancelVia, SourceLocation};
use crate::JoinHandle;

pub(super) struct Shared {
    pub(super) scenario: Arc<Scenario>,
    pub(super) record: Rc<RefCell<RunRecord>>,
    /// The latest instance of each task name.
    pub(super) cells: RefCell<BTreeMap<String, Rc<TaskCell>>>,
    /// Exclusive resources: held?, and who waits.
    pub(super) locks: RefCell<BTreeMap<String, (bool, Vec<Waker>)>>,
    /// Blocking jobs and shields not yet finished.
    pub(super) in_flight: Cell<u32>,
    /// Every task instance spawned.
    pub(super) all: RefCell<Vec<Rc<TaskCell>>>,
    /// Woken when the last in-flight job ends.
    pub(super) drained: RefCell<Option<Waker>>,
}

impl Shared {
    pub(super) fn log(&self, task: &str, text: &str) {
        self.record.borrow_mut().logs.push(LogLine {
            time: Instant::now(),
            task: task.to_string(),
            text: text.to_string(),
        });
    }

    pub(super) fn job_done(&self) {
        self.in_flight.set(self.in_flight.get() - 1);
        if self.in_flight.get() == 0 {
            if let Some(waker) = self.drained.borrow_mut().take() {
                waker.wake();
            }
        }
    }

    pub(super) fn cell(&self, task: &str) -> Option<Rc<TaskCell>> {
        self.cells.borrow().get(task).cloned()
    }

    pub(super) fn unlock(&self, name: &str) {
        let waiters = match self.locks.borrow_mut().get_mut(name) {
            Some((held, waiters)) => {
                *held = false;
                std::mem::take(waiters)
            }
            None => Vec::new(),
        };
        for waker in waiters {
            waker.wake();
        }
    }
}

/// One running instance of a scenario task, as seen by the others.
pub(super) struct TaskCell {
    handle: RefCell<Option<JoinHandle<TaskEnd>>>,
    outcome: RefCell<Option<Outcome>>,
    waiters: RefCell<Vec<Waker>>,
    /// Cancel requests made by the interpreter minus `uncancel`s (asyncio's
    /// `Task.cancelling()`).
    pub(super) requests: Cell<u32>,
    groups: RefCell<Vec<Rc<Group>>>,
}

impl TaskCell {
    /// asyncio's `Task.cancel()`: one more request.
    #[track_caller]
    pub(super) fn cancel(self: &Rc<Self>) {
        self.request(CancelVia::Handle, Some(Location::caller()));
    }

    /// The request an expired `timeout` scope makes (asyncio's `timeout`
    /// cancels the task that entered it).
    pub(super) fn cancel_by_timeout(self: &Rc<Self>, scope: Option<u32>, at: SourceLocation) {
        let via = scope.map_or(CancelVia::Handle, CancelVia::Timeout);
        self.request(via, Some(at));
    }

    fn request(self: &Rc<Self>, via: CancelVia, at: Option<SourceLocation>) {
        if self.outcome.borrow().is_some() {
            return;
        }
        self.requests.set(self.requests.get() + 1);
        if let Some(handle) = &*self.handle.borrow() {
            handle.cancel_via(via, at);
        }
    }

    /// asyncio's `Task.uncancel()`: the outstanding requests left.
    pub(super) fn uncancel(&self) -> u32 {
        self.requests.set(self.requests.get().saturating_sub(1));
        self.requests.get()
    }

    pub(super) fn is_done(&self) -> bool {
        self.outcome.borrow().is_some()
    }

    fn finish(&self, outcome: Outcome) {
        *self.outcome.borrow_mut() = Some(outcome.clone());
        for waker in std::mem::take(&mut *self.waiters.borrow_mut()) {
            waker.wake();
        }
        for group in std::mem::take(&mut *self.groups.borrow_mut()) {
            group.child_done(&outcome);
        }
    }

    pub(super) fn register(&self, waker: &Waker) {
        let mut waiters = self.waiters.borrow_mut();
        if !waiters.iter().any(|w| w.will_wake(waker)) {
            waiters.push(waker.clone());
        }
    }

    pub(super) fn wait(self: &Rc<Self>) -> impl Future<Output = Outcome> + Unpin {
        let cell = Rc::clone(self);
        poll_fn(move |cx| match &*cell.outcome.borrow() {
            Some(outcome) => Poll::Ready(outcome.clone()),
            None => {
                cell.register(cx.waker());
                Poll::Pending
            }
        })
    }
}

/// What a task future returns: its outcome, and the `Cancelled` values it
/// ended with or legitimately consumed.
#[derive(Debug)]
struct TaskEnd {
    _outcome: Outcome,
    _tokens: Vec<Cancelled>,
}

/// The resources a task holds. Whatever is still held when the task (and
/// any shield it started) is gone stays held: a scenario has no RAII, so a
/// missing `release` is a leak the oracle must see.
#[derive(Default)]
pub(super) struct Guards(pub(super) RefCell<Vec<(String, Guard)>>);

impl Drop for Guards {
    fn drop(&mut self) {
        for (_, guard) in self.0.get_mut().drain(..) {
            std::mem::forget(guard);
        }
    }
}

pub(super) struct Ctx {
    pub(super) shared: Rc<Shared>,
    pub(super) task: String,
    /// The task's own cell (`None` inside a shield, which runs as its own
    /// task that nobody can cancel).
    pub(super) cell: Option<Rc<TaskCell>>,
    pub(super) guards: Rc<Guards>,
    pub(super) absorbed: Rc<RefCell<Vec<Cancelled>>>,
    pub(super) groups: RefCell<Vec<Rc<Group>>>,
}

impl Ctx {
    pub(super) fn absorb(&self, cancelled: Option<Cancelled>) {
        self.absorbed.borrow_mut().extend(cancelled);
    }
}

pub(super) fn spawn_task(
    shared: &Rc<Shared>,
    name: &str,
    group: Option<&Rc<Group>>,
) -> Rc<TaskCell> {
    let cell = Rc::new(TaskCell {
        handle: RefCell::new(None),
        outcome: RefCell::new(None),
        waiters: RefCell::new(Vec::new()),
        requests: Cell::new(0),
        groups: RefCell::new(Vec::new()),
    });
    if let Some(group) = group {
        group.children.borrow_mut().push(Rc::clone(&cell));
        cell.groups.borrow_mut().push(Rc::clone(group));
    }
    let body = shared.scenario.tasks[name].body.clone();
    let ctx = Rc::new(Ctx {
        shared: Rc::clone(shared),
        task: name.to_string(),
        cell: Some(Rc::clone(&cell)),
        guards: Rc::default(),
        absorbed: Rc::default(),
        groups: RefCell::new(Vec::new()),
    });
    let own = Rc::clone(&cell);
    let task = name.to_string();
    let future = async move {
        let result = exec_block(Rc::clone(&ctx), body).await;
        let (outcome, token) = match result {
            Ok(Flow::Next) => (Outcome::Value("none".to_string()), None),
            Ok(Flow::Return(value)) => (Outcome::Value(value), None),
            Err(Raise::Cancelled(cancelled)) => (Outcome::Cancelled, Some(cancelled)),
            Err(Raise::Timeout(cause)) => (Outcome::Timeout, cause),
            Err(Raise::Error(message)) => (Outcome::Error(message), None),
        };
        let mut tokens = std::mem::take(&mut *ctx.absorbed.borrow_mut());
        tokens.extend(token);
        ctx.shared
            .record
            .borrow_mut()
            .outcomes
            .insert(task, (outcome.clone(), Instant::now()));
        own.finish(outcome.clone());
        TaskEnd {
            _outcome: outcome,
            _tokens: tokens,
        }
    };
    let handle = crate::spawn_named(name, future);
    *cell.handle.borrow_mut() = Some(handle);
    shared
        .cells
        .borrow_mut()
        .insert(name.to_string(), Rc::clone(&cell));
    shared.all.borrow_mut().push(Rc::clone(&cell));
    cell
}
