//! Exceptions, as asyncio raises them: a `CancelledError` (with the
//! delivered `Cancelled` it came from, if any, and the message of
//! `cancel(msg)`) or an error of a named type (`TimeoutError`,
//! `RuntimeError` for `fail`, `ExceptionGroup` for a failed `group`, or a
//! user-named type).
//!
//! The text of an error (its outcome's detail) is Python's: the message
//! alone for a `RuntimeError`, else `Type: message` (`Type` when there is no
//! message), so that the exported program prints the same words.

use crate::cancel::Cancelled;

/// Why a block stopped early.
pub(super) enum Raise {
    /// `CancelledError`.
    Cancelled(CancelledError),
    /// Any other exception.
    Error(Exc),
}

/// A `CancelledError`: the delivered request it came from (kept so that the
/// `cancel-swallowed` oracle sees it reach the task's output) and the
/// message given to `cancel`.
pub(super) struct CancelledError {
    pub(super) token: Option<Cancelled>,
    pub(super) message: Option<String>,
}

impl CancelledError {
    /// One that no delivered request stands behind (awaiting a task that
    /// ended cancelled, a cancelled shield).
    pub(super) fn raised(message: Option<String>) -> Self {
        CancelledError {
            token: None,
            message,
        }
    }
}

/// An exception other than `CancelledError`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Exc {
    /// Its type's name.
    pub(super) kind: String,
    /// `str(exc)`.
    pub(super) message: String,
    /// The exceptions of an `ExceptionGroup`.
    pub(super) group: Vec<Exc>,
}

/// The message of the `ExceptionGroup` a failed task group raises.
pub(super) const GROUP_MESSAGE: &str = "unhandled errors in a TaskGroup";

impl Exc {
    pub(super) fn new(kind: &str, message: impl Into<String>) -> Self {
        Exc {
            kind: kind.to_string(),
            message: message.into(),
            group: Vec::new(),
        }
    }

    /// `fail "message"`.
    pub(super) fn runtime(message: impl Into<String>) -> Self {
        Exc::new("RuntimeError", message)
    }

    /// `TimeoutError()`.
    pub(super) fn timeout() -> Self {
        Exc::new("TimeoutError", "")
    }

    /// `ExceptionGroup('unhandled errors in a TaskGroup', errors)`.
    pub(super) fn group(errors: Vec<Exc>) -> Self {
        let count = errors.len();
        Exc {
            kind: "ExceptionGroup".to_string(),
            message: format!(
                "{GROUP_MESSAGE} ({count} sub-exception{})",
                if count == 1 { "" } else { "s" }
            ),
            group: errors,
        }
    }

    pub(super) fn is_timeout(&self) -> bool {
        self.kind == "TimeoutError"
    }

    /// The outcome's detail: what the exported program prints for it.
    pub(super) fn detail(&self) -> String {
        if self.kind == "RuntimeError" {
            self.message.clone()
        } else if self.message.is_empty() {
            self.kind.clone()
        } else {
            format!("{}: {}", self.kind, self.message)
        }
    }
}
