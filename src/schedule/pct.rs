//! Probabilistic concurrency testing (Burckhardt, Kothari, Musuvathi,
//! Nagarakatte, ASPLOS 2010).
//!
//! Each task gets a random priority when first seen; the highest-priority
//! ready task always runs. A *step* is a real choice (more than one task
//! ready; the world asks nothing otherwise). Before the run, `depth - 1`
//! distinct change points are drawn uniformly from the steps `1..=horizon`;
//! the task chosen at the `i`-th of them, once it has run that step, drops to
//! priority `depth - i`, below every initial priority (later change points
//! give lower priorities, as in Coyote and shuttle). So depth 1 is a plain
//! priority order, and each further unit of depth allows one more
//! preemption. For a program with `n` tasks and `k <= horizon` steps, any bug
//! of depth `d` is found in one run with probability at least
//! `1/(n·k^(d-1))`.
//!
//! Fairness: PCT assumes that the highest-priority task soon blocks. A
//! task that is always ready (a loop that works and yields until told to
//! stop) would run at every step, and the task that would tell it to stop
//! never would: a correct program reported as a livelock. So a task chosen
//! [`FAIR_STREAK`] steps in a row while others were ready is demoted below
//! every task demoted fewer times (priorities then decide among equals),
//! and the others get their turn. Programs whose tasks block within that
//! many steps are scheduled exactly as by plain PCT.
//!
//! Invariants: the change points are distinct, ascending and within
//! `1..=horizon`; there are `min(depth - 1, horizon)` of them; they, the
//! priorities and the demotions are functions of the seed (and the ready
//! sets) alone.

use std::collections::BTreeSet;

use super::{Divergence, ReadyTasks, Scheduler, SimRng};
use crate::vocab::TaskId;

/// Steps in a row a task may be chosen while others are ready before it is
/// demoted (see the module's "Fairness").
pub const FAIR_STREAK: u64 = 1_000;

/// The PCT scheduler.
///
/// ```
/// use cancelsim::schedule::Pct;
///
/// // Bug depth 3: two priority change points within the first 100 steps.
/// let pct = Pct::new(7, 3, 100);
/// assert_eq!(pct.change_points().len(), 2);
/// assert!(pct.change_points().iter().all(|step| (1..=100).contains(step)));
/// // Depth 1: none, the highest-priority ready task always runs.
/// assert!(Pct::new(7, 1, 100).change_points().is_empty());
/// ```
#[derive(Clone, Debug)]
pub struct Pct {
    rng: SimRng,
    depth: u32,
    /// Priorities by task id; 0 means not seen yet.
    priorities: Vec<u64>,
    /// Steps (1-based) whose chosen task drops its priority, ascending.
    change_points: Vec<u64>,
    /// How many of `change_points` have passed.
    changed: usize,
    step: u64,
    /// Demotions for fairness, by task id: fewer runs first.
    demotions: Vec<u32>,
    /// The task chosen last, and how many steps in a row.
    streak: (Option<TaskId>, u64),
}

impl Pct {
    /// A PCT scheduler with bug depth `depth` (0 is taken as 1) whose
    /// change points fall within the first `horizon` steps (an estimate of
    /// the number of choices in a run; at least 1).
    pub fn new(seed: u64, depth: u32, horizon: u64) -> Self {
        let mut rng = SimRng::new(seed);
        let depth = depth.max(1);
        let horizon = horizon.max(1);
        let count = u64::from(depth - 1).min(horizon);
        // Floyd's sampling: `count` distinct steps of `1..=horizon`, every
        // set equally likely, in exactly `count` draws. (Drawing each point
        // on its own could draw one step twice, and two change points at
        // one step are one preemption: a lower depth than asked for.)
        let mut chosen = BTreeSet::new();
        for bound in (horizon - count + 1)..=horizon {
            let step = 1 + rng.below(bound);
            if !chosen.insert(step) {
                chosen.insert(bound);
            }
        }
        Pct {
            rng,
            depth,
            priorities: Vec::new(),
            change_points: chosen.into_iter().collect(),
            changed: 0,
            step: 0,
            demotions: Vec::new(),
            streak: (None, 0),
        }
    }

    fn demotions(&self, task: TaskId) -> u32 {
        self.demotions.get(task.0 as usize).copied().unwrap_or(0)
    }

    /// The ready task that runs: fewest demotions, then highest priority.
    fn best(&mut self, ready: &ReadyTasks<'_>) -> usize {
        let mut best = 0;
        let mut best_key = (u32::MAX, 0);
        for (index, task) in ready.iter().enumerate() {
            let priority = self.priority(task);
            let demoted = self.demotions(task);
            if demoted < best_key.0 || (demoted == best_key.0 && priority > best_key.1) {
                best = index;
                best_key = (demoted, priority);
            }
        }
        best
    }

    /// The steps (1-based counts of real choices) whose chosen task drops
    /// its priority after running, ascending: `depth - 1` of them (fewer
    /// only when the horizon has fewer steps).
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
        let mut best = self.best(&ready);
        if let Some(task) = ready.get(best) {
            let streak = match self.streak {
                (Some(last), run) if last == task => run + 1,
                _ => 1,
            };
            self.streak = (Some(task), streak);
            if streak > FAIR_STREAK {
                // Always ready while others wait: their turn.
                let index = task.0 as usize;
                if index >= self.demotions.len() {
                    self.demotions.resize(index + 1, 0);
                }
                self.demotions[index] += 1;
                best = self.best(&ready);
                self.streak = (ready.get(best), 1);
            }
        }
        if self.change_points.get(self.changed) == Some(&self.step) {
            self.changed += 1;
            if let Some(task) = ready.get(best) {
                // The `i`-th of `m` change points (1-based) gives
                // `m - i + 1` (`depth - i` when `m` is `depth - 1`).
                let lowered = (self.change_points.len() - self.changed) as u64 + 1;
                self.priorities[task.0 as usize] = lowered;
            }
        }
        Ok(best)
    }

    fn next_timer(&mut self, due: usize) -> Result<usize, Divergence> {
        Ok(self.rng.below(due.max(1) as u64) as usize)
    }

    fn next_u64(&mut self) -> Result<u64, Divergence> {
        Ok(self.rng.next_u64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::ReadyQueue;
    use crate::vocab::TaskKey;

    /// `tasks` ready, in wake order.
    fn ready(tasks: &[u32]) -> ReadyQueue {
        let mut queue = ReadyQueue::default();
        for &id in tasks {
            queue.push_back(TaskKey {
                index: id,
                id: TaskId(id),
            });
        }
        queue
    }

    /// The tasks `pct` picks over `steps` steps with tasks 1 and 2 ready at
    /// every step (two tasks that only yield).
    fn picks(pct: &mut Pct, steps: u64) -> Vec<u32> {
        let queue = ready(&[1, 2]);
        (0..steps)
            .map(|_| {
                let index = pct.next_task(ReadyTasks::new(&queue)).unwrap();
                [1, 2][index]
            })
            .collect()
    }

    #[test]
    fn depth_d_has_d_minus_1_change_points_and_depth_1_none() {
        for seed in 0..20 {
            assert!(Pct::new(seed, 1, 1_000).change_points().is_empty());
            // Depth 0 is read as 1, not as "minus one change point".
            assert!(Pct::new(seed, 0, 1_000).change_points().is_empty());
            for depth in 2..=8u32 {
                let pct = Pct::new(seed, depth, 1_000);
                assert_eq!(
                    pct.change_points().len(),
                    depth as usize - 1,
                    "seed {seed} depth {depth}"
                );
            }
        }
    }

    #[test]
    fn change_points_are_distinct_steps_within_the_horizon() {
        let mut seen = BTreeSet::new();
        for seed in 0..500 {
            // 4 points among 6 steps: draws with repetition would often
            // collide; the points must stay 4 distinct steps.
            let pct = Pct::new(seed, 5, 6);
            let points = pct.change_points();
            assert_eq!(points.len(), 4, "seed {seed}: {points:?}");
            assert!(points.windows(2).all(|w| w[0] < w[1]), "{points:?}");
            assert!(
                points.iter().all(|step| (1..=6).contains(step)),
                "{points:?}"
            );
            seen.extend(points.iter().copied());
        }
        // Every step of the horizon can be a change point, the first and
        // the last included.
        assert_eq!(seen, (1..=6).collect());
        // A horizon shorter than the depth asks for: every step changes.
        assert_eq!(Pct::new(3, 10, 3).change_points(), [1, 2, 3]);
        assert_eq!(Pct::new(3, 2, 0).change_points(), [1]);
    }

    #[test]
    fn the_seed_alone_decides_the_change_points() {
        let points = |seed| Pct::new(seed, 4, 1_000).change_points().to_vec();
        assert_eq!(points(42), points(42));
        let distinct: BTreeSet<Vec<u64>> = (0..50).map(points).collect();
        assert_eq!(distinct.len(), 50, "50 seeds, 3 points among 1000 steps");
        assert_ne!(points(0), points(1));
    }

    /// Depth 1 is a plain priority order: the same task at every step while
    /// it is ready. Depth 2: the task chosen at the change point runs that
    /// step, then gives way to the other for good.
    #[test]
    fn a_change_point_preempts_the_task_it_chose_once_it_has_run() {
        for seed in 0..50 {
            let first = picks(&mut Pct::new(seed, 1, 8), 8);
            assert!(first.iter().all(|&task| task == first[0]), "{first:?}");

            let mut pct = Pct::new(seed, 2, 8);
            let change = pct.change_points()[0] as usize;
            let chosen = picks(&mut pct, 8);
            let top = chosen[0];
            let other = 3 - top;
            let mut expected = vec![top; change];
            expected.resize(8, other);
            assert_eq!(chosen, expected, "seed {seed}: change point {change}");
        }
    }

    /// Two tasks always ready: depth 1 runs the top one `FAIR_STREAK`
    /// steps in a row, then the other as long, and so on (a task that
    /// never blocks does not starve the rest).
    #[test]
    fn a_task_always_ready_gives_way_after_a_streak() {
        for seed in 0..10 {
            let mut pct = Pct::new(seed, 1, 8);
            let streak = FAIR_STREAK as usize;
            let chosen = picks(&mut pct, 3 * FAIR_STREAK);
            let top = chosen[0];
            let other = 3 - top;
            assert!(chosen[..streak].iter().all(|&task| task == top));
            assert!(chosen[streak..2 * streak].iter().all(|&task| task == other));
            assert!(chosen[2 * streak..].iter().all(|&task| task == top));
        }
    }

    /// With more change points, each lowered task drops below the ones
    /// lowered before it: three tasks, depth 3, the order is top until the
    /// first point, the second until the second point, then the third.
    #[test]
    fn later_change_points_give_lower_priorities() {
        for seed in 0..50 {
            let mut pct = Pct::new(seed, 3, 9);
            let points: Vec<usize> = pct.change_points().iter().map(|&p| p as usize).collect();
            let queue = ready(&[1, 2, 3]);
            // One step past the horizon, so that a change point at its last
            // step still shows.
            let chosen: Vec<TaskId> = (0..10)
                .map(|_| {
                    let index = pct.next_task(ReadyTasks::new(&queue)).unwrap();
                    queue.get(index).unwrap().id
                })
                .collect();
            let (first, second, third) = (chosen[0], chosen[points[0]], chosen[points[1]]);
            assert!(
                first != second && second != third && first != third,
                "{chosen:?}"
            );
            for (step, task) in chosen.iter().enumerate() {
                let expected = if step < points[0] {
                    first
                } else if step < points[1] {
                    second
                } else {
                    third
                };
                assert_eq!(
                    *task, expected,
                    "seed {seed}, points {points:?}: {chosen:?}"
                );
            }
        }
    }
}
