//! What the oracles report: a [`Violation`] and its stable [`ViolationCode`].

use std::fmt;

use super::stall_hint::StallEarlier;
use super::{display_location, Injection, SourceLocation, TaskId, Wait};

/// The stable codes of violations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ViolationCode {
    /// A tracked resource is still held when the run ends.
    LeakedResource,
    /// A task is still alive when it should not be.
    LeakedTask,
    /// A delivered `Cancelled` was dropped and the task returned normally.
    CancelSwallowed,
    /// A cancel request was not honoured within the grace budget.
    CancelIgnored,
    /// A task panicked and nobody observed it.
    UnobservedPanic,
    /// The root, or an awaited task in an injected run, panicked.
    Panic,
    /// No task can run and no timer is pending.
    Deadlock,
    /// The run exceeded its step or virtual-time budget.
    StepLimit,
    /// A user invariant returned false.
    Invariant,
    /// A re-run took a different path than recorded.
    Nondeterminism,
    /// A poll ran longer than the watchdog's wall-clock limit (a loop
    /// without an await, a blocking call): the run could not finish.
    StuckPoll,
}

impl ViolationCode {
    /// Every code, in table order.
    pub const ALL: [ViolationCode; 11] = [
        ViolationCode::LeakedResource,
        ViolationCode::LeakedTask,
        ViolationCode::CancelSwallowed,
        ViolationCode::CancelIgnored,
        ViolationCode::UnobservedPanic,
        ViolationCode::Panic,
        ViolationCode::Deadlock,
        ViolationCode::StepLimit,
        ViolationCode::Invariant,
        ViolationCode::Nondeterminism,
        ViolationCode::StuckPoll,
    ];

    /// The stable text code, e.g. `leaked-resource`.
    pub fn as_str(self) -> &'static str {
        match self {
            ViolationCode::LeakedResource => "leaked-resource",
            ViolationCode::LeakedTask => "leaked-task",
            ViolationCode::CancelSwallowed => "cancel-swallowed",
            ViolationCode::CancelIgnored => "cancel-ignored",
            ViolationCode::UnobservedPanic => "unobserved-panic",
            ViolationCode::Panic => "panic",
            ViolationCode::Deadlock => "deadlock",
            ViolationCode::StepLimit => "step-limit",
            ViolationCode::Invariant => "invariant",
            ViolationCode::Nondeterminism => "nondeterminism",
            ViolationCode::StuckPoll => "stuck-poll",
        }
    }

    /// Parses [`ViolationCode::as_str`].
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|code| code.as_str() == name)
    }

    /// The usual fix, in one line.
    pub fn hint(self) -> &'static str {
        match self {
            ViolationCode::LeakedResource => {
                "release it in a Drop guard (RAII) or in cleanup that also runs on cancellation, not only on the success path"
            }
            ViolationCode::LeakedTask => {
                "join it, cancel and drain it when its owner ends (abort_on_drop, TaskGroup), or detach() it if it is meant to outlive its owner"
            }
            ViolationCode::CancelSwallowed => {
                "after cleanup, propagate the Cancelled (`?` or return Err(cancelled)) instead of dropping it and carrying on"
            }
            ViolationCode::CancelIgnored => {
                "reach an await point that observes cancellation (checkpoint().await?, or_cancel) inside long CPU loops and waits"
            }
            ViolationCode::UnobservedPanic => {
                "await the JoinHandle (or spawn it into a tokio JoinSet, a cancelsim TaskGroup) so that a panic \
                 reaches someone; if the code does await it, something failed before it got there: \
                 see this run's other violations"
            }
            ViolationCode::Panic => {
                "handle Err(Elapsed) / Err(Cancelled) / JoinError instead of unwrap(): an injected timeout or cancel is a normal outcome"
            }
            ViolationCode::Deadlock => {
                "take locks in one global order, and make sure every wait has someone to wake it (a live sender, a timeout)"
            }
            ViolationCode::StepLimit => {
                "a loop that never finishes (retrying forever, or ignoring a cancel): bound it and stop on cancel"
            }
            ViolationCode::Invariant => {
                "a cancel at this await point breaks the invariant: make the state change atomic across await points or roll it back on cancel"
            }
            ViolationCode::StuckPoll => {
                "a poll must return: put an await point (yield_now, checkpoint) in long loops, use \
                 cancelsim::work(cost) to model CPU time, and blocking(cost, f) for blocking calls"
            }
            ViolationCode::Nondeterminism => {
                "the code under test reads something outside the simulation: state one run leaves to the \
                 next or shares with runs in parallel (a real file, a `static`, an environment variable: \
                 give each run its own; CANCELSIM_THREADS=1 only stops runs in parallel from sharing it, \
                 not one run from leaving it to the next), the wall clock `std::time::Instant`, threads, \
                 HashMap order, an unseeded RNG, real tokio's `select!` in a crate compiled against real \
                 tokio (build with RUSTFLAGS=\"--cfg cancelsim\")"
            }
        }
    }
}

impl fmt::Display for ViolationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing an oracle found wrong in a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub(crate) code: ViolationCode,
    pub(crate) task: Option<TaskId>,
    pub(crate) task_name: Option<String>,
    pub(crate) await_point: Option<u32>,
    pub(crate) wait: Option<Wait>,
    pub(crate) location: Option<SourceLocation>,
    pub(crate) injection: Option<Injection>,
    pub(crate) message: String,
    /// Under an injected timeout expiry (or one a stall caused): what the
    /// counterfactual run (the
    /// same timeout expired before its operation started) said.
    pub(crate) expiry: Option<ExpiryVerdict>,
    /// The sweep's determinism check found state that outlives a run (a
    /// `static`, a file): a failure without an injection may come from it.
    pub(crate) state_kept: bool,
    /// The run's timeout injection expired a `select!` race (its timer
    /// branch won, its other branches were dropped), not a `timeout`.
    pub(crate) select: bool,
    /// Where that `select!` is.
    pub(crate) race_at: Option<SourceLocation>,
    /// Real tokio was called in this violation's run (another violation
    /// of the run is its "no reactor" panic): that is the likely cause.
    pub(crate) real_tokio: bool,
    /// A read in the violation's run returned part of what its peer wrote
    /// in one call ([`note_partial_read`](crate::note_partial_read)).
    pub(crate) partial_read: Option<PartialRead>,
    /// The run's stall made a timeout waiting for the stalled task expire,
    /// and the program went on without the task (did not abort it).
    pub(crate) stall_outran: bool,
    /// The run's stall met no deadline at all: no timeout waiting for the
    /// task expired, nothing of the program aborted it — the program went
    /// on without it, and the check ran while it still ran.
    pub(crate) stall_went_on: bool,
    /// The run's injection is the program's signal, and a `select!` then
    /// dropped a pending branch (the report's `then` line).
    pub(crate) signal_race: bool,
    /// The root panicked while a task the program aborted was still to be
    /// dropped: its `Drop`s had not run yet.
    pub(crate) abort_pending: bool,
    /// Under a stall: what the same run with the task held one wait
    /// earlier gave (`check/counterfactual.rs`).
    pub(crate) stall_earlier: Option<StallEarlier>,
    /// The joined task's label (`fetch#1`) when [`wait`](Violation::wait)
    /// is a join on a named task.
    pub(crate) joined: Option<String>,
}

/// What the counterfactual of a failing timeout injection found: the same
/// run with that timeout expired before its operation started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ExpiryVerdict {
    /// It did not fail this way: the expiry left state half-done.
    HalfDone,
    /// It failed the same way: the test checks the result the timeout
    /// decides (reported only when such runs are not excused).
    ResultChecked,
    /// It did not fail this way, but more timeouts of the program expired
    /// by themselves in the failing run: the held operation was shared
    /// (other tasks waited on it and timed out too), so the failure may
    /// come from those expiries rather than from state left half-done.
    SharedSlowness,
    /// It failed the same way, and the timeout is a spawned task's: the
    /// test sees what that task did on the expiry, never excused.
    HandledInTask,
}

impl Violation {
    pub(crate) fn new(code: ViolationCode, message: impl Into<String>) -> Self {
        Violation {
            code,
            task: None,
            task_name: None,
            await_point: None,
            wait: None,
            location: None,
            injection: None,
            message: message.into(),
            expiry: None,
            state_kept: false,
            select: false,
            race_at: None,
            real_tokio: false,
            partial_read: None,
            stall_outran: false,
            stall_went_on: false,
            signal_race: false,
            abort_pending: false,
            stall_earlier: None,
            joined: None,
        }
    }

    pub(crate) fn task(mut self, task: TaskId, name: Option<&str>) -> Self {
        self.task = Some(task);
        self.task_name = name.map(str::to_string);
        self
    }

    /// Names the await point (none for 0: the task was never polled).
    pub(crate) fn at_point(mut self, point: u32, wait: Option<Wait>) -> Self {
        if point > 0 {
            self.await_point = Some(point);
            self.wait = wait;
        }
        self
    }

    pub(crate) fn located(mut self, at: SourceLocation) -> Self {
        self.location = Some(at);
        self
    }

    /// The stable code (`leaked-resource`, `cancel-swallowed`, ...).
    pub fn code(&self) -> &'static str {
        self.code.as_str()
    }

    /// The code as an enum.
    pub fn kind(&self) -> ViolationCode {
        self.code
    }

    /// The task concerned, if any.
    pub fn task_id(&self) -> Option<TaskId> {
        self.task
    }

    /// The name of the task concerned (`main` for the root).
    pub fn task_name(&self) -> Option<&str> {
        self.task_name.as_deref()
    }

    /// `name#id` or `#id` of the task concerned.
    pub fn task_label(&self) -> Option<String> {
        self.task.map(|task| match &self.task_name {
            Some(name) => format!("{name}{task}"),
            None => format!("{task}"),
        })
    }

    /// The await point of the task concerned (1-based ordinal), if known.
    pub fn await_point(&self) -> Option<u32> {
        self.await_point
    }

    /// What the task waited on at that await point.
    pub fn wait(&self) -> Option<Wait> {
        self.wait
    }

    /// Source location most relevant to the violation (where the resource
    /// was acquired, the task spawned, the cancel delivered, ...), as
    /// `file:line:column`.
    pub fn location(&self) -> Option<String> {
        self.location.map(display_location)
    }

    /// The injection in force in the run (the first one of its plan).
    pub fn injection(&self) -> Option<Injection> {
        self.injection
    }

    /// What happened, in a sentence.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(task) = self.task_label() {
            write!(f, "\n    task: {task}")?;
            if let Some(point) = self.await_point {
                write!(f, ", await point {point}")?;
                if let Some(wait) = &self.wait {
                    f.write_str(" on ")?;
                    super::write_wait_joining(f, wait, self.joined.as_deref())?;
                }
            }
        }
        if let Some(at) = self.location() {
            write!(f, "\n    at: {at}")?;
        }
        if let Some(injection) = self.injection {
            write!(f, "\n    injected: {injection}")?;
            // A race's expiry is a `timeout@` too: say which race.
            if self.select && injection.kind.is_expiry() {
                match self.race_at {
                    Some(at) => write!(
                        f,
                        " (the timer branch of the select! at {} won)",
                        display_location(at)
                    )?,
                    None => f.write_str(" (a select!'s timer branch won)")?,
                }
            }
        }
        if let Some(earlier) = self.stall_earlier {
            write!(f, "\n    counterfactual: {earlier}")?;
        }
        write!(f, "\n    hint: {}", self.hint())
    }
}

/// What a run's partial reads (a read that got part of what its peer
/// wrote in one call) say of a failure with no injection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PartialRead {
    /// A read got part of a write: a reader that expects whole messages
    /// from one `read` fails so.
    Read,
    /// ... and a `select!` of that task dropped a pending branch after
    /// it: what a dropped read future had read went with it.
    ThenDropped,
}
