//! Why a task gave no value.

use std::any::Any;
use std::fmt;

use super::TaskId;

/// A task ended without a value: it was aborted (dropped at an await point)
/// or it panicked.
///
/// One pointer wide, so that `Result<T, JoinError>` stays small on the
/// success path every join takes.
pub struct JoinError(Box<Inner>);

struct Inner {
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
        JoinError(Box::new(Inner {
            id,
            repr: Repr::Cancelled,
        }))
    }

    pub(crate) fn panic(id: TaskId, message: String, payload: Box<dyn Any + Send>) -> Self {
        JoinError(Box::new(Inner {
            id,
            repr: Repr::Panic { message, payload },
        }))
    }

    /// The task that failed.
    pub fn id(&self) -> TaskId {
        self.0.id
    }

    /// The task was aborted (its future dropped) before it finished.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.0.repr, Repr::Cancelled)
    }

    /// The task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.0.repr, Repr::Panic { .. })
    }

    /// The panic message with its location, if the task panicked.
    pub fn panic_message(&self) -> Option<&str> {
        match &self.0.repr {
            Repr::Panic { message, .. } => Some(message),
            Repr::Cancelled => None,
        }
    }

    /// The panic payload, by reference, if the task panicked.
    pub fn panic_payload(&self) -> Option<&(dyn Any + Send)> {
        match &self.0.repr {
            Repr::Panic { payload, .. } => Some(payload.as_ref()),
            Repr::Cancelled => None,
        }
    }

    /// The panic payload (to `resume_unwind` it), or the error back.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send>, JoinError> {
        let Inner { id, repr } = *self.0;
        match repr {
            Repr::Panic { payload, .. } => Ok(payload),
            Repr::Cancelled => Err(JoinError::cancelled(id)),
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
        match &self.0.repr {
            Repr::Cancelled => write!(f, "task {} was cancelled", self.0.id),
            Repr::Panic { message, .. } => write!(f, "task {} panicked: {message}", self.0.id),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0.repr {
            Repr::Cancelled => write!(f, "JoinError::Cancelled({})", self.0.id),
            Repr::Panic { message, .. } => {
                write!(f, "JoinError::Panic({}, {message:?})", self.0.id)
            }
        }
    }
}

impl std::error::Error for JoinError {}
