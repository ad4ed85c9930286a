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
    /// A waker from outside cancelsim (a channel, a lock, a `Notify`):
    /// shown as `a channel, lock, Notify or other future`.
    External,
    /// The timer branch of a `select!` (its other branches were pending
    /// too: the race acts as a timeout around them).
    Select,
    /// A read from, or a write to, a simulated in-memory stream: the
    /// tokio facade's `io::duplex`, `io::simplex` and `net`, read, written
    /// or accepted at the wait's location.
    Io(IoWait),
    /// The future of the given branch of a `select!` that races a timer,
    /// at the branch's expression: the branch waits on something that
    /// notes no located wait of its own (a channel's `recv()`, a lock, a
    /// `Notify`), and it is what an expiry of the race drops.
    SelectBranch(u32),
}

/// Which simulated stream operation an [`WaitKind::Io`] wait is: shown as
/// `duplex read`, `simplex write`, ...
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
// As wide as a task id, so that a `WaitKind` keeps one layout (a tag and
// a 32-bit payload), copied and matched as one word on every suspension.
#[repr(u32)]
pub enum IoWait {
    /// A read from a duplex stream whose peer has sent nothing (more), or
    /// whose next chunk is still on its way.
    DuplexRead,
    /// A write to a duplex stream whose buffer is full.
    DuplexWrite,
    /// A read from a simplex stream whose writer has sent nothing (more),
    /// or whose next chunk is still on its way.
    SimplexRead,
    /// A write to a simplex stream whose buffer is full.
    SimplexWrite,
    /// A read from a simulated TCP stream (the tokio facade's
    /// `net::TcpStream`) whose peer has sent nothing (more), or whose next
    /// chunk is still on its way.
    TcpRead,
    /// A write to a simulated TCP stream whose send buffer is full.
    TcpWrite,
    /// A simulated TCP listener's `accept()`, no connection waiting.
    TcpAccept,
    /// A simulated TCP `connect()`, its handshake under way.
    TcpConnect,
}

impl IoWait {
    /// The wait's name in traces and reports: `duplex read`.
    pub fn name(self) -> &'static str {
        match self {
            IoWait::DuplexRead => "duplex read",
            IoWait::DuplexWrite => "duplex write",
            IoWait::SimplexRead => "simplex read",
            IoWait::SimplexWrite => "simplex write",
            IoWait::TcpRead => "tcp read",
            IoWait::TcpWrite => "tcp write",
            IoWait::TcpAccept => "tcp accept",
            IoWait::TcpConnect => "tcp connect",
        }
    }
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

/// Writes `wait` as traces and reports show it: `sleep (src/lib.rs:3:5)`;
/// a join names its task by `joined` when given (`join fs::write#3`, as a
/// trace knows it), else by id (`join #3`).
pub(crate) fn write_wait_joining(
    f: &mut fmt::Formatter<'_>,
    wait: &Wait,
    joined: Option<&str>,
) -> fmt::Result {
    match wait.kind {
        WaitKind::Yield => f.write_str("yield")?,
        WaitKind::Sleep => f.write_str("sleep")?,
        WaitKind::Timeout => f.write_str("timeout")?,
        WaitKind::Select => f.write_str("select!")?,
        WaitKind::Join(task) => match joined {
            Some(name) => write!(f, "join {name}")?,
            None => write!(f, "join {task}")?,
        },
        WaitKind::Checkpoint => f.write_str("checkpoint")?,
        WaitKind::CancelSignal => f.write_str("cancelled()")?,
        WaitKind::Shield(task) => write!(f, "shield {task}")?,
        WaitKind::Blocking(task) => write!(f, "blocking {task}")?,
        WaitKind::External => f.write_str("a channel, lock, Notify or other future")?,
        WaitKind::Io(io) => f.write_str(io.name())?,
        WaitKind::SelectBranch(branch) => write!(f, "select! branch {branch}")?,
    }
    if let Some(at) = wait.at {
        write!(f, " ({})", display_location(at))?;
    }
    Ok(())
}
