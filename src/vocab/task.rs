//! Task identity: the public [`TaskId`], and the key and kind the world
//! keeps a task under.

use std::fmt;

/// Identifies one task of one world.
///
/// Ids are handed out in spawn order, starting at 0 for the root future given
/// to [`Sim::block_on`](crate::Sim::block_on). They are never reused within a
/// world, so an id in a trace names exactly one task.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId(pub(crate) u32);

impl TaskId {
    /// The id as a number (0 is the first root).
    pub fn as_u32(self) -> u32 {
        self.0
    }
}

impl fmt::Debug for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Where a task lives in the table, plus its id to detect reuse.
///
/// Aligned as one word, so that it is stored and loaded as one (see
/// docs/performance.md, "Whole words").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, align(8))]
pub(crate) struct TaskKey {
    pub index: u32,
    pub id: TaskId,
}

/// What kind of work a task is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TaskKind {
    /// The future given to `block_on`.
    Root,
    /// `spawn` / `spawn_named`.
    User,
    /// The work inside `shield`.
    Shield,
    /// The work inside `blocking`.
    Blocking,
}
