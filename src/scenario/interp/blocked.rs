//! The blocked-loop rule: a task step that runs CPU work (`work`) past a
//! deadline that was due meanwhile delays the cancellation that deadline
//! makes (asyncio's loop cannot fire a timeout while a step runs). A step
//! that runs past a due deadline by the grace budget
//! ([`Config::grace_time`](crate::Config::grace_time)) is a
//! `cancel-ignored`, named at the deadline's step and the working task.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use super::located::StepAt;
use crate::oracle::{Violation, ViolationCode};
use crate::scenario::error::line_column;
use crate::scenario::model::Scenario;
use crate::time::Instant;

/// The deadlines (timeouts) of the run still to come or running.
pub(super) struct Deadlines {
    scenario: Arc<Scenario>,
    due: RefCell<Vec<(u64, u64, Option<StepAt>)>>,
    next: std::cell::Cell<u64>,
}

impl Deadlines {
    pub(super) fn new(scenario: Arc<Scenario>) -> Self {
        Deadlines {
            scenario,
            due: RefCell::new(Vec::new()),
            next: std::cell::Cell::new(0),
        }
    }

    /// A deadline at `at`, made by `step`; forget it with [`Self::remove`].
    fn add(&self, at: Instant, step: Option<StepAt>) -> u64 {
        let id = self.next.get();
        self.next.set(id + 1);
        self.due.borrow_mut().push((id, at.as_nanos(), step));
        id
    }

    fn remove(&self, id: u64) {
        self.due.borrow_mut().retain(|(other, _, _)| *other != id);
    }

    /// A deadline in `duration` from now, made by the current step, until
    /// the returned guard is dropped.
    pub(super) fn watch(self: &Rc<Self>, duration: std::time::Duration) -> Watched {
        let at = Instant::now() + duration;
        Watched {
            id: self.add(at, super::located::current_step()),
            deadlines: Rc::clone(self),
        }
    }

    fn at(&self, step: Option<StepAt>) -> String {
        step.map_or_else(String::new, |(span, keyword)| {
            let (line, column) = line_column(&self.scenario.source, span.offset());
            format!(" (`{keyword}` at {}:{line}:{column})", self.scenario.path)
        })
    }

    /// After a step of the current task that ran from `start` to `end`
    /// (work inside the `work` step `worked`): flags a deadline it kept
    /// waiting past the grace budget.
    pub(super) fn check(&self, start: u64, end: u64, worked: Option<StepAt>) {
        let Some((grace, task, name)) = crate::world::try_with(|world| {
            let task = world.current_id()?;
            let grace = world.grace_nanos();
            Some((
                grace,
                task,
                world.trace().task_name(task).map(str::to_string),
            ))
        })
        .flatten() else {
            return;
        };
        let late = self
            .due
            .borrow()
            .iter()
            .filter(|(_, at, _)| start <= *at && *at < end && end - *at > grace)
            .min_by_key(|(_, at, _)| *at)
            .map(|(_, at, step)| (*at, *step));
        let Some((due, deadline)) = late else {
            return;
        };
        let label = format!("{}{task}", name.as_deref().unwrap_or(""));
        let message = format!(
            "{label} ran {} of CPU work without an await{} while the deadline{} was due at {}: the loop was blocked {} past it, so the cancellation it makes waited",
            Instant(end - start),
            self.at(worked),
            self.at(deadline),
            Instant(due),
            Instant(end - due),
        );
        let violation =
            Violation::new(ViolationCode::CancelIgnored, message).task(task, name.as_deref());
        crate::world::with(|world| world.push_violation(task, violation));
    }
}

/// A deadline being watched; dropping it forgets it.
pub(super) struct Watched {
    id: u64,
    deadlines: Rc<Deadlines>,
}

impl Drop for Watched {
    fn drop(&mut self) {
        self.deadlines.remove(self.id);
    }
}
