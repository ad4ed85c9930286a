//! `JoinHandle`, `AbortHandle` and `JoinError`: cancelsim's, wrapped to be
//! `Send + Sync` as tokio's.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use send_wrapper::SendWrapper;

use super::Id;

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
    pub(crate) fn new(inner: ::cancelsim::JoinError) -> Self {
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
    pub(super) inner: Option<SendWrapper<::cancelsim::JoinHandle<T>>>,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(inner: ::cancelsim::JoinHandle<T>) -> Self {
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

    /// `abort`, recorded as asked at `at` (a call site of the user's that
    /// a `JoinSet` captured).
    pub(crate) fn abort_located(&self, at: &'static std::panic::Location<'static>) {
        self.handle().request_abort_located(at);
    }

    /// The simulated task.
    pub(crate) fn task(&self) -> ::cancelsim::TaskId {
        self.handle().id()
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
