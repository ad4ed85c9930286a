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
    /// At most this many steps (polls, and [`work`](crate::work) calls inside
    /// them) per `block_on` before [`SimError::StepLimit`](crate::SimError::StepLimit).
    pub max_steps: u64,
    /// Virtual time may not pass this point, not even through
    /// [`work`](crate::work) inside a poll ([`SimError::TimeLimit`](crate::SimError::TimeLimit)).
    pub max_time: Duration,
    /// How much trace to keep.
    pub trace: TraceMode,
    /// PCT's estimate of the number of real scheduling choices in a run
    /// (polls with more than one task ready, not all polls): its change
    /// points are drawn among the first this many.
    pub pct_horizon: u64,
    /// A cancel request must be honoured (the task finished) within this many
    /// polls of the task...
    pub grace_polls: u32,
    /// ...and this much virtual time, or it is `cancel-ignored`.
    pub grace_time: Duration,
    /// After the root ends, detached work may run this many more polls...
    pub drain_steps: u64,
    /// ...and this much more virtual time to finish.
    pub drain_time: Duration,
    /// The end of the root is a tokio runtime's shutdown: tasks still
    /// running are dropped where they wait (no drain, no `leaked-task`),
    /// except that a task which ignored the fired cancellation signal for
    /// longer than the grace time is `cancel-ignored`. Off by default
    /// (cancelsim's structured rule: a live task is a leak).
    pub runtime_shutdown: bool,
    /// The root (the `block_on` future, `main#0`) is polled as tokio's
    /// current-thread runtime polls its `block_on` future: not from the
    /// ready queue but at the top of each scheduler turn, before the tasks
    /// queued — when the queue runs dry (the runtime parks: timers fire,
    /// I/O arrives) and after every 61 polls of other tasks (tokio's
    /// `event_interval`). Woken meanwhile it waits for that turn; the
    /// scheduler is not asked about it. A task's `yield_now` is woken at
    /// the top of the next turn too, as tokio defers it. Off by default (the root is one task of the ready
    /// queue, in wake order); the tokio facade sets it for its
    /// current-thread runtimes.
    pub root_first: bool,
    /// The file the test body is written in (set by `#[tokio::test]`,
    /// `#[cancelsim::test]`, [`Check::test_file`](crate::Check::test_file)).
    /// A `timeout` called in this file (within [`Config::test_lines`]) by
    /// the root — the test's own "must finish in time" — that an injection
    /// expires, and on whose `Err(Elapsed)` the root then fails (`.expect(..)`,
    /// `.unwrap()`, `assert!(r.is_ok())`, `assert_eq!(r, Ok(..))`), is the
    /// test's assertion: the run is counted, not reported. A test that tolerates the expiry (`let _ = timeout(..)`)
    /// and then checks the state is judged as usual, and so are timeouts
    /// in the code under test (other files, other tasks).
    pub test_file: Option<&'static str>,
    /// The lines of the test function in [`Config::test_file`] (first,
    /// last; set by `#[tokio::test]`, `#[cancelsim::test]`,
    /// [`Check::test_lines`](crate::Check::test_lines)): only a `timeout`
    /// called there is the test's own. Without them, the whole file is the
    /// test's (code under test written beside its tests is then taken for
    /// the test).
    pub test_lines: Option<(u32, u32)>,
    /// The wall-clock limit of one poll (default 5 s; `None`: off). A poll
    /// that runs longer (a loop without an await, a blocking call) is a
    /// stuck poll: in a sweep a `stuck-poll` failure of that run, in
    /// [`Sim::block_on`](crate::Sim::block_on) a report on stderr and the
    /// end of the process (a poll cannot be interrupted, and the caller's
    /// thread cannot be handed back). `CANCELSIM_WATCHDOG` overrides it in
    /// sweeps.
    pub watchdog: Option<Duration>,
    /// Where the root future is written, named in reports as where `main`
    /// started (a deadlock lists it). Default: where `block_on` was called;
    /// [`Check::new`](crate::Check::new) sets its caller, the test.
    pub root_location: Option<&'static std::panic::Location<'static>>,
    /// The determinism check's part in this run (a sweep's baselines, run
    /// twice): record every question, or check each against the first
    /// run's. `None` outside them.
    pub(crate) determinism: Option<crate::schedule::DeterminismRole>,
    /// The test's own `timeout`s (the root's, in the test function) never
    /// expire: the counterfactual of a run that failed on one
    /// (`check/counterfactual.rs`).
    pub(crate) own_deadlines_unbounded: bool,
    /// ...except the one called here: the timeout the run's injection
    /// expires, which keeps its deadline.
    pub(crate) own_deadline_kept: Option<crate::vocab::SourceLocation>,
}

impl Config {
    /// Whether a `timeout` called at `at` is the test's own: in
    /// [`Config::test_file`], within [`Config::test_lines`] when known.
    pub fn is_test_code(&self, at: crate::vocab::SourceLocation) -> bool {
        self.test_file == Some(at.file())
            && self
                .test_lines
                .is_none_or(|(first, last)| (first..=last).contains(&at.line()))
    }
}

/// The step budget of each run of a sweep ([`Config::sweep`]).
const SWEEP_MAX_STEPS: u64 = 1_000_000;

/// With [`Config::root_first`], how many polls of other tasks the root
/// waits at most: tokio's `event_interval` (61), after which its
/// current-thread scheduler parks and polls the `block_on` future.
pub(crate) const ROOT_FIRST_BATCH: u32 = 61;

/// The default of [`Config::watchdog`].
pub const DEFAULT_WATCHDOG: Duration = Duration::from_secs(5);

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 0,
            scheduler: SchedulerKind::Fifo,
            max_steps: 10_000_000,
            max_time: Duration::from_secs(365 * 24 * 3600),
            trace: TraceMode::Full,
            pct_horizon: 1_000,
            grace_polls: 100,
            grace_time: Duration::from_secs(1),
            drain_steps: 1_000_000,
            drain_time: Duration::from_secs(3600),
            runtime_shutdown: false,
            root_first: false,
            test_file: None,
            test_lines: None,
            watchdog: Some(DEFAULT_WATCHDOG),
            root_location: None,
            determinism: None,
            own_deadlines_unbounded: false,
            own_deadline_kept: None,
        }
    }
}

impl Config {
    /// The configuration every run of a sweep starts from ([`Check`](crate::Check),
    /// `strategy`'s runs, scenario sweeps): the default
    /// with a step budget of 1,000,000 (a [`Sim`](crate::Sim) of its own
    /// has 10,000,000), so a livelocked run among thousands ends soon as a
    /// `step-limit` failure.
    pub fn sweep() -> Config {
        Config::default().max_steps(SWEEP_MAX_STEPS)
    }

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

    /// Sets [`Config::runtime_shutdown`]: end the root as a tokio runtime
    /// shuts down.
    pub fn runtime_shutdown(mut self, enabled: bool) -> Self {
        self.runtime_shutdown = enabled;
        self
    }

    /// Sets [`Config::root_first`]: poll the root as tokio's current-thread
    /// runtime polls its `block_on` future.
    pub fn root_first(mut self, enabled: bool) -> Self {
        self.root_first = enabled;
        self
    }

    /// Sets the grace budget of a cancel request (default: 100 polls, 1 s).
    pub fn cancel_grace(mut self, polls: u32, time: Duration) -> Self {
        self.grace_polls = polls;
        self.grace_time = time;
        self
    }

    /// Sets the budget of the drain after the root ends (default: 1,000,000
    /// polls, 1 h of virtual time).
    pub fn drain_budget(mut self, steps: u64, time: Duration) -> Self {
        self.drain_steps = steps;
        self.drain_time = time;
        self
    }

    /// Sets [`Config::watchdog`]: the wall-clock limit of one poll, or
    /// `None` to turn the watchdog off.
    pub fn watchdog(mut self, limit: Option<Duration>) -> Self {
        self.watchdog = limit;
        self
    }

    /// Sets PCT's estimate of the real choices in a run (see
    /// [`Config::pct_horizon`](Config#structfield.pct_horizon)): for a small
    /// program, a horizon near its number of choices finds depth-2 and
    /// depth-3 bugs far more often than the default 1,000.
    pub fn pct_horizon(mut self, steps: u64) -> Self {
        self.pct_horizon = steps.max(1);
        self
    }
}
