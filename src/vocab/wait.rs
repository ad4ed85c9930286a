//! What a suspended task waits on.

use std::fmt;

use super::{display_location, SourceLocation, TaskId};

/// What a suspended task is waiting on, as far as cancelsim can tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaitKind {
    /// `yield_now()`.
    Yield,
    /// `sleep` / `sleep_until`.
    Sleep,
    /// The timer of a `timeout` (the inner future was pending too).
    Timeout,
    /// A `JoinHandle` of the given task.
    Join(TaskId),
    /// `checkpoint()`.
    Checkpoint,
    /// `cancelled()`.
    CancelSignal,
    /// `shield(...)` running as the given task.
    Shield(TaskId),
    /// `blocking(...)` running as the given task.
    Blocking(TaskId),
    /// A waker from outside cancelsim (a channel, a lock, ...).
    External,
    /// The timer branch of a `select!` (its other branches were pending
    /// too: the race acts as a timeout around them).
    Select,
}

/// Where a task is suspended: what it waits on and the caller's location.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wait {
    /// What the task waits on.
    pub kind: WaitKind,
    /// Source location of the cancelsim primitive, when known.
    pub at: Option<SourceLocation>,
}

impl Wait {
    /// A wait on something outside cancelsim.
    pub const EXTERNAL: Wait = Wait {
        kind: WaitKind::External,
        at: None,
    };
}

/// Writes `wait` as traces and reports show it: `sleep (src/lib.rs:3:5)`.
pub(crate) fn write_wait(f: &mut fmt::Formatter<'_>, wait: &Wait) -> fmt::Result {
    match wait.kind {
        WaitKind::Yield => f.write_str("yield")?,
        WaitKind::Sleep => f.write_str("sleep")?,
        WaitKind::Timeout => f.write_str("timeout")?,
        WaitKind::Select => f.write_str("select!")?,
        WaitKind::Join(task) => write!(f, "join {task}")?,
        WaitKind::Checkpoint => f.write_str("checkpoint")?,
        WaitKind::CancelSignal => f.write_str("cancelled()")?,
        WaitKind::Shield(task) => write!(f, "shield {task}")?,
        WaitKind::Blocking(task) => write!(f, "blocking {task}")?,
        WaitKind::External => f.write_str("external waker")?,
    }
    if let Some(at) = wait.at {
        write!(f, " ({})", display_location(at))?;
    }
    Ok(())
}
