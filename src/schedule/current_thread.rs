//! tokio's current-thread runtime, as a strategy: tasks in wake order, the
//! rest explored.

use super::{Divergence, ReadyTasks, Scheduler, SimRng};

/// Runs ready tasks in the order they were woken, as tokio's current-thread
/// runtime does (the runtime of a plain `#[tokio::test]`): a test that
/// spawns a task and yields may rely on the task having run. What that
/// runtime leaves to chance is drawn from the seed: the branch a fair
/// `select!` polls first, a simulated I/O delay (both through
/// [`choose`](crate::choose)), the order of timers due at the same instant,
/// and random numbers.
///
/// The tokio preset explores schedules with it unless the test asks for a
/// multi-thread runtime, whose task order [`Random`](super::Random)
/// explores.
///
/// ```
/// use cancelsim::schedule::{CurrentThread, Scheduler};
///
/// let mut first = CurrentThread::new(7);
/// let mut second = CurrentThread::new(7);
/// assert_eq!(first.next_choice(3), second.next_choice(3));
/// ```
#[derive(Clone, Debug)]
pub struct CurrentThread {
    rng: SimRng,
}

impl CurrentThread {
    /// A current-thread strategy whose other choices come from `seed`.
    pub fn new(seed: u64) -> Self {
        CurrentThread {
            rng: SimRng::new(seed),
        }
    }
}

impl Scheduler for CurrentThread {
    fn next_task(&mut self, _ready: ReadyTasks<'_>) -> Result<usize, Divergence> {
        Ok(0)
    }

    fn next_timer(&mut self, due: usize) -> Result<usize, Divergence> {
        Ok(self.rng.below(due.max(1) as u64) as usize)
    }

    fn next_u64(&mut self) -> Result<u64, Divergence> {
        Ok(self.rng.next_u64())
    }
}
