//! First-in, first-out: the deterministic baseline.

use super::{Divergence, ReadyTasks, Scheduler, SimRng};

/// Runs tasks in the order they were woken and fires simultaneous timers in
/// the order they were registered. Random numbers still come from the seed.
#[derive(Clone, Debug)]
pub struct Fifo {
    rng: SimRng,
}

impl Fifo {
    /// A FIFO scheduler whose random numbers come from `seed`.
    pub fn new(seed: u64) -> Self {
        Fifo {
            rng: SimRng::new(seed),
        }
    }
}

impl Scheduler for Fifo {
    fn next_task(&mut self, _ready: ReadyTasks<'_>) -> Result<usize, Divergence> {
        Ok(0)
    }

    fn next_timer(&mut self, _due: usize) -> Result<usize, Divergence> {
        Ok(0)
    }

    fn next_u64(&mut self) -> Result<u64, Divergence> {
        Ok(self.rng.next_u64())
    }
}
