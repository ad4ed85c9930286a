//! The containers of a dropped world, kept for the next world made on the
//! same thread.
//!
//! A sweep, a proptest run or a test suite makes thousands of small worlds
//! one after another; each would otherwise grow its task table, timer queue,
//! ready queue and schedule from nothing (a chain of allocations and copies
//! per world). The containers are emptied before they are kept, so a world
//! built from them behaves exactly like one built from new ones: same task
//! indexes, same timer sequence numbers, same schedule.

use std::cell::RefCell;

use super::TaskTable;
use super::{Target, Timers};
use crate::schedule::ReadyQueue;
use crate::schedule::Schedule;

/// Containers larger than this many entries are not kept (a world that once
/// ran a million tasks should not pin their memory for the rest of the
/// thread's life).
const KEEP_AT_MOST: usize = 4096;

/// The reusable containers of one world, empty.
#[derive(Default)]
pub(crate) struct KeptContainers {
    pub tasks: TaskTable,
    pub timers: Timers,
    pub ready: ReadyQueue,
    pub due_targets: Vec<Target>,
    pub schedule: Schedule,
}

thread_local! {
    /// Boxed, and handed around as a box: the containers are moved out of
    /// it and back field by field (see docs/performance.md, "Moving
    /// through memory").
    static KEPT: RefCell<Option<Box<KeptContainers>>> = const { RefCell::new(None) };
}

impl KeptContainers {
    /// The containers kept from the last world dropped on this thread, or
    /// new ones; ready for world number `world`. The world keeps the box
    /// (emptied) for [`World::keep_containers`](super::World::keep_containers).
    pub fn take(world: u64) -> Box<KeptContainers> {
        let kept = KEPT
            .try_with(|spare| spare.try_borrow_mut().ok()?.take())
            .ok()
            .flatten();
        let mut spare = kept.unwrap_or_default();
        spare.timers.start_world(world);
        spare
    }

    /// Empties the containers and keeps them for the next world (dropping
    /// what they still hold first, outside the keeper's borrow: a timer's
    /// waker may run user code when dropped).
    pub fn keep(mut self: Box<Self>) {
        self.tasks.clear(KEEP_AT_MOST);
        self.timers.clear(KEEP_AT_MOST);
        self.ready.clear();
        self.due_targets.clear();
        self.schedule.clear();
        if self.due_targets.capacity() > KEEP_AT_MOST {
            self.due_targets = Vec::new();
        }
        let _ = KEPT.try_with(|spare| {
            if let Ok(mut spare) = spare.try_borrow_mut() {
                *spare = Some(self);
            }
        });
    }
}

impl super::World {
    /// Hands this world's containers to the next world of the thread. Called
    /// when its `Sim` is dropped, after every task was dropped; a world with
    /// a task still alive (or borrowed) keeps its containers.
    pub fn keep_containers(&self) {
        let (Ok(mut core), Ok(mut ready), Ok(mut due_targets), Ok(mut schedule)) = (
            self.core.try_borrow_mut(),
            self.ready.try_borrow_mut(),
            self.due_targets.try_borrow_mut(),
            self.decider.schedule_container().ok_or(()),
        ) else {
            return;
        };
        if core.tasks.len() > 0 {
            return;
        }
        let mut kept = self.kept.take().unwrap_or_default();
        std::mem::swap(&mut kept.tasks, &mut core.tasks);
        std::mem::swap(&mut kept.timers, &mut core.timers);
        std::mem::swap(&mut kept.ready, &mut *ready);
        std::mem::swap(&mut kept.due_targets, &mut *due_targets);
        std::mem::swap(&mut kept.schedule, &mut *schedule);
        drop((core, ready, due_targets, schedule));
        kept.keep();
    }
}
