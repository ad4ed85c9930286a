//! `JoinSet`: tasks joined in the order they finish; dropping the set
//! aborts them.
//!
//! Reports show the user's call sites: `join_next`, `shutdown` and
//! `join_all` capture theirs with `#[track_caller]` when their future is
//! made, a wait in them is noted as a join at that site
//! ([`cancelsim::note_wait`]), and their aborts are recorded there; a
//! dropped set's aborts are recorded where the set was made (the drop
//! itself has no call site to capture).

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

use ::cancelsim::trace::{Wait, WaitKind};

use ::futures::stream::{FuturesUnordered, StreamExt as _};

use super::{spawn, spawn_blocking, AbortHandle, Id, JoinError, JoinHandle};

/// A set of tasks joined in the order they finish (tokio's `JoinSet`).
/// Dropping it aborts every task still in it.
pub struct JoinSet<T> {
    tasks: FuturesUnordered<Member<T>>,
    /// Where the set was made: its `Drop`'s aborts are recorded there.
    made_at: &'static Location<'static>,
}

/// A task of the set that ended: its id and how.
type Joined<T> = (Id, Result<T, JoinError>);

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
    #[track_caller]
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
    #[track_caller]
    pub fn new() -> Self {
        JoinSet {
            tasks: FuturesUnordered::new(),
            made_at: Location::caller(),
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
        self.abort_all_located(Location::caller());
    }

    fn abort_all_located(&mut self, at: &'static Location<'static>) {
        for task in self.tasks.iter() {
            task.handle.abort_located(at);
        }
    }

    /// Polls for the next task to finish, the poll noted as a wait at `at`
    /// (on the first task of the set still running) when it is pending;
    /// returns the wait noted.
    fn poll_next_located(
        &mut self,
        cx: &mut Context<'_>,
        at: &'static Location<'static>,
    ) -> (Poll<Option<Joined<T>>>, Option<Wait>) {
        // Every task still running is waited for (a timeout around the
        // join expires when one is slow), also those the set does not
        // poll again until they wake it.
        let wait = self
            .tasks
            .iter()
            .filter(|member| !member.handle.is_finished())
            .map(|member| member.handle.task())
            .inspect(|&task| ::cancelsim::note_join(task))
            .min()
            .map(|task| Wait {
                kind: WaitKind::Join(task),
                at: Some(at),
            });
        // Noted before the members are polled: their own notes (at their
        // spawn sites) lose.
        if let Some(wait) = wait {
            ::cancelsim::note_wait(wait);
        }
        let next = self.tasks.poll_next_unpin(cx);
        match (next.is_ready(), wait) {
            (true, Some(wait)) => {
                ::cancelsim::retract_wait(wait);
                (next, None)
            }
            _ => (next, wait),
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

    /// Waits for the next task to finish; `None` when the set is empty
    /// (tokio's `async fn join_next`).
    #[track_caller]
    pub fn join_next(&mut self) -> impl Future<Output = Option<Result<T, JoinError>>> + '_ {
        let next = JoinNext::new(self, Location::caller());
        async move { next.await.map(|(_, result)| result) }
    }

    /// Like `join_next`, with the task's id.
    #[track_caller]
    pub fn join_next_with_id(
        &mut self,
    ) -> impl Future<Output = Option<Result<(Id, T), JoinError>>> + '_ {
        let next = JoinNext::new(self, Location::caller());
        async move {
            next.await
                .map(|(id, result)| result.map(|value| (id, value)))
        }
    }

    /// A task that has finished already, if any (never waits).
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        self.try_join_next_with_id()
            .map(|result| result.map(|(_, value)| value))
    }

    /// Like `try_join_next`, with the task's id.
    pub fn try_join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        // Not a wait: nothing is noted.
        let mut cx = Context::from_waker(std::task::Waker::noop());
        match self.tasks.poll_next_unpin(&mut cx) {
            Poll::Ready(next) => next.map(|(id, result)| result.map(|value| (id, value))),
            Poll::Pending => None,
        }
    }

    /// Polls for the next task to finish: `Ready(None)` when the set is
    /// empty.
    #[track_caller]
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        self.poll_next_located(cx, Location::caller())
            .0
            .map(|next| next.map(|(_, result)| result))
    }

    /// `poll_join_next`, waiting at `at` (a companion crate's wrapper,
    /// named where its user made it).
    pub(crate) fn poll_join_next_at(
        &mut self,
        cx: &mut Context<'_>,
        at: &'static Location<'static>,
    ) -> Poll<Option<Result<T, JoinError>>> {
        self.poll_next_located(cx, at)
            .0
            .map(|next| next.map(|(_, result)| result))
    }

    /// Like `poll_join_next`, with the task's id.
    #[track_caller]
    pub fn poll_join_next_with_id(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<(Id, T), JoinError>>> {
        self.poll_next_located(cx, Location::caller())
            .0
            .map(|next| next.map(|(id, result)| result.map(|value| (id, value))))
    }

    /// Aborts every task and waits until all have ended (tokio's
    /// `async fn shutdown`; the aborts are made when first polled).
    #[track_caller]
    pub fn shutdown(&mut self) -> impl Future<Output = ()> + '_ {
        let at = Location::caller();
        async move {
            self.abort_all_located(at);
            while JoinNext::new(self, at).await.is_some() {}
        }
    }

    /// Waits for every task, in the order they finish (tokio's
    /// `async fn join_all`).
    ///
    /// # Panics
    ///
    /// When a task panicked (resumed here) or was aborted.
    #[track_caller]
    pub fn join_all(mut self) -> impl Future<Output = Vec<T>> {
        let at = Location::caller();
        async move {
            let mut out = Vec::with_capacity(self.len());
            while let Some((_, result)) = JoinNext::new(&mut self, at).await {
                match result {
                    Ok(value) => out.push(value),
                    Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
                    Err(error) => panic!("{error}"),
                }
            }
            out
        }
    }
}

/// The wait for a set's next task, at its user's call site.
struct JoinNext<'a, T> {
    set: &'a mut JoinSet<T>,
    at: &'static Location<'static>,
    /// The wait the last pending poll noted (withdrawn if dropped in the
    /// same poll, as a lost `select!` branch is).
    noted: Option<Wait>,
}

impl<'a, T: 'static> JoinNext<'a, T> {
    fn new(set: &'a mut JoinSet<T>, at: &'static Location<'static>) -> Self {
        JoinNext {
            set,
            at,
            noted: None,
        }
    }
}

impl<T: 'static> Future for JoinNext<'_, T> {
    type Output = Option<Joined<T>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let (next, noted) = this.set.poll_next_located(cx, this.at);
        this.noted = noted;
        next
    }
}

impl<T> Drop for JoinNext<'_, T> {
    fn drop(&mut self) {
        if let Some(wait) = self.noted.take() {
            ::cancelsim::retract_wait(wait);
        }
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        for task in self.tasks.iter() {
            if task.handle.inner.is_some() {
                task.handle.abort_located(self.made_at);
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
