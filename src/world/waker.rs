//! Real `std::task::Waker`s for simulated tasks.
//!
//! A waker must be `Send + Sync` and may be woken from anywhere: inside a poll
//! of its own world (the usual case: pushed straight onto the ready queue),
//! from the harness between polls, after its world ended, or from another
//! thread. Wakes that cannot reach their world directly go to a process-wide
//! inbox that the world drains when it has nothing else to run. The waker
//! itself is immutable: whether its task is already queued is the `queued`
//! flag of the task's slot, so that neither a wake nor a poll writes to the
//! waker's memory, and a task sits in the ready queue at most once.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Wake;

use crate::vocab::TaskKey;
use crate::world;

pub(crate) struct TaskWaker {
    pub world: u64,
    pub key: TaskKey,
}

impl TaskWaker {
    pub fn new(world: u64, key: TaskKey) -> Self {
        TaskWaker { world, key }
    }
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !world::schedule_if_current(self.world, self.key) {
            remote_push(self.world, self.key);
        }
    }
}

static REMOTE_PENDING: AtomicUsize = AtomicUsize::new(0);
static REMOTE: Mutex<BTreeMap<u64, Vec<TaskKey>>> = Mutex::new(BTreeMap::new());

pub(crate) fn remote_push(world: u64, key: TaskKey) {
    let mut inbox = REMOTE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    inbox.entry(world).or_default().push(key);
    REMOTE_PENDING.fetch_add(1, Ordering::Release);
}

/// Takes the wakes that reached `world` from outside, in arrival order;
/// `None` when there are none (the common case: one atomic load, inlined).
#[inline]
pub(crate) fn remote_take(world: u64) -> Option<Vec<TaskKey>> {
    if REMOTE_PENDING.load(Ordering::Acquire) == 0 {
        return None;
    }
    Some(remote_take_slow(world))
}

#[cold]
fn remote_take_slow(world: u64) -> Vec<TaskKey> {
    let mut inbox = REMOTE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let keys = inbox.remove(&world).unwrap_or_default();
    REMOTE_PENDING.fetch_sub(keys.len(), Ordering::Release);
    keys
}

/// Forgets the inbox of a world that ended.
pub(crate) fn remote_forget(world: u64) {
    drop(remote_take(world));
}
