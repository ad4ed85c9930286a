//! [`Config::root_first`](crate::Config::root_first): the root polled as
//! tokio's current-thread runtime polls its `block_on` future.
//!
//! tokio keeps that future out of its run queue: a wake sets a flag, and
//! the scheduler's loop polls the future at the top of each turn, when the
//! flag is set, before up to `event_interval` (61) queued tasks; a turn
//! ends when the queue runs dry (the runtime parks: timers fire, I/O
//! arrives) or after those 61 polls. So the root runs before the tasks
//! woken with it (timers due at one instant), and a root woken by a task
//! waits until the queue has run dry or the turn is over, behind tasks
//! woken after it. Here the root's wake likewise only marks it
//! ([`RootTurn::woken`]), and the pick polls it at the top of a turn.
//!
//! tokio's `yield_now` defers its wake to that moment too: a task that
//! yields is queued again at the top of the next turn (after the root's
//! poll is decided: the root runs first), not at once.

use super::World;
use crate::config::ROOT_FIRST_BATCH;
use crate::schedule::ReadyQueue;
use crate::vocab::{TaskId, TaskKey};

/// No root is held (the mode is off, or the root has ended).
pub(super) const NO_ROOT: TaskKey = TaskKey {
    index: u32::MAX,
    id: TaskId(u32::MAX),
};

/// Where the scheduler's turn is.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct RootTurn {
    /// The root is woken, and held out of the ready queue.
    woken: bool,
    /// A turn is about to start: the root runs first if woken.
    top: bool,
    /// Polls of other tasks in this turn.
    batch: u32,
}

impl World {
    /// The world holds the new root `key` out of the ready queue, woken,
    /// to run first (tokio polls the `block_on` future first).
    pub(super) fn hold_root(&self, key: TaskKey) {
        self.root_first.set(key);
        self.root_first_state.set(RootTurn {
            woken: true,
            top: true,
            batch: 0,
        });
    }

    /// `key` was woken: true when it is the held root (now marked woken),
    /// false when it goes to the ready queue.
    #[inline(always)]
    pub(super) fn root_woken(&self, key: TaskKey) -> bool {
        if key != self.root_first.get() {
            return false;
        }
        let mut turn = self.root_first_state.get();
        turn.woken = true;
        self.root_first_state.set(turn);
        true
    }

    /// The root, when this pick is the top of a turn and it is woken; else
    /// counts the poll of a queued task. At the top of a turn the tasks
    /// that yielded are queued again (tokio's deferred wakes).
    ///
    /// The common pick — mid-turn, a task queued — is counted inline; the
    /// top of a turn is not.
    #[inline(always)]
    pub(super) fn root_turn(&self, ready: &mut ReadyQueue) -> Option<TaskKey> {
        let turn = self.root_first_state.get();
        if !turn.top && turn.batch < ROOT_FIRST_BATCH && !ready.is_empty() {
            self.root_first_state.set(RootTurn {
                batch: turn.batch + 1,
                ..turn
            });
            return None;
        }
        self.root_turn_top(ready)
    }

    /// [`World::root_turn`] past its common pick.
    #[inline(never)]
    fn root_turn_top(&self, ready: &mut ReadyQueue) -> Option<TaskKey> {
        // The top of a turn: a turn starting, the queue run dry or the
        // batch over (`root_turn` counted every other pick inline).
        let mut turn = self.root_first_state.get();
        turn.top = true;
        let mut root = None;
        self.wake_deferred(ready);
        if std::mem::take(&mut turn.woken) {
            root = Some(self.root_first.get());
            turn.top = false;
            turn.batch = 0;
        } else if !ready.is_empty() {
            turn.top = false;
            turn.batch = 1;
        }
        self.root_first_state.set(turn);
        root
    }

    /// The task being polled, `key`, yielded: its wake waits for the top
    /// of the next turn. False when the world cannot take it now.
    #[inline(always)]
    pub(super) fn defer_yield(&self, key: TaskKey) -> bool {
        match self.deferred.try_borrow_mut() {
            Ok(mut deferred) => {
                deferred.push(key);
                true
            }
            Err(_) => false,
        }
    }

    /// Did `key` yield in its current poll, its wake deferred to the next
    /// turn (it woke itself)?
    pub(super) fn yield_deferred(&self, key: TaskKey) -> bool {
        self.deferred
            .try_borrow()
            .is_ok_and(|deferred| deferred.contains(&key))
    }

    /// Queues the tasks that yielded, in order, unless queued already or
    /// ended.
    fn wake_deferred(&self, ready: &mut ReadyQueue) {
        let mut deferred = self.deferred.borrow_mut();
        if deferred.is_empty() {
            return;
        }
        let mut core = self.core.borrow_mut();
        for key in deferred.drain(..) {
            if let Some(slot) = core.tasks.get_mut(key) {
                if !std::mem::replace(&mut slot.queued, true) {
                    ready.push_back(key);
                }
            }
        }
    }

    /// Takes `key` out of the ready queue (and the held root's wake).
    pub(super) fn unqueue(&self, key: TaskKey) {
        if key == self.root_first.get() {
            let mut turn = self.root_first_state.get();
            turn.woken = false;
            self.root_first_state.set(turn);
        }
        self.ready.borrow_mut().retain(|queued| *queued != key);
    }

    /// The held root ended: no root is held any more.
    pub(super) fn release_root(&self, key: TaskKey) {
        if key == self.root_first.get() {
            self.root_first.set(NO_ROOT);
            self.root_first_state.set(RootTurn::default());
        }
    }
}
