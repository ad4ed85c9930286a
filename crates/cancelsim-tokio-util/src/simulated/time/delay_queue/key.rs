//! [`Key`]: the token of an element stored in a `DelayQueue`.
//!
//! Ported from tokio-util 0.7.20 (`src/time/delay_queue.rs`, MIT, Copyright
//! (c) Tokio Contributors).

/// Token to a value stored in a `DelayQueue`.
///
/// Instances of `Key` are returned by [`DelayQueue::insert`]. See [`DelayQueue`]
/// documentation for more details.
///
/// [`DelayQueue`]: struct@super::DelayQueue
/// [`DelayQueue::insert`]: method@super::DelayQueue::insert
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub(super) index: usize,
}

impl Key {
    pub(crate) fn new(index: usize) -> Key {
        Key { index }
    }
}
