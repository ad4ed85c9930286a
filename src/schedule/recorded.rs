//! The record of a run: each [`Decision`] in order, and where each root
//! future ended ([`Schedule`]).

/// One recorded choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// Task number `chosen` (index into the ready list) of `options`.
    Task {
        /// Number of ready tasks.
        options: u32,
        /// Index picked.
        chosen: u32,
    },
    /// Timer number `chosen` of `options` due at the same instant (or, with
    /// two options, whether a `timeout` (1) or its inner future (0) won when
    /// both were done at the deadline).
    Timer {
        /// Number of due timers.
        options: u32,
        /// Index picked.
        chosen: u32,
    },
    /// A random number handed to the code under test.
    Random(u64),
    /// Alternative number `chosen` of `options` the code under test offered
    /// ([`choose`](crate::choose): a `select!`'s start branch, a delivery
    /// delay).
    Choice {
        /// Number of alternatives.
        options: u32,
        /// Index picked.
        chosen: u32,
    },
}

impl Decision {
    /// `(chosen, options)` of a task, timer or alternative choice; `None`
    /// for a random number (not a choice among options).
    pub fn choice(self) -> Option<(u32, u32)> {
        match self {
            Decision::Task { options, chosen }
            | Decision::Timer { options, chosen }
            | Decision::Choice { options, chosen } => Some((chosen, options)),
            Decision::Random(_) => None,
        }
    }
}

/// The recorded decisions of one world, in order, and where each of its
/// root futures (one per `block_on`) ended.
///
/// Stored run-length encoded: a long run under `Fifo` with many tasks ready
/// takes the same decision (`t0/N`) millions of times, and a step must not
/// pay for a growing list. Equal schedules have equal encodings.
///
/// A schedule without root ends (built from a list of decisions, or read
/// from text without `|`) is taken as one root that ends after its last
/// decision.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schedule {
    /// Each distinct decision with how many times in a row it was taken.
    runs: Vec<(Decision, u32)>,
    len: usize,
    /// For each root that ended, in order: how many decisions had been
    /// taken by then (non-decreasing).
    root_ends: Vec<usize>,
}

impl Schedule {
    /// An empty schedule.
    pub fn new() -> Self {
        Schedule::default()
    }

    /// Forgets every decision, keeping the storage.
    pub(crate) fn clear(&mut self) {
        self.runs.clear();
        self.len = 0;
        self.root_ends.clear();
    }

    /// The decisions, in the order they were taken (expanded into a list;
    /// [`Schedule::iter`] walks them without one).
    pub fn decisions(&self) -> Vec<Decision> {
        self.iter().collect()
    }

    /// The decisions, in the order they were taken.
    pub fn iter(&self) -> impl Iterator<Item = Decision> + '_ {
        self.runs
            .iter()
            .flat_map(|&(decision, count)| std::iter::repeat_n(decision, count as usize))
    }

    /// Number of decisions.
    pub fn len(&self) -> usize {
        self.len
    }

    /// No decisions at all.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// For each root future that ended (one per `block_on`, in order), the
    /// number of decisions taken by then.
    ///
    /// ```
    /// use cancelsim::{Config, Sim};
    ///
    /// let mut sim = Sim::new(Config::default());
    /// let two_ready = || async {
    ///     let child = cancelsim::spawn(async {});
    ///     cancelsim::yield_now().await; // the child and the root are ready
    ///     child.await.unwrap();
    /// };
    /// sim.block_on(two_ready()).unwrap();
    /// sim.block_on(async {}).unwrap(); // takes no decision
    /// let schedule = sim.schedule();
    /// assert_eq!(schedule.len(), 1);
    /// assert_eq!(schedule.root_ends(), [1, 1]);
    /// assert_eq!(schedule.to_string(), "t0/2 | |");
    /// ```
    pub fn root_ends(&self) -> &[usize] {
        &self.root_ends
    }

    /// Where the `root`-th root future (0-based) ends: after this many
    /// decisions. A root past the recorded ends (or the only root of a
    /// schedule without any) ends with the recording.
    pub(crate) fn root_end(&self, root: usize) -> usize {
        self.root_ends.get(root).copied().unwrap_or(self.len)
    }

    /// Marks the end of a root future after the decisions so far.
    pub(crate) fn push_root_end(&mut self) {
        self.root_ends.push(self.len);
    }

    #[inline]
    pub(crate) fn push(&mut self, decision: Decision) {
        self.len += 1;
        if let Some((last, count)) = self.runs.last_mut() {
            if *last == decision && *count < u32::MAX {
                *count += 1;
                return;
            }
        }
        self.runs.push((decision, 1));
    }

    /// The `run`-th run: a decision and how many times in a row it was
    /// taken.
    pub(crate) fn run(&self, run: usize) -> Option<(Decision, u32)> {
        self.runs.get(run).copied()
    }
}

impl From<Vec<Decision>> for Schedule {
    fn from(decisions: Vec<Decision>) -> Self {
        let mut schedule = Schedule::new();
        for decision in decisions {
            schedule.push(decision);
        }
        schedule
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::{ReadyQueue, ReadyTasks, Replay, Scheduler};
    use crate::vocab::TaskId;
    use std::sync::Arc;

    fn task(chosen: u32, options: u32) -> Decision {
        Decision::Task { options, chosen }
    }

    /// Repeats collapse into runs, and the list, the length, the text form
    /// and a replay all see every decision in order.
    #[test]
    fn run_length_encoding_keeps_every_decision() {
        let taken = vec![
            task(0, 3),
            task(0, 3),
            task(0, 3),
            Decision::Random(7),
            Decision::Random(7),
            task(1, 3),
            task(0, 3),
        ];
        let schedule = Schedule::from(taken.clone());
        assert_eq!(schedule.runs.len(), 4);
        assert_eq!(schedule.len(), 7);
        assert_eq!(schedule.decisions(), taken);
        assert_eq!(schedule.to_string(), "t0/3 t0/3 t0/3 r7 r7 t1/3 t0/3");
        let mut replay = Replay::new(Arc::new(schedule));
        let mut answers = Vec::new();
        for _ in 0..3 {
            answers.push(replay.next_timer(3).map_err(|d| d.decision));
        }
        // The first recorded decision is a task choice: asking for a timer
        // is a divergence at decision 0, and the cursor does not move.
        assert_eq!(answers, vec![Err(0), Err(0), Err(0)]);
    }

    /// A ready queue of tasks 0 and 1.
    fn two_ready() -> ReadyQueue {
        let mut queue = ReadyQueue::default();
        for n in 0..2 {
            queue.push_back(crate::vocab::TaskKey {
                index: n,
                id: TaskId(n),
            });
        }
        queue
    }

    #[test]
    fn replay_walks_across_runs() {
        let taken = vec![task(0, 2), task(0, 2), task(1, 2), Decision::Random(9)];
        let mut replay = Replay::new(Arc::new(Schedule::from(taken)));
        let queue = two_ready();
        let ready = ReadyTasks::new(&queue);
        assert_eq!(replay.next_task(ready), Ok(0));
        assert_eq!(replay.next_task(ready), Ok(0));
        assert_eq!(replay.next_task(ready), Ok(1));
        assert_eq!(replay.next_u64(), Ok(9));
        let end = replay.next_u64().unwrap_err();
        assert_eq!(end.decision, 4);
        assert!(end.expected.contains("end of the recording"), "{end}");
    }

    /// A root that ends inside a run of equal decisions leaves the rest of
    /// the run; the next root starts at its own first decision.
    #[test]
    fn replay_skips_what_an_early_root_end_left() {
        let recorded: Schedule = "t0/2 t0/2 t0/2 | t1/2 |".parse().unwrap();
        assert_eq!(recorded.root_ends(), [3, 4]);
        let mut replay = Replay::new(Arc::new(recorded));
        let queue = two_ready();
        let ready = ReadyTasks::new(&queue);
        assert_eq!(replay.next_task(ready), Ok(0));
        let left = replay.root_finished().unwrap_err();
        assert_eq!(left.decision, 1);
        assert_eq!(left.expected, "a choice among 2 ready tasks");
        assert!(left.found.contains("2 recorded decisions"), "{left}");
        assert_eq!(replay.next_task(ready), Ok(1));
        assert_eq!(replay.root_finished(), Ok(()));
        assert_eq!(replay.run_finished(), Ok(()));
    }
}
