//! `JoinQueue`: tasks joined in the order they were spawned; dropping the
//! queue aborts them (tokio-util's, over the facade's tasks).

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use cancelsim_tokio::runtime::Handle;
use cancelsim_tokio::task::{AbortHandle, Id, JoinError, JoinHandle};

use super::AbortOnDropHandle;

/// Tasks joined in the order they were spawned (tokio-util's `JoinQueue`).
pub struct JoinQueue<T>(VecDeque<AbortOnDropHandle<T>>);

impl<T> JoinQueue<T> {
    /// An empty queue.
    pub const fn new() -> Self {
        JoinQueue(VecDeque::new())
    }

    /// An empty queue with room for `capacity` tasks.
    pub fn with_capacity(capacity: usize) -> Self {
        JoinQueue(VecDeque::with_capacity(capacity))
    }

    /// Tasks in the queue.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// No task in the queue.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<T: 'static> JoinQueue<T> {
    /// Spawns `task` at the back of the queue.
    #[track_caller]
    pub fn spawn<F>(&mut self, task: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.push_back(cancelsim_tokio::spawn(task))
    }

    /// Spawns `task` on `handle`'s runtime (the one simulated runtime).
    #[track_caller]
    pub fn spawn_on<F>(&mut self, task: F, handle: &Handle) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.push_back(handle.spawn(task))
    }

    /// Spawns `task` as a local task.
    #[track_caller]
    pub fn spawn_local<F>(&mut self, task: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.push_back(cancelsim_tokio::task::spawn_local(task))
    }

    /// Spawns blocking work.
    #[track_caller]
    pub fn spawn_blocking<F>(&mut self, f: F) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send,
    {
        self.push_back(cancelsim_tokio::task::spawn_blocking(f))
    }

    /// Spawns blocking work on `handle`'s runtime.
    #[track_caller]
    pub fn spawn_blocking_on<F>(&mut self, f: F, handle: &Handle) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send,
    {
        self.push_back(handle.spawn_blocking(f))
    }

    fn push_back(&mut self, handle: JoinHandle<T>) -> AbortHandle {
        let handle = AbortOnDropHandle::new(handle);
        let abort = handle.abort_handle();
        self.0.push_back(handle);
        abort
    }
}

impl<T> JoinQueue<T> {
    /// Waits for the task at the front; `None` when the queue is empty.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        std::future::poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// Like `join_next`, with the task's id.
    pub async fn join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        std::future::poll_fn(|cx| self.poll_join_next_with_id(cx)).await
    }

    /// The front task's result if it has finished (never waits).
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        self.try_join_next_with_id()
            .map(|result| result.map(|(_, output)| output))
    }

    /// Like `try_join_next`, with the task's id.
    pub fn try_join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        if !self.0.front()?.is_finished() {
            return None;
        }
        let mut cx = Context::from_waker(std::task::Waker::noop());
        match self.poll_join_next_with_id(&mut cx) {
            Poll::Ready(result) => result,
            Poll::Pending => None,
        }
    }

    /// Aborts every task and waits until all have ended.
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Waits for every task, in the queue's order.
    ///
    /// # Panics
    ///
    /// When a task panicked (resumed here) or was aborted.
    pub async fn join_all(mut self) -> Vec<T> {
        let mut output = Vec::with_capacity(self.len());
        while let Some(result) = self.join_next().await {
            match result {
                Ok(value) => output.push(value),
                Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
                Err(error) => panic!("{error}"),
            }
        }
        output
    }

    /// Aborts every task (they stay in the queue until joined).
    #[track_caller]
    pub fn abort_all(&mut self) {
        self.0.iter().for_each(|handle| handle.abort());
    }

    /// Removes every task without aborting it.
    pub fn detach_all(&mut self) {
        self.0.drain(..).for_each(|handle| drop(handle.detach()));
    }

    /// Polls the task at the front: `Ready(None)` when the queue is empty.
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        self.poll_join_next_with_id(cx)
            .map(|next| next.map(|result| result.map(|(_, output)| output)))
    }

    /// Like `poll_join_next`, with the task's id.
    pub fn poll_join_next_with_id(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<(Id, T), JoinError>>> {
        let Some(front) = self.0.front_mut() else {
            return Poll::Ready(None);
        };
        let Poll::Ready(result) = Pin::new(front).poll(cx) else {
            return Poll::Pending;
        };
        // Finished: detach rather than drop, which would abort it.
        let handle = self
            .0
            .pop_front()
            .expect("the front was just polled")
            .detach();
        let id = handle.id();
        Poll::Ready(Some(result.map(|output| (id, output))))
    }
}

impl<T> fmt::Debug for JoinQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|handle| handle.as_ref().id()))
            .finish()
    }
}

impl<T> Default for JoinQueue<T> {
    fn default() -> Self {
        JoinQueue::new()
    }
}

impl<T: 'static, F> FromIterator<F> for JoinQueue<T>
where
    F: Future<Output = T> + 'static,
{
    #[track_caller]
    fn from_iter<I: IntoIterator<Item = F>>(iter: I) -> Self {
        let mut queue = JoinQueue::new();
        iter.into_iter().for_each(|task| {
            queue.spawn(task);
        });
        queue
    }
}
