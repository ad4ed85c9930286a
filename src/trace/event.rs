//! One recorded event of a run.
//!
//! Events are small `Copy` values (no strings, no heap): the executor records
//! several per poll, so recording must stay cheap. Strings (task names, panic
//! messages) live once in the [`Trace`](super::Trace) and events refer to them.

use std::time::Duration;

use crate::vocab::{
    InjectAt, InjectionKind, Instant, SourceLocation, TaskId, ViolationCode, Wait, WaitKind,
};

/// One thing that happened in a run.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct Event {
    /// The executor step (number of polls so far) at which it happened.
    pub step: u32,
    /// Virtual time.
    pub time: Instant,
    /// The task the event is about.
    pub task: TaskId,
    /// What happened.
    pub kind: EventKind,
}

/// Who or what woke a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WakeCause {
    /// Another task, during its poll.
    Task(TaskId),
    /// A timer that fell due.
    Timer,
    /// Something outside any task poll (the harness, a drop, another thread).
    Outside,
}

/// Through what a cancellation was requested.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CancelVia {
    /// `JoinHandle::cancel` called directly.
    Handle,
    /// A `TaskGroup` cancelling its members after the first failure.
    Group(u32),
    /// The harness injected it.
    Injection,
    /// A timeout scope expired (asyncio's `timeout`: the deadline cancels the
    /// task that entered the scope); the scope's number, as its
    /// [`EventKind::TimeoutFired`] names it.
    Timeout(u32),
}

/// How a task ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The future returned.
    Returned,
    /// The future was dropped at an await point (`abort`, drop cancellation).
    Aborted,
    /// The future panicked; the message is `Trace::message(index)`.
    Panicked(u32),
}

/// The kinds of [`Event`].
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum EventKind {
    /// The task spawned `child` at `at`.
    Spawn {
        /// The new task.
        child: TaskId,
        /// Where `spawn` was called.
        at: SourceLocation,
    },
    /// The executor polled the task.
    Poll,
    /// The poll returned `Pending`: the task is at its `ordinal`-th await point.
    Suspend {
        /// 1-based count of this task's suspensions.
        ordinal: u32,
        /// What it waits on.
        wait: Wait,
    },
    /// The task was woken.
    Wake {
        /// By whom.
        by: WakeCause,
    },
    /// A cooperative cancel request was made for the task.
    #[non_exhaustive]
    CancelRequested {
        /// The requesting task, if any.
        by: Option<TaskId>,
        /// Through what.
        via: CancelVia,
        /// Where the request was made (the `cancel()` call, the timeout),
        /// when a call site made it.
        at: Option<SourceLocation>,
    },
    /// A cancel request was delivered to the task as `Err(Cancelled)`.
    CancelDelivered {
        /// The primitive that delivered it.
        at: SourceLocation,
    },
    /// The task's future is being dropped at its await point.
    #[non_exhaustive]
    Abort {
        /// The task that called `abort`, if any.
        by: Option<TaskId>,
        /// Where `abort` was called (for an `abort_on_drop` handle: where
        /// it was made), when a call site did it.
        at: Option<SourceLocation>,
    },
    /// CPU work inside a poll: the clock moved by `cost` (nanoseconds).
    #[non_exhaustive]
    Work {
        /// Nanoseconds of virtual time spent.
        cost_nanos: u64,
        /// Where `work` was called.
        at: SourceLocation,
    },
    /// Blocking work started on a worker for `cost` nanoseconds.
    BlockingStart {
        /// Nanoseconds the work takes.
        cost_nanos: u64,
        /// Where `blocking` was called.
        at: SourceLocation,
    },
    /// Blocking work finished.
    BlockingEnd,
    /// An injected expiry held what the task waits on until `until`, the
    /// deadline of the timeout it expired, when that timeout fires first:
    /// `blocking` work due before then (the slow backend the timeout waits
    /// on) is held until just after it; otherwise a wake of the held task
    /// (the first since the hold began) counts only then.
    HeldForExpiry {
        /// The deadline of the expired timeout.
        until: Instant,
        /// Blocking work held, not a wake.
        blocking: bool,
    },
    /// A `timeout` expired and dropped its inner future.
    #[non_exhaustive]
    TimeoutFired {
        /// The timeout's scope number (per world, in the order the scopes
        /// were first polled); a cancel request it causes names it
        /// ([`CancelVia::Timeout`]).
        scope: u32,
        /// When the scope was a `select!` race against a timer (its timer
        /// branch won): the race's number (races are numbered in the
        /// order they are first polled, as are timeouts).
        race: Option<u32>,
        /// Where `timeout` (or the `select!`) was called.
        at: SourceLocation,
    },
    /// The task drew a random number.
    #[non_exhaustive]
    Random {
        /// The value handed out.
        value: u64,
        /// Where `random` / `random_range` was called.
        at: SourceLocation,
    },
    /// The task asked for a recorded choice among `options` alternatives
    /// ([`choose`](crate::choose), `select!`'s start branch).
    #[non_exhaustive]
    Choice {
        /// The alternative taken (0-based).
        chosen: u32,
        /// How many there were.
        options: u32,
        /// Where the choice was asked for.
        at: SourceLocation,
        /// What the alternative taken means, when the asker said
        /// ([`choose_labelled`](crate::choose_labelled)): the index of its
        /// text in the trace's messages (`Trace::message`).
        label: Option<u32>,
    },
    /// A race of futures (`select!`) at `at` was won by `branch`; the losing
    /// branches whose futures were still pending were dropped where they
    /// waited, at the task's await point `point`.
    #[non_exhaustive]
    SelectWon {
        /// The winning branch (0-based, in source order).
        branch: u32,
        /// Bit `i` set: branch `i` was pending and its future is dropped.
        dropped: u32,
        /// The task's await point at which the dropped futures last waited
        /// (0 when the race was decided in its first poll).
        point: u32,
        /// Where the race is written.
        at: SourceLocation,
    },
    /// The harness fired the program's registered cancellation signal
    /// (`cancel::register_signal`); every
    /// task alive now must finish within the grace budget.
    SignalFired,
    /// The task ended.
    Complete {
        /// How.
        outcome: Outcome,
    },
    /// The run stopped: no task can run and no timer is pending.
    Deadlock,
    /// The harness injected a cancellation or timeout at the task's await point.
    Injected {
        /// What.
        kind: InjectionKind,
        /// At which await point of the task.
        point: u32,
        /// At suspension or at wake-up.
        at: InjectAt,
    },
    /// The task acquired a tracked resource (name: `Trace::message(name)`).
    Acquire {
        /// Index of the resource's name in the trace's messages.
        name: u32,
        /// Where.
        at: SourceLocation,
    },
    /// The task released a tracked resource.
    Release {
        /// Index of the resource's name in the trace's messages.
        name: u32,
    },
    /// An oracle flagged a violation during the run.
    Violation {
        /// Which.
        code: ViolationCode,
    },
    /// The root finished; what follows is the drain of detached work.
    Drain,
    /// The root finished (a tokio runtime's shutdown) within the grace
    /// time of the program's signal: the tasks that owe an exit run on
    /// until it is over, so that one that never acts on the signal is
    /// judged as if the test had waited.
    GraceRun {
        /// The end of the grace time.
        until: Instant,
    },
}

impl Event {
    /// Virtual time of the event as a duration since the start of the run.
    pub fn elapsed(&self) -> Duration {
        self.time.since_start()
    }

    /// Every task the event names (its own, and the one it spawned, waits
    /// on, was woken, cancelled or aborted by): whose names its text needs.
    pub(crate) fn tasks(&self) -> [Option<TaskId>; 2] {
        let other = match self.kind {
            EventKind::Spawn { child, .. } => Some(child),
            EventKind::Suspend { wait, .. } => match wait.kind {
                WaitKind::Join(task) | WaitKind::Shield(task) | WaitKind::Blocking(task) => {
                    Some(task)
                }
                _ => None,
            },
            EventKind::Wake {
                by: WakeCause::Task(task),
            } => Some(task),
            EventKind::CancelRequested { by, .. } | EventKind::Abort { by, .. } => by,
            _ => None,
        };
        [Some(self.task), other]
    }
}
