//! The oracles' side of the world: what is checked when a task ends, what
//! the run's oracles accumulate (resources, panics), and the end of a run:
//! the runtime's shutdown, the drain and the end state the oracles judge.
//!
//! End of a run (DESIGN.md; sequenced by `check::end_run`): when the root
//! finishes (or is dropped), live tasks that were not detached are leaks;
//! then the world drains — runs on within its budget — so detached work
//! (shields, blocking work, detached tasks) can finish; detached work still
//! alive after that is a leak too; then held resources, unobserved panics
//! and user invariants are checked. The checks are functions of an
//! [`EndState`] in the `oracle` module; the world builds the state and records
//! what they find.

use std::rc::Rc;

use super::oracle_state::{Held, Panicked};
use super::TaskSlot;
use crate::error::SimError;
use crate::trace::{display_location, EventKind, Outcome, SourceLocation, WaitKind};
use crate::vocab::nanos;
use crate::vocab::{CancelRequest, EndState, LiveTask, Moment};
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
                        blocking: meta.kind == TaskKind::Blocking,
                    },
                );
            }
            _ => {}
        }
    }

    /// Did a task of the run panic with real tokio's "no reactor" panic?
    pub(crate) fn real_tokio_panicked(&self) -> bool {
        self.oracles.try_borrow().is_ok_and(|oracles| {
            oracles
                .panics
                .values()
                .any(|panicked| crate::vocab::real_tokio::is_real_tokio_panic(&panicked.message))
        })
    }

    /// Real tokio's "no reactor" panic in a task of the run, as a
    /// violation: reported when no other violation of the run shows it (the
    /// program observed the panic and went on: a `JoinSet` shut down, a
    /// `JoinError` matched), since the run then does not show what the
    /// code does on tokio, and must fail rather than pass.
    pub(crate) fn real_tokio_panic(&self) -> Option<Violation> {
        let oracles = self.oracles.borrow();
        let (task, panicked) = oracles.panics.iter().find(|(_, panicked)| {
            crate::vocab::real_tokio::is_real_tokio_panic(&panicked.message)
        })?;
        let label = match &panicked.name {
            Some(name) => format!("{name}{task}"),
            None => format!("{task}"),
        };
        let violation = Violation::new(
            ViolationCode::Panic,
            format!(
                "task {label} panicked: {}; the program handled the panic and went on (a JoinSet \
                 shut down, a JoinError matched), but on tokio it would not have happened: the \
                 run does not show what the code does there",
                panicked.message
            ),
        )
        .task(*task, panicked.name.as_deref());
        Some(violation)
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

    /// What the oracles see of the run at `moment` (see
    /// the `oracle` module): the live tasks; after the drain, also the
    /// resources still held, the panics not reported yet and the user
    /// invariants, taken from the world (each panic noted as one of the
    /// run's).
    pub(crate) fn end_state(&self, moment: Moment) -> EndState {
        let tasks = {
            let core = self.core.borrow();
            core.tasks
                .keys()
                .into_iter()
                .filter_map(|key| core.tasks.get(key))
                .map(|slot| self.live_task(slot))
                .collect()
        };
        let mut oracles = self.oracles.borrow_mut();
        let drained = moment == Moment::Drained;
        let panics: Vec<(TaskId, Panicked)> = if drained {
            std::mem::take(&mut oracles.panics).into_iter().collect()
        } else {
            Vec::new()
        };
        oracles
            .panicked_tasks
            .extend(panics.iter().map(|(task, _)| *task));
        EndState {
            moment,
            now: self.now.get(),
            grace_polls: self.config.grace_polls,
            grace_nanos: self.grace_nanos(),
            tasks,
            resources: if drained {
                std::mem::take(&mut oracles.resources)
                    .into_values()
                    .collect()
            } else {
                Vec::new()
            },
            panics,
            invariants: if drained {
                std::mem::take(&mut oracles.invariants)
            } else {
                Vec::new()
            },
            first_injection: self.first_injection(),
            baseline_panics: oracles.baseline_panics.clone(),
            ignoring: oracles.ignoring.clone(),
            ignoring_parents: oracles.ignoring_parents.clone(),
        }
    }

    /// `name#id` for a named task, as the trace names it, or (a run
    /// without a trace) as the live task is named (`main` for a root: the
    /// run's first task is one, ended or not).
    pub fn named_label(&self, task: TaskId) -> Option<String> {
        if let Some(name) = self.trace().task_name(task) {
            return Some(format!("{name}{task}"));
        }
        if task == TaskId(0) {
            return Some(format!("{}{task}", crate::trace::ROOT_NAME));
        }
        let core = self.core.borrow();
        let slot = core
            .tasks
            .keys()
            .into_iter()
            .filter_map(|key| core.tasks.get(key))
            .find(|slot| slot.id == task)?;
        match (&slot.meta.name, slot.meta.kind) {
            (Some(name), _) => Some(format!("{name}{task}")),
            (None, TaskKind::Root) => Some(format!("{}{task}", crate::trace::ROOT_NAME)),
            (None, _) => None,
        }
    }

    fn live_task(&self, slot: &TaskSlot) -> LiveTask {
        let meta = &slot.meta;
        LiveTask {
            id: slot.id,
            name: meta.name.as_deref().map(str::to_string),
            kind: meta.kind,
            detached: meta.detached,
            parent: meta.parent,
            spawner: match meta.parent {
                Some(parent) => self
                    .named_label(parent)
                    .unwrap_or_else(|| parent.to_string()),
                None => "the harness".to_string(),
            },
            spawned_at: meta.spawned_at,
            point: meta.suspends,
            wait: meta.last_wait,
            cancel: meta.cancel_since.map(|(since, polls)| CancelRequest {
                since,
                polls: meta.polls.saturating_sub(polls),
                signalled: meta.signalled,
                pending: slot.cancel_pending,
                reported: meta.ignored_reported,
            }),
        }
    }

    /// Reports what the end-of-run oracles found, in order. A task
    /// reported `cancel-ignored` is not reported again (by an abort
    /// while the world is torn down).
    pub(crate) fn report_end(&self, violations: Vec<Violation>) {
        for violation in violations {
            let task = violation.task.unwrap_or(TaskId(0));
            if violation.code == ViolationCode::CancelIgnored {
                let mut core = self.core.borrow_mut();
                let parent = core
                    .tasks
                    .keys()
                    .into_iter()
                    .find(|key| key.id == task)
                    .and_then(|key| core.tasks.get_mut(key))
                    .and_then(|slot| {
                        slot.meta.ignored_reported = true;
                        slot.meta.parent
                    });
                drop(core);
                self.mark_ignoring(task, parent);
            }
            self.push_violation(task, violation);
        }
    }

    /// When the run's program is a tokio runtime (`Config::runtime_shutdown`),
    /// its shutdown as the root ended (see [`World::shut_down`]).
    /// Notes a spawned task still alive as the root ends (before a
    /// runtime's shutdown drops it).
    pub(crate) fn note_tasks_outliving_root(&self) {
        let core = self.core.borrow();
        let alive = core.tasks.keys().into_iter().any(|key| {
            core.tasks
                .get(key)
                .is_some_and(|slot| slot.meta.kind == TaskKind::User)
        });
        if alive {
            self.outlived_root.set(true);
        }
    }

    /// Did a spawned task outlive the root: alive when the root ended, or
    /// (in a run collecting its await points: a baseline) aborted by the
    /// root's last poll, its locals' `Drop`s stopping it as the test ended?
    /// Long-lived work (a service loop, a background ticker) that a
    /// shutdown signal would stop.
    pub(crate) fn outlived_root(&self) -> bool {
        self.outlived_root.get()
    }

    pub(crate) fn shut_down_if_configured(self: &Rc<World>) {
        if self.config.runtime_shutdown {
            self.shut_down();
        }
    }

    /// A tokio runtime's shutdown when the root ended: a task that ignored
    /// the fired signal past its grace time is reported, then every task
    /// still alive is dropped where it waits.
    ///
    /// Past its grace time, or sure to be: a test often returns within the
    /// grace time of its signal, and its runtime's shutdown would then drop
    /// a task that never acted on it (trial 15: a handler building a report
    /// for a caller that left, a watcher sleeping out its 5 s budget). The
    /// tasks first run on until the grace time is over
    /// ([`World::run_out_grace`]); a task not woken since it last
    /// suspended, on a `sleep` of its own due after the grace time (past
    /// that run-on's horizon), cannot end before then: it is judged too.
    fn shut_down(self: &Rc<World>) {
        self.run_out_grace();
        let now = self.now().as_nanos();
        let grace = self.grace_nanos();
        let live = self.core.borrow().tasks.keys();
        // Every task past its grace time counts as ignoring before any is
        // reported, so one that only waits for another is excused whatever
        // their order in the table.
        let deaf: Vec<(TaskKey, Option<u64>)> = {
            let core = self.core.borrow();
            live.iter()
                .copied()
                .filter_map(|key| {
                    let slot = core.tasks.get(key)?;
                    let (since, _) = slot.meta.cancel_since?;
                    if !slot.meta.signalled || slot.meta.ignored_reported {
                        return None;
                    }
                    if now.saturating_sub(since) > grace {
                        return Some((key, None));
                    }
                    let asleep = !slot.queued && slot.meta.last_wait.kind == WaitKind::Sleep;
                    let due = core.timers.earliest_of_task(key).filter(|_| asleep)?;
                    (due > since.saturating_add(grace)).then_some((key, Some(due)))
                })
                .collect()
        };
        {
            let core = self.core.borrow();
            for &(key, _) in &deaf {
                let parent = core.tasks.get(key).and_then(|slot| slot.meta.parent);
                self.mark_ignoring(key.id, parent);
            }
        }
        for (key, asleep_until) in deaf {
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
                        let message = match asleep_until {
                            None => format!(
                                "ignored the cancellation signal fired at {}: still running {} later, when the runtime shut down",
                                Instant(since),
                                Instant(now - since)
                            ),
                            Some(due) => format!(
                                "ignored the cancellation signal fired at {}: when the runtime shut down {} later, it slept on until {}, past its {} grace time, not woken by the signal",
                                Instant(since),
                                Instant(now - since),
                                Instant(due),
                                Instant(grace)
                            ),
                        };
                        Some(
                            Violation::new(ViolationCode::CancelIgnored, message)
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

    /// Runs on after the root ended until every detached task has finished,
    /// the world is idle, or the drain budget is spent.
    pub(crate) fn drain(self: &Rc<World>, root_end: Instant) {
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
