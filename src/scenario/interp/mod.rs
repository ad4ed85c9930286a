//! The interpreter: a scenario compiled into futures that run on `Sim`,
//! with Python asyncio's (3.11+) semantics, built from cancelsim's own
//! public primitives.
//!
//! Invariants:
//!
//! * every await of an interpreted step is cancellable (`or_cancel`,
//!   `checkpoint`, `shield`): a pending cancel request is delivered there as
//!   one `Cancelled`, once per request (edge-triggered, like asyncio);
//! * `work` never awaits, so it delays delivery to the next await;
//! * a `timeout` scope expires through the library's own `time::timeout`
//!   (so the sweep can force it at every await point inside it), then asks
//!   its own task to cancel and lets the body handle that request; when the
//!   cancellation comes out, the scope turns it into a timeout error unless
//!   other requests are outstanding (asyncio's `cancelling()` / `uncancel()`
//!   counter, kept per task in [`TaskCell`]); a body that swallows it ends
//!   the scope normally;
//! * a `group` cancels its siblings and its parent on the first failure and
//!   waits for every child, counting its own request like a timeout does;
//! * a `Cancelled` that the scenario legitimately consumes (turned into a
//!   timeout error, or absorbed by a group) is kept and handed back in the
//!   task's output, so that only a real `swallow` reads as swallowed.
//!
//! This file holds what a run returns and [`run`] itself; `task` holds the
//! run's shared state and the task cells, `step` executes steps, and
//! `timeout`, `try_handlers` and `group` the constructs of those names.

mod group;
mod step;
mod task;
mod timeout;
mod try_handlers;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::future::poll_fn;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Poll;

use super::model::{Outcome, Scenario};
use crate::cancel::{Cancelled, OrCancel};
use crate::time::Instant;

use self::task::{spawn_task, Shared};

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
    pub outcomes: BTreeMap<String, (Outcome, Instant)>,
    /// Every `log` line, in order.
    pub logs: Vec<LogLine>,
    /// When `main` ended.
    pub main_end: Option<Instant>,
}

impl RunRecord {
    /// The outcome of `task` (`Running` if it never ended).
    pub fn outcome(&self, task: &str) -> Outcome {
        self.outcomes
            .get(task)
            .map_or(Outcome::Running, |(outcome, _)| outcome.clone())
    }
}

/// What the root returns (the cancellation it got, if any, rides along).
#[derive(Debug)]
pub struct RootEnd {
    /// How `main` ended.
    pub outcome: Outcome,
    _cancelled: Option<Cancelled>,
}

/// Runs `scenario` once: spawns `main`, waits for it, and (with `drain`)
/// waits for the blocking and shielded work still in flight. The root
/// forwards a cancel request it receives to `main`, like `asyncio.run`.
pub async fn run(scenario: Arc<Scenario>, record: Rc<RefCell<RunRecord>>, drain: bool) -> RootEnd {
    {
        let shared = Rc::new(Shared {
            scenario,
            record,
            cells: RefCell::new(BTreeMap::new()),
            locks: RefCell::new(BTreeMap::new()),
            in_flight: Cell::new(0),
            all: RefCell::new(Vec::new()),
            drained: RefCell::new(None),
        });
        let main = spawn_task(&shared, "main", None);
        let (outcome, cancelled) = match main.wait().or_cancel().await {
            Ok(outcome) => (outcome, None),
            Err(cancelled) => {
                main.cancel();
                (main.wait().await, Some(cancelled))
            }
        };
        shared.record.borrow_mut().main_end = Some(Instant::now());
        if drain {
            // Detached work (blocking jobs, shields) runs on; see it end.
            let waiting = Rc::clone(&shared);
            poll_fn(move |cx| {
                if waiting.in_flight.get() == 0 {
                    Poll::Ready(())
                } else {
                    *waiting.drained.borrow_mut() = Some(cx.waker().clone());
                    Poll::Pending
                }
            })
            .await;
        }
        RootEnd {
            outcome,
            _cancelled: cancelled,
        }
    }
}
