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
mod fifo;
mod pct;
mod random;
mod ready;
mod replay;
mod rng;
mod schedule_text;

use std::borrow::Cow;
use std::fmt;
use std::panic::RefUnwindSafe;
use std::sync::Arc;

pub use current_thread::CurrentThread;
pub(crate) use determinism_check::{DeterminismCheck, DeterminismRole, RunView};
pub use dfs::{Dfs, DfsExplorer, DfsPath, ParseDfsPathError};
pub use fifo::Fifo;
pub use pct::Pct;
pub use random::Random;
pub(crate) use ready::ReadyQueue;
pub use ready::ReadyTasks;
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

/// Which built-in scheduler a run uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SchedulerKind {
    /// Tasks run in the order they were woken; timers in registration order
    /// ([`Fifo`]).
    #[default]
    Fifo,
    /// Uniformly random choice among ready tasks and among due timers
    /// ([`Random`]).
    Random,
    /// Tasks in wake order, as tokio's current-thread runtime runs them;
    /// `select!` branches, I/O delays and timer ties random
    /// ([`CurrentThread`]).
    CurrentThread,
    /// Probabilistic concurrency testing with the given bug depth ([`Pct`]).
    Pct {
        /// Bug depth `d`: `d - 1` priority change points per run.
        depth: u32,
    },
    /// Follow a recorded schedule exactly ([`Replay`]).
    Replay(Arc<Schedule>),
    /// Follow a path of choices, then the first option ([`Dfs`]): one run
    /// of a bounded-exhaustive exploration ([`DfsExplorer`]).
    Dfs(Arc<DfsPath>),
    /// A scheduler of your own ([`SchedulerKind::custom`]).
    Custom(CustomScheduler),
}

/// A user's scheduler: a name (shown in traces and repro lines) and a
/// factory that builds one per run from the run's seed. Two are equal when
/// they are the same factory.
///
/// Read from a repro line (`scheduler=custom:NAME`) it has a name and no
/// factory: a [`Check`](crate::Check) replaying the line puts its own
/// scheduler of that name in; building it anywhere else panics, saying so.
#[derive(Clone)]
pub struct CustomScheduler {
    name: Arc<str>,
    factory: Option<Arc<SchedulerFactory>>,
}

type SchedulerFactory = dyn Fn(u64) -> Box<dyn Scheduler> + Send + Sync + RefUnwindSafe;

impl CustomScheduler {
    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Read from a repro line: a name without a factory.
    pub fn is_named_only(&self) -> bool {
        self.factory.is_none()
    }

    fn build(&self, seed: u64) -> Box<dyn Scheduler> {
        match &self.factory {
            Some(factory) => factory(seed),
            None => panic!(
                "cancelsim: the custom scheduler `{}` was read from a repro line and has no \
                 factory; replay the line through the Check that defines it \
                 (CANCELSIM_REPLAY with that check's test name)",
                self.name
            ),
        }
    }
}

impl fmt::Debug for CustomScheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CustomScheduler")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl PartialEq for CustomScheduler {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && match (&self.factory, &other.factory) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                (None, None) => true,
                _ => false,
            }
    }
}

impl Eq for CustomScheduler {}

impl SchedulerKind {
    /// Builds the scheduler for one run.
    pub fn build(&self, seed: u64, horizon: u64) -> Box<dyn Scheduler> {
        match self {
            SchedulerKind::Fifo => Box::new(Fifo::new(seed)),
            SchedulerKind::Random => Box::new(Random::new(seed)),
            SchedulerKind::CurrentThread => Box::new(CurrentThread::new(seed)),
            SchedulerKind::Pct { depth } => Box::new(Pct::new(seed, *depth, horizon)),
            SchedulerKind::Replay(schedule) => Box::new(Replay::new(Arc::clone(schedule))),
            SchedulerKind::Dfs(path) => Box::new(Dfs::new(seed, Arc::clone(path))),
            SchedulerKind::Custom(custom) => custom.build(seed),
        }
    }

    /// A scheduler of your own, built for each run by `factory` from the
    /// run's seed, and named `name` in traces and repro lines
    /// (`scheduler=custom:NAME`). It must be a deterministic function of the
    /// seed and the questions asked (no clock, thread or address), as the
    /// built-in ones are: a run is replayed by building it again.
    ///
    /// ```
    /// use cancelsim::schedule::{Divergence, ReadyTasks, Scheduler, SimRng};
    /// use cancelsim::{Config, SchedulerKind, Sim};
    ///
    /// /// Always runs the task woken last.
    /// #[derive(Debug)]
    /// struct Lifo(SimRng);
    ///
    /// impl Scheduler for Lifo {
    ///     fn next_task(&mut self, ready: ReadyTasks<'_>) -> Result<usize, Divergence> {
    ///         Ok(ready.len().saturating_sub(1))
    ///     }
    ///     fn next_timer(&mut self, due: usize) -> Result<usize, Divergence> {
    ///         Ok(due - 1)
    ///     }
    ///     fn next_u64(&mut self) -> Result<u64, Divergence> {
    ///         Ok(self.0.next_u64())
    ///     }
    /// }
    ///
    /// let lifo = SchedulerKind::custom("lifo", |seed| Box::new(Lifo(SimRng::new(seed))));
    /// let mut sim = Sim::new(Config::default().scheduler(lifo));
    /// let order = sim.block_on(async {
    ///     let log = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    ///     let spawn = |n: u32| {
    ///         let log = log.clone();
    ///         cancelsim::spawn(async move { log.borrow_mut().push(n) })
    ///     };
    ///     let (a, b) = (spawn(1), spawn(2));
    ///     let _ = (b.await, a.await);
    ///     log.take()
    /// });
    /// assert_eq!(order.unwrap(), [2, 1], "the task woken last ran first");
    /// assert!(sim.trace().to_string().contains("scheduler custom:lifo"));
    /// ```
    pub fn custom(
        name: &str,
        factory: impl Fn(u64) -> Box<dyn Scheduler> + Send + Sync + RefUnwindSafe + 'static,
    ) -> SchedulerKind {
        SchedulerKind::Custom(CustomScheduler {
            name: Arc::from(name),
            factory: Some(Arc::new(factory)),
        })
    }
}

impl SchedulerKind {
    /// The text form ([`Display`](fmt::Display)), without formatting or
    /// allocating for the schedulers without parameters (every world's
    /// trace is named after its scheduler).
    pub fn name(&self) -> Cow<'static, str> {
        match self {
            SchedulerKind::Fifo => Cow::Borrowed("fifo"),
            SchedulerKind::Random => Cow::Borrowed("random"),
            SchedulerKind::CurrentThread => Cow::Borrowed("current-thread"),
            SchedulerKind::Pct { depth } => Cow::Owned(format!("pct:{depth}")),
            SchedulerKind::Replay(s) => Cow::Owned(format!("replay({} decisions)", s.len())),
            SchedulerKind::Dfs(path) => Cow::Owned(format!("dfs:{path}")),
            SchedulerKind::Custom(custom) => Cow::Owned(format!("custom:{}", custom.name)),
        }
    }
}

impl fmt::Display for SchedulerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// A scheduler name could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseSchedulerError {
    /// The text given.
    pub text: String,
}

impl fmt::Display for ParseSchedulerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown scheduler `{}`: expected `fifo`, `random`, `current-thread`, `pct:D` with D a bug depth of at least 1 (e.g. `pct:3`), `dfs:PATH` with PATH choice indices separated by dots (e.g. `dfs:1.0.2`), or `custom:NAME`",
            self.text
        )
    }
}

impl std::error::Error for ParseSchedulerError {}

/// Reads the `Display` form: `fifo`, `random`, `current-thread`, `pct:3`, `dfs:1.0.2`,
/// `custom:NAME` (a name only: see [`CustomScheduler`]); not `replay`.
impl std::str::FromStr for SchedulerKind {
    type Err = ParseSchedulerError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || ParseSchedulerError {
            text: text.to_string(),
        };
        match text {
            "fifo" => Ok(SchedulerKind::Fifo),
            "random" => Ok(SchedulerKind::Random),
            "current-thread" => Ok(SchedulerKind::CurrentThread),
            _ if text.starts_with("custom:") && text.len() > "custom:".len() => {
                Ok(SchedulerKind::Custom(CustomScheduler {
                    name: Arc::from(&text["custom:".len()..]),
                    factory: None,
                }))
            }
            _ if text.starts_with("dfs:") => text["dfs:".len()..]
                .parse::<DfsPath>()
                .map(|path| SchedulerKind::Dfs(Arc::new(path)))
                .map_err(|_| error()),
            _ => {
                let depth = text.strip_prefix("pct:").ok_or_else(error)?;
                match depth.parse::<u32>() {
                    Ok(depth) if depth >= 1 => Ok(SchedulerKind::Pct { depth }),
                    _ => Err(error()),
                }
            }
        }
    }
}

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

/// A replayed run asked a question the recording did not answer that way
/// (or a scheduler of one's own cannot answer: [`Divergence::new`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Divergence {
    /// Index of the decision at which the runs parted.
    pub decision: usize,
    /// What the recording holds there.
    pub expected: String,
    /// What the run asked.
    pub found: String,
    /// Found by the determinism check: `expected` is what the first of two
    /// runs of one plan was offered, `found` what the second was.
    between_runs: bool,
}

impl Divergence {
    /// At the `decision`-th decision, the recording (or the scheduler's
    /// plan) holds `expected` and the run asked for `found`.
    ///
    /// ```
    /// use cancelsim::schedule::Divergence;
    ///
    /// let divergence = Divergence::new(4, "a choice among 2 ready tasks", "a random number");
    /// assert!(divergence.to_string().starts_with("decision 4: the recording holds a choice"));
    /// ```
    pub fn new(decision: usize, expected: impl Into<String>, found: impl Into<String>) -> Self {
        Divergence {
            decision,
            expected: expected.into(),
            found: found.into(),
            between_runs: false,
        }
    }

    /// The determinism check's difference: at the `decision`-th decision
    /// the first run `first` (`could run [#1, #2] (step 3, at 0.000s)`),
    /// this run `this`.
    pub(crate) fn between_runs(
        decision: usize,
        first: impl Into<String>,
        this: impl Into<String>,
    ) -> Self {
        Divergence {
            between_runs: true,
            ..Divergence::new(decision, first, this)
        }
    }

    /// Found by the determinism check (two runs of one plan), not by a
    /// replay.
    pub fn is_between_runs(&self) -> bool {
        self.between_runs
    }
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.between_runs {
            return write!(
                f,
                "at decision {} the first run {} and this run {}",
                self.decision, self.expected, self.found
            );
        }
        write!(
            f,
            "decision {}: the recording holds {}, the run asked for {} \
             (is the code under test fully deterministic? wall clock, threads, \
             HashMap order or an unseeded RNG would do this; so would replaying \
             other code, or other `block_on` calls, than were recorded)",
            self.decision, self.expected, self.found
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::TaskId;

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
