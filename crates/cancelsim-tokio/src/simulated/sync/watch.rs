//! `tokio::sync::watch`, with a deterministic wake order.
//!
//! tokio's receivers wait on one of eight waiter lists, picked by a
//! thread-local random number the simulation cannot seed, and a send wakes
//! the lists in order: which of two waiting tasks runs first would change
//! from run to run, and the sweep would call correct code nondeterministic.
//! Here the value, versions and closing are tokio's own channel; the waiting
//! is one `Notify` per channel, which wakes its waiters in a fixed order.
//!
//! The types are this module's, not tokio's: a crate that takes a real
//! `tokio::sync::watch::Receiver` gets one with [`Receiver::into_tokio`]
//! (tokio-stream's `WatchStream`, through `cancelsim-tokio-stream`, takes
//! this module's).

use std::fmt;
use std::sync::Arc;

pub use tokio::sync::watch::{error, Ref};
use tokio::sync::Notify;

/// Creates a watch channel holding `init` (tokio's `watch::channel`).
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let (sender, receiver) = tokio::sync::watch::channel(init);
    let wake = Arc::new(Notify::new());
    (
        Sender {
            inner: sender,
            wake: Arc::clone(&wake),
        },
        Receiver {
            inner: receiver,
            wake,
        },
    )
}

/// The receiving half of a watch channel (tokio's `watch::Receiver`).
pub struct Receiver<T> {
    inner: tokio::sync::watch::Receiver<T>,
    wake: Arc<Notify>,
}

/// The sending half of a watch channel (tokio's `watch::Sender`).
pub struct Sender<T> {
    inner: tokio::sync::watch::Sender<T>,
    wake: Arc<Notify>,
}

impl<T> Receiver<T> {
    /// The most recent value, without marking it seen.
    pub fn borrow(&self) -> Ref<'_, T> {
        self.inner.borrow()
    }

    /// The most recent value, marked seen.
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        self.inner.borrow_and_update()
    }

    /// Whether a value not yet seen is there; an error once every sender
    /// is gone.
    pub fn has_changed(&self) -> Result<bool, error::RecvError> {
        self.inner.has_changed()
    }

    /// Whether every sender is gone.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Marks the current value as not seen.
    pub fn mark_changed(&mut self) {
        self.inner.mark_changed();
    }

    /// Marks the current value as seen.
    pub fn mark_unchanged(&mut self) {
        self.inner.mark_unchanged();
    }

    /// Waits for a value not yet seen and marks it seen; an error once
    /// every sender is gone and every value was seen. Cancel safe, as
    /// tokio's.
    pub async fn changed(&mut self) -> Result<(), error::RecvError> {
        let wake = Arc::clone(&self.wake);
        loop {
            let notified = wake.notified();
            let mut notified = std::pin::pin!(notified);
            // Registered before the check, so a send between the check and
            // the wait is not missed.
            notified.as_mut().enable();
            if let Some(result) = self.maybe_changed() {
                return result;
            }
            notified.await;
        }
    }

    /// Waits until the value satisfies `f` (checked on the current value
    /// first), marks it seen and returns it; an error once every sender is
    /// gone without a value that satisfies `f`.
    pub async fn wait_for(
        &mut self,
        mut f: impl FnMut(&T) -> bool,
    ) -> Result<Ref<'_, T>, error::RecvError> {
        let mut closed = None;
        loop {
            let matched = {
                let value = self.inner.borrow_and_update();
                (closed.is_none() || value.has_changed()) && f(&value)
            };
            if matched {
                break;
            }
            if let Some(error) = closed {
                return Err(error);
            }
            closed = self.changed().await.err();
        }
        Ok(self.inner.borrow())
    }

    /// Whether both receivers belong to the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        self.inner.same_channel(&other.inner)
    }

    /// tokio's own receiver of this channel, for a crate that takes one.
    /// Its `changed()` wakes in tokio's random order again.
    pub fn into_tokio(self) -> tokio::sync::watch::Receiver<T> {
        self.inner
    }

    /// tokio's `maybe_changed`: a new version wins over closing.
    fn maybe_changed(&mut self) -> Option<Result<(), error::RecvError>> {
        if self.inner.borrow().has_changed() {
            self.inner.mark_unchanged();
            return Some(Ok(()));
        }
        match self.inner.has_changed() {
            Err(closed) => Some(Err(closed)),
            Ok(_) => None,
        }
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        Receiver {
            inner: self.inner.clone(),
            wake: Arc::clone(&self.wake),
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl<T> Sender<T> {
    /// A sender with no receiver yet (tokio's `Sender::new`).
    pub fn new(init: T) -> Self {
        channel(init).0
    }

    /// Sends a value if a receiver is left (tokio's `send`).
    pub fn send(&self, value: T) -> Result<(), error::SendError<T>> {
        let sent = self.inner.send(value);
        if sent.is_ok() {
            self.wake.notify_waiters();
        }
        sent
    }

    /// Modifies the value in place and notifies the receivers.
    pub fn send_modify<F: FnOnce(&mut T)>(&self, modify: F) {
        self.inner.send_modify(modify);
        self.wake.notify_waiters();
    }

    /// Modifies the value in place; notifies the receivers if `modify`
    /// returns `true`.
    pub fn send_if_modified<F: FnOnce(&mut T) -> bool>(&self, modify: F) -> bool {
        let modified = self.inner.send_if_modified(modify);
        if modified {
            self.wake.notify_waiters();
        }
        modified
    }

    /// Replaces the value, receivers or not, and returns the old one.
    pub fn send_replace(&self, value: T) -> T {
        let old = self.inner.send_replace(value);
        self.wake.notify_waiters();
        old
    }

    /// The current value.
    pub fn borrow(&self) -> Ref<'_, T> {
        self.inner.borrow()
    }

    /// Whether every receiver is gone.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Waits until every receiver is gone.
    pub async fn closed(&self) {
        self.inner.closed().await;
    }

    /// A new receiver that has seen the current value.
    pub fn subscribe(&self) -> Receiver<T> {
        Receiver {
            inner: self.inner.subscribe(),
            wake: Arc::clone(&self.wake),
        }
    }

    /// The number of receivers.
    pub fn receiver_count(&self) -> usize {
        self.inner.receiver_count()
    }

    /// The number of senders.
    pub fn sender_count(&self) -> usize {
        self.inner.sender_count()
    }

    /// Whether both senders belong to the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        self.inner.same_channel(&other.inner)
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if self.inner.sender_count() == 1 {
            // The last sender: tokio closes the channel as `inner` drops,
            // right after this; the woken receivers run later and see it.
            self.wake.notify_waiters();
        }
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender {
            inner: self.inner.clone(),
            wake: Arc::clone(&self.wake),
        }
    }
}

impl<T: Default> Default for Sender<T> {
    fn default() -> Self {
        Sender::new(T::default())
    }
}

impl<T: fmt::Debug> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
