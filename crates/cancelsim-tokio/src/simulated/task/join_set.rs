//! `JoinSet`: tasks joined in the order they finish; dropping the set
//! aborts them.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use ::futures::stream::{FuturesUnordered, StreamExt};

use super::{spawn, spawn_blocking, AbortHandle, Id, JoinError, JoinHandle};

/// A set of tasks joined in the order they finish (tokio's `JoinSet`).
/// Dropping it aborts every task still in it.
pub struct JoinSet<T> {
    tasks: FuturesUnordered<Member<T>>,
}

/// A task of a [`JoinSet`], joined with its id.
struct Member<T> {
    handle: JoinHandle<T>,
    id: Id,
}

impl<T> Future for Member<T> {
    type Output = (Id, Result<T, JoinError>);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let id = self.id;
        Pin::new(&mut self.handle)
            .poll(cx)
            .map(|result| (id, result))
    }
}

impl<T> Default for JoinSet<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len()).finish()
    }
}

impl<T> JoinSet<T> {
    /// An empty set.
    pub fn new() -> Self {
        JoinSet {
            tasks: FuturesUnordered::new(),
        }
    }

    /// Tasks in the set (finished but not joined ones included).
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// No task in the set.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Aborts every task in the set (they stay in it until joined).
    #[track_caller]
    pub fn abort_all(&mut self) {
        for task in self.tasks.iter() {
            task.handle.abort();
        }
    }

    /// Removes every task from the set without aborting it.
    pub fn detach_all(&mut self) {
        self.tasks = FuturesUnordered::new();
    }
}

impl<T: 'static> JoinSet<T> {
    /// Spawns `future` into the set.
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.insert(spawn(future))
    }

    /// Same as [`JoinSet::spawn`] (every simulated task is local).
    #[track_caller]
    pub fn spawn_local<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.insert(spawn(future))
    }

    /// Spawns blocking work into the set.
    #[track_caller]
    pub fn spawn_blocking<F>(&mut self, f: F) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send,
    {
        self.insert(spawn_blocking(f))
    }

    /// Spawns `future` into the set on the runtime of `handle` (there is
    /// one simulated runtime: the same as [`JoinSet::spawn`]).
    #[track_caller]
    pub fn spawn_on<F>(&mut self, future: F, handle: &crate::runtime::Handle) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        let _ = handle;
        self.insert(spawn(future))
    }

    /// Spawns `future` into the set on `local_set` (every simulated task is
    /// local: the same as [`JoinSet::spawn`]).
    #[track_caller]
    pub fn spawn_local_on<F>(&mut self, future: F, local_set: &super::LocalSet) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        let _ = local_set;
        self.insert(spawn(future))
    }

    /// Spawns blocking work into the set on the runtime of `handle` (the
    /// same as [`JoinSet::spawn_blocking`]).
    #[track_caller]
    pub fn spawn_blocking_on<F>(&mut self, f: F, handle: &crate::runtime::Handle) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send,
    {
        let _ = handle;
        self.insert(spawn_blocking(f))
    }

    fn insert(&mut self, handle: JoinHandle<T>) -> AbortHandle {
        let abort = handle.abort_handle();
        let id = handle.id();
        self.tasks.push(Member { handle, id });
        abort
    }

    /// Waits for the next task to finish; `None` when the set is empty.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        self.tasks.next().await.map(|(_, result)| result)
    }

    /// Like `join_next`, with the task's id.
    pub async fn join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        self.tasks
            .next()
            .await
            .map(|(id, result)| result.map(|value| (id, value)))
    }

    /// A task that has finished already, if any (never waits).
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        self.try_join_next_with_id()
            .map(|result| result.map(|(_, value)| value))
    }

    /// Like `try_join_next`, with the task's id.
    pub fn try_join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        match self.poll_join_next_with_id(&mut cx) {
            Poll::Ready(result) => result,
            Poll::Pending => None,
        }
    }

    /// Polls for the next task to finish: `Ready(None)` when the set is
    /// empty.
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        self.poll_join_next_with_id(cx)
            .map(|next| next.map(|result| result.map(|(_, value)| value)))
    }

    /// Like `poll_join_next`, with the task's id.
    pub fn poll_join_next_with_id(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<(Id, T), JoinError>>> {
        self.tasks
            .poll_next_unpin(cx)
            .map(|next| next.map(|(id, result)| result.map(|value| (id, value))))
    }

    /// Aborts every task and waits until all have ended.
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Waits for every task, in the order they finish.
    ///
    /// # Panics
    ///
    /// When a task panicked (resumed here) or was aborted.
    pub async fn join_all(mut self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.len());
        while let Some(result) = self.join_next().await {
            match result {
                Ok(value) => out.push(value),
                Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
                Err(error) => panic!("{error}"),
            }
        }
        out
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        for task in self.tasks.iter() {
            if let Some(inner) = &task.handle.inner {
                inner.request_abort();
            }
        }
    }
}

impl<T: 'static, F> FromIterator<F> for JoinSet<T>
where
    F: Future<Output = T> + 'static,
{
    #[track_caller]
    fn from_iter<I: IntoIterator<Item = F>>(iter: I) -> Self {
        let mut set = JoinSet::new();
        for future in iter {
            set.spawn(future);
        }
        set
    }
}
