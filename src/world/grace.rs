//! The program's cancellation signal and the grace budget: firing the
//! registered signal, who owes an exit by when, and `cancel-ignored` — once
//! per deaf task, not for the tasks only waiting for it.

use std::collections::BTreeSet;
use std::rc::Rc;

use super::{Budget, Halt, Limits, TaskSlot, Until, World};
use crate::error::SimError;

/// How a poll of a task ended, for [`World::on_poll_end`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum PollEnd {
    /// It returned `Pending` at an await point.
    Suspended,
    /// The task ended by itself: it returned or panicked.
    Ended,
}
use crate::trace::{EventKind, WaitKind};
use crate::vocab::Instant;
use crate::vocab::TaskId;
use crate::vocab::{TaskKey, TaskKind};
use crate::vocab::{Violation, ViolationCode};

impl World {
    /// Registers the program's cancellation signal (the first registration
    /// of a run wins).
    pub fn register_signal(&self, signal: Box<dyn FnOnce()>) {
        let mut oracles = self.oracles.borrow_mut();
        if !oracles.signal_registered {
            oracles.signal_registered = true;
            oracles.signal = Some(signal);
        }
    }

    /// Fires the registered signal (at `task`'s await point): every user
    /// task alive now owes an exit within the grace budget.
    pub(super) fn fire_signal(&self, task: TaskId) {
        let Some(signal) = self.oracles.borrow_mut().signal.take() else {
            return;
        };
        let now = self.now.get();
        self.oracles.borrow_mut().signal_fired_at = Some(now);
        self.record(task, EventKind::SignalFired);
        {
            let mut core = self.core.borrow_mut();
            for key in core.tasks.keys() {
                if let Some(slot) = core.tasks.get_mut(key) {
                    if slot.meta.kind == TaskKind::User && slot.meta.cancel_since.is_none() {
                        slot.meta.signalled = true;
                        slot.meta.cancel_since = Some((now, slot.meta.polls));
                        slot.cancel_pending = true;
                    }
                }
            }
        }
        if let Err(caught) = crate::panic::catch(signal) {
            let violation = Violation::new(
                ViolationCode::Panic,
                format!(
                    "the registered cancellation signal panicked: {}",
                    caught.message
                ),
            )
            .task(task, None);
            self.push_violation(task, violation);
        }
    }

    /// A task spawned after the signal fired owes an exit by the same
    /// deadline as those it found running: a shutdown waits for it too.
    #[inline]
    pub(super) fn inherit_signal(&self, key: TaskKey) {
        let Some(fired) = self.oracles.borrow().signal_fired_at else {
            return;
        };
        let mut core = self.core.borrow_mut();
        if let Some(slot) = core.tasks.get_mut(key) {
            slot.meta.signalled = true;
            slot.meta.cancel_since = Some((fired, slot.meta.polls));
            slot.cancel_pending = true;
        }
    }

    /// A user `abort` of a task that had ignored the cancellation signal
    /// (the shutdown "signal, wait, then abort"): the abort hides that the
    /// task never acted on the signal, so it is reported.
    pub(super) fn check_abort_after_signal(&self, key: TaskKey) {
        let violation = {
            let mut core = self.core.borrow_mut();
            let Some(slot) = core.tasks.get_mut(key) else {
                return;
            };
            let Some((since, _)) = slot.meta.cancel_since else {
                return;
            };
            if !slot.meta.signalled || slot.meta.ignored_reported || self.now.get() <= since {
                return;
            }
            slot.meta.ignored_reported = true;
            Violation::new(
                ViolationCode::CancelIgnored,
                format!(
                    "ignored the cancellation signal fired at {}: still running {} later, when it was aborted",
                    Instant(since),
                    Instant(self.now.get() - since)
                ),
            )
            .task(key.id, slot.meta.name.as_deref())
            .at_point(slot.meta.suspends, Some(slot.meta.last_wait))
        };
        self.push_violation(key.id, violation);
    }

    /// The injector's mid-run hook: the one place where an oracle judges
    /// a task while the run goes on, called as each poll of a task ends
    /// (`end`: suspended at an await point, or the task ended by itself,
    /// returned or panicked). It checks the grace budget of an outstanding
    /// cancel request (`cancel-ignored`, DESIGN.md). The oracles over the
    /// end state (the `oracle` module) run once the run is over.
    ///
    /// Ending by itself, a task is checked when nothing showed it
    /// responded: a fired signal (the harness cannot see a task act on it,
    /// only end, as a runtime's shutdown waits for it to), or a cooperative
    /// request never delivered. A task that ends past its budget ignored
    /// it as much as one still running, however its wait was split (one
    /// long sleep or many short ones). A delivered `Cancelled` was seen:
    /// what the task does with it is the swallow and leak oracles'
    /// business.
    #[inline(always)]
    pub(crate) fn on_poll_end(&self, key: TaskKey, slot: &mut TaskSlot, end: PollEnd) {
        match end {
            PollEnd::Suspended if slot.cancel_pending => {
                self.check_grace_budget(key, slot, false);
            }
            PollEnd::Ended
                if slot.cancel_pending
                    && (slot.meta.signalled || slot.meta.cancel_delivered == 0) =>
            {
                self.check_grace_budget(key, slot, true);
            }
            _ => {}
        }
    }

    #[cold]
    fn check_grace_budget(&self, key: TaskKey, slot: &mut TaskSlot, ended: bool) {
        let Some((since, polls)) = slot.meta.cancel_since else {
            return;
        };
        if slot.meta.ignored_reported || self.waits_for_an_ignorer(key.id, slot) {
            return;
        }
        let now = self.now.get();
        let over_polls = slot.meta.polls.saturating_sub(polls) > self.config.grace_polls;
        let over_time = now.saturating_sub(since) > self.grace_nanos();
        if over_polls || over_time {
            slot.meta.ignored_reported = true;
            let budget = if over_polls {
                format!("{} polls", self.config.grace_polls)
            } else {
                format!("{} of virtual time", Instant(self.grace_nanos()))
            };
            let what = if slot.meta.signalled {
                "the cancellation signal fired at"
            } else {
                "cancel requested at"
            };
            let state = if ended {
                format!(
                    "the task ended only {} later, after {} polls",
                    Instant(now - since),
                    slot.meta.polls.saturating_sub(polls)
                )
            } else {
                "task still running".to_string()
            };
            let violation = Violation::new(
                ViolationCode::CancelIgnored,
                format!(
                    "{what} {} still not honoured after {budget} ({state})",
                    Instant(since)
                ),
            )
            .task(key.id, slot.meta.name.as_deref())
            .at_point(slot.meta.suspends, Some(slot.meta.last_wait));
            self.mark_ignoring(key.id, slot.meta.parent);
            self.push_violation(key.id, violation);
        }
    }

    /// Notes a task that ignored the signal (or waits for one that did).
    pub(crate) fn mark_ignoring(&self, task: TaskId, parent: Option<TaskId>) {
        let mut oracles = self.oracles.borrow_mut();
        oracles.ignoring.insert(task);
        oracles.ignoring_parents.extend(parent);
    }

    /// Whether the task waits for a task that ignored the signal: a
    /// service that honoured it and now joins a deaf handler (the handler
    /// is the one to fix, and is reported). A join of such a task, or any
    /// wait other than the task's own timers and cancellation primitives
    /// (a `JoinSet`, `join_all`) while one of its children ignores it. The
    /// excused task counts as ignoring for its own waiters.
    pub(crate) fn waits_for_an_ignorer(&self, task: TaskId, slot: &TaskSlot) -> bool {
        let excused = {
            let oracles = self.oracles.borrow();
            match slot.meta.last_wait.kind {
                WaitKind::Join(joined) => oracles.ignoring.contains(&joined),
                WaitKind::External | WaitKind::Io(_) | WaitKind::SelectBranch(_) => {
                    oracles.ignoring_parents.contains(&task)
                }
                _ => false,
            }
        };
        if excused {
            self.mark_ignoring(task, slot.meta.parent);
        }
        excused
    }
}

impl World {
    /// A tokio runtime shuts down (the root ended) within the grace time
    /// of the fired signal: the tasks that owe an exit run on until the
    /// grace time is over or they all ended, so that one that never acts
    /// on the signal is judged as if the test had waited (trial 15: a
    /// handler still building a report for a caller that left, in short
    /// sleeps). Nothing else they do meanwhile is reported — the test did
    /// not wait for it — but a task still running then ignored the
    /// signal.
    pub(super) fn run_out_grace(self: &Rc<World>) {
        let Some(fired) = self.oracles.borrow().signal_fired_at else {
            return;
        };
        let until = fired.saturating_add(self.grace_nanos()).saturating_add(1);
        if self.now().as_nanos() >= until {
            return;
        }
        let owing: Vec<TaskKey> = {
            let core = self.core.borrow();
            core.tasks
                .keys()
                .into_iter()
                .filter(|&key| {
                    core.tasks.get(key).is_some_and(|slot| {
                        slot.meta.kind == TaskKind::User
                            && slot.meta.signalled
                            && !slot.meta.ignored_reported
                            && !slot.abort_requested
                    })
                })
                .collect()
        };
        let Some(first) = owing.first() else {
            return;
        };
        self.record(
            first.id,
            EventKind::GraceRun {
                until: Instant(until),
            },
        );
        let (reported, panicked): (usize, BTreeSet<TaskId>) = {
            let oracles = self.oracles.borrow();
            (
                oracles.violations.len(),
                oracles.panics.keys().copied().collect(),
            )
        };
        let start = self.budget_used();
        let steps = self.config.drain_steps;
        let outer = self.set_budget(Budget {
            steps_until: start.saturating_add(steps),
            time_until: until,
        });
        let limits = Limits {
            start,
            max_steps: steps,
            time_until: until,
            horizon: until,
        };
        if let Halt::Stop(SimError::Nondeterminism { step, divergence }) =
            self.run_until(Until::Ended(&owing), limits)
        {
            self.keep_divergence(step, divergence);
        }
        drop(self.take_budget_stop(start));
        self.set_budget(outer);
        // Only the grace budget's verdicts count from this run-on.
        let mut oracles = self.oracles.borrow_mut();
        let found: Vec<Violation> = oracles.violations.drain(reported..).collect();
        oracles.violations.extend(
            found
                .into_iter()
                .filter(|violation| violation.code == ViolationCode::CancelIgnored),
        );
        oracles.panics.retain(|task, _| panicked.contains(task));
    }
}
