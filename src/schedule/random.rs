//! Uniformly random choices from a seed.

use super::{Divergence, ReadyTasks, Scheduler, SimRng};

/// Picks uniformly among ready tasks and among timers due at the same
/// instant. A single option consumes no randomness, so runs that differ only
/// in unforced steps still share their random stream.
///
/// [`SchedulerKind::Random`](super::SchedulerKind::Random) builds one per run.
///
/// ```
/// use cancelsim::schedule::{Random, Scheduler};
///
/// let mut first = Random::new(7);
/// let mut second = Random::new(7);
/// assert_eq!(first.next_timer(5), second.next_timer(5));
/// ```
#[derive(Clone, Debug)]
pub struct Random {
    rng: SimRng,
}

impl Random {
    /// A random scheduler determined by `seed`.
    pub fn new(seed: u64) -> Self {
        Random {
            rng: SimRng::new(seed),
        }
    }
}

impl Scheduler for Random {
    fn next_task(&mut self, ready: ReadyTasks<'_>) -> Result<usize, Divergence> {
        Ok(match ready.len() {
            0 | 1 => 0,
            n => self.rng.below(n as u64) as usize,
        })
    }

    fn next_timer(&mut self, due: usize) -> Result<usize, Divergence> {
        Ok(self.rng.below(due.max(1) as u64) as usize)
    }

    fn next_u64(&mut self) -> Result<u64, Divergence> {
        Ok(self.rng.next_u64())
    }
}
