//! The `expect` block against what happened: the baseline run's outcomes
//! and end time, and the union of violation codes over the whole sweep.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use super::interp::{phases, run, RunRecord};
use super::model::Scenario;
use crate::{CancelMode, Check, Config, Report, SchedulerKind, Sim, SimError, Trace};

/// How a scenario is swept.
#[derive(Clone, Debug)]
pub struct SweepOptions {
    /// Seeds `0..seeds`; above 1, schedules are random.
    pub seeds: u64,
    /// Worker threads of the sweep (default: all cores).
    pub threads: Option<usize>,
    /// Cap on the injected runs.
    pub max_runs: Option<usize>,
}

impl Default for SweepOptions {
    fn default() -> Self {
        SweepOptions {
            seeds: 1,
            threads: None,
            max_runs: None,
        }
    }
}

/// The baseline run of a scenario (seed 0, `Fifo`, no injection), run on
/// through asyncio.run's shutdown: the tasks still running when `main`
/// ends are cancelled and awaited, then the blocking work still in flight.
#[derive(Debug)]
pub struct Baseline {
    /// Outcomes, log lines, when `main` ended.
    pub record: RunRecord,
    /// The trace.
    pub trace: Trace,
    /// Why the run stopped early, if it did (deadlock, budget).
    pub error: Option<SimError>,
}

/// Runs the baseline of `scenario` under `seed`.
pub fn baseline(scenario: &Arc<Scenario>, seed: u64) -> Baseline {
    let record = Rc::new(RefCell::new(RunRecord::default()));
    let mut sim = Sim::new(Config::default().seed(seed).max_steps(1_000_000));
    let (main, after) = phases(Arc::clone(scenario), Rc::clone(&record));
    let mut error = sim.block_on(main).err();
    if let (None, Some(shutdown)) = (&error, after.shutdown()) {
        error = sim.block_on(shutdown).err();
    }
    let trace = sim.take_trace();
    drop(sim);
    let record = record.borrow().clone();
    Baseline {
        record,
        trace,
        error,
    }
}

/// A scenario's result against its expectation.
#[derive(Debug)]
pub struct Verdict {
    /// The scenario's name.
    pub scenario: String,
    /// The file it came from, as given (for the replay command).
    pub path: String,
    /// The sweep's report.
    pub report: Report,
    /// The baseline run.
    pub baseline: Baseline,
    /// Violation codes found over the sweep, sorted.
    pub found: Vec<String>,
    /// How the result differs from `expect` (empty: it matches).
    pub problems: Vec<String>,
    /// The cleanups (handlers, `finally` blocks, named with their `try`)
    /// that a cancellation interrupted in the baseline run: the program
    /// cancels its own cleanup, seen even when no tracked resource shows
    /// it.
    pub interrupted_cleanups: Vec<String>,
    /// The tasks that asyncio.run's shutdown cancelled in runs where the
    /// sweep cancelled `main` before it had awaited them (as asyncio.run
    /// does on Ctrl-C): not leaks, but worth knowing. Sorted.
    pub left_to_shutdown: Vec<String>,
    /// Wall-clock time of the sweep.
    pub elapsed: Duration,
}

impl Verdict {
    /// Does the result match the expectation?
    pub fn matches(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Sweeps `scenario` (cooperative cancels and timeouts at every await point,
/// under each seed) and compares the result with its `expect` block.
pub fn sweep(scenario: &Arc<Scenario>, options: &SweepOptions) -> Verdict {
    let started = std::time::Instant::now();
    let model = Arc::clone(scenario);
    let left = Arc::new(Mutex::new(BTreeSet::new()));
    let sink = Arc::clone(&left);
    let mut check = Check::new(move || {
        let (model, sink) = (Arc::clone(&model), Arc::clone(&sink));
        async move {
            let record = Rc::new(RefCell::new(RunRecord::default()));
            let end = run(model, Rc::clone(&record), false).await;
            let left = record.borrow().cancelled_at_shutdown.clone();
            if !left.is_empty() {
                sink.lock().expect("not poisoned").extend(left);
            }
            end
        }
    })
    .cancel_at_every_await(CancelMode::Cooperative)
    .timeout_at_every_await(true)
    .replay_from_env(false)
    .seeds(0..options.seeds.max(1));
    if options.seeds > 1 {
        check = check.scheduler(SchedulerKind::Random);
    }
    if let Some(threads) = options.threads {
        check = check.threads(threads);
    }
    if let Some(max) = options.max_runs {
        check = check.max_runs(max);
    }
    let report = check.run();
    let baseline = baseline(scenario, 0);
    let found: BTreeSet<String> = report
        .failures()
        .iter()
        .flat_map(|failure| failure.violations().iter().map(|v| v.code().to_string()))
        .collect();
    let problems = compare(scenario, &baseline, &found);
    let left_to_shutdown = left.lock().expect("not poisoned").iter().cloned().collect();
    let interrupted_cleanups = baseline.record.interrupted_cleanups.clone();
    Verdict {
        scenario: scenario.name.clone(),
        path: scenario.path.clone(),
        report,
        baseline,
        found: found.into_iter().collect(),
        problems,
        left_to_shutdown,
        interrupted_cleanups,
        elapsed: started.elapsed(),
    }
}

/// How `baseline` and `found` differ from the scenario's `expect` block.
pub fn compare(scenario: &Scenario, baseline: &Baseline, found: &BTreeSet<String>) -> Vec<String> {
    let expect = &scenario.expect;
    let mut problems = Vec::new();
    for expected in &expect.outcomes {
        let outcome = baseline.record.outcome(&expected.task);
        if !expected.matches(&outcome) {
            let wanted = match &expected.detail {
                Some(detail) => format!("{} {detail:?}", expected.kind),
                None => expected.kind.clone(),
            };
            problems.push(format!(
                "task {}: expected {wanted}, the baseline run ended {outcome}",
                expected.task
            ));
        }
    }
    if let Some(time) = expect.time {
        let end = baseline.record.main_end.map(|end| end.as_nanos());
        if end != Some(time.as_nanos() as u64) {
            problems.push(format!(
                "main was expected to end at {time:?}, it ended at {}",
                baseline
                    .record
                    .main_end
                    .map_or_else(|| "never".to_string(), |end| end.to_string())
            ));
        }
    }
    let expected: BTreeSet<String> = expect.violations.iter().cloned().collect();
    for code in expected.difference(found) {
        problems.push(format!(
            "expected violation {code} was not found by the sweep"
        ));
    }
    for code in found.difference(&expected) {
        problems.push(format!("unexpected violation {code}"));
    }
    problems
}
