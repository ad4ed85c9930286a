//! `tokio::task`, simulated: every task runs on cancelsim's executor, named
//! by its spawn location in traces and reports.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use ::futures::stream::{FuturesUnordered, StreamExt};
use send_wrapper::SendWrapper;

pub use tokio::task::{futures, LocalKey};

thread_local! {
    /// The virtual cost of one `spawn_blocking` call.
    pub(crate) static BLOCKING_COST: Cell<Duration> = const { Cell::new(Duration::from_millis(1)) };
}

/// A task's id (tokio's `task::Id`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Id(u64);

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Id {
    fn of(task: ::cancelsim::TaskId) -> Id {
        Id(u64::from(task.as_u32()))
    }
}

/// Spawns a task (`tokio::spawn`). Unnamed tasks are named by where they
/// were spawned (`pool.rs:37#3`). The future need not be `Send` here, but
/// code that compiles against real tokio has one anyway.
///
/// # Panics
///
/// Outside a simulated runtime, with tokio's message.
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    require_runtime();
    JoinHandle::new(::cancelsim::task::spawn_named_by_site(future))
}

/// `tokio::task::spawn_local`: every simulated task is local already.
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    spawn(future)
}

/// `tokio::task::spawn_blocking`: `f` runs as cancelsim blocking work that
/// takes [`set_blocking_cost`](crate::cancelsim::set_blocking_cost) of
/// virtual time (default 1 ms). Like tokio's, it cannot be aborted once
/// started.
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    require_runtime();
    let cost = BLOCKING_COST.with(Cell::get);
    let work = ::cancelsim::blocking(cost, f);
    JoinHandle::new(::cancelsim::task::spawn_named_by_site(work))
}

/// `tokio::task::block_in_place`: runs `f` right here (one simulated thread).
pub fn block_in_place<F: FnOnce() -> R, R>(f: F) -> R {
    f()
}

/// `tokio::task::yield_now`.
#[track_caller]
pub fn yield_now() -> ::cancelsim::YieldNow {
    ::cancelsim::yield_now()
}

/// `tokio::task::consume_budget`: a simulated task has no budget; this
/// yields nothing and returns at once.
pub async fn consume_budget() {}

/// `tokio::task::id`: the current task's id.
///
/// # Panics
///
/// Outside a task.
pub fn id() -> Id {
    try_id().expect("tokio::task::id() called outside of a task")
}

/// `tokio::task::try_id`.
pub fn try_id() -> Option<Id> {
    ::cancelsim::task::current_id().map(Id::of)
}

#[track_caller]
pub(crate) fn require_runtime() {
    if !::cancelsim::in_simulation() {
        panic!(
            "there is no reactor running, must be called from the context of a Tokio 1.x runtime \
             (cancelsim-tokio: this is the simulation build; run the code inside \
             #[tokio::test], #[tokio::main] or Runtime::block_on)"
        );
    }
}

/// Why a task gave no value (tokio's `JoinError`). `Send + Sync` as
/// tokio's, so `?` turns it into a `Box<dyn Error + Send + Sync>`.
pub struct JoinError {
    /// A panic payload is `Send` but not `Sync`: behind a lock, as in tokio
    /// (which keeps it in a `SyncWrapper`).
    inner: std::sync::Mutex<::cancelsim::JoinError>,
    id: Id,
    panicked: bool,
}

impl JoinError {
    fn new(inner: ::cancelsim::JoinError) -> Self {
        JoinError {
            id: Id::of(inner.id()),
            panicked: inner.is_panic(),
            inner: std::sync::Mutex::new(inner),
        }
    }

    fn into_inner(self) -> ::cancelsim::JoinError {
        self.inner
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The task was aborted.
    pub fn is_cancelled(&self) -> bool {
        !self.panicked
    }

    /// The task panicked.
    pub fn is_panic(&self) -> bool {
        self.panicked
    }

    /// The task's panic payload.
    ///
    /// # Panics
    ///
    /// If the task was cancelled.
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn std::any::Any + Send + 'static> {
        self.try_into_panic()
            .expect("`JoinError` reason is not a panic.")
    }

    /// The task's panic payload, or the error back.
    pub fn try_into_panic(self) -> Result<Box<dyn std::any::Any + Send + 'static>, JoinError> {
        self.into_inner().try_into_panic().map_err(JoinError::new)
    }

    /// The id of the task.
    pub fn id(&self) -> Id {
        self.id
    }
}

impl JoinError {
    /// The panic's message as tokio reads it: the payload if it is a
    /// `&str` or a `String`.
    fn payload_message(&self) -> Option<String> {
        let inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let payload = inner.panic_payload()?;
        payload
            .downcast_ref::<&'static str>()
            .map(|message| message.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
    }
}

// The texts are tokio's (`tokio/src/runtime/task/error.rs`).
impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.panicked, self.payload_message()) {
            (false, _) => write!(f, "task {} was cancelled", self.id()),
            (true, Some(message)) => {
                write!(f, "task {} panicked with message {message:?}", self.id())
            }
            (true, None) => write!(f, "task {} panicked", self.id()),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.panicked, self.payload_message()) {
            (false, _) => write!(f, "JoinError::Cancelled({:?})", self.id()),
            (true, Some(message)) => {
                write!(f, "JoinError::Panic({:?}, {message:?}, ...)", self.id())
            }
            (true, None) => write!(f, "JoinError::Panic({:?}, ...)", self.id()),
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(error: JoinError) -> Self {
        std::io::Error::other(if error.is_panic() {
            "task panicked"
        } else {
            "task was cancelled"
        })
    }
}

/// An owned permission to join a task (tokio's `JoinHandle`): dropping it
/// detaches the task, which runs on. `Send + Sync` as tokio's, so it fits
/// in `Send` futures; the simulation runs on one thread, and a handle used
/// on another panics.
pub struct JoinHandle<T> {
    inner: Option<SendWrapper<::cancelsim::JoinHandle<T>>>,
}

impl<T> JoinHandle<T> {
    fn new(inner: ::cancelsim::JoinHandle<T>) -> Self {
        JoinHandle {
            inner: Some(SendWrapper::new(inner)),
        }
    }

    fn handle(&self) -> &::cancelsim::JoinHandle<T> {
        self.inner.as_ref().expect("present until dropped")
    }

    /// Aborts the task: its future is dropped at its await point.
    #[track_caller]
    pub fn abort(&self) {
        self.handle().request_abort();
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
        AbortHandle {
            inner: SendWrapper::new(self.handle().abort_handle()),
        }
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        Id::of(self.handle().id())
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner: &mut ::cancelsim::JoinHandle<T> =
            self.inner.as_mut().expect("present until dropped");
        Pin::new(inner)
            .poll(cx)
            .map(|result| result.map_err(JoinError::new))
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            if inner.valid() {
                inner.take().detach();
            } else {
                // Dropped on another thread than the simulation's: the
                // handle cannot reach its world from here; leave it.
                std::mem::forget(inner);
            }
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .finish()
    }
}

/// A clonable permission to abort a task (tokio's `AbortHandle`).
#[derive(Clone, Debug)]
pub struct AbortHandle {
    inner: SendWrapper<::cancelsim::task::AbortHandle>,
}

impl AbortHandle {
    /// Aborts the task.
    #[track_caller]
    pub fn abort(&self) {
        self.inner.request_abort();
    }

    /// The task has ended.
    pub fn is_finished(&self) -> bool {
        self.inner.is_finished()
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        Id::of(self.inner.id())
    }
}

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
        let mut cx = Context::from_waker(std::task::Waker::noop());
        match self.tasks.poll_next_unpin(&mut cx) {
            Poll::Ready(result) => result.map(|(_, result)| result),
            Poll::Pending => None,
        }
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

/// tokio's `LocalSet`: every simulated task is local, so this only runs
/// its futures and keeps its tasks.
#[derive(Debug, Default)]
pub struct LocalSet {
    _private: (),
}

impl LocalSet {
    /// An empty set.
    pub fn new() -> Self {
        LocalSet::default()
    }

    /// Spawns a task.
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        spawn(future)
    }

    /// Runs `future` to completion.
    pub async fn run_until<F: Future>(&self, future: F) -> F::Output {
        future.await
    }

    /// `rt.block_on(local.run_until(future))`.
    pub fn block_on<F: Future>(&self, rt: &crate::runtime::Runtime, future: F) -> F::Output {
        rt.block_on(future)
    }
}

/// tokio's task `Builder`: a name for the task.
#[derive(Debug, Default)]
pub struct Builder<'a> {
    name: Option<&'a str>,
}

impl<'a> Builder<'a> {
    /// A builder.
    pub fn new() -> Self {
        Builder::default()
    }

    /// The task's name in traces and reports.
    pub fn name(self, name: &'a str) -> Self {
        Builder { name: Some(name) }
    }

    /// Spawns the task.
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> std::io::Result<JoinHandle<F::Output>>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        require_runtime();
        Ok(match self.name {
            Some(name) => JoinHandle::new(::cancelsim::spawn_named(name, future)),
            None => spawn(future),
        })
    }

    /// Spawns the task (every simulated task is local).
    #[track_caller]
    pub fn spawn_local<F>(self, future: F) -> std::io::Result<JoinHandle<F::Output>>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.spawn(future)
    }

    /// Spawns blocking work.
    #[track_caller]
    pub fn spawn_blocking<F, R>(self, f: F) -> std::io::Result<JoinHandle<R>>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        require_runtime();
        let cost = BLOCKING_COST.with(Cell::get);
        let work = ::cancelsim::blocking(cost, f);
        Ok(match self.name {
            Some(name) => JoinHandle::new(::cancelsim::spawn_named(name, work)),
            None => JoinHandle::new(::cancelsim::task::spawn_named_by_site(work)),
        })
    }
}
