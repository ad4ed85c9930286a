//! A wait held by an injected expiry, and its owner's wake that ends the
//! hold.
//!
//! An injected expiry of a `timeout` or of a `select!` against a timer
//! holds what the task waits on inside it until the timer wins at its
//! deadline: the operation was slow. That stands for a slow peer, a slow
//! backend — not for a task deaf to the task that spawned it. A worker in
//! `select! { _ = token.cancelled() => return, _ = sleep(period) => {} }`
//! sees its owner's `token.cancel()` at once on tokio; held until the
//! period's timer (60 s), its owner's `timeout(1s, handle)` would report a
//! hang that cannot happen. So a wake of the held task by its owner ends
//! the hold, as it ends a stall ([`World::woke_while_stalled`]): the race
//! or timeout polls what it waits on again and runs as it would.

use super::{TaskKey, World};

impl World {
    /// `key` waits in a timeout or race that an injection expired (from
    /// the injection at its await point on): a wake from its owner ends
    /// the hold ([`World::take_expiry_release`]).
    pub(crate) fn hold_for_expiry(&self, key: TaskKey) {
        self.held_by_expiry.set(Some(key));
        self.expiry_released.set(false);
        self.rewatch_wakes();
    }

    /// [`World::hold_for_expiry`] for the task being polled, unless it is
    /// held already (a timeout or race expired from its first poll, in a
    /// counterfactual run, is held from there).
    pub(crate) fn hold_current_for_expiry(&self) {
        let current = self.current.get();
        if let (Some(key), true) = (current, self.held_by_expiry.get() != current) {
            self.hold_for_expiry(key);
        }
    }

    /// Did the held task's owner wake it since its hold began? Then the
    /// hold is over: the timeout or race polls what it waits on again.
    pub(crate) fn take_expiry_release(&self) -> bool {
        if self.expiry_released.get() && self.held_by_expiry.get() == self.current.get() {
            self.expiry_released.set(false);
            self.held_by_expiry.set(None);
            self.rewatch_wakes();
            return true;
        }
        false
    }

    /// The held task's timer won: its hold is over.
    pub(super) fn end_hold(&self) {
        if self.held_by_expiry.get().is_some() && self.held_by_expiry.get() == self.current.get() {
            self.held_by_expiry.set(None);
            self.expiry_released.set(false);
            self.rewatch_wakes();
        }
    }

    /// A wake is watched while the outside timers run, a task is held by
    /// an expiry, or the plan expires a task's wait as it is woken: one
    /// flag read on the wake's fast path.
    pub(super) fn rewatch_wakes(&self) {
        self.watch_wakes.set(
            self.outside_waiting.get()
                || self.held_by_expiry.get().is_some()
                || self.wake_expiry_target.get().is_some(),
        );
    }

    /// The plan expires the wait of `task` as it is woken
    /// (`timeout@T:P/wake`): its wakes are watched, so that the injection
    /// knows whether the wake it follows was its owner's.
    pub(super) fn watch_wake_expiry(&self, task: Option<crate::vocab::TaskId>) {
        self.wake_expiry_target.set(task);
        self.woken_by_owner_last.set(false);
        self.rewatch_wakes();
    }

    /// The on-wake expiry of `key` fired: held, unless the wake it
    /// follows was its owner's — then the wait is not held at all (the
    /// owner's stop came in time, as on tokio).
    pub(super) fn hold_after_wake(&self, key: TaskKey) {
        let by_owner = self.woken_by_owner_last.get();
        self.wake_expiry_target.set(None);
        self.hold_for_expiry(key);
        if by_owner {
            self.expiry_released.set(true);
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

    /// Ends the hold of `key` when the task waking it is its owner; notes
    /// whether its owner woke the task an on-wake expiry waits for, since
    /// it last waited (`fresh`: this wake queued it).
    pub(super) fn woke_while_held(&self, key: TaskKey, fresh: bool) {
        if self.held_by_expiry.get() == Some(key) && self.woken_by_owner(key) {
            self.expiry_released.set(true);
        }
        if self.wake_expiry_target.get() == Some(key.id) {
            let by_owner = self.woken_by_owner(key);
            self.woken_by_owner_last
                .set(by_owner || (!fresh && self.woken_by_owner_last.get()));
        }
    }

    /// Runs `write` with its wakes counted as a peer's, not the writing
    /// task's ([`crate::wakes_from_peer`]).
    pub(crate) fn wakes_from_peer<T>(&self, write: impl FnOnce() -> T) -> T {
        struct Restore<'a>(&'a World, bool);
        impl Drop for Restore<'_> {
            fn drop(&mut self) {
                self.0.peer_waking.set(self.1);
            }
        }
        let _restore = Restore(self, self.peer_waking.replace(true));
        write()
    }

    /// Is the task being polled the one that spawned `key`, waking it
    /// itself (not through a peer's delivery)?
    pub(super) fn woken_by_owner(&self, key: TaskKey) -> bool {
        let Some(current) = self.current.get() else {
            return false;
        };
        if current == key || self.peer_waking.get() {
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
