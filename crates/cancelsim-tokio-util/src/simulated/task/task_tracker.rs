//! `TaskTracker`, simulated: tokio-util's tracker (its counting, closing
//! and waiting do not touch the runtime) with its spawns made on the
//! `cancelsim-tokio` facade.

use std::fmt;
use std::future::Future;

use cancelsim_tokio::runtime::Handle;
use cancelsim_tokio::task::{JoinHandle, LocalSet};

/// tokio-util's futures, unchanged: waiting for a tracker and a tracked
/// future.
pub use tokio_util::task::task_tracker::{TaskTrackerWaitFuture, TrackedFuture};

/// Tracks tasks, and waits until it is closed and they have all ended
/// (tokio-util's `TaskTracker`).
#[derive(Clone, Default)]
pub struct TaskTracker {
    inner: tokio_util::task::TaskTracker,
}

impl TaskTracker {
    /// A new, open tracker.
    #[must_use]
    pub fn new() -> Self {
        TaskTracker::default()
    }

    /// Waits until the tracker is closed and empty.
    pub fn wait(&self) -> TaskTrackerWaitFuture<'_> {
        self.inner.wait()
    }

    /// Closes the tracker; `true` if it was open.
    pub fn close(&self) -> bool {
        self.inner.close()
    }

    /// Reopens the tracker; `true` if it was closed.
    pub fn reopen(&self) -> bool {
        self.inner.reopen()
    }

    /// Is it closed?
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Tasks tracked now.
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// No task tracked now.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// Spawns `task` on the simulated runtime, tracked.
    #[track_caller]
    pub fn spawn<F>(&self, task: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        cancelsim_tokio::task::spawn(self.track_future(task))
    }

    /// Spawns `task` on `handle`'s runtime (the one simulated runtime),
    /// tracked.
    #[track_caller]
    pub fn spawn_on<F>(&self, task: F, handle: &Handle) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        handle.spawn(self.track_future(task))
    }

    /// Spawns `task` as a local task, tracked.
    #[track_caller]
    pub fn spawn_local<F>(&self, task: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        cancelsim_tokio::task::spawn_local(self.track_future(task))
    }

    /// Spawns `task` on `local_set`, tracked.
    #[track_caller]
    pub fn spawn_local_on<F>(&self, task: F, local_set: &LocalSet) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        local_set.spawn_local(self.track_future(task))
    }

    /// Spawns blocking work, tracked until it returns.
    #[track_caller]
    pub fn spawn_blocking<F, T>(&self, task: F) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let token = self.token();
        cancelsim_tokio::task::spawn_blocking(move || {
            let output = task();
            drop(token);
            output
        })
    }

    /// Spawns blocking work on `handle`'s runtime, tracked until it
    /// returns.
    #[track_caller]
    pub fn spawn_blocking_on<F, T>(&self, task: F, handle: &Handle) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let token = self.token();
        handle.spawn_blocking(move || {
            let output = task();
            drop(token);
            output
        })
    }

    /// `future`, tracked until it completes or is dropped.
    pub fn track_future<F: Future>(&self, future: F) -> TrackedFuture<F> {
        self.inner.track_future(future)
    }

    /// A token that counts as a tracked task until dropped.
    pub fn token(&self) -> TaskTrackerToken {
        TaskTrackerToken {
            token: self.inner.token(),
            tracker: self.clone(),
        }
    }

    /// Are both the same tracker?
    pub fn ptr_eq(left: &TaskTracker, right: &TaskTracker) -> bool {
        tokio_util::task::TaskTracker::ptr_eq(&left.inner, &right.inner)
    }
}

impl fmt::Debug for TaskTracker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// Counts as a task of its tracker until dropped (tokio-util's
/// `TaskTrackerToken`).
#[must_use]
pub struct TaskTrackerToken {
    token: tokio_util::task::task_tracker::TaskTrackerToken,
    tracker: TaskTracker,
}

impl TaskTrackerToken {
    /// The tracker of this token.
    #[must_use]
    pub fn task_tracker(&self) -> &TaskTracker {
        &self.tracker
    }
}

impl Clone for TaskTrackerToken {
    fn clone(&self) -> TaskTrackerToken {
        self.tracker.token()
    }
}

impl fmt::Debug for TaskTrackerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.token.fmt(f)
    }
}
