//! Bounded-exhaustive exploration: depth first over the choices of a run,
//! as loom and shuttle's DFS do.
//!
//! A run under [`Dfs`] follows a [`DfsPath`]: at its `i`-th real choice
//! (more than one ready task, due timer or alternative) it takes the path's
//! `i`-th index, and past the path's end the first option (the `Fifo`
//! answer). The world records every real choice with its number of options,
//! so after a run the [`DfsExplorer`] knows the whole tree around the path
//! taken: it backtracks to the deepest choice with an option not yet tried
//! and makes that the next path. When none is left, every schedule of the
//! program has been run — the promise random strategies cannot make.
//!
//! The *deviation bound* limits how many choices of a path may differ from
//! the first option. On a cooperative executor every such choice runs
//! another task than the one first in line, a preemption of the `Fifo`
//! order, so the bound plays the part of loom's and shuttle's preemption
//! bound: most ordering bugs need one or two, and the number of schedules
//! grows polynomially in the program's length instead of exponentially.
//!
//! Invariants: the explorer visits each path at most once, in depth-first
//! order; a path never holds more deviations than the bound; exploration is
//! a function of the program (which must be deterministic, as every replay
//! requires) and the bound alone.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use super::{Divergence, ReadyTasks, Schedule, Scheduler, SimRng};

/// The indices a [`Dfs`] run takes at its real choices, in order; past the
/// end, the first option (index 0). Trailing zeros are dropped, so a path
/// and the same path with `0`s appended are equal.
///
/// Written `1.0.2` (`0` for the empty path); a repro line carries it as
/// `scheduler=dfs:1.0.2`.
///
/// ```
/// use cancelsim::schedule::DfsPath;
///
/// let path: DfsPath = "1.0.2.0".parse().unwrap();
/// assert_eq!(path.choices(), [1, 0, 2]);
/// assert_eq!(path.deviations(), 2);
/// assert_eq!(path.to_string(), "1.0.2");
/// assert_eq!(DfsPath::default().to_string(), "0");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct DfsPath {
    choices: Vec<u32>,
}

impl DfsPath {
    /// The path taking `choices`, then the first option.
    pub fn new(mut choices: Vec<u32>) -> Self {
        while choices.last() == Some(&0) {
            choices.pop();
        }
        DfsPath { choices }
    }

    /// The indices taken, without trailing zeros.
    pub fn choices(&self) -> &[u32] {
        &self.choices
    }

    /// How many choices differ from the first option.
    pub fn deviations(&self) -> usize {
        self.choices.iter().filter(|&&choice| choice != 0).count()
    }
}

impl fmt::Display for DfsPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.choices.is_empty() {
            return f.write_str("0");
        }
        for (index, choice) in self.choices.iter().enumerate() {
            if index > 0 {
                f.write_str(".")?;
            }
            write!(f, "{choice}")?;
        }
        Ok(())
    }
}

/// A DFS path's text could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseDfsPathError {
    /// The text given.
    pub text: String,
}

impl fmt::Display for ParseDfsPathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a DFS path: expected choice indices separated by dots, e.g. `1.0.2` \
             (`0` for the first option everywhere)",
            self.text
        )
    }
}

impl std::error::Error for ParseDfsPathError {}

impl FromStr for DfsPath {
    type Err = ParseDfsPathError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let choices = text
            .split('.')
            .map(|choice| choice.parse::<u32>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| ParseDfsPathError {
                text: text.to_string(),
            })?;
        Ok(DfsPath::new(choices))
    }
}

/// Follows a [`DfsPath`]: its index at each real choice, then the first
/// option; random numbers come from the seed. A path that asks for an
/// option the run does not offer, or that is longer than the run's
/// choices, is a [`Divergence`] (the program is not deterministic, or not
/// the program explored).
#[derive(Clone, Debug)]
pub struct Dfs {
    path: Arc<DfsPath>,
    /// Real choices taken so far.
    taken: usize,
    seed: u64,
    rng: Option<SimRng>,
}

impl Dfs {
    /// A run along `path`, with random numbers from `seed`.
    pub fn new(seed: u64, path: Arc<DfsPath>) -> Self {
        Dfs {
            path,
            taken: 0,
            seed,
            rng: None,
        }
    }

    fn take(&mut self, options: usize, what: &str) -> Result<usize, Divergence> {
        let index = self.taken;
        self.taken += 1;
        let choice = self.path.choices.get(index).copied().unwrap_or(0) as usize;
        if choice < options {
            Ok(choice)
        } else {
            Err(Divergence {
                decision: index,
                expected: format!("option {choice} (the DFS path {})", self.path),
                found: format!("a choice among {options} {what}"),
                between_runs: false,
            })
        }
    }
}

impl Scheduler for Dfs {
    fn next_task(&mut self, ready: ReadyTasks<'_>) -> Result<usize, Divergence> {
        if ready.len() <= 1 {
            return Ok(0);
        }
        self.take(ready.len(), "ready tasks")
    }

    fn next_timer(&mut self, due: usize) -> Result<usize, Divergence> {
        if due <= 1 {
            return Ok(0);
        }
        self.take(due, "due timers")
    }

    fn next_choice(&mut self, options: u32) -> Result<u32, Divergence> {
        if options <= 1 {
            return Ok(0);
        }
        self.take(options as usize, "alternatives")
            .map(|choice| choice as u32)
    }

    fn next_u64(&mut self) -> Result<u64, Divergence> {
        let seed = self.seed;
        Ok(self.rng.get_or_insert_with(|| SimRng::new(seed)).next_u64())
    }

    fn run_finished(&mut self) -> Result<(), Divergence> {
        let length = self.path.choices.len();
        if self.taken < length {
            return Err(Divergence {
                decision: self.taken,
                expected: format!(
                    "{} more choices (the DFS path {})",
                    length - self.taken,
                    self.path
                ),
                found: "the end of the run".to_string(),
                between_runs: false,
            });
        }
        Ok(())
    }
}

/// Walks the schedules of a program depth first: [`next_path`] to run,
/// then [`explored`] with the run's recorded [`Schedule`], until
/// [`is_exhausted`].
///
/// ```
/// use cancelsim::schedule::{Decision, DfsExplorer, Schedule};
///
/// // A program with two choices of two options each: four schedules.
/// let mut explorer = DfsExplorer::new(None);
/// let mut paths = Vec::new();
/// while let Some(path) = explorer.next_path() {
///     let taken = path.choices().to_vec();
///     let choice = |i: usize| Decision::Task { options: 2, chosen: taken.get(i).copied().unwrap_or(0) };
///     explorer.explored(&Schedule::from(vec![choice(0), choice(1)]));
///     paths.push(path.to_string());
/// }
/// assert_eq!(paths, ["0", "0.1", "1", "1.1"]);
/// assert!(explorer.is_exhausted());
/// assert_eq!(explorer.schedules(), 4);
/// ```
///
/// [`next_path`]: DfsExplorer::next_path
/// [`explored`]: DfsExplorer::explored
/// [`is_exhausted`]: DfsExplorer::is_exhausted
#[derive(Clone, Debug)]
pub struct DfsExplorer {
    max_deviations: Option<usize>,
    next: Option<DfsPath>,
    schedules: usize,
}

impl DfsExplorer {
    /// An exploration allowing at most `max_deviations` choices per path
    /// that differ from the first option (`None`: every schedule).
    pub fn new(max_deviations: Option<u32>) -> Self {
        DfsExplorer {
            max_deviations: max_deviations.map(|bound| bound as usize),
            next: Some(DfsPath::default()),
            schedules: 0,
        }
    }

    /// The path to run next; `None` once every schedule within the bound
    /// has been run.
    pub fn next_path(&self) -> Option<DfsPath> {
        self.next.clone()
    }

    /// Takes the recorded schedule of the run along [`next_path`]
    /// (its real choices and their options) and moves to the next path: the
    /// deepest choice with an untried option within the bound, taken.
    ///
    /// [`next_path`]: DfsExplorer::next_path
    pub fn explored(&mut self, schedule: &Schedule) {
        self.schedules += 1;
        let choices: Vec<(u32, u32)> = schedule.iter().filter_map(|d| d.choice()).collect();
        let mut deviations_before: Vec<usize> = Vec::with_capacity(choices.len());
        let mut deviations = 0;
        for &(chosen, _) in &choices {
            deviations_before.push(deviations);
            deviations += usize::from(chosen != 0);
        }
        self.next = (0..choices.len()).rev().find_map(|index| {
            let (chosen, options) = choices[index];
            let within = self
                .max_deviations
                .is_none_or(|bound| deviations_before[index] < bound);
            (chosen + 1 < options && within).then(|| {
                let mut path: Vec<u32> = choices[..index].iter().map(|&(c, _)| c).collect();
                path.push(chosen + 1);
                DfsPath::new(path)
            })
        });
    }

    /// Every schedule within the bound has been run.
    pub fn is_exhausted(&self) -> bool {
        self.next.is_none()
    }

    /// Schedules run so far.
    pub fn schedules(&self) -> usize {
        self.schedules
    }

    /// The deviation bound (`None`: unbounded).
    pub fn max_deviations(&self) -> Option<usize> {
        self.max_deviations
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::Decision;

    /// Runs the explorer over a synthetic program whose every run has
    /// `levels` choices of `options` options each.
    fn explore(levels: usize, options: u32, bound: Option<u32>) -> Vec<DfsPath> {
        let mut explorer = DfsExplorer::new(bound);
        let mut paths = Vec::new();
        while let Some(path) = explorer.next_path() {
            let schedule: Vec<Decision> = (0..levels)
                .map(|level| Decision::Task {
                    options,
                    chosen: path.choices().get(level).copied().unwrap_or(0),
                })
                .collect();
            explorer.explored(&Schedule::from(schedule));
            paths.push(path);
            assert!(paths.len() <= 100_000, "runaway exploration");
        }
        paths
    }

    fn binomial(n: u64, k: u64) -> u64 {
        (0..k).fold(1, |acc, i| acc * (n - i) / (i + 1))
    }

    #[test]
    fn unbounded_exploration_visits_every_schedule_once() {
        let paths = explore(4, 3, None);
        assert_eq!(paths.len(), 81);
        let distinct: std::collections::BTreeSet<_> =
            paths.iter().map(ToString::to_string).collect();
        assert_eq!(distinct.len(), 81);
    }

    #[test]
    fn the_deviation_bound_keeps_the_paths_with_at_most_that_many_deviations() {
        // Paths of 5 choices of 3 options with at most k non-zero: sum over
        // j <= k of C(5, j) * 2^j.
        for bound in 0..=5u32 {
            let paths = explore(5, 3, Some(bound));
            let expected: u64 = (0..=u64::from(bound))
                .map(|j| binomial(5, j) * 2u64.pow(j as u32))
                .sum();
            assert_eq!(paths.len() as u64, expected, "bound {bound}");
            assert!(paths.iter().all(|p| p.deviations() <= bound as usize));
        }
    }

    #[test]
    fn a_path_round_trips_through_its_text() {
        for text in ["0", "1", "2.0.1", "0.0.3"] {
            let path: DfsPath = text.parse().unwrap();
            assert_eq!(path.to_string().parse::<DfsPath>().unwrap(), path);
        }
        assert!("1..2".parse::<DfsPath>().is_err());
        assert!("".parse::<DfsPath>().is_err());
        assert!("x".parse::<DfsPath>().is_err());
    }

    #[test]
    fn a_path_longer_than_the_run_or_out_of_range_diverges() {
        let mut dfs = Dfs::new(0, Arc::new(DfsPath::new(vec![3])));
        let error = dfs.next_timer(2).unwrap_err();
        assert!(error.expected.contains("option 3"), "{error}");
        let mut dfs = Dfs::new(0, Arc::new(DfsPath::new(vec![0, 1])));
        assert_eq!(dfs.next_timer(2), Ok(0));
        let error = dfs.run_finished().unwrap_err();
        assert!(error.expected.contains("1 more choices"), "{error}");
    }
}
