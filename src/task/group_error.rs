//! Why a [`TaskGroup`](super::TaskGroup) gave no values.
//!
//! A group fails for one of two reasons: some of its children failed
//! ([`GroupError::Failed`], every failure listed, the one that made the group
//! cancel the rest first), or the task awaiting `join` was cancelled
//! ([`GroupError::Cancelled`], carrying the delivered
//! [`Cancelled`](struct@Cancelled) so that the joiner can propagate it).

use std::fmt;

use super::{JoinError, TaskId};
use crate::world::Cancelled;

/// The error of [`TaskGroup::join`](super::TaskGroup::join).
///
/// ```
/// use cancelsim::{Config, GroupError, Sim, TaskGroup};
///
/// let mut sim = Sim::new(Config::default());
/// let error = sim
///     .block_on(async {
///         let mut group = TaskGroup::<(), String>::new();
///         group.spawn(async { Err("disk full".to_string()) });
///         group.spawn(async { panic!("index out of range") });
///         group.join().await.unwrap_err()
///     })
///     .unwrap();
/// assert!(!error.is_cancelled());
/// assert_eq!(error.first().unwrap().error(), Some(&"disk full".to_string()));
/// assert!(error.panics()[0].starts_with("index out of range"));
/// assert!(error.to_string().starts_with("task #1 (child 0) failed: disk full"));
/// ```
#[derive(Debug)]
pub enum GroupError<E> {
    /// Children failed. In the order the failures happened: the first is the
    /// one that made the group ask the others to cancel. Never empty when
    /// built by a group.
    Failed(Vec<ChildFailure<E>>),
    /// A cancel request of the task awaiting `join` was delivered while it
    /// waited; the children were asked to cancel and have all ended. The
    /// value is the delivered `Cancelled`: return it (`Err(e) => return
    /// Err(e)`, or `?` into your error type) rather than dropping it, or the
    /// `cancel-swallowed` oracle flags the joining task.
    Cancelled(Cancelled),
}

impl<E> GroupError<E> {
    /// The joining task was cancelled ([`GroupError::Cancelled`]).
    pub fn is_cancelled(&self) -> bool {
        matches!(self, GroupError::Cancelled(_))
    }

    /// The delivered `Cancelled`, if the joining task was cancelled.
    pub fn cancelled(&self) -> Option<&Cancelled> {
        match self {
            GroupError::Cancelled(cancelled) => Some(cancelled),
            GroupError::Failed(_) => None,
        }
    }

    /// The first failure: the one that made the group cancel the others.
    /// `None` when the joining task was cancelled.
    pub fn first(&self) -> Option<&ChildFailure<E>> {
        self.failures().first()
    }

    /// Every failure, in the order they happened (empty when the joining task
    /// was cancelled).
    pub fn failures(&self) -> &[ChildFailure<E>] {
        match self {
            GroupError::Failed(failures) => failures,
            GroupError::Cancelled(_) => &[],
        }
    }

    /// The errors children returned on their own, in the order they
    /// happened; not those of children that ended with `Err` after the group
    /// asked them to cancel (see [`ChildFailure::is_cancelled_by_group`]).
    pub fn errors(&self) -> Vec<&E> {
        self.failures()
            .iter()
            .filter(|failure| failure.is_error())
            .filter_map(ChildFailure::error)
            .collect()
    }

    /// The messages (with location) of the children that panicked, in the
    /// order they happened.
    pub fn panics(&self) -> Vec<&str> {
        self.failures()
            .iter()
            .filter_map(ChildFailure::panic_message)
            .collect()
    }

    /// Every failure, by value.
    pub fn into_failures(self) -> Vec<ChildFailure<E>> {
        match self {
            GroupError::Failed(failures) => failures,
            GroupError::Cancelled(_) => Vec::new(),
        }
    }
}

impl<E: fmt::Display> fmt::Display for GroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GroupError::Cancelled(_) => f.write_str(
                "the task joining the group was cancelled; its children were cancelled and drained",
            ),
            GroupError::Failed(failures) => match failures.split_first() {
                None => f.write_str("the task group failed"),
                Some((first, rest)) => {
                    write!(f, "{first}")?;
                    if !rest.is_empty() {
                        write!(f, "; then {} more:", rest.len())?;
                        for (number, failure) in rest.iter().enumerate() {
                            let separator = if number == 0 { " " } else { "; " };
                            write!(f, "{separator}{failure}")?;
                        }
                    }
                    Ok(())
                }
            },
        }
    }
}

impl<E: fmt::Display + fmt::Debug> std::error::Error for GroupError<E> {}

/// How one child of a failed group ended.
#[derive(Debug)]
pub struct ChildFailure<E> {
    task: TaskId,
    index: usize,
    reason: Reason<E>,
}

#[derive(Debug)]
enum Reason<E> {
    /// Returned `Err` on its own.
    Error(E),
    /// Returned `Err` after the group asked it to cancel.
    CancelledByGroup(E),
    /// Panicked, or was aborted by someone other than the group.
    Join(JoinError),
}

impl<E> ChildFailure<E> {
    pub(crate) fn from_error(task: TaskId, index: usize, error: E) -> Self {
        ChildFailure {
            task,
            index,
            reason: Reason::Error(error),
        }
    }

    pub(crate) fn from_cancelled_by_group(task: TaskId, index: usize, error: E) -> Self {
        ChildFailure {
            task,
            index,
            reason: Reason::CancelledByGroup(error),
        }
    }

    pub(crate) fn from_join_error(task: TaskId, index: usize, error: JoinError) -> Self {
        ChildFailure {
            task,
            index,
            reason: Reason::Join(error),
        }
    }

    /// The child's task id.
    pub fn task(&self) -> TaskId {
        self.task
    }

    /// The child's position in spawn order (0 for the first child).
    pub fn index(&self) -> usize {
        self.index
    }

    /// The child returned `Err` on its own (the group had not asked it to
    /// cancel).
    pub fn is_error(&self) -> bool {
        matches!(self.reason, Reason::Error(_))
    }

    /// The child returned `Err` after the group asked it to cancel. cancelsim
    /// cannot see inside `E`, so any `Err` after the group's request counts
    /// as the child honouring it.
    pub fn is_cancelled_by_group(&self) -> bool {
        matches!(self.reason, Reason::CancelledByGroup(_))
    }

    /// The child panicked.
    pub fn is_panic(&self) -> bool {
        matches!(&self.reason, Reason::Join(error) if error.is_panic())
    }

    /// The child was aborted (drop-cancelled) by someone other than the
    /// group: an injection, or `abort` through another handle.
    pub fn is_aborted(&self) -> bool {
        matches!(&self.reason, Reason::Join(error) if error.is_cancelled())
    }

    /// The `Err` value the child returned (on its own or after the group's
    /// cancel request).
    pub fn error(&self) -> Option<&E> {
        match &self.reason {
            Reason::Error(error) | Reason::CancelledByGroup(error) => Some(error),
            Reason::Join(_) => None,
        }
    }

    /// The `Err` value, by value.
    pub fn into_error(self) -> Option<E> {
        match self.reason {
            Reason::Error(error) | Reason::CancelledByGroup(error) => Some(error),
            Reason::Join(_) => None,
        }
    }

    /// The panic message with its location, if the child panicked.
    pub fn panic_message(&self) -> Option<&str> {
        match &self.reason {
            Reason::Join(error) => error.panic_message(),
            _ => None,
        }
    }

    /// The [`JoinError`] of a child that panicked or was aborted (its panic
    /// payload can be resumed with
    /// [`into_join_error`](ChildFailure::into_join_error)).
    pub fn join_error(&self) -> Option<&JoinError> {
        match &self.reason {
            Reason::Join(error) => Some(error),
            _ => None,
        }
    }

    /// The [`JoinError`], by value.
    pub fn into_join_error(self) -> Option<JoinError> {
        match self.reason {
            Reason::Join(error) => Some(error),
            _ => None,
        }
    }
}

impl<E: fmt::Display> fmt::Display for ChildFailure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task {} (child {}) ", self.task, self.index)?;
        match &self.reason {
            Reason::Error(error) => write!(f, "failed: {error}"),
            Reason::CancelledByGroup(error) => {
                write!(f, "was cancelled by the group: {error}")
            }
            Reason::Join(error) => match error.panic_message() {
                Some(message) => write!(f, "panicked: {message}"),
                None => f.write_str("was aborted"),
            },
        }
    }
}
