//! Injected stalls ([`InjectionKind::Stall`](crate::inject::InjectionKind::Stall)):
//! a task held where it waits, as a slow operation holds it, until the
//! program aborts it, its owner wakes it, nothing else can run, or
//! [`STALL_LIMIT`] has passed.

use super::World;
use crate::vocab::TaskKey;

/// The longest an injected stall holds a task (virtual time): a program
/// whose own abort has not come by then was not waiting for a deadline
/// (an aborter polling a flag the stalled task would set), and the wait
/// ends after all, as a slow one does.
pub const STALL_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

impl World {
    /// Holds `key` where it waits: marked queued without being in the
    /// ready queue, its wakes add nothing until the program aborts it
    /// ([`World::abort_later`]), nothing else can run, or it has been held
    /// for [`STALL_LIMIT`] ([`World::release_stalled`]).
    ///
    /// A task already queued as it suspends (or whose yield is deferred
    /// to the next turn) woke itself during the poll that ended there (its
    /// work cancelled a token its own future listens to, `yield_now`): its
    /// wait ends at once, as on tokio, however slow the rest of the work
    /// would be. Nothing is held.
    pub(super) fn stall(&self, key: TaskKey) {
        if self
            .core
            .borrow()
            .tasks
            .get(key)
            .is_none_or(|slot| slot.queued)
            || self.yield_deferred(key)
        {
            return;
        }
        self.unqueue(key);
        if let Some(slot) = self.core.borrow_mut().tasks.get_mut(key) {
            slot.queued = true;
            self.stalled.borrow_mut().push((key, self.now.get()));
        }
    }

    /// A wake of `key`, which is marked queued: when a stall holds it and
    /// the waker is the task that spawned it — its owner, acting on it (a
    /// token cancelled, a command sent) — the stall ends and the wake gets
    /// through. A stall stands for a slow operation, not a task deaf to
    /// its owner: on tokio, a task waiting in a `select!` on its token sees
    /// the owner's cancel at once. The owner's wake ends an expiry's hold
    /// the same way (`held_expiry.rs`).
    #[cold]
    #[inline(never)]
    pub(super) fn woke_while_stalled(&self, key: TaskKey) {
        self.woke_while_held(key, false);
        if !self
            .stalled
            .try_borrow()
            .is_ok_and(|stalled| stalled.iter().any(|(held, _)| *held == key))
        {
            return;
        }
        if !self.stalls_hold_owner.get() && self.woken_by_owner(key) {
            self.oracles.borrow_mut().stall_owner_released = true;
            self.unstall(key, false);
            self.enqueue(key);
        }
    }

    /// Makes this run's stalls hold against the owner's wakes too (its
    /// stop, the work it sends): they end only when the program aborts the
    /// task, after [`STALL_LIMIT`], or once nothing else can run. The
    /// counterfactual of a stall one wait earlier: the task slow to take
    /// up what it is given, whoever gives it.
    pub(crate) fn hold_stalls_against_owner(&self) {
        self.stalls_hold_owner.set(true);
    }

    /// When the oldest stall ends by itself: [`STALL_LIMIT`] after it
    /// began.
    pub(super) fn stall_limit(&self) -> Option<u64> {
        let stalled = self.stalled.borrow();
        stalled
            .first()
            .map(|(_, since)| since.saturating_add(STALL_LIMIT.as_nanos() as u64))
    }

    /// Ends the stall of `key`, if it has one, as it is aborted (`by_program`:
    /// by the program's own call, not as the runtime shuts down): it is no
    /// longer queued.
    pub(super) fn unstall(&self, key: TaskKey, by_program: bool) {
        let mut stalled = self.stalled.borrow_mut();
        if let Some(index) = stalled.iter().position(|(held, _)| *held == key) {
            stalled.remove(index);
            self.oracles.borrow_mut().stall_aborted |= by_program;
            if let Some(slot) = self.core.borrow_mut().tasks.get_mut(key) {
                slot.queued = false;
            }
        }
    }

    /// Nothing else can run, or the oldest stall reached its limit: the
    /// stalled waits end after all (they were only slow), in the order
    /// they began; false when there were none.
    pub(super) fn release_stalled(&self) -> bool {
        let held = std::mem::take(&mut *self.stalled.borrow_mut());
        let mut released = false;
        for (key, _) in held {
            if let Some(slot) = self.core.borrow_mut().tasks.get_mut(key) {
                slot.queued = false;
            } else {
                continue;
            }
            released |= self.enqueue(key);
        }
        released
    }
}
