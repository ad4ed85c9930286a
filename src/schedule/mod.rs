//! Schedulers: every choice of a run is made here and recorded.
//!
//! A run asks its [`Scheduler`] three kinds of question: which ready task runs
//! next, which of several timers due at the same instant fires next, and what
//! the next random number handed to the code under test is. The world records
//! every answer that was a real choice (more than one option) as a
//! [`Decision`]; the recorded [`Schedule`] replays the run exactly through
//! [`Replay`]. Strategies live one per file: [`Fifo`], [`RandomScheduler`],
//! [`Pct`], [`Replay`].

mod fifo;
mod pct;
mod random;
mod replay;
mod rng;
mod schedule_text;

use std::fmt;
use std::sync::Arc;

pub use fifo::Fifo;
pub use pct::Pct;
pub use random::RandomScheduler;
pub use replay::Replay;
pub use rng::SimRng;
pub use schedule_text::ParseScheduleError;

use std::collections::VecDeque;

use crate::task::table::TaskKey;
use crate::task::TaskId;

/// The tasks ready to run, in the order they were woken.
#[derive(Clone, Copy, Debug)]
pub struct ReadyTasks<'a> {
    queue: &'a VecDeque<TaskKey>,
}

impl<'a> ReadyTasks<'a> {
    pub(crate) fn new(queue: &'a VecDeque<TaskKey>) -> Self {
        ReadyTasks { queue }
    }

    /// Number of ready tasks.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// No task is ready.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// The `index`-th ready task.
    pub fn get(&self, index: usize) -> Option<TaskId> {
        self.queue.get(index).map(|key| key.id)
    }

    /// The ready tasks in wake order.
    pub fn iter(&self) -> impl Iterator<Item = TaskId> + 'a {
        self.queue.iter().map(|key| key.id)
    }
}

/// A scheduling strategy. One value drives one run.
///
/// Implementations must be deterministic functions of their construction
/// parameters and the questions asked: no clock, no thread, no address.
pub trait Scheduler: fmt::Debug {
    /// Picks which of the `ready` tasks (in wake order) runs next; returns its
    /// index. Called before every poll, also when only one task is ready.
    fn next_task(&mut self, ready: ReadyTasks<'_>) -> Result<usize, Divergence>;

    /// Picks which of `due` (> 1) timers, due at the same instant and listed in
    /// registration order, fires next; returns its index.
    fn next_timer(&mut self, due: usize) -> Result<usize, Divergence>;

    /// The next random number handed to the code under test.
    fn next_u64(&mut self) -> Result<u64, Divergence>;
}

/// Which built-in scheduler a run uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SchedulerKind {
    /// Tasks run in the order they were woken; timers in registration order.
    #[default]
    Fifo,
    /// Uniformly random choice among ready tasks and among due timers.
    Random,
    /// Probabilistic concurrency testing with the given bug depth.
    Pct {
        /// Bug depth `d`: `d - 1` priority change points per run.
        depth: u32,
    },
    /// Follow a recorded schedule exactly.
    Replay(Arc<Schedule>),
}

impl SchedulerKind {
    /// Builds the scheduler for one run.
    pub fn build(&self, seed: u64, horizon: u64) -> Box<dyn Scheduler> {
        match self {
            SchedulerKind::Fifo => Box::new(Fifo::new(seed)),
            SchedulerKind::Random => Box::new(RandomScheduler::new(seed)),
            SchedulerKind::Pct { depth } => Box::new(Pct::new(seed, *depth, horizon)),
            SchedulerKind::Replay(schedule) => Box::new(Replay::new(Arc::clone(schedule))),
        }
    }
}

impl fmt::Display for SchedulerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchedulerKind::Fifo => f.write_str("fifo"),
            SchedulerKind::Random => f.write_str("random"),
            SchedulerKind::Pct { depth } => write!(f, "pct:{depth}"),
            SchedulerKind::Replay(s) => write!(f, "replay({} decisions)", s.len()),
        }
    }
}

/// A scheduler name could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseSchedulerError {
    /// The text given.
    pub text: String,
}

impl fmt::Display for ParseSchedulerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown scheduler `{}`: expected `fifo`, `random` or `pct:D` with D a bug depth of at least 1 (e.g. `pct:3`)",
            self.text
        )
    }
}

impl std::error::Error for ParseSchedulerError {}

/// Reads the `Display` form: `fifo`, `random`, `pct:3` (not `replay`).
impl std::str::FromStr for SchedulerKind {
    type Err = ParseSchedulerError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || ParseSchedulerError {
            text: text.to_string(),
        };
        match text {
            "fifo" => Ok(SchedulerKind::Fifo),
            "random" => Ok(SchedulerKind::Random),
            _ => {
                let depth = text.strip_prefix("pct:").ok_or_else(error)?;
                match depth.parse::<u32>() {
                    Ok(depth) if depth >= 1 => Ok(SchedulerKind::Pct { depth }),
                    _ => Err(error()),
                }
            }
        }
    }
}

/// One recorded choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Task number `chosen` (index into the ready list) of `options`.
    Task {
        /// Number of ready tasks.
        options: u32,
        /// Index picked.
        chosen: u32,
    },
    /// Timer number `chosen` of `options` due at the same instant.
    Timer {
        /// Number of due timers.
        options: u32,
        /// Index picked.
        chosen: u32,
    },
    /// A random number handed to the code under test.
    Random(u64),
}

/// The recorded decisions of one run, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schedule {
    decisions: Vec<Decision>,
}

impl Schedule {
    /// An empty schedule.
    pub fn new() -> Self {
        Schedule::default()
    }

    /// The decisions, in the order they were taken.
    pub fn decisions(&self) -> &[Decision] {
        &self.decisions
    }

    /// Number of decisions.
    pub fn len(&self) -> usize {
        self.decisions.len()
    }

    /// No decisions at all.
    pub fn is_empty(&self) -> bool {
        self.decisions.is_empty()
    }

    pub(crate) fn push(&mut self, decision: Decision) {
        self.decisions.push(decision);
    }
}

impl From<Vec<Decision>> for Schedule {
    fn from(decisions: Vec<Decision>) -> Self {
        Schedule { decisions }
    }
}

/// A replayed run asked a question the recording did not answer that way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// Index of the decision at which the runs parted.
    pub decision: usize,
    /// What the recording holds there.
    pub expected: String,
    /// What the run asked.
    pub found: String,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "decision {}: the recording holds {}, the run asked for {} \
             (is the code under test fully deterministic? wall clock, threads, \
             HashMap order or an unseeded RNG would do this)",
            self.decision, self.expected, self.found
        )
    }
}
