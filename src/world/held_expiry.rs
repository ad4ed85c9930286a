//! A wait held by an injected expiry, and what ends the hold: its owner
//! stopping it and then waiting for it under a deadline.
//!
//! An injected expiry of a `timeout` or of a `select!` against a timer
//! holds what the task waits on inside it until the timer wins at its
//! deadline: the operation was slow. That stands for a slow peer, a slow
//! backend — and for the data a test feeds its worker, which in production
//! comes from elsewhere (a batch half gathered when the loop's ticker
//! wins). It does not stand for a task deaf to the task that spawned it:
//! a worker in `select! { _ = token.cancelled() => return, _ =
//! sleep(period) => {} }` sees its owner's `token.cancel()` at once on
//! tokio, and an owner that then gives it a deadline (`timeout(1s,
//! handle)`, a `select!` against a timer) would see a hang that cannot
//! happen. So once the owner has woken the held task, its join of that
//! task under a deadline ends the hold: the race or timeout polls what it
//! waits on again and runs as it would. An owner that only feeds the task,
//! or awaits it with no deadline, leaves it held until its timer wins.

use std::cell::Cell;

use super::{TaskKey, World};
use crate::trace::EventKind;
use crate::vocab::{Instant, TaskId};

/// The hold of the run's expiry (one injection per run holds one task).
#[derive(Debug, Default)]
pub(super) struct HeldState {
    /// The task held, whether its hold is released (taken at its next
    /// poll), and whether its owner woke it since the hold began.
    pub task: Cell<Option<TaskKey>>,
    pub released: Cell<bool>,
    pub owner_woke: Cell<bool>,
    /// The task whose wait the plan expires as it is woken, whether its
    /// last wake was its owner's, and its owner's join of it under a
    /// deadline (noted before the expiry fires).
    pub wake_target: Cell<Option<TaskId>>,
    pub woken_by_owner_last: Cell<bool>,
    pub deadline_join: Cell<Option<TaskId>>,
    /// Wakes made now are a peer's delivery (`crate::wakes_from_peer`).
    pub peer_waking: Cell<bool>,
    /// Timeouts that expired by themselves in this run (not forced by an
    /// injection).
    pub natural_expiries: Cell<u32>,
    /// The deadline of the held task's expired timeout (noted by its
    /// polls), and whether its trace says the task is held.
    pub deadline: Cell<Option<Instant>>,
    pub shown: Cell<bool>,
    /// The timeout scope (or `select!` against a timer) polled last and
    /// its deadline, and the other one polled before it (the outer of two
    /// nested ones; a timeout in a race's branch): the deadline of the
    /// scope an injection expires at the await point its task just
    /// reached.
    pub polled: Cell<Option<(u32, Instant)>>,
    pub polled_before: Cell<Option<(u32, Instant)>>,
}

impl World {
    /// `key` waits in a timeout or race that an injection expired (from
    /// the injection at its await point on): its owner's wake, then its
    /// owner's join of it under a deadline, ends the hold
    /// ([`World::take_expiry_release`]).
    pub(crate) fn hold_for_expiry(&self, key: TaskKey) {
        self.held.task.set(Some(key));
        self.held.released.set(false);
        self.held.owner_woke.set(false);
        self.held.deadline.set(None);
        self.held.shown.set(false);
        self.rewatch_wakes();
    }

    /// A timeout expired by itself (its deadline passed; no injection
    /// forced it).
    pub(crate) fn note_natural_expiry(&self) {
        let count = &self.held.natural_expiries;
        count.set(count.get().saturating_add(1));
    }

    /// Timeouts that expired by themselves in this run.
    pub(crate) fn natural_expiries(&self) -> u32 {
        self.held.natural_expiries.get()
    }

    /// A timeout's poll, of `scope` due at `deadline`, before its inner
    /// future's; a race's, after its branches', due when its timer is.
    #[inline]
    pub(crate) fn note_scope_deadline(&self, scope: u32, deadline: Instant) {
        let last = self.held.polled.replace(Some((scope, deadline)));
        if last.is_some_and(|(polled, _)| polled != scope) {
            self.held.polled_before.set(last);
        }
    }

    /// An injection expires `scope` at the await point the held task just
    /// reached: its deadline, when that timeout (or race) was one of the
    /// last two polled.
    pub(super) fn hold_scope_deadline(&self, scope: u32) {
        let polled = [self.held.polled.get(), self.held.polled_before.get()];
        if let Some((_, deadline)) = polled.into_iter().flatten().find(|(s, _)| *s == scope) {
            self.held.deadline.set(Some(deadline));
        }
    }

    /// A poll of the held task's expired timeout, due at `deadline`;
    /// `resumed`: not its first poll. The first poll that resumes the task
    /// before the deadline (something woke it) says in the trace that the
    /// task stays held until then.
    pub(crate) fn poll_held(&self, deadline: Instant, resumed: bool) {
        let Some(key) = self
            .held
            .task
            .get()
            .filter(|key| Some(*key) == self.current.get())
        else {
            return;
        };
        self.held.deadline.set(Some(deadline));
        if resumed && !self.held.shown.get() && self.now() < deadline {
            self.held.shown.set(true);
            self.record(
                key.id,
                EventKind::HeldForExpiry {
                    until: deadline,
                    blocking: false,
                },
            );
        }
    }

    /// Blocking work of the current task is due now: while an injected
    /// expiry holds a task whose timeout is due later, the work is the
    /// slow backend that timeout waits on, and finishes just after it
    /// fires (the instant after its deadline); `None` otherwise.
    pub(crate) fn blocking_held_until(&self) -> Option<Instant> {
        self.held.task.get()?;
        let until = self
            .held
            .deadline
            .get()
            .filter(|until| *until > self.now())?;
        if let Some(task) = self.current_id() {
            self.record(
                task,
                EventKind::HeldForExpiry {
                    until,
                    blocking: true,
                },
            );
        }
        Some(Instant(until.as_nanos() + 1))
    }

    /// [`World::hold_for_expiry`] for the task being polled, unless it is
    /// held already (a timeout or race expired from its first poll, in a
    /// counterfactual run, is held from there).
    pub(crate) fn hold_current_for_expiry(&self) {
        let current = self.current.get();
        if let (Some(key), true) = (current, self.held.task.get() != current) {
            self.hold_for_expiry(key);
        }
    }

    /// Did the held task's owner wake it and then await it under a
    /// deadline? Then the hold is over: the timeout or race polls what it
    /// waits on again.
    pub(crate) fn take_expiry_release(&self) -> bool {
        if self.held.released.get() && self.held.task.get() == self.current.get() {
            self.release_hold();
            return true;
        }
        false
    }

    /// The held task's timer won: its hold is over.
    pub(super) fn end_hold(&self) {
        if self.held.task.get().is_some() && self.held.task.get() == self.current.get() {
            self.release_hold();
        }
    }

    fn release_hold(&self) {
        self.held.task.set(None);
        self.held.deadline.set(None);
        self.held.released.set(false);
        self.held.owner_woke.set(false);
        self.rewatch_wakes();
    }

    /// The task being polled awaits the end of `task`, and a wake is
    /// watched ([`World::rewatch_wakes`]): the owner of a held task, or of
    /// an on-wake expiry's target, may await it under a deadline.
    #[cold]
    #[inline(never)]
    pub(super) fn join_watched(&self, task: TaskId) {
        if self.held.owner_woke.get() {
            self.owner_joins_held(task);
        }
        if self.held.wake_target.get().is_some() {
            self.note_deadline_join(task);
        }
    }

    /// The task being polled awaits the end of `task` (a join polled and
    /// pending): when `task` is held, its owner woke it, and this is its
    /// owner waiting under a deadline (inside a `timeout` or a `select!`),
    /// the hold ends, and the held task is polled again to see it.
    #[cold]
    pub(super) fn owner_joins_held(&self, task: TaskId) {
        let Some(held) = self.held.task.get() else {
            return;
        };
        let under_deadline = self.scopes.try_borrow().is_ok_and(|s| !s.is_empty());
        if held.id == task && under_deadline && self.woken_by_owner(held) {
            self.held.released.set(true);
            self.enqueue(held);
        }
    }

    /// A wake is watched while the outside timers run, a task is held by
    /// an expiry, or the plan expires a task's wait as it is woken: one
    /// flag read on the wake's fast path.
    /// A wake of a task already queued is watched when the run has a plan
    /// (a stall's owner wake) or a task is held.
    pub(super) fn rewatch_wakes(&self) {
        let held = self.held.task.get().is_some();
        self.watch_wakes
            .set(self.outside_waiting.get() || held || self.held.wake_target.get().is_some());
        self.watch_queued_wakes.set(self.has_plan.get() || held);
    }

    /// The plan expires the wait of `task` as it is woken
    /// (`timeout@T:P/wake`): its wakes are watched, so that the injection
    /// knows whether the wake it follows was its owner's.
    pub(super) fn watch_wake_expiry(&self, task: Option<TaskId>) {
        self.held.wake_target.set(task);
        self.held.woken_by_owner_last.set(false);
        self.rewatch_wakes();
    }

    /// The on-wake expiry of `key` fired: held, and when the wake it
    /// follows was its owner's, its owner's join under a deadline ends the
    /// hold (the owner's stop came in time, as on tokio).
    pub(super) fn hold_after_wake(&self, key: TaskKey) {
        let by_owner = self.held.woken_by_owner_last.get();
        let joined = self.held.deadline_join.take();
        self.held.wake_target.set(None);
        self.hold_for_expiry(key);
        self.held.owner_woke.set(by_owner);
        if by_owner && joined == Some(key.id) {
            // The owner already awaits it under a deadline.
            self.held.released.set(true);
        }
    }

    /// The task being polled awaits the end of `task`, and the plan
    /// expires a wait as it is woken: notes the join when it is the
    /// target's owner's, under a deadline (the on-wake expiry that follows
    /// is not held, [`World::hold_after_wake`]).
    #[cold]
    pub(super) fn note_deadline_join(&self, task: TaskId) {
        if self.held.wake_target.get() != Some(task) {
            return;
        }
        let under_deadline = self.scopes.try_borrow().is_ok_and(|s| !s.is_empty());
        let owner = self.core.try_borrow().ok().and_then(|core| {
            core.tasks
                .keys()
                .into_iter()
                .find(|key| key.id == task)
                .and_then(|key| core.tasks.get(key).and_then(|slot| slot.meta.parent))
        });
        if under_deadline && owner.is_some() && owner == self.current_id() {
            self.held.deadline_join.set(Some(task));
        }
    }

    /// `key` was woken, and a wake is watched ([`World::rewatch_wakes`]):
    /// the outside timers' wake (true: noted at the outside instant), or
    /// the held task's (its owner's wake ends the hold).
    #[cold]
    #[inline(never)]
    pub(super) fn woke_watched(&self, key: TaskKey) -> bool {
        if self.outside_waiting.get() {
            self.woke_while_outside(key);
            return true;
        }
        self.woke_while_held(key, true);
        false
    }

    /// Notes that the owner of the held `key` woke it; notes
    /// whether its owner woke the task an on-wake expiry waits for, since
    /// it last waited (`fresh`: this wake queued it).
    pub(super) fn woke_while_held(&self, key: TaskKey, fresh: bool) {
        if self.held.task.get() == Some(key) && self.woken_by_owner(key) {
            self.held.owner_woke.set(true);
        }
        if self.held.wake_target.get() == Some(key.id) {
            let by_owner = self.woken_by_owner(key);
            self.held
                .woken_by_owner_last
                .set(by_owner || (!fresh && self.held.woken_by_owner_last.get()));
        }
    }

    /// Runs `write` with its wakes counted as a peer's, not the writing
    /// task's ([`crate::wakes_from_peer`]).
    pub(crate) fn wakes_from_peer<T>(&self, write: impl FnOnce() -> T) -> T {
        struct Restore<'a>(&'a World, bool);
        impl Drop for Restore<'_> {
            fn drop(&mut self) {
                self.0.held.peer_waking.set(self.1);
            }
        }
        let _restore = Restore(self, self.held.peer_waking.replace(true));
        write()
    }

    /// Is the task being polled the one that spawned `key`, waking it
    /// itself (not through a peer's delivery)?
    pub(super) fn woken_by_owner(&self, key: TaskKey) -> bool {
        let Some(current) = self.current.get() else {
            return false;
        };
        if current == key || self.held.peer_waking.get() {
            return false;
        }
        let owner = self
            .core
            .try_borrow()
            .ok()
            .and_then(|core| core.tasks.get(key).and_then(|slot| slot.meta.parent));
        owner == Some(current.id)
    }
}
