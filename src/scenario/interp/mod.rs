//! The interpreter: a scenario compiled into futures that run on `Sim`,
//! with Python asyncio's (3.11) semantics, built from cancelsim's own
//! primitives.
//!
//! Invariants:
//!
//! * `main` runs as the root task, as asyncio.run's main task; every other
//!   task is a cancelsim task named as the file names it;
//! * every await of an interpreted step is cancellable (`or_cancel`,
//!   `checkpoint`, `shield`): a pending cancel request is delivered there as
//!   one `Cancelled`; requests made before it is delivered coalesce into it
//!   (asyncio's `_must_cancel`), and a task cancelled before its first step
//!   never runs its body;
//! * cancelling a task that awaits another task cancels the awaited task
//!   instead (asyncio forwards `cancel()` to the future a task awaits); a
//!   task that ended cancelled raises `CancelledError` in its awaiter;
//! * `work` never awaits, so it delays delivery to the next await;
//! * a `timeout` scope expires through the library's own `time::timeout`
//!   (so the sweep can force it at every await point inside it), in
//!   asyncio's order when the deadline ties with what the body awaits
//!   (the deadline, armed first, wins under `Fifo`; other schedulers may
//!   take the other order), then asks its own task to cancel and lets the
//!   body handle that request; when the cancellation comes out, the scope
//!   turns it into a `TimeoutError` unless other requests are outstanding
//!   (asyncio's `cancelling()` / `uncancel()` counter, kept per task in
//!   [`TaskCell`](task::TaskCell)); a body that swallows it ends the scope
//!   normally;
//! * a `group` is asyncio.TaskGroup, state for state;
//! * a `Cancelled` that the scenario legitimately consumes (turned into a
//!   timeout error, forwarded to an awaited task, absorbed by a group) is
//!   kept and handed back in the task's output, so that only a real
//!   `swallow` reads as swallowed.
//!
//! This file holds what a run returns and [`run`] itself; `task` holds the
//! run's shared state and the task cells, `step` executes steps, `exc` the
//! exceptions, `future` asyncio's futures and lock, `join` awaiting tasks,
//! and `timeout`, `try_handlers` and `group` the constructs of those names.

mod blocked;
mod exc;
mod future;
mod gather;
mod group;
mod join;
pub(crate) mod located;
mod primitives;
mod shutdown;
mod step;
mod task;
mod task_run;
mod timeout;
mod try_handlers;
mod values;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;

use super::model::{Scenario, TaskOutcome};
use crate::time::Instant;

pub use self::located::Located;
use self::located::Tracked;
use self::shutdown::{shut_down, Shutdown};
use self::task::Shared;
use self::task_run::{run_main, TaskEnd};

/// One `log` line of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// When it was logged.
    pub time: Instant,
    /// By which task.
    pub task: String,
    /// What.
    pub text: String,
}

/// What a run of a scenario did, as the scenario sees it.
#[derive(Clone, Debug, Default)]
pub struct RunRecord {
    /// How each task ended, and when (the last instance of each name).
    pub outcomes: BTreeMap<String, (TaskOutcome, Instant)>,
    /// Every `log` line, in order.
    pub logs: Vec<LogLine>,
    /// When `main` ended.
    pub main_end: Option<Instant>,
    /// The tasks still running when `main` ended that asyncio.run's
    /// shutdown cancelled, in the order they were spawned.
    pub cancelled_at_shutdown: Vec<String>,
    /// The cleanups (a handler or `finally`, named with its `try`) that a
    /// cancellation interrupted, in the order it happened.
    pub interrupted_cleanups: Vec<String>,
    /// Where the run's events are written in the scenario file (what
    /// [`render_trace`](crate::scenario::render_trace) shows).
    pub located: Located,
}

impl RunRecord {
    /// The outcome of `task` (`Running` if it never ended).
    pub fn outcome(&self, task: &str) -> TaskOutcome {
        self.outcomes
            .get(task)
            .map_or(TaskOutcome::Running, |(outcome, _)| outcome.clone())
    }
}

/// What the root returns (the cancellations it consumed ride along).
#[derive(Debug)]
pub struct RootEnd {
    /// How `main` ended.
    pub outcome: TaskOutcome,
    _end: TaskEnd,
}

/// Runs `scenario` once, `main` as the current (root) task, then what
/// asyncio.run does after its main task ends: cancels the tasks still
/// running and waits for them, then for the blocking work still in flight.
/// Without `shutdown` (a sweep's run), tasks still running when `main`
/// ends normally are leaks for the oracles to report, so only the shields'
/// bodies are cancelled (every task is when the harness cancelled `main`
/// itself, as asyncio.run does on Ctrl-C), and the world drains the
/// blocking work.
pub async fn run(
    scenario: Arc<Scenario>,
    record: Rc<RefCell<RunRecord>>,
    shutdown: bool,
) -> RootEnd {
    let shared = Shared::new(scenario, Rc::clone(&record));
    let deadlines = Rc::clone(&shared.deadlines);
    let mode = if shutdown {
        Shutdown::Full
    } else {
        Shutdown::Sweep
    };
    let root = async move {
        let end = main(Rc::clone(&shared)).await;
        shut_down(shared, mode).await;
        end
    };
    Tracked::new(root, &record, &deadlines).await
}

/// The two parts of asyncio.run, to run as two roots of one world: `main`,
/// then (see [`AfterMain`]) the shutdown.
pub(crate) fn phases(
    scenario: Arc<Scenario>,
    record: Rc<RefCell<RunRecord>>,
) -> (impl Future<Output = RootEnd>, AfterMain) {
    let shared = Shared::new(scenario, Rc::clone(&record));
    let root = Tracked::new(main(Rc::clone(&shared)), &record, &shared.deadlines);
    (root, AfterMain(shared))
}

/// What is left of a run once `main` has ended.
pub(crate) struct AfterMain(Rc<Shared>);

impl AfterMain {
    /// asyncio.run's shutdown, when there is anything to shut down (tasks
    /// still running, blocking work in flight).
    pub(crate) fn shutdown(self) -> Option<impl Future<Output = ()>> {
        let busy = self.0.jobs.get() > 0 || self.0.all.borrow().iter().any(|cell| !cell.is_done());
        busy.then(|| shut_down(self.0, Shutdown::Full))
    }
}

async fn main(shared: Rc<Shared>) -> RootEnd {
    let end = run_main(Rc::clone(&shared)).await;
    *shared.scheduled_by_main_end.borrow_mut() = located::take_touched();
    let mut record = shared.record.borrow_mut();
    record.main_end = Some(Instant::now());
    RootEnd {
        outcome: record.outcome("main"),
        _end: end,
    }
}
