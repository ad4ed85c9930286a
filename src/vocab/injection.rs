//! Await points and injections: the data (see `inject` for the concepts).

use std::fmt;

use super::{SourceLocation, TaskId, Wait};

/// How a cancellation is delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CancelMode {
    /// Drop the task's future at the await point (`JoinHandle::abort`).
    Drop,
    /// Make a cooperative cancel request (`JoinHandle::cancel`).
    Cooperative,
    /// Both, as separate runs.
    Both,
}

/// What an injection does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InjectionKind {
    /// Drop the task's future there.
    CancelDrop,
    /// Make a cooperative cancel request there.
    CancelCooperative,
    /// Expire the innermost `time::timeout` enclosing the await point there.
    Timeout,
    /// Expire the `time::timeout` (or `select!` against a timer) around
    /// that innermost one, where there are two: the outer deadline comes
    /// while the inner operation still waits there (a batch gathered under
    /// its own deadline, polled in a loop's `select!` against a ticker).
    TimeoutOuter,
    /// Fire the program's own cancellation signal there (what the body
    /// registered with `cancel::register_signal`:
    /// a `CancellationToken::cancel`, a shutdown channel's send).
    Signal,
    /// The task's wait there does not end (its wakes are ignored) until
    /// the program drops it: the drop of a task a timer aborts (a watchdog,
    /// `abort_all` at a deadline), which comes at the deadline, wherever
    /// the task then waits; and a slow task awaited inside a `timeout`
    /// (or a `select!` against a timer), which is still running when that
    /// timeout expires. If nothing else can run, or after a minute of
    /// virtual time (an aborter that polls for the task's own progress),
    /// the wait ends after all: it was only slow.
    Stall,
}

impl InjectionKind {
    /// Short stable name: `cancel-drop`, `cancel-coop`, `timeout`,
    /// `timeout-outer`, `signal`, `stall`.
    pub fn name(self) -> &'static str {
        match self {
            InjectionKind::CancelDrop => "cancel-drop",
            InjectionKind::CancelCooperative => "cancel-coop",
            InjectionKind::Timeout => "timeout",
            InjectionKind::TimeoutOuter => "timeout-outer",
            InjectionKind::Signal => "signal",
            InjectionKind::Stall => "stall",
        }
    }

    /// Does it expire a timeout (the innermost or the one around it)?
    pub fn is_expiry(self) -> bool {
        matches!(self, InjectionKind::Timeout | InjectionKind::TimeoutOuter)
    }

    /// Parses [`InjectionKind::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "cancel-drop" => Some(InjectionKind::CancelDrop),
            "cancel-coop" => Some(InjectionKind::CancelCooperative),
            "timeout" => Some(InjectionKind::Timeout),
            "timeout-outer" => Some(InjectionKind::TimeoutOuter),
            "signal" => Some(InjectionKind::Signal),
            "stall" => Some(InjectionKind::Stall),
            _ => None,
        }
    }
}

/// When, at its await point, an injection lands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InjectAt {
    /// As the task suspends there.
    Suspend,
    /// After the task was woken there, before it is polled again.
    Wake,
}

/// One injection: a kind, at an await point, at an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub struct Injection {
    /// The task.
    pub task: TaskId,
    /// The await point (1-based ordinal of the task's suspensions).
    pub point: u32,
    /// What to do.
    pub kind: InjectionKind,
    /// When.
    pub at: InjectAt,
}

impl Injection {
    /// `kind` at await point `point` (1-based) of `task`, at `at`.
    ///
    /// ```
    /// use cancelsim::{check::await_points, Config, InjectAt, Injection, InjectionKind, SchedulerKind};
    ///
    /// let body = || async { cancelsim::yield_now().await };
    /// let point = &await_points(&body, &Config::default(), 0, SchedulerKind::Fifo)[0];
    /// let injection = Injection::new(point.task, point.ordinal, InjectionKind::CancelDrop, InjectAt::Wake);
    /// assert_eq!(injection.to_string(), "cancel-drop@0:1/wake");
    /// ```
    pub fn new(task: TaskId, point: u32, kind: InjectionKind, at: InjectAt) -> Self {
        Injection {
            task,
            point,
            kind,
            at,
        }
    }
}

impl fmt::Display for Injection {
    /// `cancel-drop@3:5` (task 3, await point 5, at suspension) or
    /// `timeout@0:2/wake`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}:{}", self.kind.name(), self.task.0, self.point)?;
        if self.at == InjectAt::Wake {
            f.write_str("/wake")?;
        }
        Ok(())
    }
}

/// An await point as found by a run, with what it waited on.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AwaitPoint {
    /// The task.
    pub task: TaskId,
    /// Its name, if it has one.
    pub task_name: Option<String>,
    /// 1-based ordinal of the task's suspensions.
    pub ordinal: u32,
    /// What it waited on, and where.
    pub wait: Wait,
    /// The innermost `timeout` enclosing it: (scope number, where `timeout`
    /// was called).
    pub timeout: Option<(u32, SourceLocation)>,
    /// The `timeout` (or `select!` against a timer) around that one, if
    /// the await point is inside two.
    pub outer_timeout: Option<(u32, SourceLocation)>,
    /// Was the task woken and polled again from here?
    pub resumed: bool,
    /// Can the harness inject here? (Not inside the harness's own work:
    /// shielded and blocking work cannot be cancelled by their awaiter.)
    pub injectable: bool,
    /// Was the program's cancellation signal registered when the task got
    /// here (so a [`InjectionKind::Signal`] can fire)?
    pub signal: bool,
    /// Can some code of the run drop the task here? The root (its caller
    /// can drop it at any await point), and a task the program aborted
    /// while it ran (an `abort`, an abort-on-drop handle dropped, a
    /// `JoinSet` aborting its tasks) and either went on or awaited the
    /// abort's `JoinError`: its abort can come at any of its await points
    /// from the first the aborter could have acted on (after the task woke
    /// the aborter, or from where a poll of the task while the aborter was
    /// woken took it; otherwise its first).
    /// An abort made as the test ends and never awaited (an owner's `Drop`
    /// stopping its background task) does not count: the task was needed
    /// up to then. `Check::drop_only_abortable` (the
    /// tokio preset) injects drops only here.
    pub abortable: bool,
    /// Does a timer decide the program's abort of this task (a watchdog,
    /// `abort_all` at a deadline)? The abort then comes at that time and no
    /// earlier: `Check::drop_only_abortable` injects a
    /// [`InjectionKind::Stall`] here, not a drop, and the program's own
    /// abort drops the task where it waits.
    pub aborted_at_deadline: bool,
    /// Is the task's end awaited inside a `timeout` (or a `select!`
    /// against a timer) — its `JoinHandle`, a `JoinSet`'s `join_next`,
    /// `shutdown` or `join_all`? That timeout expires when the task is
    /// slow, with the task still running at the deadline: like
    /// [`aborted_at_deadline`](AwaitPoint::aborted_at_deadline),
    /// `Check::drop_only_abortable` injects a [`InjectionKind::Stall`]
    /// here, and what the program does at its deadline (abort the task,
    /// go on without it) happens with the task stalled where it waits.
    pub awaited_at_deadline: bool,
    /// Did the program abort this task after it had ended, its result not
    /// yet taken (`JoinSet::abort_all` once a quorum answered, the
    /// stragglers done too in this run)? A slower task would still be
    /// running when that abort comes: `Check::drop_only_abortable` injects
    /// a [`InjectionKind::Stall`] here, and the program's abort drops the
    /// task where it waits.
    pub aborted_after_end: bool,
    /// The joined task's label (`fetch#1`) when [`wait`](AwaitPoint::wait)
    /// is a join on a named task, as the run's trace knew it.
    pub joined: Option<String>,
    /// Did the task wake itself during the poll that ended here
    /// (`yield_now`, a budget's yield, its work cancelling a token its own
    /// future listens to)? Its wait ends at once, as on tokio, however
    /// slow the rest of the work would be: a [`InjectionKind::Stall`]
    /// would hold nothing here, so none is planned.
    pub self_woken: bool,
}

impl AwaitPoint {
    /// `fetch#1 await point 3`.
    pub fn label(&self) -> String {
        match &self.task_name {
            Some(name) => format!("{name}{} await point {}", self.task, self.ordinal),
            None => format!("{} await point {}", self.task, self.ordinal),
        }
    }
}

/// The injections of one run, indexed for the executor's checks.
#[derive(Clone, Debug, Default)]
pub(crate) struct InjectionPlan {
    pending: Vec<Injection>,
    fired: Vec<Injection>,
}

impl InjectionPlan {
    pub fn new(injections: &[Injection]) -> Self {
        InjectionPlan {
            pending: injections.to_vec(),
            fired: Vec::new(),
        }
    }

    /// A plan whose one injection counts as fired before the run starts
    /// (a counterfactual run: its effect is set up by other means).
    pub fn already_fired(injection: Injection) -> Self {
        InjectionPlan {
            pending: Vec::new(),
            fired: vec![injection],
        }
    }

    #[inline]
    /// Removes and returns the injections due for `task` at `point`, `at`.
    pub fn take(&mut self, task: TaskId, point: u32, at: InjectAt) -> Vec<Injection> {
        let mut due = Vec::new();
        self.pending.retain(|injection| {
            let hit = injection.task == task && injection.point == point && injection.at == at;
            if hit {
                due.push(*injection);
            }
            !hit
        });
        self.fired.extend(due.iter().copied());
        due
    }

    pub fn fired(&self) -> &[Injection] {
        &self.fired
    }

    pub fn unfired(&self) -> &[Injection] {
        &self.pending
    }
}
