//! The scope around the innermost one at an await point: a wait inside a
//! `timeout` (or a `select!` against a timer) that is itself inside
//! another — a batcher's own deadline `select!` polled as a branch of a
//! loop's `select!` against its report ticks. An expiry at the await point
//! expires the innermost scope (`timeout@T:P`); the outer one's deadline
//! can come while the inner operation still waits too, dropping it
//! half-done with all it gathered (`timeout-outer@T:P`).
//!
//! The outer scope is noted with the wait (the stack of scopes then, see
//! `World::note_wait`) and settled by the races around it
//! (`World::settle_race_poll`); at suspension it is kept for the few tasks
//! that wait inside two scopes, so that the hot path of a suspension
//! outside nested scopes reads one flag.

use super::race::RACE_PLACEHOLDER;
use super::{TaskKey, World};
use crate::trace::SourceLocation;

impl World {
    /// `key` suspends inside two scopes, the outer being `outer` (`None`:
    /// not, or no longer).
    #[cold]
    pub(super) fn note_outer_scope(&self, key: TaskKey, outer: Option<(u32, SourceLocation)>) {
        let outer = outer.filter(|(scope, _)| *scope != RACE_PLACEHOLDER);
        let mut kept = self.outer_scopes.borrow_mut();
        let index = kept.iter().position(|(task, _)| *task == key);
        match (index, outer) {
            (Some(index), Some(outer)) => kept[index].1 = outer,
            (None, Some(outer)) => kept.push((key, outer)),
            (Some(index), None) => {
                kept.swap_remove(index);
            }
            (None, None) => {}
        }
        self.has_outer_scopes.set(!kept.is_empty());
    }

    /// The scope around the innermost one where `key` waits, if it waits
    /// inside two.
    pub(super) fn outer_scope_of(&self, key: TaskKey) -> Option<(u32, SourceLocation)> {
        if !self.has_outer_scopes.get() {
            return None;
        }
        self.outer_scopes
            .borrow()
            .iter()
            .find(|(task, _)| *task == key)
            .map(|(_, outer)| *outer)
    }

    /// `key` ended: it waits nowhere.
    #[inline]
    pub(super) fn forget_outer_scope(&self, key: TaskKey) {
        if self.has_outer_scopes.get() {
            self.note_outer_scope(key, None);
        }
    }
}
