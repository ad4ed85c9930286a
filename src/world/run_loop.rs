//! The executor's one loop: `run_until(goal)` picks the next task, polls it
//! once ([`World::run_task`], compiled apart for the root's body and a
//! spawned task's) and stops at the goal or a limit. It serves
//! `block_on` (until the root task ends) and the drain after the root
//! (until every detached task has ended).
//!
//! Invariants:
//! * the root is an ordinary task of the table (`main#0`): picked, polled,
//!   suspended and ended by the same code as a spawned task. Only its body
//!   differs: the future given to `block_on` need not be `'static`, so the
//!   slot cannot own it; the loop borrows it ([`RootTask`]) for the length
//!   of the run, and the root's slot holds no future;
//! * each turn checks, in this order: the goal, a `work` call past the
//!   budget, the time limit, a drop injection aimed at the root, the step
//!   limit; then one pick and at most one poll. What a stop means (an
//!   error of `block_on`, the end of a drain) is the caller's business.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use super::{Pick, TaskFuture, World};
use crate::error::SimError;
use crate::vocab::TaskKey;

/// The root task's body: the future given to `block_on`, borrowed for the
/// length of a run, and how it ended.
pub(crate) struct RootTask<'a> {
    pub(super) key: TaskKey,
    pub(super) future: Pin<&'a mut dyn Future<Output = ()>>,
    pub(super) ended: Option<RootEnd>,
}

/// How the root task's own poll ended it.
pub(crate) enum RootEnd {
    Returned,
    /// With the panic's message.
    Panicked(String),
}

impl<'a> RootTask<'a> {
    /// The root task `key` (from [`World::spawn_root`]), running `future`.
    pub fn new(key: TaskKey, future: Pin<&'a mut dyn Future<Output = ()>>) -> RootTask<'a> {
        RootTask {
            key,
            future,
            ended: None,
        }
    }

    /// How its poll ended it, once it has (taken).
    pub fn take_end(&mut self) -> Option<RootEnd> {
        self.ended.take()
    }
}

/// What a run stops at.
pub(crate) enum Until<'r, 'a> {
    /// The root task ends (`block_on`).
    RootEnds(&'r mut RootTask<'a>),
    /// None of these tasks is alive any more (the drain).
    Ended(&'r [TaskKey]),
}

/// The limits of a run: steps (polls and `work` calls) counted from
/// `start` (a [`World::budget_used`]), virtual time, and the horizon past
/// which a pending timer counts as absent (the world is then idle).
#[derive(Clone, Copy)]
pub(crate) struct Limits {
    pub start: u64,
    pub max_steps: u64,
    /// Past this instant (nanoseconds) the run stops.
    pub time_until: u64,
    /// Timers past this instant (nanoseconds) are not waited for.
    pub horizon: u64,
}

/// Why a run stopped.
pub(crate) enum Halt {
    /// Its goal was reached.
    Reached,
    /// The step budget or the time limit, checked between polls or by a
    /// `work` call inside one.
    Limit(SimError),
    /// A drop injection hit the root: its owner drops its future.
    RootDropRequested,
    /// No task can run and no timer is pending within the horizon.
    Deadlock,
    /// The pick stopped: a divergence of a replay, a timer past the time
    /// limit.
    Stop(SimError),
}

impl World {
    /// Runs the world until `until` or a limit of `limits`, whichever
    /// comes first. The caller sets the budget `work` calls are held to.
    pub(crate) fn run_until(self: &Rc<World>, until: Until<'_, '_>, limits: Limits) -> Halt {
        // One loop, compiled once per goal: `block_on`'s has no drain
        // check and waits for every timer; the drain's has no root.
        match until {
            Until::RootEnds(root) => self.turns::<true>(Some(root), &[], limits),
            Until::Ended(tasks) => self.turns::<false>(None, tasks, limits),
        }
    }

    /// The loop of [`World::run_until`]: `ROOT` when it runs until the
    /// root task ends (`root` is then given), else until `tasks` ended.
    #[inline(always)]
    fn turns<const ROOT: bool>(
        self: &Rc<World>,
        mut root: Option<&mut RootTask<'_>>,
        tasks: &[TaskKey],
        limits: Limits,
    ) -> Halt {
        loop {
            let reached = if ROOT {
                root.as_ref().is_none_or(|root| root.ended.is_some())
            } else {
                !tasks.iter().any(|key| self.is_alive(*key))
            };
            if reached {
                return Halt::Reached;
            }
            if let Some(error) = self.take_budget_stop(limits.start) {
                // A `work` loop inside a poll ran past the budget.
                return Halt::Limit(error);
            }
            if self.now.get() > limits.time_until {
                return Halt::Limit(SimError::TimeLimit {
                    time: self.now(),
                    next_deadline: self.now(),
                });
            }
            if ROOT && self.take_root_drop_request() {
                return Halt::RootDropRequested;
            }
            if self.budget_used() - limits.start >= limits.max_steps {
                return Halt::Limit(SimError::StepLimit {
                    steps: self.budget_used() - limits.start,
                    time: self.now(),
                });
            }
            let pick = if limits.horizon == u64::MAX {
                self.pick()
            } else {
                self.pick_until(limits.horizon)
            };
            match pick {
                Pick::Run(key) => match root.as_deref_mut() {
                    Some(root) if ROOT && root.key == key => self.run_task(key, Some(root)),
                    _ => self.run_task::<TaskFuture>(key, None),
                },
                Pick::Deadlock => return Halt::Deadlock,
                Pick::Stop(error) => return Halt::Stop(error),
            }
        }
    }
}
