//! The oracles' side of the world: what is checked when a task ends and
//! when the run ends.
//!
//! End of a run (DESIGN.md): when the root finishes (or is dropped), live
//! tasks that were not detached are leaks; then the world drains — runs on
//! within its budget — so detached work (shields, blocking work, detached
//! tasks) can finish; detached work still alive after that is a leak too;
//! then held resources, unobserved panics and user invariants are checked.

use std::rc::Rc;

use super::oracle_state::{Held, Panicked};
use super::TaskSlot;
use crate::error::SimError;
use crate::panic;
use crate::trace::{display_location, EventKind, Outcome, SourceLocation};
use crate::vocab::nanos;
use crate::vocab::{Instant, TaskId, TaskKey, TaskKind};
use crate::vocab::{Violation, ViolationCode};
use crate::world::{Halt, Limits, Until, World};

impl World {
    /// Checks made as a task ends (before its slot is dropped).
    pub(crate) fn settle(&self, key: TaskKey, slot: &TaskSlot, outcome: Outcome) {
        let meta = &slot.meta;
        match outcome {
            Outcome::Returned
                if meta.cancel_delivered > 0
                    && meta.tokens_dropped > 0
                    && meta.tokens_live <= 0 =>
            {
                let (point, at) = meta.delivered_at.expect("a delivered cancel records where");
                let violation = Violation::new(
                    ViolationCode::CancelSwallowed,
                    format!(
                        "the Cancelled delivered at await point {point} ({}) was dropped and the \
                         task went on to return normally, so its awaiter never learns it was cancelled",
                        display_location(at)
                    ),
                )
                .task(key.id, meta.name.as_deref())
                .at_point(point, None)
                .located(at);
                self.push_violation(key.id, violation);
            }
            Outcome::Panicked(message)
                if self.panic_is_consequence(
                    key.id,
                    self.trace().message(message).unwrap_or_default(),
                ) => {}
            Outcome::Panicked(message) if meta.kind != TaskKind::Root => {
                let message = self.trace().message(message).unwrap_or("?").to_string();
                self.oracles.borrow_mut().panics.insert(
                    key.id,
                    Panicked {
                        name: meta.name.as_deref().map(str::to_string),
                        message,
                        observed: false,
                        point: meta.suspends,
                    },
                );
            }
            _ => {}
        }
    }

    /// A panic of task `task` reached whoever awaited its handle.
    pub(crate) fn observe_panic(&self, task: TaskId) {
        if let Some(panicked) = self.oracles.borrow_mut().panics.get_mut(&task) {
            panicked.observed = true;
        }
    }

    /// Acquires a tracked resource for the current task.
    pub(crate) fn acquire_resource(&self, name: &str, at: SourceLocation) -> u64 {
        let holder = self.current_key();
        let (holder_name, point) = holder
            .and_then(|key| {
                self.core.borrow().tasks.get(key).map(|slot| {
                    (
                        slot.meta.name.as_deref().map(str::to_string),
                        slot.meta.suspends,
                    )
                })
            })
            .unwrap_or((None, 0));
        let mut oracles = self.oracles.borrow_mut();
        let id = oracles.next_resource;
        oracles.next_resource += 1;
        oracles.resources.insert(
            id,
            Held {
                name: name.to_string(),
                holder: holder.map(|key| key.id),
                holder_name,
                at,
                point,
            },
        );
        drop(oracles);
        if let Some(task) = holder.map(|key| key.id) {
            if self.trace().is_enabled() {
                let name = self.add_message(name.to_string());
                self.record(task, EventKind::Acquire { name, at });
            }
        }
        id
    }

    /// Releases a tracked resource.
    pub(crate) fn release_resource(&self, id: u64) {
        let held = self.oracles.borrow_mut().resources.remove(&id);
        if let (Some(held), Some(task)) = (held, self.current_id()) {
            if self.trace().is_enabled() {
                let name = self.add_message(held.name);
                self.record(task, EventKind::Release { name });
            }
        }
    }

    /// Ends the run: leak check, drain, then the end-of-run oracles. Returns
    /// every violation of the run, in the order found.
    pub(crate) fn end_run(self: &Rc<World>) -> Vec<Violation> {
        if self.config.runtime_shutdown {
            self.shut_down();
        }
        let root_end = self.now();
        // Leaks at the moment the root ended.
        let live = self.core.borrow().tasks.keys();
        for key in live {
            let core = self.core.borrow();
            let slot = core.tasks.get(key).expect("listed live");
            if slot.meta.kind == TaskKind::User && !slot.meta.detached {
                let violation = self.leak(key, slot, "is still alive when the root finished");
                drop(core);
                self.push_violation(key.id, violation);
            }
        }
        self.drain(root_end);
        if self.has_diverged() {
            // The drain went off its recording: what is left is not the end
            // state of the recorded run. The run reports the divergence.
            return std::mem::take(&mut self.oracles.borrow_mut().violations);
        }
        // Detached work that did not finish, and requests never honoured.
        let live = self.core.borrow().tasks.keys();
        for key in live {
            let mut core = self.core.borrow_mut();
            let slot = core.tasks.get_mut(key).expect("listed live");
            let violation = if slot.meta.detached {
                Some(self.leak(
                    key,
                    slot,
                    "is detached work still running after the drain budget",
                ))
            } else {
                None
            };
            drop(core);
            if let Some(violation) = violation {
                self.push_violation(key.id, violation);
            }
            let mut core = self.core.borrow_mut();
            if let Some(slot) = core.tasks.get_mut(key) {
                // Polls cannot grow any more: only the elapsed time decides. A
                // request younger than its grace time is part of a leak, which
                // the leak check reports.
                self.on_poll_end(key, slot, super::grace::PollEnd::Suspended);
            }
        }
        let resources: Vec<Held> = std::mem::take(&mut self.oracles.borrow_mut().resources)
            .into_values()
            .collect();
        for held in resources {
            let holder = match (held.holder, &held.holder_name) {
                (Some(task), Some(name)) => format!("{name}{task}"),
                (Some(task), None) => format!("{task}"),
                (None, _) => "the harness".to_string(),
            };
            let mut violation = Violation::new(
                ViolationCode::LeakedResource,
                format!(
                    "resource `{}` acquired by {holder} is still held when the run ended",
                    held.name
                ),
            )
            .located(held.at);
            if let Some(task) = held.holder {
                // Where the holder was cancelled, if an injection hit it;
                // else where it acquired the resource.
                let point = self
                    .first_injection()
                    .filter(|injection| injection.task == task)
                    .map_or(held.point, |injection| injection.point);
                violation = violation
                    .task(task, held.holder_name.as_deref())
                    .at_point(point, None);
            }
            self.push_violation(held.holder.unwrap_or(TaskId(0)), violation);
        }
        let panics = std::mem::take(&mut self.oracles.borrow_mut().panics);
        for (task, panicked) in panics {
            self.oracles.borrow_mut().panicked_tasks.push(task);
            let injected = self.first_injection().is_some();
            let expected = self.oracles.borrow().baseline_panics.contains(&task);
            // The baseline judges the panics it has itself; an injected run
            // reports only the panics it caused.
            let (code, text) = if injected && expected {
                continue;
            } else if !panicked.observed {
                (
                    ViolationCode::UnobservedPanic,
                    "panicked and nobody awaited its JoinHandle",
                )
            } else if injected {
                (
                    ViolationCode::Panic,
                    "panicked in an injected run (it does not in the baseline)",
                )
            } else {
                continue;
            };
            let violation = Violation::new(code, format!("{text}: {}", panicked.message))
                .task(task, panicked.name.as_deref())
                .at_point(panicked.point, None);
            self.push_violation(task, violation);
        }
        let invariants = std::mem::take(&mut self.oracles.borrow_mut().invariants);
        for (name, check, at) in invariants {
            let verdict = panic::catch(&check);
            let failure = match verdict {
                Ok(true) => continue,
                Ok(false) => format!("invariant `{name}` does not hold at the end of the run"),
                Err(caught) => format!("invariant `{name}` panicked: {}", caught.message),
            };
            let violation = Violation::new(ViolationCode::Invariant, failure).located(at);
            self.push_violation(TaskId(0), violation);
        }
        std::mem::take(&mut self.oracles.borrow_mut().violations)
    }

    /// A tokio runtime's shutdown when the root ended: a task that ignored
    /// the fired signal past its grace time is reported, then every task
    /// still alive is dropped where it waits.
    fn shut_down(self: &Rc<World>) {
        let now = self.now().as_nanos();
        let grace = self.grace_nanos();
        let live = self.core.borrow().tasks.keys();
        // Every task past its grace time counts as ignoring before any is
        // reported, so one that only waits for another is excused whatever
        // their order in the table.
        let deaf: Vec<TaskKey> = {
            let core = self.core.borrow();
            live.iter()
                .copied()
                .filter(|&key| {
                    core.tasks.get(key).is_some_and(|slot| {
                        slot.meta.signalled
                            && !slot.meta.ignored_reported
                            && slot
                                .meta
                                .cancel_since
                                .is_some_and(|(since, _)| now.saturating_sub(since) > grace)
                    })
                })
                .collect()
        };
        {
            let core = self.core.borrow();
            for &key in &deaf {
                let parent = core.tasks.get(key).and_then(|slot| slot.meta.parent);
                self.mark_ignoring(key.id, parent);
            }
        }
        for key in deaf {
            let violation = {
                let mut core = self.core.borrow_mut();
                let Some(slot) = core.tasks.get_mut(key) else {
                    continue;
                };
                if self.waits_for_an_ignorer(key.id, slot) {
                    continue;
                }
                match slot.meta.cancel_since {
                    Some((since, _)) => {
                        slot.meta.ignored_reported = true;
                        Some(
                            Violation::new(
                                ViolationCode::CancelIgnored,
                                format!(
                                    "ignored the cancellation signal fired at {}: still running {} later, when the runtime shut down",
                                    Instant(since),
                                    Instant(now - since)
                                ),
                            )
                            .task(key.id, slot.meta.name.as_deref())
                            .at_point(slot.meta.suspends, Some(slot.meta.last_wait)),
                        )
                    }
                    _ => None,
                }
            };
            if let Some(violation) = violation {
                self.push_violation(key.id, violation);
            }
        }
        for key in live {
            let user = self
                .core
                .borrow()
                .tasks
                .get(key)
                .is_some_and(|slot| slot.meta.kind != TaskKind::Root);
            if user {
                self.abort(key, None);
            }
        }
    }

    fn leak(&self, key: TaskKey, slot: &TaskSlot, what: &str) -> Violation {
        let spawner = match slot.meta.parent {
            Some(parent) => self.trace().task_label(parent),
            None => "the harness".to_string(),
        };
        let label = match &slot.meta.name {
            Some(name) => format!("{name}{}", key.id),
            None => format!("{}", key.id),
        };
        Violation::new(
            ViolationCode::LeakedTask,
            format!(
                "task {label} {what} (spawned by {spawner} at {})",
                display_location(slot.meta.spawned_at)
            ),
        )
        .task(key.id, slot.meta.name.as_deref())
        .at_point(slot.meta.suspends, Some(slot.meta.last_wait))
        .located(slot.meta.spawned_at)
    }

    /// Runs on after the root ended until every detached task has finished,
    /// the world is idle, or the drain budget is spent.
    fn drain(self: &Rc<World>, root_end: Instant) {
        let detached: Vec<TaskKey> = {
            let core = self.core.borrow();
            core.tasks
                .keys()
                .into_iter()
                .filter(|key| core.tasks.get(*key).is_some_and(|slot| slot.meta.detached))
                .collect()
        };
        if detached.is_empty() {
            return;
        }
        self.record(detached[0].id, EventKind::Drain);
        let start = self.budget_used();
        let deadline = root_end
            .as_nanos()
            .saturating_add(nanos(self.config.drain_time));
        let _done = self.polls_done();
        // `work` inside the drain's polls counts against its budget too.
        let outer = self.set_budget(crate::world::Budget {
            steps_until: start.saturating_add(self.config.drain_steps),
            time_until: deadline,
        });
        let limits = Limits {
            start,
            max_steps: self.config.drain_steps,
            time_until: deadline,
            horizon: deadline,
        };
        if let Halt::Stop(SimError::Nondeterminism { step, divergence }) =
            self.run_until(Until::Ended(&detached), limits)
        {
            // Reported when the run ends.
            self.keep_divergence(step, divergence);
        }
        drop(self.take_budget_stop(start));
        self.set_budget(outer);
    }
}
