//! First-in, first-out: the deterministic baseline.

use super::{Divergence, ReadyTasks, Scheduler, SimRng};

/// Runs tasks in the order they were woken and fires simultaneous timers in
/// the order they were registered. Random numbers still come from the seed.
#[derive(Clone, Debug)]
pub struct Fifo {
    seed: u64,
    /// Seeded on the first random number (most runs under `Fifo` ask for
    /// none, and seeding costs more than building the rest of a world).
    rng: Option<SimRng>,
}

impl Fifo {
    /// A FIFO scheduler whose random numbers come from `seed`.
    pub fn new(seed: u64) -> Self {
        Fifo { seed, rng: None }
    }
}

impl Scheduler for Fifo {
    fn next_task(&mut self, _ready: ReadyTasks<'_>) -> Result<usize, Divergence> {
        Ok(0)
    }

    fn next_timer(&mut self, _due: usize) -> Result<usize, Divergence> {
        Ok(0)
    }

    fn next_choice(&mut self, _options: u32) -> Result<u32, Divergence> {
        Ok(0)
    }

    fn next_u64(&mut self) -> Result<u64, Divergence> {
        let seed = self.seed;
        Ok(self.rng.get_or_insert_with(|| SimRng::new(seed)).next_u64())
    }
}
