//! Exceptions, as asyncio raises them: a `CancelledError` (with the
//! delivered `Cancelled` it came from, if any, and the message of
//! `cancel(msg)`) or an exception of a named type (`TimeoutError`,
//! `RuntimeError` for `fail`, `ExceptionGroup` for a failed `group`, or a
//! type of the scenario's own), and how an `except*` splits a group.
//!
//! The text of an error (its outcome's detail) is Python's: the message
//! alone for a `RuntimeError`, else `Type: message` (`Type` when there is no
//! message), so that the exported program prints the same words.

use crate::cancel::Cancelled;
use crate::scenario::exceptions::is_instance;

/// Why a block stopped early.
pub(super) enum Raise {
    /// `CancelledError`.
    Cancelled(CancelledError),
    /// Any other exception.
    Error(Exc),
}

impl Raise {
    /// Its type's name.
    pub(super) fn kind(&self) -> &str {
        match self {
            Raise::Cancelled(_) => "CancelledError",
            Raise::Error(exc) => &exc.kind,
        }
    }

    /// `str(exc)`.
    pub(super) fn text(&self) -> String {
        match self {
            Raise::Cancelled(cancelled) => cancelled.message.clone().unwrap_or_default(),
            Raise::Error(exc) => exc.text(),
        }
    }

    /// Is it caught by `except` of one of `kinds` (none: a bare `except`)?
    pub(super) fn is_caught_by(&self, kinds: &[String]) -> bool {
        kinds.is_empty() || kinds.iter().any(|kind| is_instance(self.kind(), kind))
    }
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
    /// Its message (for a group, without the count Python adds).
    pub(super) message: String,
    /// The exceptions of an `ExceptionGroup`.
    pub(super) group: Vec<Exc>,
}

/// Python's `repr` of a string.
fn python_repr(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::from(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
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

    /// `ExceptionGroup(message, errors)`.
    pub(super) fn group(message: &str, errors: Vec<Exc>) -> Self {
        Exc {
            kind: "ExceptionGroup".to_string(),
            message: message.to_string(),
            group: errors,
        }
    }

    pub(super) fn is_group(&self) -> bool {
        is_instance(&self.kind, "BaseExceptionGroup")
    }

    pub(super) fn is_timeout(&self) -> bool {
        is_instance(&self.kind, "TimeoutError")
    }

    /// `str(exc)`.
    pub(super) fn text(&self) -> String {
        if self.is_group() {
            let count = self.group.len();
            format!(
                "{} ({count} sub-exception{})",
                self.message,
                if count == 1 { "" } else { "s" }
            )
        } else if is_instance(&self.kind, "KeyError") && !self.message.is_empty() {
            // str(KeyError(key)) is repr(key).
            python_repr(&self.message)
        } else {
            self.message.clone()
        }
    }

    /// The outcome's detail: what the exported program prints for it.
    pub(super) fn detail(&self) -> String {
        let text = self.text();
        if self.kind == "RuntimeError" {
            text
        } else if text.is_empty() {
            self.kind.clone()
        } else {
            format!("{}: {text}", self.kind)
        }
    }

    /// The leaves of a group (itself, when not a group), depth first.
    fn leaf_count(&self) -> usize {
        if self.is_group() {
            self.group.iter().map(Exc::leaf_count).sum()
        } else {
            1
        }
    }

    /// Python's `split`: the part whose leaves `keep` accepts (leaves are
    /// numbered depth first from `first`), with the group structure around
    /// them; `None` when no leaf is kept.
    pub(super) fn subgroup(&self, first: usize, keep: &dyn Fn(usize, &Exc) -> bool) -> Option<Exc> {
        if !self.is_group() {
            return keep(first, self).then(|| self.clone());
        }
        let mut index = first;
        let mut kept = Vec::new();
        for child in &self.group {
            if let Some(part) = child.subgroup(index, keep) {
                kept.push(part);
            }
            index += child.leaf_count();
        }
        (!kept.is_empty()).then(|| Exc {
            kind: self.kind.clone(),
            message: self.message.clone(),
            group: kept,
        })
    }

    /// The numbers of the leaves `keep` accepts.
    pub(super) fn leaves(&self, first: usize, keep: &dyn Fn(&Exc) -> bool, out: &mut Vec<usize>) {
        if !self.is_group() {
            if keep(self) {
                out.push(first);
            }
            return;
        }
        let mut index = first;
        for child in &self.group {
            child.leaves(index, keep, out);
            index += child.leaf_count();
        }
    }
}
