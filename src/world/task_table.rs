//! The task table: a slab of live tasks.
//!
//! Invariants: a slot is occupied exactly while its task is alive (spawned and
//! not yet finished); a [`TaskKey`] names a slot *and* the task id that was in
//! it, so a key of a finished task never reaches the task that reuses the
//! slot. Finished tasks leave nothing behind here, which keeps memory flat over
//! millions of spawns.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Waker;

use super::waker::TaskWaker;
use crate::prefetch::prefetch;
use crate::vocab::{JoinError, SourceLocation, TaskId, TaskKey, TaskKind, Wait};

/// The boxed future of a spawned task (it writes its output to its join slot).
pub(crate) type TaskFuture = Pin<Box<dyn TaskRun>>;

/// What the world runs as a task: a future, whose memory can be hinted
/// into the cache ahead of its poll.
pub(crate) trait TaskRun: Future<Output = ()> {
    /// Hints the start and the end of the future's memory into the cache.
    fn prefetch(&self);
}

/// Learns how a task ended when its future could not say so itself.
pub(crate) trait Completion {
    /// The task was aborted or panicked.
    fn fail(&self, error: JoinError);
}

/// `TaskMeta::point_index` when the task is not at a logged await point.
pub(crate) const NO_POINT: u32 = u32::MAX;

/// Everything the world knows about a live task besides its future.
///
/// `repr(C)`: what every wake, poll and suspension touches comes first
/// (docs/performance.md, "Cache lines"); the rest is touched only when
/// collecting await points, on a timeout scope, on spawn, cancel and
/// finish.
#[repr(C)]
pub(crate) struct TaskMeta {
    /// What the task waits on at its current await point.
    pub last_wait: Wait,
    /// Number of times the task returned `Pending` (its await points so far).
    pub suspends: u32,
    /// Polls so far.
    pub polls: u32,
    // ----- second line -----
    /// Index of the current await point in the world's await-point log, or
    /// [`NO_POINT`] (only set while collecting await points).
    pub point_index: u32,
    pub kind: TaskKind,
    /// A `cancel-ignored` violation was already reported.
    pub ignored_reported: bool,
    /// The innermost timeout enclosing the current await point, when
    /// [`TaskSlot::has_scope`] (read it with [`TaskSlot::last_scope`]).
    pub last_scope: Option<(u32, SourceLocation)>,
    /// Oldest unhonoured cancel request: (virtual time, polls at the time).
    pub cancel_since: Option<(u64, u32)>,
    /// The future has returned; its output is being handed over.
    pub returning: bool,
    pub detached: bool,
    // ----- cold: spawn, cancel, finish, reports -----
    pub name: Option<Rc<str>>,
    pub parent: Option<TaskId>,
    pub spawned_at: SourceLocation,
    /// The scope around `last_scope`, when the await point is inside two
    /// (written only with a scope: read it with [`TaskSlot::outer_scope`]).
    pub last_outer: Option<(u32, SourceLocation)>,
    /// Cooperative cancel requests made / delivered as `Err(Cancelled)`.
    pub cancel_requested: u32,
    pub cancel_delivered: u32,
    pub cancel_waiters: Vec<Waker>,
    /// Delivered `Cancelled` tokens still alive, and those the task dropped.
    pub tokens_live: i32,
    pub tokens_dropped: u32,
    /// Where the first cancel was delivered: (await point, primitive).
    pub delivered_at: Option<(u32, SourceLocation)>,
    /// The outstanding cancel request is the program's own signal
    /// (`cancel::register_signal`), fired by the harness.
    pub signalled: bool,
}

/// A live task (or, with the id [`VACANT`], an empty slot). Cache-line
/// aligned and laid out hot-first (see [`TaskMeta`]): with thousands of
/// tasks woken in random order, a wake, a poll and a suspension touch one
/// line of the slot, where the slot used to span four.
#[repr(C, align(64))]
pub(crate) struct TaskSlot {
    pub id: TaskId,
    /// In the ready queue (a wake of a queued task adds nothing).
    pub queued: bool,
    /// `abort` was called while the task was being polled.
    pub abort_requested: bool,
    /// A cancel request is outstanding (`meta.cancel_since` is set).
    pub cancel_pending: bool,
    /// `meta.last_scope` holds the current await point's timeout scope
    /// (without one, a suspension need not touch the slot's second line).
    pub has_scope: bool,
    pub future: Option<TaskFuture>,
    pub waker: Option<Waker>,
    pub meta: TaskMeta,
    /// Touched on spawn and finish only.
    pub notify: Option<Arc<TaskWaker>>,
    pub completion: Option<Rc<dyn Completion>>,
}

impl TaskSlot {
    /// The innermost timeout enclosing the current await point.
    #[inline]
    pub fn last_scope(&self) -> Option<(u32, SourceLocation)> {
        if self.has_scope {
            self.meta.last_scope
        } else {
            None
        }
    }

    /// The scope around the innermost one at the current await point,
    /// when it is inside two.
    #[inline]
    pub fn outer_scope(&self) -> Option<(u32, SourceLocation)> {
        if self.has_scope {
            self.meta.last_outer
        } else {
            None
        }
    }

    /// Notes the await point the task just reached: what it waits on and
    /// inside which timeout (and which around that one). The scopes are
    /// written only when there is or was one (so a suspension outside
    /// timeouts touches the first line only).
    #[inline(always)]
    pub fn note_suspension(
        &mut self,
        wait: Wait,
        scope: Option<(u32, SourceLocation)>,
        outer: Option<(u32, SourceLocation)>,
    ) {
        self.meta.suspends += 1;
        self.meta.last_wait = wait;
        if scope.is_some() || self.has_scope {
            self.meta.last_scope = scope;
            self.meta.last_outer = outer;
            self.has_scope = scope.is_some();
        }
    }
}

impl TaskMeta {
    /// The bookkeeping of a task that has not run yet.
    pub fn new(
        kind: TaskKind,
        name: Option<Rc<str>>,
        parent: Option<TaskId>,
        spawned_at: SourceLocation,
    ) -> Self {
        TaskMeta {
            suspends: 0,
            polls: 0,
            last_wait: Wait::EXTERNAL,
            last_scope: None,
            cancel_since: None,
            point_index: NO_POINT,
            kind,
            ignored_reported: false,
            returning: false,
            detached: matches!(kind, TaskKind::Shield | TaskKind::Blocking),
            name,
            parent,
            spawned_at,
            last_outer: None,
            cancel_requested: 0,
            cancel_delivered: 0,
            cancel_waiters: Vec::new(),
            tokens_live: 0,
            tokens_dropped: 0,
            delivered_at: None,
            signalled: false,
        }
    }
}

impl TaskMeta {
    /// Makes this the bookkeeping of a task that has not run yet, field by
    /// field where it lies (the same as [`TaskMeta::new`]; the pattern
    /// names every field, so a new one cannot be forgotten here).
    fn reset(
        &mut self,
        new_kind: TaskKind,
        new_name: Option<Rc<str>>,
        new_parent: Option<TaskId>,
        at: SourceLocation,
    ) {
        let TaskMeta {
            suspends,
            polls,
            point_index,
            kind,
            ignored_reported,
            last_wait,
            last_scope,
            cancel_since,
            returning,
            detached,
            name,
            parent,
            spawned_at,
            last_outer,
            cancel_requested,
            cancel_delivered,
            cancel_waiters,
            tokens_live,
            tokens_dropped,
            delivered_at,
            signalled,
        } = self;
        *suspends = 0;
        *polls = 0;
        *point_index = NO_POINT;
        *kind = new_kind;
        *ignored_reported = false;
        *last_wait = Wait::EXTERNAL;
        *last_scope = None;
        *cancel_since = None;
        *returning = false;
        *detached = matches!(new_kind, TaskKind::Shield | TaskKind::Blocking);
        *name = new_name;
        *parent = new_parent;
        *spawned_at = at;
        *last_outer = None;
        *cancel_requested = 0;
        *cancel_delivered = 0;
        cancel_waiters.clear();
        *tokens_live = 0;
        *tokens_dropped = 0;
        *signalled = false;
        *delivered_at = None;
    }
}

/// What a new task starts with (see [`TaskTable::insert`]).
pub(crate) struct NewTask {
    pub kind: TaskKind,
    pub name: Option<Rc<str>>,
    pub parent: Option<TaskId>,
    pub at: SourceLocation,
    pub future: Option<TaskFuture>,
    pub completion: Option<Rc<dyn Completion>>,
}

/// The id of an empty slot (no task gets it: ids count up from 0).
const VACANT: TaskId = TaskId(u32::MAX);

impl TaskSlot {
    fn vacant() -> Self {
        TaskSlot {
            id: VACANT,
            queued: false,
            abort_requested: false,
            cancel_pending: false,
            has_scope: false,
            future: None,
            waker: None,
            notify: None,
            meta: TaskMeta::new(TaskKind::User, None, None, std::panic::Location::caller()),
            completion: None,
        }
    }

    /// Empties the slot in place: drops what it owns and marks it vacant
    /// (the plain fields are overwritten by the next task).
    fn clear(&mut self) {
        self.id = VACANT;
        self.queued = false;
        self.future = None;
        self.waker = None;
        self.notify = None;
        self.completion = None;
        self.meta.name = None;
        self.meta.cancel_waiters = Vec::new();
    }
}

/// Slots are not `Option`s: an empty slot has the id [`VACANT`]
/// (docs/performance.md, "Cache lines").
#[derive(Default)]
pub(crate) struct TaskTable {
    slots: Vec<TaskSlot>,
    free: Vec<u32>,
    next_id: u32,
    live: usize,
    /// Wakers of finished tasks that nobody else holds, for reuse (saves an
    /// allocation per spawn).
    spare_wakers: Vec<Arc<TaskWaker>>,
}

/// The last id is [`VACANT`] (and "no task" in the world's trace notes):
/// it is never handed out.
#[cold]
#[inline(never)]
fn ids_exhausted() -> ! {
    panic!(
        "cancelsim: this world has spawned {} tasks, every task id there is; \
         split the work over several `Sim`s",
        VACANT.0
    )
}

/// Below this many live tasks a world's slots and futures stay in the
/// cache anyway, and hinting them is wasted work.
pub(crate) const PREFETCH_FROM_TASKS: usize = 256;

/// Finished tasks' wakers kept for reuse, at most.
const SPARE_WAKERS: usize = 64;

impl TaskTable {
    /// The id the next inserted task will get.
    pub fn next_id(&self) -> TaskId {
        TaskId(self.next_id)
    }

    /// The index the next inserted task will get.
    pub fn next_index(&self) -> u32 {
        self.free.last().copied().unwrap_or(self.slots.len() as u32)
    }

    /// Puts a new task of `world` in a free slot, queued, filling the slot
    /// field by field where it lies (docs/performance.md, "Moving through
    /// memory").
    ///
    /// # Panics
    ///
    /// When the world has handed out every task id (2³² − 1 spawns): the
    /// panic reaches the spawning task (or `block_on`, from the root) as
    /// its error, like any panic in it.
    pub fn insert(&mut self, world: u64, task: NewTask) -> TaskKey {
        if self.next_id == VACANT.0 {
            ids_exhausted();
        }
        let key = TaskKey {
            index: self.next_index(),
            id: self.next_id(),
        };
        let notify = self.new_waker(world, key);
        let waker = Waker::from(Arc::clone(&notify));
        self.next_id += 1;
        self.live += 1;
        let index = match self.free.pop() {
            Some(index) => index as usize,
            None => {
                self.slots.push(TaskSlot::vacant());
                self.slots.len() - 1
            }
        };
        let slot = &mut self.slots[index];
        slot.id = key.id;
        slot.queued = true;
        slot.abort_requested = false;
        slot.cancel_pending = false;
        slot.has_scope = false;
        slot.future = task.future;
        slot.waker = Some(waker);
        slot.notify = Some(notify);
        slot.completion = task.completion;
        slot.meta.reset(task.kind, task.name, task.parent, task.at);
        key
    }

    #[inline]
    pub fn get(&self, key: TaskKey) -> Option<&TaskSlot> {
        self.slots
            .get(key.index as usize)
            .filter(|slot| slot.id == key.id)
    }

    #[inline]
    pub fn get_mut(&mut self, key: TaskKey) -> Option<&mut TaskSlot> {
        self.slots
            .get_mut(key.index as usize)
            .filter(|slot| slot.id == key.id)
    }

    /// Hints the slot at `key` into the cache (its first line: all that a
    /// wake, a poll and a suspension touch).
    #[inline]
    pub fn prefetch_slot(&self, key: TaskKey) {
        if let Some(slot) = self.slots.get(key.index as usize) {
            prefetch(slot);
        }
    }

    /// The waker state of a new task at `key` of `world`: a finished task's
    /// when one is no longer shared with anyone, else a fresh one.
    fn new_waker(&mut self, world: u64, key: TaskKey) -> Arc<TaskWaker> {
        while let Some(mut spare) = self.spare_wakers.pop() {
            if let Some(reused) = Arc::get_mut(&mut spare) {
                *reused = TaskWaker::new(world, key);
                return spare;
            }
        }
        Arc::new(TaskWaker::new(world, key))
    }

    /// Ends the task at `key` where it lies (moving a whole slot out costs
    /// a copy of it); its waker is kept for reuse when nobody else holds it.
    /// The caller has taken out whatever must outlive the slot or be dropped
    /// outside the world's borrow.
    pub fn vacate(&mut self, key: TaskKey) {
        let Some(slot) = self
            .slots
            .get_mut(key.index as usize)
            .filter(|slot| slot.id == key.id)
        else {
            return;
        };
        slot.waker = None;
        if let Some(notify) = slot.notify.take() {
            if Arc::strong_count(&notify) == 1 && self.spare_wakers.len() < SPARE_WAKERS {
                self.spare_wakers.push(notify);
            }
        }
        slot.clear();
        self.live -= 1;
        self.free.push(key.index);
    }

    pub fn remove(&mut self, key: TaskKey) -> Option<TaskSlot> {
        let slot = self
            .slots
            .get_mut(key.index as usize)
            .filter(|slot| slot.id == key.id)?;
        let removed = std::mem::replace(slot, TaskSlot::vacant());
        self.live -= 1;
        self.free.push(key.index);
        Some(removed)
    }

    /// Forgets every task (dropping what their slots still hold), keeping
    /// the storage unless it holds more than `keep_at_most` slots: the
    /// table is then like a new one.
    pub fn clear(&mut self, keep_at_most: usize) {
        self.slots.clear();
        self.free.clear();
        if self.slots.capacity() > keep_at_most {
            self.slots = Vec::new();
            self.free = Vec::new();
        }
        self.next_id = 0;
        self.live = 0;
    }

    /// Number of live tasks.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Number of slots, occupied or free: what the table holds in memory,
    /// which grows only with the most tasks ever alive at once.
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// Keys of live tasks, in id order.
    pub fn keys(&self) -> Vec<TaskKey> {
        let mut keys: Vec<TaskKey> = self
            .slots
            .iter()
            .enumerate()
            .filter(|(_, slot)| slot.id != VACANT)
            .map(|(index, slot)| TaskKey {
                index: index as u32,
                id: slot.id,
            })
            .collect();
        keys.sort_by_key(|key| key.id);
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{align_of, offset_of};

    /// The last id a table hands out is `u32::MAX - 1`: `u32::MAX` marks
    /// empty slots (and "no task" in the trace's notes), so the next spawn
    /// fails loudly instead of making a task no look-up can find.
    #[test]
    fn the_id_of_an_empty_slot_is_never_handed_out() {
        let new_task = || NewTask {
            kind: TaskKind::User,
            name: None,
            parent: None,
            at: std::panic::Location::caller(),
            future: None,
            completion: None,
        };
        let mut table = TaskTable {
            next_id: VACANT.0 - 1,
            ..TaskTable::default()
        };
        let last = table.insert(0, new_task());
        assert_eq!(last.id, TaskId(u32::MAX - 1));
        assert!(table.get_mut(last).is_some());
        let overflow = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            table.insert(0, new_task());
        }));
        let message = overflow.expect_err("the id after the last one is refused");
        let message = message
            .downcast_ref::<String>()
            .expect("a formatted message");
        assert!(message.contains("every task id"), "{message}");
    }

    /// A suspension inside a timeout notes its scope; the next one outside
    /// any timeout clears it.
    #[test]
    fn a_suspension_notes_its_timeout_scope_and_clears_a_stale_one() {
        let mut slot = TaskSlot::vacant();
        let at = std::panic::Location::caller();
        assert_eq!(slot.last_scope(), None);
        slot.note_suspension(Wait::EXTERNAL, Some((7, at)), None);
        assert_eq!(slot.last_scope(), Some((7, at)));
        assert_eq!(slot.meta.suspends, 1);
        slot.note_suspension(Wait::EXTERNAL, None, None);
        assert_eq!(slot.last_scope(), None);
        slot.note_suspension(Wait::EXTERNAL, None, None);
        assert_eq!(slot.last_scope(), None);
        assert_eq!(slot.meta.suspends, 3);
    }

    /// What every wake, poll and suspension touches fits the slot's first
    /// cache line; the rest starts the second.
    #[test]
    fn hot_fields_fill_the_first_cache_line() {
        assert_eq!(align_of::<TaskSlot>(), 64);
        let meta = offset_of!(TaskSlot, meta);
        for end in [
            offset_of!(TaskSlot, future) + 16,
            offset_of!(TaskSlot, waker) + 16,
            offset_of!(TaskSlot, abort_requested) + 1,
            offset_of!(TaskSlot, cancel_pending) + 1,
            offset_of!(TaskSlot, has_scope) + 1,
            meta + offset_of!(TaskMeta, last_wait) + std::mem::size_of::<Wait>(),
            meta + offset_of!(TaskMeta, suspends) + 4,
            meta + offset_of!(TaskMeta, polls) + 4,
        ] {
            assert!(end <= 64, "a hot field ends at byte {end}");
        }
        assert_eq!(meta + offset_of!(TaskMeta, point_index), 64);
    }
}
