//! Configuration of one world.

use std::time::Duration;

use crate::schedule::SchedulerKind;

/// How much of a run's trace to keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TraceMode {
    /// Every event.
    Full,
    /// Only the last `n` events; the rendered text says how many were dropped.
    Last(usize),
    /// No events (fastest; errors and reports still work).
    Off,
}

/// Configuration of a [`Sim`](crate::Sim): seed, scheduler and budgets.
///
/// ```
/// use cancelsim::{Config, SchedulerKind};
/// let config = Config::default()
///     .seed(7)
///     .scheduler(SchedulerKind::Random)
///     .max_steps(100_000);
/// assert_eq!(config.seed, 7);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// Seed of the scheduler and of `cancelsim::random`.
    pub seed: u64,
    /// The scheduling strategy.
    pub scheduler: SchedulerKind,
    /// At most this many polls per `block_on` before [`SimError::StepLimit`](crate::SimError::StepLimit).
    pub max_steps: u64,
    /// Virtual time may not pass this point ([`SimError::TimeLimit`](crate::SimError::TimeLimit)).
    pub max_time: Duration,
    /// How much trace to keep.
    pub trace: TraceMode,
    /// PCT's estimate of the number of scheduling steps in a run.
    pub pct_horizon: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 0,
            scheduler: SchedulerKind::Fifo,
            max_steps: 10_000_000,
            max_time: Duration::from_secs(365 * 24 * 3600),
            trace: TraceMode::Full,
            pct_horizon: 1_000,
        }
    }
}

impl Config {
    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets the scheduler.
    pub fn scheduler(mut self, scheduler: SchedulerKind) -> Self {
        self.scheduler = scheduler;
        self
    }

    /// Sets the step budget.
    pub fn max_steps(mut self, steps: u64) -> Self {
        self.max_steps = steps;
        self
    }

    /// Sets the virtual-time budget.
    pub fn max_time(mut self, time: Duration) -> Self {
        self.max_time = time;
        self
    }

    /// Sets how much trace to keep.
    pub fn trace(mut self, mode: TraceMode) -> Self {
        self.trace = mode;
        self
    }

    /// Sets PCT's step-count estimate.
    pub fn pct_horizon(mut self, steps: u64) -> Self {
        self.pct_horizon = steps.max(1);
        self
    }
}
