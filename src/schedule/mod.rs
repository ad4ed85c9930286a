//! Schedulers: every choice of a run is made here and recorded.
//!
//! A run asks its [`Scheduler`] three kinds of question: which ready task runs
//! next, which of several timers due at the same instant fires next (also
//! asked when a `timeout` and the future it guards are both done at its
//! deadline: option 0 lets the future win), and what the next random number
//! handed to the code under test is. The world records every answer that was
//! a real choice (more than one option) as a [`Decision`], and where each
//! root future (each `block_on`) ended; the recorded [`Schedule`] replays the
//! run exactly through [`Replay`], which reports every difference as a
//! [`Divergence`]: a question the recording does not hold, or a root that
//! ends before taking all of its recorded decisions. Strategies live one per
//! file: [`Fifo`], [`Random`], [`CurrentThread`], [`Pct`], [`Dfs`] (with its [`DfsExplorer`]),
//! [`Replay`]; a user's own plugs in as [`SchedulerKind::custom`].

mod current_thread;
mod determinism_check;
mod dfs;
mod divergence;
mod fifo;
mod kind;
mod pct;
mod random;
mod ready;
mod recorded;
mod replay;
mod rng;
mod schedule_text;

use std::fmt;

pub use current_thread::CurrentThread;
pub(crate) use determinism_check::{DeterminismCheck, DeterminismRole, RunView};
pub use dfs::{Dfs, DfsExplorer, DfsPath, ParseDfsPathError};
pub use divergence::Divergence;
pub use fifo::Fifo;
pub use kind::{CustomScheduler, ParseSchedulerError, SchedulerKind};
pub use pct::Pct;
pub use random::Random;
pub(crate) use ready::ReadyQueue;
pub use ready::ReadyTasks;
pub use recorded::{Decision, Schedule};
pub use replay::Replay;
pub use rng::SimRng;
pub use schedule_text::ParseScheduleError;

/// A scheduling strategy. One value drives one run.
///
/// Implementations must be deterministic functions of their construction
/// parameters and the questions asked: no clock, no thread, no address.
pub trait Scheduler: fmt::Debug {
    /// Picks which of the `ready` tasks (in wake order) runs next; returns its
    /// index. Called before every poll, also when only one task is ready.
    fn next_task(&mut self, ready: ReadyTasks<'_>) -> Result<usize, Divergence>;

    /// Picks which of `due` (> 1) timers, due at the same instant and listed in
    /// registration order, fires next; returns its index. Also asked, with
    /// `due == 2`, when a `timeout`'s inner future completes at the deadline's
    /// instant: 0 lets the inner future win, 1 the timeout.
    fn next_timer(&mut self, due: usize) -> Result<usize, Divergence>;

    /// The next random number handed to the code under test.
    fn next_u64(&mut self) -> Result<u64, Divergence>;

    /// Picks one of `options` (> 1) alternatives the code under test offers
    /// ([`choose`](crate::choose): `select!`'s start branch, a simulated
    /// delivery delay); returns its index. By default a random number
    /// reduced to `0..options`; [`Fifo`] answers 0, the first alternative,
    /// so the baseline takes the plain, deterministic path.
    fn next_choice(&mut self, options: u32) -> Result<u32, Divergence> {
        let bits = self.next_u64()?;
        Ok(((u128::from(bits) * u128::from(options)) >> 64) as u32)
    }

    /// The root future of a `block_on` ended, after the decisions asked so
    /// far; the next ones belong to the world's next `block_on` (or, in a
    /// [`Check`](crate::Check) run, to the drain after the root). A
    /// [`Replay`] whose recording holds more decisions for this root answers
    /// with a [`Divergence`]. By default there is nothing to check.
    fn root_finished(&mut self) -> Result<(), Divergence> {
        Ok(())
    }

    /// The run is over (a [`Check`](crate::Check) run: its root and the
    /// drain after it); nothing more will be asked. A [`Replay`] with
    /// recorded decisions left answers with a [`Divergence`]. By default
    /// there is nothing to check.
    fn run_finished(&mut self) -> Result<(), Divergence> {
        Ok(())
    }
}
