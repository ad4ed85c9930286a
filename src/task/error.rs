//! Why a task gave no value.

use std::any::Any;
use std::fmt;

use super::TaskId;

/// A task ended without a value: it was aborted (dropped at an await point)
/// or it panicked.
pub struct JoinError {
    id: TaskId,
    repr: Repr,
}

enum Repr {
    Cancelled,
    Panic {
        message: String,
        payload: Box<dyn Any + Send>,
    },
}

impl JoinError {
    pub(crate) fn cancelled(id: TaskId) -> Self {
        JoinError {
            id,
            repr: Repr::Cancelled,
        }
    }

    pub(crate) fn panic(id: TaskId, message: String, payload: Box<dyn Any + Send>) -> Self {
        JoinError {
            id,
            repr: Repr::Panic { message, payload },
        }
    }

    /// The task that failed.
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// The task was aborted (its future dropped) before it finished.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// The task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic { .. })
    }

    /// The panic message with its location, if the task panicked.
    pub fn panic_message(&self) -> Option<&str> {
        match &self.repr {
            Repr::Panic { message, .. } => Some(message),
            Repr::Cancelled => None,
        }
    }

    /// The panic payload (to `resume_unwind` it), or the error back.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send>, JoinError> {
        match self.repr {
            Repr::Panic { payload, .. } => Ok(payload),
            Repr::Cancelled => Err(self),
        }
    }

    /// The panic payload.
    ///
    /// # Panics
    ///
    /// If the task was cancelled rather than panicking.
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send> {
        self.try_into_panic()
            .expect("`JoinError::into_panic` on a cancelled task")
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "task {} was cancelled", self.id),
            Repr::Panic { message, .. } => write!(f, "task {} panicked: {message}", self.id),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "JoinError::Cancelled({})", self.id),
            Repr::Panic { message, .. } => write!(f, "JoinError::Panic({}, {message:?})", self.id),
        }
    }
}

impl std::error::Error for JoinError {}
