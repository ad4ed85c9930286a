//! Why a run stopped without its root finishing.

use std::fmt;

use crate::schedule::Divergence;
use crate::vocab::{display_location, Instant, SourceLocation, TaskId, Wait};

/// A task that could not make progress when the world deadlocked.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BlockedTask {
    /// The task.
    pub id: TaskId,
    /// Its name, if spawned with one (`main` for the root).
    pub name: Option<String>,
    /// Its current await point (1-based count of its suspensions).
    pub await_point: u32,
    /// What it waits on there.
    pub wait: Wait,
    /// Where the task was spawned (the root: where `block_on` was called);
    /// shown when the wait has no location of its own (a channel, a lock:
    /// any future from outside cancelsim).
    pub spawned_at: SourceLocation,
    /// The joined task's label (`fetch#1`) when the wait is a join on a
    /// named task.
    pub joined: Option<String>,
}

impl fmt::Display for BlockedTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{name}{}", self.id)?,
            None => write!(f, "{}", self.id)?,
        }
        write!(f, " at await point {} waiting on ", self.await_point)?;
        write_wait_joining(f, &self.wait, self.joined.as_deref())?;
        if self.wait.at.is_none() {
            write!(
                f,
                " (task started at {})",
                display_location(self.spawned_at)
            )?;
        }
        Ok(())
    }
}

use crate::vocab::write_wait_joining;

/// Why [`Sim::block_on`](crate::Sim::block_on) returned without a value.
#[derive(Debug)]
#[non_exhaustive]
pub enum SimError {
    /// No task can run and no timer is pending, but the root has not finished.
    Deadlock {
        /// When it happened.
        time: Instant,
        /// Every live task, in id order, with where it waits.
        blocked: Vec<BlockedTask>,
    },
    /// The run took more steps (polls, and `work` calls inside polls) than
    /// `Config::max_steps` (a livelock?).
    StepLimit {
        /// Polls and `work` calls made.
        steps: u64,
        /// Virtual time reached.
        time: Instant,
    },
    /// The next timer lies beyond `Config::max_time` (waiting forever?).
    TimeLimit {
        /// Virtual time reached.
        time: Instant,
        /// The deadline that would have been passed.
        next_deadline: Instant,
    },
    /// The root future panicked.
    RootPanicked {
        /// The panic message, with its location.
        message: String,
    },
    /// The root future was dropped by a drop-cancellation injection (only in
    /// runs with injections, see `Check`).
    RootDropped,
    /// A replayed run asked a question its recording did not answer.
    Nondeterminism {
        /// Executor step at which it happened.
        step: u64,
        /// What differed.
        divergence: Divergence,
    },
}

impl SimError {
    /// The stable violation code of this stop (`deadlock`, `step-limit`, `panic`,
    /// `nondeterminism`; `cancelled` for `RootDropped`, which is no violation).
    pub fn code(&self) -> &'static str {
        match self {
            SimError::Deadlock { .. } => "deadlock",
            SimError::StepLimit { .. } | SimError::TimeLimit { .. } => "step-limit",
            SimError::RootPanicked { .. } => "panic",
            SimError::Nondeterminism { .. } => "nondeterminism",
            SimError::RootDropped => "cancelled",
        }
    }
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::Deadlock { time, blocked } => {
                write!(
                    f,
                    "deadlock at {time}: no task can run and no timer is pending"
                )?;
                for task in blocked {
                    write!(f, "\n  {task}")?;
                }
                Ok(())
            }
            SimError::StepLimit { steps, time } => write!(
                f,
                "step limit: {steps} polls and `work` calls by {time} without the root \
                 finishing (a livelock? raise Config::max_steps if the work is real)"
            ),
            SimError::TimeLimit {
                time,
                next_deadline,
            } if next_deadline == time => write!(
                f,
                "time limit: virtual time reached {time}, past Config::max_time, inside a poll \
                 (`work` without an await? raise Config::max_time if the work is real)"
            ),
            SimError::TimeLimit {
                time,
                next_deadline,
            } => write!(
                f,
                "time limit: at {time} the next timer is due at {next_deadline}, past \
                 Config::max_time (waiting forever? raise Config::max_time if not)"
            ),
            SimError::RootPanicked { message } => write!(f, "the root future panicked: {message}"),
            SimError::RootDropped => {
                f.write_str("the root future was dropped by an injected cancellation")
            }
            SimError::Nondeterminism { step, divergence } => {
                write!(f, "nondeterminism at step {step}: {divergence}")
            }
        }
    }
}

impl std::error::Error for SimError {}
