//! The step and time budgets, also inside a poll: `work` counts against
//! them, so a loop of `work` calls in one poll (which never returns to the
//! executor) cannot run past `Config::max_steps`, `Config::max_time` or the
//! drain's budget.
//!
//! Invariants:
//! * a step of the budget is a poll or a `work` call (`budget_used`);
//! * when a `work` call exceeds the budget in force, the world notes the
//!   stop and unwinds out of the poll with a [`BudgetStop`] payload (no
//!   panic message: `resume_unwind` skips the hook); the executor catches
//!   it, keeps the task alive with its future marked for dropping (it is
//!   never polled again), and the loop in force stops with the noted
//!   error. A `work` call made while unwinding, or outside any poll, only
//!   notes the stop.

use crate::error::SimError;

use super::World;

/// The payload a poll unwinds with when a `work` call exceeded the budget.
#[derive(Debug)]
pub(crate) struct BudgetStop;

/// Is this caught payload a budget stop (and not a panic of the code)?
pub(crate) fn is_budget_stop(payload: &(dyn std::any::Any + Send)) -> bool {
    payload.is::<BudgetStop>()
}

/// The budget in force: steps (polls and `work` calls, counted from zero
/// for the world) and virtual time, in nanoseconds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Budget {
    pub steps_until: u64,
    pub time_until: u64,
}

impl Budget {
    pub const NONE: Budget = Budget {
        steps_until: u64::MAX,
        time_until: u64::MAX,
    };
}

impl World {
    /// Polls and `work` calls so far: what the step budgets count.
    pub fn budget_used(&self) -> u64 {
        self.step.get().saturating_add(self.work_calls.get())
    }

    /// Sets the budget `work` calls are held to; returns the one it replaces.
    pub fn set_budget(&self, budget: Budget) -> Budget {
        self.budget.replace(budget)
    }

    /// Counts one `work` call (already added to the clock) against the
    /// budget; past it, stops the poll.
    pub(super) fn charge_work(&self) {
        self.work_calls.set(self.work_calls.get() + 1);
        let budget = self.budget.get();
        let over_steps = self.budget_used() >= budget.steps_until;
        let over_time = self.now.get() > budget.time_until;
        if !(over_steps || over_time) {
            return;
        }
        if self.budget_stop.get().is_none() {
            self.budget_stop.set(Some(over_steps));
        }
        if crate::panic::catching() && !std::thread::panicking() {
            std::panic::resume_unwind(Box::new(BudgetStop));
        }
    }

    /// Did a `work` call exceed the budget? The error to stop with
    /// (`steps` counted from `start`, the `budget_used` when the loop
    /// began).
    #[inline]
    pub fn take_budget_stop(&self, start: u64) -> Option<SimError> {
        self.budget_stop.get()?;
        let over_steps = self.budget_stop.take()?;
        Some(if over_steps {
            SimError::StepLimit {
                steps: self.budget_used() - start,
                time: self.now(),
            }
        } else {
            SimError::TimeLimit {
                time: self.now(),
                next_deadline: self.now(),
            }
        })
    }

    /// Arms the watchdog for the runs of this world (once): its polls are
    /// watched through the thread's heartbeat (`Config::watchdog`).
    pub fn arm_watchdog(&self) {
        if let (Some(limit), None) = (self.config.watchdog, self.heartbeat.get()) {
            if let Some(beat) = crate::watchdog::for_this_thread(limit) {
                let _ = self.heartbeat.set(beat);
            }
        }
        if let Some(beat) = self.heartbeat.get() {
            beat.start_world(self.id);
        }
    }

    /// A poll of `task`, resumed from its await point `point`, starts.
    #[inline(always)]
    pub(super) fn beat_enter(&self, task: u32, point: u32) {
        if let Some(beat) = self.heartbeat.get() {
            // The poll's own step is counted already.
            let before = self.step.get().wrapping_add(self.work_calls.get()) - 1;
            beat.enter(task, point, before);
        }
    }

    /// The world stops polling (the end of a `block_on`, of a drain):
    /// until the next poll starts, no poll of it is running. (Between two
    /// polls the heartbeat keeps the last one: the executor's own work
    /// counts as part of it, which spares a store per poll.)
    pub(crate) fn polls_done(&self) -> PollsDone<'_> {
        PollsDone(self)
    }
}

/// Marks the world's heartbeat idle when dropped: see
/// [`World::polls_done`].
pub(crate) struct PollsDone<'a>(&'a World);

impl Drop for PollsDone<'_> {
    fn drop(&mut self) {
        if let Some(beat) = self.0.heartbeat.get() {
            beat.leave();
        }
    }
}
