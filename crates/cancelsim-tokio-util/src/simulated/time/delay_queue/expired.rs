//! [`Expired`]: an element of a `DelayQueue` whose deadline was reached.
//!
//! Ported from tokio-util 0.7.20 (`src/time/delay_queue.rs`, MIT, Copyright
//! (c) Tokio Contributors).

use cancelsim_tokio::time::Instant;

use super::Key;

/// An entry in `DelayQueue` that has expired and been removed.
///
/// Values are returned by [`DelayQueue::poll_expired`].
///
/// [`DelayQueue::poll_expired`]: method@super::DelayQueue::poll_expired
#[derive(Debug)]
pub struct Expired<T> {
    /// The data stored in the queue
    pub(super) data: T,

    /// The expiration time
    pub(super) deadline: Instant,

    /// The key associated with the entry
    pub(super) key: Key,
}

impl<T> Expired<T> {
    /// Returns a reference to the inner value.
    pub fn get_ref(&self) -> &T {
        &self.data
    }

    /// Returns a mutable reference to the inner value.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.data
    }

    /// Consumes `self` and returns the inner value.
    pub fn into_inner(self) -> T {
        self.data
    }

    /// Returns the deadline that the expiration was set to.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Returns the key that the expiration is indexed by.
    pub fn key(&self) -> Key {
        self.key
    }
}
