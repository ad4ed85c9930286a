//! Exploring: the [`Check`] runner, its [`Report`], and [`Repro`] lines.
//!
//! `Check::new(|| async { ... })` builds a fresh world per run. It starts
//! with the baseline run alone; each builder method adds a dimension. A run
//! proceeds Plan → Sim run → Trace + end-of-run state → Oracles → Report:
//!
//! 1. one baseline per seed collects every await point (and the timeout
//!    scope around it), and is run twice to catch nondeterminism;
//! 2. one run per (await point × injection kind × instant), plus random
//!    multi-injection plans, sampled by `max_runs` and sliced by `shard`;
//! 3. runs spread over all cores; the report is the same whatever the number
//!    of threads.

mod artifacts;
mod counterfactual;
mod counts;
mod determinism;
mod end_run;
mod env;
mod exhaustive;
mod explored;
mod failure;
pub(crate) mod junit;
mod plan;
mod pool;
mod replay;
pub(crate) use replay::CLEAN_REPLAY;
mod report;
mod repro;
mod run;
mod seeds;
mod single;
mod sweep;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub use artifacts::ArtifactFormat;
pub use counts::Counts;
pub use env::{check_environment, EnvError};
pub use exhaustive::Exploration;
pub use failure::{Failure, FailureGroup};
pub use report::Report;
pub use repro::{Repro, ReproParseError, REPRO_VERSION};
pub use single::{await_points, run_repro, RunOutcome};

use crate::config::Config;
use crate::inject::CancelMode;
use crate::schedule::SchedulerKind;
use seeds::Seeds;

/// The default budget of injected runs of a sweep (also the most seeds it
/// takes from a range): [`Check::max_runs`], `CANCELSIM_MAX_RUNS`.
pub const DEFAULT_MAX_RUNS: usize = 100_000;

/// The default wall-clock budget of a sweep: [`Check::time_budget`],
/// `CANCELSIM_TIME_BUDGET`.
pub const DEFAULT_TIME_BUDGET: Duration = Duration::from_secs(300);

/// A sweep over schedules and injections of one async test body.
///
/// ```
/// use std::time::Duration;
/// use cancelsim::{CancelMode, Check};
///
/// let report = Check::new(|| async {
///     let conn = cancelsim::resource::acquire("db");
///     cancelsim::time::sleep(Duration::from_millis(10)).await;
///     drop(conn); // RAII: released however the body ends
/// })
/// .cancel_at_every_await(CancelMode::Both)
/// .timeout_at_every_await(true)
/// .run();
/// report.assert_clean();
/// ```
pub struct Check<F> {
    body: Arc<F>,
    pub(crate) config: Config,
    seeds: Seeds,
    scheduler: SchedulerKind,
    explore: Option<(SchedulerKind, u64)>,
    exhaustive: Option<usize>,
    cancel: Option<CancelMode>,
    timeouts: bool,
    on_wake: bool,
    random_plans: usize,
    max_runs: Option<usize>,
    time_budget: Option<Duration>,
    shard: Option<(usize, usize)>,
    threads: Option<usize>,
    /// The preset's default when neither the code nor the environment
    /// sets `threads`.
    preset_threads: Option<usize>,
    signal: bool,
    drop_only_abortable: bool,
    timeouts_only_where_late: bool,
    excuse_timeout_results: bool,
    name: Option<String>,
    replay_from_env: bool,
}

impl<F> std::fmt::Debug for Check<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Check")
            .field("seeds", &self.seeds.describe())
            .field("scheduler", &self.scheduler)
            .field("exhaustive", &self.exhaustive)
            .field("cancel", &self.cancel)
            .field("timeouts", &self.timeouts)
            .field("random_plans", &self.random_plans)
            .field("max_runs", &self.max_runs)
            .field("shard", &self.shard)
            .finish()
    }
}

impl<F, Fut> Check<F>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future,
{
    /// A check of `body` that runs the baseline only (seed 0, `Fifo`). The
    /// body runs on worker threads (one fresh world per run), so it is
    /// `Send + Sync + 'static`; the futures it returns need not be `Send`.
    #[track_caller]
    pub fn new(body: F) -> Self {
        let mut config = Config::sweep();
        config.root_location = Some(std::panic::Location::caller());
        Check {
            body: Arc::new(body),
            config,
            seeds: Seeds::List(vec![0]),
            scheduler: SchedulerKind::Fifo,
            explore: None,
            exhaustive: None,
            cancel: None,
            timeouts: false,
            on_wake: true,
            random_plans: 0,
            max_runs: None,
            time_budget: None,
            shard: None,
            threads: None,
            preset_threads: None,
            signal: false,
            drop_only_abortable: false,
            timeouts_only_where_late: false,
            excuse_timeout_results: true,
            name: None,
            replay_from_env: true,
        }
    }

    /// The file the test body is written in (`#[tokio::test]` and
    /// `#[cancelsim::test]` pass it): see [`Config::test_file`].
    pub fn test_file(mut self, file: &'static str) -> Self {
        self.config.test_file = Some(file);
        self
    }

    /// The lines of the test function in its file, first and last (the
    /// test macros pass them): a `timeout` there is the test's own, one
    /// elsewhere in the file is code under test. See [`Config::test_lines`].
    pub fn test_lines(mut self, first: u32, last: u32) -> Self {
        self.config.test_lines = Some((first, last));
        self
    }

    /// Fires the program's own cancellation signal — what the body
    /// registered with [`cancel::register_signal`](crate::cancel::register_signal)
    /// (`token.cancel()`, a shutdown send) — at every await point of every
    /// task, one run each. Every user task alive when it fires must then
    /// finish within the grace budget ([`Config::cancel_grace`]):
    /// `cancel-ignored` names one that does not, also when the program
    /// aborts it after waiting. A body that registers no signal gets no
    /// such run, and the report says so.
    pub fn signal_at_every_await(mut self, enabled: bool) -> Self {
        self.signal = enabled;
        self
    }

    /// Whether `CANCELSIM_REPLAY` may turn this sweep into one replayed run
    /// (default: yes, for the one test being debugged). A tool that sweeps
    /// many checks at once (the CLI's `run`) turns it off, so a variable
    /// left in the environment cannot turn a failing catalogue green.
    pub fn replay_from_env(mut self, enabled: bool) -> Self {
        self.replay_from_env = enabled;
        self
    }

    /// The name of what is checked (a test's path): the report's header
    /// shows it, and the repro lines it prints name it.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Drop injections only where some code of the program could drop the
    /// future itself ([`AwaitPoint::abortable`](crate::AwaitPoint::abortable)):
    /// at every await point of the root (the test body, or the function
    /// under test, dropped by its caller — as a server drops a handler when
    /// its client goes away) and of each task the program aborts while it
    /// runs in the baseline (`abort`, an abort-on-drop handle dropped, a
    /// `JoinSet`'s `abort_all`), so that its abort may come at any of its
    /// await points. A task spawned and merely awaited, one in a `JoinSet`
    /// that is drained, one its owner's `Drop` stops as the test ends: no
    /// real run drops them mid-way, and aborting them anyway would only
    /// fail the code that still needs them. A task whose abort a timer
    /// decides, or whose end is awaited inside a `timeout` (or a `select!`
    /// against a timer), is stalled instead ([`InjectionKind::Stall`](crate::InjectionKind::Stall)):
    /// the deadline then comes with the task still running. Off by default (cancelsim's
    /// own sweep drops every task); on in [`tokio_preset`](Check::tokio_preset).
    pub fn drop_only_abortable(mut self, enabled: bool) -> Self {
        self.drop_only_abortable = enabled;
        self
    }

    /// Expires a `timeout` only where its future waits on something that
    /// can be late — another task, a channel, a lock, I/O — and not where
    /// it waits on its own `sleep` or `Interval` tick: a timer shorter
    /// than the timeout fires first in every run, however slow the world
    /// is, and one as long fires the timeout anyway. Off by default, the
    /// tokio preset's too: tests stand in for a slow dependency with a
    /// `sleep` (`async { sleep(10ms).await; reply }`), and expiring the
    /// timeout there is what finds the state a slow call leaves half-done.
    /// Turn it on for code whose sleeps are only its own delays, so that
    /// no run expires a timeout there at all. (A test that asserts the
    /// happy path's result, `timeout(50ms, async { sleep(5ms).await; 7 })`
    /// asserting 7, passes without it too: its expiries fail the same way
    /// when the operation never started, and are excused, see
    /// [`excuse_timeout_results`](Check::excuse_timeout_results).)
    pub fn timeouts_only_where_late(mut self, enabled: bool) -> Self {
        self.timeouts_only_where_late = enabled;
        self
    }

    /// Whether a failing timeout expiry that the test fails the same way
    /// without is excused (default: yes). When a run with an injected
    /// expiry ([`timeout_at_every_await`](Check::timeout_at_every_await))
    /// fails, the sweep runs it once more with that timeout expired before
    /// its operation started (its future never polled). If that run fails
    /// the same way — same code, task, message and location — the failure
    /// does not come from state the expiry left half-done: the test checks
    /// the result the timeout decides (`assert_eq!(lookup().await, 7)`
    /// where `lookup` falls back to a default on `Elapsed`), which real
    /// tokio would fail too the day that timeout fires. Such runs are
    /// counted ([`Counts::timeout_results_excused`]) and shown in the
    /// report, not failed; `false` makes them failures, with a hint saying
    /// that the test assumes the timeout never fires. Either way a failure
    /// the counterfactual does not repeat stands, and its hint says the
    /// expiry left state half-done. `CANCELSIM_TIMEOUT_RESULTS=fail`
    /// overrides it for every sweep.
    pub fn excuse_timeout_results(mut self, enabled: bool) -> Self {
        self.excuse_timeout_results = enabled;
        self
    }

    /// The sweep for tokio code, which raises no false alarm on correct
    /// tokio programs: drop cancellation at every await point where the
    /// program itself could drop the future — the root (the test body) and
    /// every task it can abort ([`drop_only_abortable`](Check::drop_only_abortable));
    /// what `abort`, a `JoinSet`, a lost `select!` branch, a dropped handler
    /// do — timeout
    /// expiry at every await point inside a `time::timeout`, the program's
    /// registered cancellation signal at every await point
    /// ([`signal_at_every_await`](Check::signal_at_every_await)), and 16
    /// schedules besides the baseline under
    /// [`SchedulerKind::CurrentThread`], the order of a plain
    /// `#[tokio::test]`'s runtime: tasks in wake order, `select!`
    /// branches, I/O delays and timer ties random (for a multi-thread
    /// runtime's task orders as well, follow it with
    /// `.explore_schedules(SchedulerKind::Random, 16)`). No cancelsim-only cooperative
    /// request is injected (tokio code cannot see one), and the end of the
    /// root is tokio's runtime shutdown ([`Config::runtime_shutdown`]):
    /// tasks still running are dropped, not reported as leaks, unless they
    /// ignored the signal (a shutdown within the signal's grace time runs
    /// them on until it is over). The runs go one after another (tokio tests share
    /// real files and statics); [`threads`](Check::threads) or
    /// `CANCELSIM_THREADS` run them in parallel.
    pub fn tokio_preset(mut self) -> Self {
        self.cancel = Some(CancelMode::Drop);
        self.drop_only_abortable = true;
        self.timeouts = true;
        // tokio tests share what one process has — real files, statics,
        // environment variables — and runs at once would race on them.
        self.preset_threads = Some(1);
        self.signal = true;
        self.explore = Some((SchedulerKind::CurrentThread, 16));
        self.config = self.config.runtime_shutdown(true);
        self
    }

    /// How long a task may take to end after a cancel request or the
    /// program's cancellation signal before it is `cancel-ignored` (default
    /// 1 s of virtual time; [`Config::cancel_grace`] also sets the polls).
    /// A service designed to drain in-flight work within 5 s says so here.
    pub fn grace_time(mut self, time: std::time::Duration) -> Self {
        self.config.grace_time = time;
        self
    }

    /// Sets [`Config::root_first`] of every run: the root polled as tokio's
    /// current-thread runtime polls its `block_on` future (`#[tokio::test]`
    /// sets it unless its flavor is `multi_thread`).
    pub fn root_first(mut self, enabled: bool) -> Self {
        self.config.root_first = enabled;
        self
    }

    /// The base configuration of every run (budgets, grace, trace mode); its
    /// seed and scheduler are replaced per run. The test's file and where
    /// the body is written carry over unless `config` sets them.
    pub fn config(mut self, mut config: Config) -> Self {
        // What the check itself knows, unless the new configuration says
        // otherwise: where its body is written.
        config.test_file = config.test_file.or(self.config.test_file);
        config.test_lines = config.test_lines.or(self.config.test_lines);
        config.root_location = config.root_location.or(self.config.root_location);
        self.config = config;
        self
    }

    /// The seeds to sweep (one baseline and one full sweep per seed). A
    /// range (`0..64`, `0..=n`, `7..`) is iterated lazily, whatever its
    /// size: a sweep runs the seeds its budget allows
    /// ([`max_runs`](Check::max_runs)) and its report says how many; any
    /// other iterable is collected.
    pub fn seeds<I: IntoIterator<Item = u64> + 'static>(mut self, seeds: I) -> Self {
        self.seeds = Seeds::from_iter(seeds);
        self
    }

    /// The scheduler of every run.
    pub fn scheduler(mut self, scheduler: SchedulerKind) -> Self {
        self.scheduler = scheduler;
        self
    }

    /// Also runs `count` extra baselines (no injection) under `scheduler`
    /// with seeds `1..=count`, to find schedule-dependent bugs.
    pub fn explore_schedules(mut self, scheduler: SchedulerKind, count: u64) -> Self {
        self.explore = Some((scheduler, count));
        self
    }

    /// Explores every schedule of the program, depth first, in which at
    /// most `max_deviations` choices differ from the first option
    /// ([`DfsExplorer`](crate::schedule::DfsExplorer); `usize::MAX`: no
    /// bound) — something random schedules cannot promise.
    ///
    /// The programs explored are the sweep's: the baseline of each seed
    /// (random numbers still come from the seed) and each injection plan
    /// the other builder methods ask for, planned from the baselines' await
    /// points as usual; every one of them runs under every schedule within
    /// the bound, in place of its one run under [`scheduler`](Check::scheduler).
    /// An injection plan under a schedule where its await point is never
    /// reached is a run without that injection (the coverage line counts
    /// what fired). The [`Report`] says whether every schedule of every
    /// program was run ([`Report::exploration`]: "explored all N schedules
    /// within k deviations") or which budget stopped it — the runs budget
    /// ([`max_runs`](Check::max_runs)) counts every schedule run, in
    /// program order, so the report is the same on any number of threads.
    /// A failure's repro line replays its schedule (`scheduler=dfs:1.0.2`).
    ///
    /// A deviation runs another task (or timer, or `select!` branch) than
    /// the first in line, a preemption of the `Fifo` order: most ordering
    /// bugs need one or two, and the number of schedules grows
    /// polynomially in the program's length under a bound, exponentially
    /// without one. Meant for small programs. Every order of ready tasks
    /// is explored, as on a multi-thread runtime: a test that relies on
    /// tokio's current-thread order (a spawned task has run after a
    /// `yield_now`) may fail under orders that runtime never takes.
    ///
    /// ```
    /// use std::{cell::Cell, rc::Rc};
    /// use cancelsim::Check;
    ///
    /// let report = Check::new(|| async {
    ///     let last = Rc::new(Cell::new(0));
    ///     let tasks: Vec<_> = (1..=3)
    ///         .map(|n| {
    ///             let last = last.clone();
    ///             cancelsim::spawn(async move { last.set(n) })
    ///         })
    ///         .collect();
    ///     for task in tasks {
    ///         task.await.unwrap();
    ///     }
    ///     assert_ne!(last.get(), 1, "task 1 ran last");
    /// })
    /// .explore_exhaustively(2)
    /// .run();
    /// assert!(!report.is_clean(), "some order runs task 1 last");
    /// assert!(report.exploration().unwrap().is_exhausted());
    /// ```
    pub fn explore_exhaustively(mut self, max_deviations: usize) -> Self {
        self.exhaustive = Some(max_deviations);
        self
    }

    /// Injects no cancellation (the default; undoes a preset's).
    pub fn without_cancellation(mut self) -> Self {
        self.cancel = None;
        self
    }

    /// Injects a cancellation at every await point of every task, in `mode`.
    pub fn cancel_at_every_await(mut self, mode: CancelMode) -> Self {
        self.cancel = Some(mode);
        self
    }

    /// Expires the innermost enclosing `timeout` at every await point inside one.
    pub fn timeout_at_every_await(mut self, enabled: bool) -> Self {
        self.timeouts = enabled;
        self
    }

    /// Also injects after the task was woken at the await point, before it
    /// is polled again (default: on).
    pub fn inject_on_wake(mut self, enabled: bool) -> Self {
        self.on_wake = enabled;
        self
    }

    /// Adds `count` runs with seeded random plans of 2–3 injections.
    pub fn random_plans(mut self, count: usize) -> Self {
        self.random_plans = count;
        self
    }

    /// The budget of injected runs (default [`DEFAULT_MAX_RUNS`],
    /// overridden by `CANCELSIM_MAX_RUNS`); it also caps the seeds taken
    /// from a range. Past it the sweep samples, the same way on every run:
    /// every (task, await point, injection kind) tuple once first, every
    /// await point once before any is repeated, and a round the budget does
    /// not cover spread evenly over its await points. The report says it
    /// sampled and how much it covered.
    pub fn max_runs(mut self, max: usize) -> Self {
        self.max_runs = Some(max);
        self
    }

    /// The wall-clock budget of the sweep (default [`DEFAULT_TIME_BUDGET`],
    /// overridden by `CANCELSIM_TIME_BUDGET`): past it no further run is
    /// started, and the report says how many planned runs were not run.
    /// (Which runs made it depends on the machine's speed; the runs budget
    /// [`max_runs`](Check::max_runs) is the deterministic one.)
    pub fn time_budget(mut self, budget: Duration) -> Self {
        self.time_budget = Some(budget);
        self
    }

    /// Runs only the `index`-th of `count` slices of the injected runs (for
    /// splitting one sweep across CI machines).
    ///
    /// # Panics
    ///
    /// If `index >= count`.
    pub fn shard(mut self, index: usize, count: usize) -> Self {
        assert!(
            index < count,
            "Check::shard({index}, {count}): the index must be below the count"
        );
        self.shard = Some((index, count));
        self
    }

    /// Worker threads (default: all cores, one with the tokio preset;
    /// between 1 and 1024; overridden by `CANCELSIM_THREADS`). The report
    /// is the same whatever their number.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = Some(threads.clamp(1, env::MAX_THREADS));
        self
    }

    /// Runs the sweep.
    ///
    /// # Panics
    ///
    /// On a bad `CANCELSIM_*` environment variable (with what is wrong and
    /// how to fix it).
    pub fn run(&self) -> Report {
        let env = env::read().unwrap_or_else(|error| panic!("cancelsim: {error}"));
        let replay = match (env.replay.clone(), &self.name) {
            (Some(repro), Some(name)) if repro.test.as_ref().is_some_and(|test| test != name) => {
                eprintln!(
                    "cancelsim: CANCELSIM_REPLAY is for {}, not {name}: running {name}'s sweep",
                    repro.test.as_deref().unwrap_or("?")
                );
                None
            }
            (_, _) if !self.replay_from_env => None,
            (replay, _) => replay,
        };
        if let Some(repro) = replay {
            return self.replay(repro);
        }
        let report = self.sweep(self.budget(&env), self.report_base());
        if let Some(notice) = report.counts().wall_clock_notice() {
            let name = self
                .name
                .as_deref()
                .map(|n| format!(" {n}"))
                .unwrap_or_default();
            eprintln!("cancelsim{name}: {notice}");
        }
        if let Some(dir) = &env.artifacts {
            let dir = dir.join(artifacts::artifact_folder(self.name.as_deref()));
            if let Err(error) = report.write_artifacts(&dir, ArtifactFormat::ALL) {
                eprintln!("cancelsim: CANCELSIM_ARTIFACTS: cannot write traces: {error}");
            }
        }
        report
    }

    /// What the sweep may spend, by the one rule of [`env`]: a variable
    /// set wins over the code (the builder, the [`Config`]), which wins
    /// over the default.
    fn budget(&self, env: &env::Env) -> sweep::Budget {
        sweep::Budget {
            threads: env
                .threads
                .or(self.threads)
                .or(self.preset_threads)
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
            max_runs: env.max_runs.or(self.max_runs).unwrap_or(DEFAULT_MAX_RUNS),
            time: env
                .time_budget
                .or(self.time_budget)
                .unwrap_or(DEFAULT_TIME_BUDGET),
            watchdog: env.watchdog.unwrap_or(self.config.watchdog),
            excuse_timeout_results: env
                .excuse_timeout_results
                .unwrap_or(self.excuse_timeout_results),
        }
    }

    fn report_base(&self) -> Report {
        Report {
            counts: Counts::default(),
            failures: Vec::new(),
            groups: Vec::new(),
            scheduler: self.scheduler.to_string(),
            seeds: self.seeds.clone(),
            pct_bound: None,
            shard: self.shard,
            cases: Vec::new(),
            replay: None,
            name: self.name.clone(),
            tokio: self.config.runtime_shutdown,
            exploration: None,
        }
    }
}

/// The one-liner: the baseline under `Fifo`, both cancel modes and timeouts
/// at every await point, plus 16 random schedules; panics with the report
/// unless clean.
///
/// ```
/// cancelsim::check(|| async {
///     let child = cancelsim::spawn(async { cancelsim::yield_now().await; 1 }).abort_on_drop();
///     let _ = child.await;
/// });
/// ```
#[track_caller]
pub fn check<F, Fut>(body: F)
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future,
{
    Check::new(body)
        .cancel_at_every_await(CancelMode::Both)
        .timeout_at_every_await(true)
        .explore_schedules(SchedulerKind::Random, 16)
        .run()
        .assert_clean();
}
