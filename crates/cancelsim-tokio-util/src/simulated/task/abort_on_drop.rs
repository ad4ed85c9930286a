//! `AbortOnDropHandle` and `AbortOnDrop`: handles that abort their task when
//! dropped. A handle dropped while its task runs (a `select!` loser, an
//! owner that went away) and the program goes on makes the task one the
//! tokio preset drops at each of its await points; one dropped as the test
//! ends does not.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use cancelsim_tokio::task::{AbortHandle, JoinError, JoinHandle};

/// A `JoinHandle` that aborts its task when dropped (tokio-util's
/// `AbortOnDropHandle`).
#[must_use = "Dropping the handle aborts the task immediately"]
pub struct AbortOnDropHandle<T>(Option<JoinHandle<T>>);

impl<T> AbortOnDropHandle<T> {
    /// Aborts `handle`'s task when dropped.
    pub fn new(handle: JoinHandle<T>) -> Self {
        AbortOnDropHandle(Some(handle))
    }

    fn handle(&self) -> &JoinHandle<T> {
        self.0.as_ref().expect("present until detached")
    }

    /// Aborts the task.
    #[track_caller]
    pub fn abort(&self) {
        self.handle().abort();
    }

    /// The task has ended.
    pub fn is_finished(&self) -> bool {
        self.handle().is_finished()
    }

    /// A handle that can abort the task.
    pub fn abort_handle(&self) -> AbortHandle
    where
        T: 'static,
    {
        self.handle().abort_handle()
    }

    /// The plain `JoinHandle` back: dropping it no longer aborts the task.
    pub fn detach(mut self) -> JoinHandle<T> {
        self.0.take().expect("present until detached")
    }
}

impl<T> Drop for AbortOnDropHandle<T> {
    fn drop(&mut self) {
        if let Some(handle) = &self.0 {
            handle.abort();
        }
    }
}

impl<T> fmt::Debug for AbortOnDropHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortOnDropHandle")
            .field("id", &self.handle().id())
            .finish()
    }
}

impl<T> Future for AbortOnDropHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let handle = self.0.as_mut().expect("present until detached");
        Pin::new(handle).poll(cx)
    }
}

impl<T> AsRef<JoinHandle<T>> for AbortOnDropHandle<T> {
    fn as_ref(&self) -> &JoinHandle<T> {
        self.handle()
    }
}

/// An `AbortHandle` that aborts its task when dropped (tokio-util's
/// `AbortOnDrop`).
#[must_use = "Dropping the handle aborts the task immediately"]
pub struct AbortOnDrop(Option<AbortHandle>);

impl AbortOnDrop {
    /// Aborts `handle`'s task when dropped.
    pub fn new(handle: AbortHandle) -> Self {
        AbortOnDrop(Some(handle))
    }

    fn handle(&self) -> &AbortHandle {
        self.0.as_ref().expect("present until detached")
    }

    /// Aborts the task.
    #[track_caller]
    pub fn abort(&self) {
        self.handle().abort();
    }

    /// The task has ended.
    pub fn is_finished(&self) -> bool {
        self.handle().is_finished()
    }

    /// The plain `AbortHandle` back: dropping it no longer aborts the task.
    pub fn detach(mut self) -> AbortHandle {
        self.0.take().expect("present until detached")
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(handle) = &self.0 {
            handle.abort();
        }
    }
}

impl fmt::Debug for AbortOnDrop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortOnDrop")
            .field("id", &self.handle().id())
            .finish()
    }
}
