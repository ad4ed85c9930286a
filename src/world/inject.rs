//! Fault injection and await-point bookkeeping: the injection plan, timeout
//! scopes, what a suspended task waits on, consequences of injections and
//! violations (the signal and grace budgets: `grace.rs`).

use std::rc::Rc;

use super::race::RACE_PLACEHOLDER;
use super::TaskSlot;
use crate::inject::{AwaitPoint, InjectAt, Injection, InjectionKind, InjectionPlan};
use crate::trace::{CancelVia, EventKind, SourceLocation, Wait, WaitKind};
use crate::vocab::TaskId;
use crate::vocab::Violation;
use crate::vocab::{TaskKey, TaskKind};

use super::World;

/// An abort of a running task the program made in a baseline.
pub(crate) struct Abort {
    task: TaskId,
    /// The step it was made in.
    step: u64,
    /// The first of the task's await points it could have come at.
    from_point: u32,
    /// The await point the task was at when it came: an injected drop
    /// there is this abort come sooner in the same wait, which only a
    /// schedule that runs the aborter sooner can say is possible (its
    /// decision may rest on what other tasks did meanwhile), so the
    /// points it makes abortable end before it.
    at_point: u32,
    /// Someone awaited the abort's `JoinError`.
    awaited: bool,
    /// A timer woke the aborter: the abort comes at its deadline.
    by_timer: bool,
    /// The task had ended (its result not taken): a slower one would be
    /// aborted where it waits.
    after_end: bool,
}

/// Whether a panic message shows a `JoinError`: its `Debug`
/// ("JoinError::Cancelled(..)") or its `Display` ("task 4 was cancelled",
/// "task 4 panicked ...", cancelsim's and tokio's alike).
fn shows_a_join_error(message: &str) -> bool {
    message.contains("JoinError")
        || message.match_indices("task ").any(|(at, _)| {
            let rest = &message[at + "task ".len()..];
            let id_len = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
            id_len > 0
                && (rest[id_len..].starts_with(" was cancelled")
                    || rest[id_len..].starts_with(" panicked"))
        })
}

impl World {
    // ----- injections and await points ----------------------------------------

    /// Sets the injections of this run.
    pub fn set_plan(&self, injections: &[Injection]) {
        *self.plan.borrow_mut() = InjectionPlan::new(injections);
        self.has_plan.set(!injections.is_empty());
        self.rewatch_wakes();
        let wake_expiry = injections
            .iter()
            .find(|injection| injection.kind.is_expiry() && injection.at == InjectAt::Wake)
            .map(|injection| injection.task);
        if wake_expiry.is_some() || self.held.wake_target.get().is_some() {
            self.watch_wake_expiry(wake_expiry);
        }
    }

    /// Starts recording every await point (the first `cap` of them: a
    /// sweep cannot inject at more than its budget of runs anyway).
    pub fn collect_points(&self, cap: usize) {
        *self.points.borrow_mut() = Some(Vec::new());
        *self.deadline_joins.borrow_mut() = Default::default();
        self.spawned_names.borrow_mut().clear();
        self.clear_causal();
        self.points_cap.set(cap);
        self.collecting.set(true);
    }

    /// Notes that the program aborted `task` while it ran (an `abort`, an
    /// abort-on-drop handle dropped, a `JoinSet` aborting its tasks). If
    /// the task had woken the aborter (a value it sent, a beat), or ran
    /// while the aborter's wake was pending, the abort followed from that:
    /// it can only come at the task's later await points (`causal.rs`). If a timer woke the aborter (a watchdog, a deadline's
    /// `abort_all`), the abort comes at that time and no earlier: only an
    /// await point the task reached at this very instant is one it could
    /// be dropped at (dropping it where it waited since earlier would move
    /// the program's abort before its deadline).
    ///
    /// Two aborts say nothing of earlier await points: a task's abort of
    /// itself (a guard dropped in its last poll: a no-op on tokio, and at
    /// most a stop at its next await), and an abort made as the aborter's
    /// own future is dropped (an abort-on-drop guard it held): the task
    /// goes with its owner, which the sweep drops at the owner's await
    /// points, never while the owner still holds the guard.
    pub fn mark_abortable(&self, key: TaskKey) {
        if !self.collecting.get() {
            return;
        }
        let task = key.id;
        let aborter = self.current_id();
        if aborter == Some(task) || self.dropping_future.get() {
            return;
        }
        let by_timer = aborter.is_some_and(|aborter| self.timer_woken.borrow().contains(&aborter));
        let from_point = aborter.map_or(0, |aborter| self.abort_follows(task, aborter));
        let at_point = self
            .core
            .try_borrow()
            .ok()
            .and_then(|core| core.tasks.get(key).map(|slot| slot.meta.suspends))
            .unwrap_or(u32::MAX);
        if let Ok(mut abortable) = self.abortable.try_borrow_mut() {
            abortable.push(Abort {
                task,
                step: self.steps(),
                from_point,
                at_point,
                by_timer,
                awaited: false,
                after_end: false,
            });
        }
    }

    /// Notes that the program aborted `task` after it had ended (its
    /// result not yet taken: a `JoinSet`'s stragglers, done too in this
    /// run): a slower run of it is aborted where it waits (a stall at its
    /// await points, [`AwaitPoint::aborted_after_end`]).
    pub(super) fn mark_aborted_after_end(&self, task: TaskId) {
        if !self.collecting.get() {
            return;
        }
        if let Ok(mut abortable) = self.abortable.try_borrow_mut() {
            abortable.push(Abort {
                task,
                step: self.steps(),
                from_point: 1,
                at_point: u32::MAX,
                by_timer: false,
                awaited: false,
                after_end: true,
            });
        }
    }

    /// The current task awaited the `JoinError` of `task`'s abort: the
    /// program handles that abort, wherever it ends (see
    /// [`World::forget_abortable_since`]).
    pub(crate) fn observe_abort(&self, task: TaskId) {
        if self.collecting.get() {
            if let Ok(mut abortable) = self.abortable.try_borrow_mut() {
                for abort in abortable.iter_mut().filter(|abort| abort.task == task) {
                    abort.awaited = true;
                }
            }
        }
    }

    /// Forgets the aborts made from step `step` on (the root's last poll:
    /// its locals dropped as the test ends stop their tasks for good),
    /// except those whose `JoinError` the program awaited.
    pub(super) fn forget_abortable_since(&self, step: u64) {
        if self.collecting.get() {
            if let Ok(mut abortable) = self.abortable.try_borrow_mut() {
                // (An abort of a task that had ended stays: a slower one
                // would still be running when the program's call came.)
                abortable.retain(|abort| abort.step < step || abort.awaited || abort.after_end);
            }
        }
    }

    /// Did the program abort a running task from step `step` on (when
    /// collecting)?
    pub(super) fn aborted_since(&self, step: u64) -> bool {
        self.collecting.get()
            && self.abortable.try_borrow().is_ok_and(|aborts| {
                aborts
                    .iter()
                    .any(|abort| abort.step >= step && !abort.after_end)
            })
    }

    /// The await points recorded, each told whether its task turned out
    /// abortable there.
    pub fn take_points(&self) -> Vec<AwaitPoint> {
        let mut points = self.points.borrow_mut().take().unwrap_or_default();
        let aborts = std::mem::take(&mut *self.abortable.borrow_mut());
        self.clear_causal();
        for point in &mut points {
            point.abortable |= aborts.iter().any(|abort| {
                !abort.by_timer
                    && !abort.after_end
                    && abort.task == point.task
                    && point.ordinal >= abort.from_point
                    && point.ordinal < abort.at_point
            });
            point.aborted_at_deadline = aborts.iter().any(|abort| {
                abort.by_timer && abort.task == point.task && point.ordinal >= abort.from_point
            });
            point.aborted_after_end = aborts
                .iter()
                .any(|abort| abort.after_end && abort.task == point.task);
        }
        self.mark_awaited_at_deadline(&mut points);
        // A join names its task (`join fetch#1`).
        let names = std::mem::take(&mut *self.spawned_names.borrow_mut());
        for point in &mut points {
            if let WaitKind::Join(task) = point.wait.kind {
                if let Ok(at) = names.binary_search_by_key(&task, |(id, _)| *id) {
                    point.joined = Some(format!("{}{task}", names[at].1));
                }
            }
        }
        points
    }

    /// A new timeout scope number.
    pub fn new_scope(&self) -> u32 {
        let scope = self.next_scope.get();
        self.next_scope.set(scope + 1);
        scope
    }

    /// A new task group number (per world, so traces are reproducible).
    pub fn new_group(&self) -> u32 {
        let group = self.next_group.get();
        self.next_group.set(group + 1);
        group
    }

    /// Marks `scope` as the innermost timeout while `f` polls its inner future.
    pub fn in_scope<R>(&self, scope: u32, at: SourceLocation, f: impl FnOnce() -> R) -> R {
        self.scopes.borrow_mut().push((scope, at));
        let result = f();
        self.scopes.borrow_mut().pop();
        result
    }

    /// Forgets a finished timeout scope.
    pub fn end_scope(&self, scope: u32) {
        if let Ok(mut forced) = self.forced.try_borrow_mut() {
            forced.remove(&scope);
        }
    }

    /// Was `scope` forced to expire by an injection?
    pub fn take_forced(&self, scope: u32) -> bool {
        self.forced.borrow_mut().remove(&scope)
    }

    /// The timeout scope an injection of this run forced to expire, and
    /// where its `timeout` was called.
    pub(crate) fn forced_by_injection(&self) -> Option<(u32, SourceLocation)> {
        self.forced_by_injection.get()
    }

    /// The counterfactual of a timeout injection: `scope` expires from its
    /// first poll (its inner future is never polled; `Err(Elapsed)` at the
    /// deadline), and nothing else is injected. Scope numbers are given
    /// out in the order timeouts are first polled, which is the baseline's
    /// order up to that poll, so `scope` is the same timeout that
    /// `injection` expired. The run counts as injected by `injection` (its
    /// oracles judge it as they judged that run, and its violations name
    /// it).
    /// A race (`select!` against a timer) is named by its number instead,
    /// since its scope number is given out only after its first poll: it
    /// then polls only its timer branches from the first poll on.
    pub(crate) fn expire_from_start(
        &self,
        scope: u32,
        race: Option<super::RaceBranches>,
        injection: Injection,
    ) {
        match race {
            Some(race) => self.race_from_start.set(Some(race)),
            None => {
                self.forced.borrow_mut().insert(scope);
            }
        }
        *self.plan.borrow_mut() = InjectionPlan::already_fired(injection);
        self.has_plan.set(false);
        self.rewatch_wakes();
    }

    /// The first injection of the plan, for violation reports.
    pub fn first_injection(&self) -> Option<Injection> {
        let plan = self.plan.borrow();
        plan.fired().first().or(plan.unfired().first()).copied()
    }

    /// Applies the injections due for `key` at its current await point and
    /// instant; true when the task's future was dropped.
    pub(super) fn inject(self: &Rc<World>, key: TaskKey, at: InjectAt) -> bool {
        let (point, scope, outer, is_root) = {
            let core = self.core.borrow();
            let Some(slot) = core.tasks.get(key) else {
                return false;
            };
            (
                slot.meta.suspends,
                slot.last_scope(),
                slot.outer_scope(),
                slot.meta.kind == TaskKind::Root,
            )
        };
        if point == 0 {
            return false;
        }
        let due = self.plan.borrow_mut().take(key.id, point, at);
        for injection in due {
            self.record(
                key.id,
                EventKind::Injected {
                    kind: injection.kind,
                    point,
                    at,
                },
            );
            match injection.kind {
                InjectionKind::CancelDrop => {
                    if is_root {
                        self.root_drop_requested.set(true);
                    } else {
                        self.oracles.borrow_mut().injected_aborts.insert(key.id);
                        self.abort(key, None);
                    }
                    return true;
                }
                InjectionKind::Signal => self.fire_signal(key.id),
                InjectionKind::Stall => self.stall(key),
                InjectionKind::CancelCooperative => {
                    self.request_cancel(key, CancelVia::Injection, None);
                }
                InjectionKind::Timeout | InjectionKind::TimeoutOuter => {
                    // What waits here does not finish before the deadline:
                    // the timeout stops polling its inner future, and its
                    // own timer expires it at the deadline, whatever else
                    // wakes the task meanwhile. The outer one's: the inner
                    // timeout goes on waiting inside it.
                    let scope = if injection.kind == InjectionKind::TimeoutOuter {
                        outer
                    } else {
                        scope
                    };
                    if let Some((scope, called_at)) = scope {
                        self.forced.borrow_mut().insert(scope);
                        self.forced_by_injection.set(Some((scope, called_at)));
                        if at == InjectAt::Wake {
                            self.hold_after_wake(key);
                        } else {
                            self.hold_for_expiry(key);
                        }
                        self.hold_scope_deadline(scope);
                    }
                }
            }
        }
        false
    }

    /// The current task awaited the `JoinError` of `task`, cancelled or
    /// panicked: if `task` was aborted by the harness (or panicked only
    /// because of such an abort), a panic of the current task *on that
    /// error* follows from the injection, not from the code (see
    /// [`World::panic_is_consequence`]).
    pub(crate) fn observe_join_error(&self, task: TaskId) {
        let Some(current) = self.current_id() else {
            return;
        };
        let mut oracles = self.oracles.borrow_mut();
        if oracles.injected_aborts.contains(&task) || oracles.consequence_panics.contains(&task) {
            oracles.saw_injected_abort.insert(current);
        }
    }

    /// An injection expired the `timeout` called at `at` for the current
    /// task: if it is the test's own (the root, in the test function), the
    /// root's later failure on what it gave is the test's assertion.
    pub(crate) fn note_forced_expiry(&self, at: SourceLocation) {
        self.end_hold();
        let own = self.config.is_test_code(at) && self.current_id() == Some(TaskId(0));
        if own {
            self.oracles.borrow_mut().test_timeout_expired = true;
        }
    }

    /// Is a `timeout` called at `at` now the test's own (the root's, in
    /// the test function) in a run that lifts those
    /// ([`Config::own_deadlines_unbounded`])?
    pub(crate) fn own_deadline_unbounded(&self, at: SourceLocation) -> bool {
        self.config.own_deadlines_unbounded
            && self.config.own_deadline_kept != Some(at)
            && self.config.is_test_code(at)
            && self.current_id() == Some(TaskId(0))
    }

    /// A `timeout` called at `at` expired by itself (no injection forced
    /// it): noted when it is the test's own (the root's, in the test
    /// function) — a root failing on its `Elapsed` may fail only because
    /// the injection made the operation slower than the test's deadline.
    pub(crate) fn note_natural_expiry_at(&self, at: SourceLocation) {
        if self.config.is_test_code(at) && self.current_id() == Some(TaskId(0)) {
            self.oracles.borrow_mut().own_timeout_expired_naturally = true;
        }
    }

    /// Did the test's own timeout expire by itself in this run?
    pub(crate) fn own_timeout_expired_naturally(&self) -> bool {
        self.oracles.borrow().own_timeout_expired_naturally
    }

    /// Did the root fail on the test's own timeout, expired by an
    /// injection? Records it.
    pub(crate) fn root_failed_on_assertion_timeout(&self) -> bool {
        let mut oracles = self.oracles.borrow_mut();
        let own = oracles.test_timeout_expired;
        oracles.assertion_timeout |= own;
        own
    }

    /// Does a panic of `task` follow only from an injected abort? Counts it.
    ///
    /// Only a panic *on the `JoinError`* is excused: `task` awaited the
    /// error of a task the harness aborted (or of one that panicked only
    /// because of such an abort), and the panic message shows that error
    /// (`unwrap()`, `expect(..)`, `{:?}`: "JoinError::Cancelled(..)"; `{}`:
    /// "task 4 was cancelled"). Any other panic of the same task — an
    /// assertion on state the abort left half-done — is the code's bug and
    /// is reported.
    pub(crate) fn panic_is_consequence(&self, task: TaskId, message: &str) -> bool {
        let mut oracles = self.oracles.borrow_mut();
        let consequence = oracles.saw_injected_abort.contains(&task) && shows_a_join_error(message);
        if consequence {
            oracles.consequences += 1;
            oracles.consequence_panics.insert(task);
        }
        consequence
    }

    /// Bookkeeping when a task (or the root) returned `Pending`; returns the
    /// await point's ordinal.
    ///
    /// Inlined into the executor (docs/performance.md, "Moving through
    /// memory").
    #[inline(always)]
    pub(super) fn suspended(&self, key: TaskKey, slot: &mut TaskSlot) -> (u32, Wait) {
        let wait = self.pending_wait.take().unwrap_or(Wait::EXTERNAL);
        let scope = self.pending_scope.take();
        // (An outer scope is noted only with a scope.)
        let outer = if scope.is_some() {
            self.pending_outer.take()
        } else {
            None
        };
        slot.note_suspension(wait, scope, outer.filter(|(s, _)| *s != RACE_PLACEHOLDER));
        if self.collecting.get() {
            self.log_point(key, slot, wait, scope);
        }
        (slot.meta.suspends, wait)
    }

    /// Appends the await point `slot` just reached to the run's log.
    #[cold]
    fn log_point(
        &self,
        key: TaskKey,
        slot: &mut TaskSlot,
        wait: Wait,
        scope: Option<(u32, SourceLocation)>,
    ) {
        if let Ok(mut points) = self.points.try_borrow_mut() {
            if let Some(points) = points.as_mut().filter(|p| p.len() < self.points_cap.get()) {
                slot.meta.point_index = u32::try_from(points.len()).unwrap_or(super::NO_POINT);
                points.push(AwaitPoint {
                    task: key.id,
                    task_name: slot.meta.name.as_deref().map(str::to_string),
                    ordinal: slot.meta.suspends,
                    wait,
                    timeout: scope,
                    outer_timeout: slot.outer_scope(),
                    resumed: false,
                    injectable: matches!(slot.meta.kind, TaskKind::Root | TaskKind::User),
                    signal: self.oracles.borrow().signal_registered,
                    abortable: slot.meta.kind == TaskKind::Root,
                    aborted_at_deadline: false,
                    aborted_after_end: false,
                    awaited_at_deadline: false,
                    joined: None,
                    self_woken: slot.queued || self.yield_deferred(key),
                });
                self.note_point(key.id, slot.meta.suspends);
            }
        }
    }

    /// Bookkeeping when a task is about to be polled.
    #[inline(always)]
    pub(super) fn polling(&self, key: TaskKey, slot: &mut TaskSlot) {
        slot.queued = false;
        slot.meta.polls += 1;
        if self.collecting.get() {
            // Set only while collecting (which, once on, stays on).
            self.polling_collected(key, slot);
        }
    }

    /// [`World::polling`]'s bookkeeping of a run that collects its await
    /// points (baselines).
    #[cold]
    fn polling_collected(&self, key: TaskKey, slot: &mut TaskSlot) {
        self.resume_point(slot);
        self.forget_unsettled_joins();
        self.note_polling(key);
    }

    /// Marks the logged await point `slot` is at as resumed.
    fn resume_point(&self, slot: &mut TaskSlot) {
        let index = std::mem::replace(&mut slot.meta.point_index, super::NO_POINT);
        if index != super::NO_POINT {
            let index = index as usize;
            if let Ok(mut points) = self.points.try_borrow_mut() {
                if let Some(point) = points.as_mut().and_then(|points| points.get_mut(index)) {
                    point.resumed = true;
                }
            }
        }
    }

    /// Records a violation found during the run.
    pub fn push_violation(&self, task: TaskId, mut violation: Violation) {
        if violation.injection.is_none() {
            violation.injection = self.first_injection();
        }
        if let (Some(named), Some(name)) = (violation.task, &violation.task_name) {
            // A capped trace may have forgotten the name of a task that
            // ended long ago: its violation line still shows it.
            if named == task && self.trace().task_name(task).is_none() {
                self.trace.borrow_mut().set_name(task, name);
            }
        }
        self.record(
            task,
            EventKind::Violation {
                code: violation.code,
            },
        );
        self.oracles.borrow_mut().violations.push(violation);
    }
}

#[cfg(test)]
mod tests {
    use super::shows_a_join_error;

    #[test]
    fn a_join_error_shows_in_its_debug_and_display_forms() {
        assert!(shows_a_join_error(
            "job failed: JoinError::Cancelled(Id(4))"
        ));
        assert!(shows_a_join_error("job failed: task 4 was cancelled"));
        assert!(shows_a_join_error(
            "called `Result::unwrap()` on an `Err` value: task 12 panicked with message \"boom\""
        ));
        assert!(shows_a_join_error("task #3 panicked: boom"));
        assert!(!shows_a_join_error(
            "assertion `left == right` failed: task count was 3"
        ));
        assert!(!shows_a_join_error("the task was cancelled"));
        assert!(!shows_a_join_error("task  was cancelled"));
    }
}
