//! Probabilistic concurrency testing (Burckhardt, Kothari, Musuvathi,
//! Nagarakatte, ASPLOS 2010).
//!
//! Each task gets a random priority when first seen; the highest-priority
//! ready task always runs. At `depth - 1` change points, drawn uniformly over
//! the first `horizon` scheduling steps, the task that ran last drops below
//! every initial priority. For a program with `n` tasks and `k` steps, any bug
//! of depth `d` is found in one run with probability at least `1/(n·k^(d-1))`.

use super::{Divergence, ReadyTasks, Scheduler, SimRng};
use crate::task::TaskId;

/// The PCT scheduler.
#[derive(Clone, Debug)]
pub struct Pct {
    rng: SimRng,
    depth: u32,
    /// Priorities by task id; 0 means not seen yet.
    priorities: Vec<u64>,
    /// Steps (1-based) at which the last task's priority drops, ascending.
    change_points: Vec<u64>,
    step: u64,
    last: Option<TaskId>,
}

impl Pct {
    /// A PCT scheduler with bug depth `depth` whose change points fall within
    /// the first `horizon` steps (an estimate of the run's length).
    pub fn new(seed: u64, depth: u32, horizon: u64) -> Self {
        let mut rng = SimRng::new(seed);
        let horizon = horizon.max(1);
        let mut change_points: Vec<u64> =
            (1..depth.max(1)).map(|_| 1 + rng.below(horizon)).collect();
        change_points.sort_unstable();
        Pct {
            rng,
            depth: depth.max(1),
            priorities: Vec::new(),
            change_points,
            step: 0,
            last: None,
        }
    }

    /// The steps at which priorities change.
    pub fn change_points(&self) -> &[u64] {
        &self.change_points
    }

    fn priority(&mut self, task: TaskId) -> u64 {
        let index = task.0 as usize;
        if index >= self.priorities.len() {
            self.priorities.resize(index + 1, 0);
        }
        if self.priorities[index] == 0 {
            // Initial priorities sit above every change-point priority.
            let floor = u64::from(self.depth) + 1;
            self.priorities[index] = floor + self.rng.below(u64::MAX - floor);
        }
        self.priorities[index]
    }
}

impl Scheduler for Pct {
    fn next_task(&mut self, ready: ReadyTasks<'_>) -> Result<usize, Divergence> {
        self.step += 1;
        let mut lowered = 0;
        while lowered < self.change_points.len() && self.change_points[lowered] == self.step {
            lowered += 1;
        }
        if lowered > 0 {
            self.change_points.drain(..lowered);
            if let Some(last) = self.last {
                self.priority(last);
                // Later change points give lower priorities, as in the paper.
                self.priorities[last.0 as usize] = self.change_points.len() as u64 + 1;
            }
        }
        let mut best = 0;
        let mut best_priority = 0;
        for (index, task) in ready.iter().enumerate() {
            let priority = self.priority(task);
            if priority > best_priority {
                best = index;
                best_priority = priority;
            }
        }
        self.last = ready.get(best);
        Ok(best)
    }

    fn next_timer(&mut self, due: usize) -> Result<usize, Divergence> {
        Ok(self.rng.below(due.max(1) as u64) as usize)
    }

    fn next_u64(&mut self) -> Result<u64, Divergence> {
        Ok(self.rng.next_u64())
    }
}
