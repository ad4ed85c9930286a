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

mod env;
mod plan;
mod report;
mod repro;
mod run;
mod seeds;
mod single;

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

pub use env::{check_environment, EnvError};
pub use report::{ArtifactFormat, Counts, Failure, Report};
pub use repro::{Repro, ReproParseError, REPRO_VERSION};
pub use single::{await_points, run_repro, RunOutcome};

use crate::config::Config;
use crate::inject::CancelMode;
use crate::oracle::{Violation, ViolationCode};
use crate::schedule::SchedulerKind;
use plan::{Dimensions, PlannedRun};
pub(crate) use run::unfired_violation;
use run::{run_once, run_with_baseline, RunResult};
use seeds::Seeds;

/// The most seeds a sweep takes from a range when neither
/// [`Check::max_runs`] nor `CANCELSIM_MAX_RUNS` says otherwise.
const DEFAULT_MAX_RUNS: usize = 100_000;

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
    body: F,
    config: Config,
    seeds: Seeds,
    scheduler: SchedulerKind,
    explore: Option<(SchedulerKind, u64)>,
    cancel: Option<CancelMode>,
    timeouts: bool,
    on_wake: bool,
    random_plans: usize,
    max_runs: Option<usize>,
    shard: Option<(usize, usize)>,
    threads: Option<usize>,
    signal: bool,
    name: Option<String>,
    replay_from_env: bool,
}

impl<F> std::fmt::Debug for Check<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Check")
            .field("seeds", &self.seeds.describe())
            .field("scheduler", &self.scheduler)
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
    F: Fn() -> Fut + Send + Sync,
    Fut: Future,
{
    /// A check of `body` that runs the baseline only (seed 0, `Fifo`).
    pub fn new(body: F) -> Self {
        Check {
            body,
            config: Config::default().max_steps(1_000_000),
            seeds: Seeds::List(vec![0]),
            scheduler: SchedulerKind::Fifo,
            explore: None,
            cancel: None,
            timeouts: false,
            on_wake: true,
            random_plans: 0,
            max_runs: None,
            shard: None,
            threads: None,
            signal: false,
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

    /// The sweep for tokio code, which raises no false alarm on correct
    /// tokio programs: drop cancellation at every await point of every task
    /// (what `abort`, a lost `select!` branch, a dropped future do), timeout
    /// expiry at every await point inside a `time::timeout`, the program's
    /// registered cancellation signal at every await point
    /// ([`signal_at_every_await`](Check::signal_at_every_await)), and 16
    /// random schedules besides the baseline. No cancelsim-only cooperative
    /// request is injected (tokio code cannot see one), and the end of the
    /// root is tokio's runtime shutdown ([`Config::runtime_shutdown`]):
    /// tasks still running are dropped, not reported as leaks, unless they
    /// ignored the signal.
    pub fn tokio_preset(mut self) -> Self {
        self.cancel = Some(CancelMode::Drop);
        self.timeouts = true;
        self.signal = true;
        self.explore = Some((SchedulerKind::Random, 16));
        self.config = self.config.runtime_shutdown(true);
        self
    }

    /// The base configuration of every run (budgets, grace, trace mode); its
    /// seed and scheduler are replaced per run.
    pub fn config(mut self, config: Config) -> Self {
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

    /// Caps the injected runs; the sample covers every await point once
    /// before any is repeated, and is the same on every run.
    pub fn max_runs(mut self, max: usize) -> Self {
        self.max_runs = Some(max);
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

    /// Worker threads (default: `CANCELSIM_THREADS`, else all cores;
    /// between 1 and 1024).
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
        let threads = self
            .threads
            .or(env.threads)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let replay = match (env.replay, &self.name) {
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
            let mut result = run_once(&self.body, &self.config, &repro, false);
            result.violations.extend(unfired_violation(&result.unfired));
            println!("cancelsim: replaying {repro}\n{}", result.trace);
            for violation in &result.violations {
                println!("{violation}");
            }
            let mut report = self.report_base();
            report.replay = Some(repro.clone());
            report.counts.runs = 1;
            report.seeds = Seeds::List(vec![repro.seed]);
            let failed = !result.violations.is_empty();
            if failed {
                report.failures.push(Failure {
                    repro: repro.clone(),
                    violations: result.violations,
                    trace: result.trace,
                    point_label: None,
                });
            }
            report
                .cases
                .push((format!("replay {repro}"), failed.then_some(0)));
            return report;
        }
        let mut report = self.report_base();

        // 1. Baselines, each run twice to catch nondeterminism.
        // A range of seeds is taken lazily, as far as the budget goes.
        let max = env.max_runs.or(self.max_runs);
        let seed_budget = max.unwrap_or(DEFAULT_MAX_RUNS).max(1) as u64;
        let swept_seeds = self.seeds.first(seed_budget);
        report.seeds = swept_seeds.clone();
        report.counts.seeds_left_out =
            u64::try_from(self.seeds.len() - swept_seeds.len()).unwrap_or(u64::MAX);
        let mut baseline_plans: Vec<Repro> = swept_seeds
            .iter()
            .map(|seed| Repro::baseline(seed, self.scheduler.clone()))
            .collect();
        let swept = baseline_plans.len();
        if let Some((kind, count)) = &self.explore {
            baseline_plans.extend((1..=*count).map(|seed| Repro::baseline(seed, kind.clone())));
        }
        for plan in &mut baseline_plans {
            plan.test.clone_from(&self.name);
        }
        // Runs go without a trace; a failing run is re-run with it (runs are
        // deterministic, so the re-run is the same run).
        let quiet = self.config.clone().trace(crate::config::TraceMode::Off);
        let baselines: Vec<(RunResult, Option<Violation>)> = parallel(
            baseline_plans.len(),
            threads,
            |index| {
                let repro = &baseline_plans[index];
                let mut first = run_once(&self.body, &quiet, repro, true);
                let second = run_once(&self.body, &quiet, repro, false);
                let differs = first.schedule != second.schedule
                    || first.steps != second.steps
                    || first.end_time != second.end_time
                    || first.violations != second.violations;
                if differs || !first.violations.is_empty() {
                    first.trace = run_once(&self.body, &self.config, repro, false).trace;
                }
                let violation = differs.then(|| {
                    Violation::new(
                        ViolationCode::Nondeterminism,
                        format!(
                            "two runs of the same plan differ ({} vs {} steps, {} vs {} decisions, end at {} vs {})",
                            first.steps,
                            second.steps,
                            first.schedule.len(),
                            second.schedule.len(),
                            first.end_time,
                            second.end_time
                        ),
                    )
                });
                (first, violation)
            },
        );
        report.counts.baselines = baselines.len();
        report.counts.runs += 2 * baselines.len();
        let mut max_tasks = 1u32;
        let mut max_steps = 1u64;
        let mut sweep_points = Vec::new();
        let mut baseline_panics = std::collections::BTreeMap::new();
        for (index, (result, nondeterminism)) in baselines.iter().enumerate() {
            let repro = &baseline_plans[index];
            max_tasks = max_tasks.max(result.tasks);
            max_steps = max_steps.max(result.steps);
            let mut violations = result.violations.clone();
            violations.extend(nondeterminism.clone());
            let failed = !violations.is_empty() && self.shard.is_none_or(|(k, _)| k == 0);
            let case = if failed {
                report.failures.push(Failure {
                    repro: repro.clone(),
                    violations,
                    trace: result.trace.clone(),
                    point_label: Some(format!("baseline (seed {})", repro.seed)),
                });
                Some(report.failures.len() - 1)
            } else {
                None
            };
            report.cases.push((format!("baseline {repro}"), case));
            if index < swept {
                report.counts.await_points += result.points.len();
                report.counts.injectable_points +=
                    result.points.iter().filter(|p| p.injectable).count();
                sweep_points.push((repro.seed, result.points.clone()));
                baseline_panics.insert(repro.seed, result.panicked.clone());
            }
        }
        if let SchedulerKind::Pct { depth } = self.scheduler {
            report.pct_bound =
                Some(1.0 / (f64::from(max_tasks) * (max_steps as f64).powi(depth as i32 - 1)));
        }

        // 2. The injected runs.
        let dims = Dimensions {
            cancel: self.cancel,
            timeouts: self.timeouts,
            on_wake: self.on_wake,
            signal: self.signal,
        };
        report.counts.signal_unregistered = self.signal
            && !sweep_points
                .iter()
                .any(|(_, points)| points.iter().any(|point| point.signal));
        let mut runs = plan::sweep(&sweep_points, &self.scheduler, &dims);
        runs.extend(plan::random_plans(
            &sweep_points,
            &self.scheduler,
            &dims,
            self.random_plans,
        ));
        for run in &mut runs {
            run.repro.test.clone_from(&self.name);
        }
        let total = runs.len();
        report.counts.sampled_out = total - total.min(max.unwrap_or(usize::MAX));
        let selected = plan::select(runs, max, self.shard);

        // 3. Run them.
        type Ran = (
            Vec<Violation>,
            Option<crate::trace::Trace>,
            Vec<crate::inject::Injection>,
            (u32, bool),
        );
        let results: Vec<Ran> = parallel(selected.len(), threads, |index| {
            let run = &selected[index].1;
            let expected: &[crate::task::TaskId] = baseline_panics
                .get(&run.repro.seed)
                .map_or(&[], |tasks: &Vec<crate::task::TaskId>| tasks.as_slice());
            let mut result = run_with_baseline(&self.body, &quiet, &run.repro, false, expected);
            if run.repro.injections.len() == 1 && !result.unfired.is_empty() {
                result.violations.push(Violation::new(
                    ViolationCode::Nondeterminism,
                    format!(
                        "injection {} never fired although the baseline reached its await point",
                        run.repro.injections[0]
                    ),
                ));
            }
            // Re-run a failing plan with its trace (same plan, same run).
            let trace = (!result.violations.is_empty()).then(|| {
                run_with_baseline(&self.body, &self.config, &run.repro, false, expected).trace
            });
            (result.violations, trace, result.fired, result.consequences)
        });
        let mut planned = BTreeSet::new();
        let mut covered = BTreeSet::new();
        let mut cases: Vec<(String, Option<usize>)> = Vec::new();
        let mut case_index = std::collections::BTreeMap::new();
        report.counts.requested = match self.cancel {
            Some(CancelMode::Drop) => vec![crate::inject::InjectionKind::CancelDrop.name()],
            Some(CancelMode::Cooperative) => {
                vec![crate::inject::InjectionKind::CancelCooperative.name()]
            }
            Some(CancelMode::Both) => vec![
                crate::inject::InjectionKind::CancelDrop.name(),
                crate::inject::InjectionKind::CancelCooperative.name(),
            ],
            None => Vec::new(),
        };
        for ((_, run), (violations, trace, fired, consequences)) in selected.iter().zip(results) {
            let kinds: BTreeSet<&'static str> = fired.iter().map(|i| i.kind.name()).collect();
            for kind in kinds {
                *report.counts.fired_per_kind.entry(kind).or_default() += 1;
            }
            report.counts.runs += 1;
            report.counts.abort_consequences += usize::from(consequences.0 > 0);
            report.counts.assertion_timeouts += usize::from(consequences.1);
            match run.point {
                Some(_) => {
                    *report
                        .counts
                        .per_kind
                        .entry(run.repro.injections[0].kind.name())
                        .or_default() += 1
                }
                None => report.counts.random_plans += 1,
            }
            for injection in &run.repro.injections {
                planned.insert((injection.task, injection.point, injection.kind));
            }
            for injection in &fired {
                covered.insert((injection.task, injection.point, injection.kind));
            }
            let label = point_label(&sweep_points, run);
            let case_name = match (&label, run.point) {
                (Some(label), Some(_)) => {
                    format!("{label} x {}", run.repro.injections[0].kind.name())
                }
                _ => format!("random plan {}", run.repro),
            };
            let failure = (!violations.is_empty()).then(|| {
                report.failures.push(Failure {
                    repro: run.repro.clone(),
                    violations,
                    trace: trace.expect("kept for failing runs"),
                    point_label: label.clone(),
                });
                report.failures.len() - 1
            });
            match case_index.get(&case_name) {
                Some(&at) => {
                    let slot: &mut (String, Option<usize>) = &mut cases[at];
                    slot.1 = slot.1.or(failure);
                }
                None => {
                    case_index.insert(case_name.clone(), cases.len());
                    cases.push((case_name, failure));
                }
            }
        }
        report.cases.extend(cases);
        report.counts.tuples_planned = planned.len();
        report.counts.tuples_covered = covered.len();
        if let Some(dir) = &env.artifacts {
            let dir = dir.join(artifact_folder(self.name.as_deref()));
            if let Err(error) = report.write_artifacts(&dir, ArtifactFormat::ALL) {
                eprintln!("cancelsim: CANCELSIM_ARTIFACTS: cannot write traces: {error}");
            }
        }
        report
    }

    fn report_base(&self) -> Report {
        Report {
            counts: Counts::default(),
            failures: Vec::new(),
            scheduler: self.scheduler.to_string(),
            seeds: self.seeds.clone(),
            pct_bound: None,
            shard: self.shard,
            cases: Vec::new(),
            replay: None,
            name: self.name.clone(),
        }
    }
}

/// The folder of a check's artifacts under `CANCELSIM_ARTIFACTS`: its name
/// (`Check::name`, a test's path), else the name of the thread it runs on
/// (the test harness names it after the test), else `check`; `::` becomes
/// `.` and anything but letters, digits, `_`, `-` and `.` becomes `_`.
fn artifact_folder(name: Option<&str>) -> String {
    let thread = std::thread::current();
    let name = name
        .or(thread.name().filter(|name| *name != "main"))
        .unwrap_or("check");
    name.replace("::", ".")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn point_label(
    points: &[(u64, Vec<crate::inject::AwaitPoint>)],
    run: &PlannedRun,
) -> Option<String> {
    let (seed, task, ordinal) = run.point?;
    let point = points
        .iter()
        .find(|(s, _)| *s == seed)?
        .1
        .iter()
        .find(|p| p.task == task && p.ordinal == ordinal)?;
    let mut wait = String::new();
    {
        use std::fmt::Write;
        struct W<'a>(&'a crate::trace::Wait);
        impl std::fmt::Display for W<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                crate::error::write_wait(f, self.0)
            }
        }
        let _ = write!(wait, "{}", W(&point.wait));
    }
    Some(format!("{} on {wait}", point.label()))
}

/// Runs `job(0..count)` on `threads` workers; results in index order.
fn parallel<T: Send>(count: usize, threads: usize, job: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let threads = threads.min(count).max(1);
    if threads == 1 {
        return (0..count).map(job).collect();
    }
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<T>>> = Mutex::new((0..count).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= count {
                    break;
                }
                let value = job(index);
                slots.lock().unwrap_or_else(|p| p.into_inner())[index] = Some(value);
            });
        }
    });
    slots
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .map(|slot| slot.expect("every index ran"))
        .collect()
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
    F: Fn() -> Fut + Send + Sync,
    Fut: Future,
{
    Check::new(body)
        .cancel_at_every_await(CancelMode::Both)
        .timeout_at_every_await(true)
        .explore_schedules(SchedulerKind::Random, 16)
        .run()
        .assert_clean();
}

#[cfg(test)]
mod tests {
    use super::env::from_vars;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn bad_environment_values_are_errors_with_a_hint() {
        let error = from_vars(vars(&[("CANCELSIM_THREADS", "many")])).unwrap_err();
        assert!(
            error.contains("CANCELSIM_THREADS") && error.contains("e.g."),
            "{error}"
        );
        let error = from_vars(vars(&[("CANCELSIM_THREDS", "2")])).unwrap_err();
        assert!(
            error.contains("unknown") && error.contains("CANCELSIM_THREADS"),
            "{error}"
        );
        let error = from_vars(vars(&[("CANCELSIM_REPLAY", "garbage")])).unwrap_err();
        assert!(error.contains("not a cancelsim repro"), "{error}");
        let error = from_vars(vars(&[("CANCELSIM_MAX_RUNS", "0")])).unwrap_err();
        assert!(error.contains("at least 1"), "{error}");
    }

    #[test]
    fn good_environment_values_are_read() {
        let env = from_vars(vars(&[
            ("CANCELSIM_THREADS", "3"),
            (
                "CANCELSIM_REPLAY",
                "cancelsim:v1 seed=2 scheduler=pct:3 inject=timeout@1:2/wake",
            ),
        ]))
        .unwrap();
        assert_eq!(env.threads, Some(3));
        assert_eq!(env.replay.unwrap().seed, 2);
    }
}
