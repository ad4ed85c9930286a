//! Cooperative cancellation: requests, their delivery as `Cancelled`, and
//! the bookkeeping of delivered tokens.

use std::task::Waker;

use super::Cancelled;
use crate::trace::{CancelVia, EventKind, SourceLocation};
use crate::vocab::TaskKey;

use super::World;

impl World {
    // ----- cooperative cancellation ---------------------------------------------

    /// Makes a cooperative cancel request for `key` and wakes it; `at`: the
    /// call site that asked, when there is one.
    pub fn request_cancel(&self, key: TaskKey, via: CancelVia, at: Option<SourceLocation>) {
        let wakers = {
            let mut core = self.core.borrow_mut();
            let Some(slot) = core.tasks.get_mut(key) else {
                return;
            };
            slot.meta.cancel_requested += 1;
            if slot.meta.cancel_since.is_none() {
                slot.meta.cancel_since = Some((self.now.get(), slot.meta.polls));
                slot.cancel_pending = true;
            }
            let mut wakers = std::mem::take(&mut slot.meta.cancel_waiters);
            if let Some(waker) = &slot.waker {
                wakers.push(waker.clone());
            }
            wakers
        };
        self.record(
            key.id,
            EventKind::CancelRequested {
                by: self.current_id(),
                via,
                at,
            },
        );
        for waker in wakers {
            waker.wake();
        }
    }

    /// Delivers one pending cancel request of the current task, if there is
    /// one, as a tracked `Cancelled`.
    pub fn try_deliver_cancel(&self, at: SourceLocation) -> Option<Cancelled> {
        let key = self.current.get()?;
        {
            let mut core = self.core.borrow_mut();
            let slot = core.tasks.get_mut(key)?;
            if slot.meta.cancel_requested <= slot.meta.cancel_delivered {
                return None;
            }
            slot.meta.cancel_delivered += 1;
            slot.meta.tokens_live += 1;
            if slot.meta.delivered_at.is_none() {
                slot.meta.delivered_at = Some((slot.meta.suspends, at));
            }
        }
        self.record(key.id, EventKind::CancelDelivered { at });
        Some(Cancelled::delivered(self.id, key))
    }

    /// A delivered `Cancelled` of task `key` was cloned.
    pub fn cancel_token_cloned(&self, key: TaskKey) {
        if let Ok(mut core) = self.core.try_borrow_mut() {
            if let Some(slot) = core.tasks.get_mut(key) {
                slot.meta.tokens_live += 1;
            }
        }
    }

    /// A delivered `Cancelled` of task `key` was dropped.
    pub fn cancel_token_dropped(&self, key: TaskKey) {
        let by_owner = self.current.get() == Some(key);
        if let Ok(mut core) = self.core.try_borrow_mut() {
            if let Some(slot) = core.tasks.get_mut(key) {
                if !slot.meta.returning {
                    slot.meta.tokens_live -= 1;
                    if by_owner {
                        slot.meta.tokens_dropped += 1;
                    }
                }
            }
        }
    }

    /// The current task's future returned; what is dropped from now on is
    /// its output being handed over, not the task discarding it.
    pub fn mark_returning(&self) {
        let Some(key) = self.current.get() else {
            return;
        };
        if let Some(slot) = self.core.borrow_mut().tasks.get_mut(key) {
            slot.meta.returning = true;
        }
    }

    /// Has the current task ever been asked to cancel?
    pub fn is_cancelled(&self) -> bool {
        let Some(key) = self.current.get() else {
            return false;
        };
        self.core
            .borrow()
            .tasks
            .get(key)
            .is_some_and(|slot| slot.meta.cancel_requested > 0)
    }

    /// Wakes `waker` on the current task's next cancel request.
    pub fn register_cancel_waiter(&self, waker: &Waker) {
        let Some(key) = self.current.get() else {
            return;
        };
        let mut core = self.core.borrow_mut();
        if let Some(slot) = core.tasks.get_mut(key) {
            if !slot.meta.cancel_waiters.iter().any(|w| w.will_wake(waker)) {
                slot.meta.cancel_waiters.push(waker.clone());
            }
        }
    }
}
