//! Task identity.

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
