//! The sweep of a [`Check`]: baselines, then the injected runs, streamed
//! through the worker pool into a report that keeps what it shows.
//!
//! Memory does not grow with the number of runs: runs are planned lazily
//! ([`plan`](super::plan)), executed a window at a time ([`pool`]) and
//! folded in plan order into counts, bounded sets of tuples and testcases,
//! and the [`Collector`]'s kept failures. A failing run is re-run with its
//! trace only when the report keeps it (runs are deterministic, so the
//! re-run is the same run).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::counterfactual::{judge_expiry, Judged};
use super::exhaustive::{Exploration, Programs, Sink};
use super::failure::Collector;
use super::junit::CaseList;
use super::plan::{self, Baseline, Dimensions, Plan, PlannedRun, Tuples};
use super::pool::{self, Limits, Ran, Stop};
use super::report::junit_failure;
use super::run::{run_collecting, run_once, run_until_stuck, run_with_baseline};
use super::{Check, Report, Repro};
use crate::config::{Config, TraceMode};
use crate::inject::{AwaitPoint, Injection};
use crate::oracle::{Violation, ViolationCode};
use crate::schedule::{DeterminismRole, SchedulerKind};
use crate::task::TaskId;
use crate::trace::Trace;

/// What a sweep may spend, and on how many threads.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Budget {
    pub threads: usize,
    /// Injected runs (and seeds taken from a range).
    pub max_runs: usize,
    /// Wall-clock time for the whole sweep.
    pub time: Duration,
    /// The watchdog's limit per poll.
    pub watchdog: Option<Duration>,
    /// Whether a timeout expiry the test fails the same way without is
    /// excused (the code's choice, or `CANCELSIM_TIMEOUT_RESULTS`): what
    /// the failing runs of timeout injections spend a second run on.
    pub excuse_timeout_results: bool,
}

/// Where a stuck run goes.
pub(super) struct Stuck<'a> {
    pub collector: &'a mut Collector,
    pub cases: &'a mut CaseList,
    pub config: &'a Config,
}

/// What a baseline run left for the sweep.
struct BaselineOut {
    violations: Vec<Violation>,
    points: Vec<AwaitPoint>,
    steps: u64,
    tasks: u32,
    panicked: Vec<TaskId>,
    /// A spawned task outlived the root.
    outlived_root: bool,
    /// Its wall-clock and virtual time.
    wall: std::time::Duration,
    end_time: crate::time::Instant,
}

/// What an injected run left for the report.
struct InjectedOut {
    violations: Vec<Violation>,
    fired: Vec<Injection>,
    consequences: (u32, bool),
    /// Its counterfactual, if it had one (see `counterfactual`).
    judged: Judged,
}

impl<F, Fut> Check<F>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future,
{
    /// The sweep proper (no replay): see [`Check::run`].
    pub(super) fn sweep(&self, budget: Budget, mut report: Report) -> Report {
        let started = Instant::now();
        let deadline = started.checked_add(budget.time);
        let limits = Limits {
            threads: budget.threads,
            watchdog: budget.watchdog,
            deadline,
        };
        let mut config = self.config.clone();
        config.watchdog = budget.watchdog;
        let traced_config = config.clone();
        // Runs go without a trace; a kept failing run is re-run with it.
        let quiet = Arc::new(config.trace(TraceMode::Off));
        let mut collector = Collector::default();
        let mut cases = CaseList::default();

        // 1. Baselines, each run twice to catch nondeterminism. A range of
        // seeds is taken lazily, as far as the budget goes.
        let swept_seeds = self.seeds.first(budget.max_runs as u64);
        report.counts.seeds_left_out =
            u64::try_from(self.seeds.len() - swept_seeds.len()).unwrap_or(u64::MAX);
        report.seeds = swept_seeds.clone();
        let swept = swept_seeds.len() as usize;
        // An explored schedule that is a seed's own run (the same seed
        // under the same scheduler) is not run twice.
        let explore = self.explore.clone().map(|(kind, count)| {
            let count = count.min(budget.max_runs as u64);
            let repeats = (kind == self.scheduler).then(|| swept_seeds.clone());
            (1..=count)
                .filter(move |seed| !repeats.as_ref().is_some_and(|seeds| seeds.contains(*seed)))
                .map(move |seed| Repro::baseline(seed, kind.clone()))
        });
        let name = self.name.clone();
        let mut jobs = swept_seeds
            .iter()
            .map(|seed| Repro::baseline(seed, self.scheduler.clone()))
            .chain(explore.into_iter().flatten())
            .enumerate()
            .map(|(index, mut repro)| {
                repro.test.clone_from(&name);
                (index, repro)
            });
        // Explored schedules' await points are kept when their expiries
        // are swept too (`explored_for_expiries`).
        let expire_explored = self.timeouts && self.exhaustive.is_none();
        let work = {
            let (body, quiet) = (Arc::clone(&self.body), Arc::clone(&quiet));
            // No more await points than the budget could inject at.
            let cap = budget.max_runs.max(10_000);
            Arc::new(move |(index, repro): &(usize, Repro)| {
                let collect = *index < swept || expire_explored;
                baseline_run(&*body, &quiet, repro, if collect { cap } else { 0 })
            })
        };
        let mut explored_points: Vec<(usize, Repro, Vec<AwaitPoint>)> = Vec::new();
        // Await points kept for injection: no more than the budget could
        // ever inject at.
        let mut kept_points = 0usize;
        let mut baselines: Vec<Baseline> = Vec::new();
        let mut baseline_panics: BTreeMap<u64, Vec<TaskId>> = BTreeMap::new();
        let (mut max_tasks, mut max_steps) = (1u32, 1u64);
        let mut stop = pool::run(limits, &mut jobs, work, |(index, repro), ran| {
            let out = match ran {
                Ran::Done(out) => out,
                Ran::Skipped => {
                    report.counts.not_run += 1;
                    return;
                }
                Ran::Stuck { .. } => {
                    report.counts.add_baseline(*index >= swept, false);
                    let label = self.baseline_label(repro);
                    let case = format!("baseline {repro}");
                    let stuck = Stuck {
                        collector: &mut collector,
                        cases: &mut cases,
                        config: &traced_config,
                    };
                    self.stuck(stuck, repro, &ran, &[], Some(label), case);
                    return;
                }
            };
            report.counts.add_baseline(*index >= swept, true);
            report.counts.long_lived_baselines += usize::from(out.outlived_root);
            report.counts.note_wall_clock(out.wall, out.end_time);
            max_tasks = max_tasks.max(out.tasks);
            max_steps = max_steps.max(out.steps);
            let reported = self.shard.is_none_or(|(k, _)| k == 0);
            let clean = out.violations.is_empty();
            if !out.violations.is_empty() && reported {
                let traced =
                    |repro: &Repro| run_once(&*self.body, &traced_config, repro, false).trace;
                let label = self.baseline_label(repro);
                let case = format!("baseline {repro}");
                self.fail(
                    &mut collector,
                    &mut cases,
                    repro,
                    out.violations,
                    Some(&traced),
                    Some(label),
                    case,
                );
            } else {
                cases.add(format!("baseline {repro}"), false, || unreachable!());
            }
            if *index >= swept && clean && out.panicked.is_empty() {
                explored_points.push((*index, repro.clone(), out.points));
            } else if *index < swept {
                report.counts.await_points += out.points.len();
                report.counts.injectable_points +=
                    out.points.iter().filter(|p| p.injectable).count();
                if kept_points.saturating_add(out.points.len()) <= budget.max_runs.max(10_000) {
                    kept_points += out.points.len();
                    baseline_panics.insert(repro.seed, out.panicked);
                    baselines.push(Baseline {
                        seed: repro.seed,
                        points: out.points,
                        explored: None,
                    });
                } else {
                    report.counts.seeds_not_injected += 1;
                }
            }
        });
        report.counts.not_run += jobs.count();
        let explored = super::explored::explored_for_expiries(&baselines, explored_points);
        report.counts.explored_expiry_schedules = explored.len();
        baselines.extend(explored);
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
            drop_only_abortable: self.drop_only_abortable,
            timeouts_only_where_late: self.timeouts_only_where_late,
        };
        report.counts.signal_unregistered = self.signal
            && !baselines
                .iter()
                .any(|baseline| baseline.points.iter().any(|point| point.signal));
        report.counts.requested = dims.requested();
        let plan = Plan::new(
            &baselines,
            &dims,
            &self.scheduler,
            &self.name,
            self.random_plans,
        );
        let total = plan.total();
        report.counts.planned_runs = total;
        report.counts.sampled_out = total - total.min(budget.max_runs);
        report.counts.tuples_total = plan.tuples();
        let mut jobs = plan.select(Some(budget.max_runs), self.shard);
        if let (Some(bound), None) = (self.exhaustive, stop) {
            drop(jobs);
            let reported = self.shard.is_none_or(|(k, _)| k == 0);
            let programs = Programs {
                excuse_timeout_results: budget.excuse_timeout_results,
                seeds: if reported {
                    swept_seeds.iter().collect()
                } else {
                    Vec::new()
                },
                baselines: &baselines,
                plan: &plan,
                panics: Arc::new(baseline_panics),
                max_runs: budget.max_runs,
            };
            let sink = Sink {
                report: &mut report,
                collector: &mut collector,
                cases: &mut cases,
                traced: &traced_config,
            };
            stop = self.explore_programs(bound, limits, &quiet, programs, sink);
        } else if stop.is_some() {
            if self.exhaustive.is_some() {
                report.exploration = Some(Exploration::not_started(self.exhaustive, stop));
            }
            report.counts.not_run += jobs.count();
        } else {
            let panics = Arc::new(baseline_panics);
            let work = {
                let (body, quiet, panics) = (
                    Arc::clone(&self.body),
                    Arc::clone(&quiet),
                    Arc::clone(&panics),
                );
                let excuse = budget.excuse_timeout_results;
                let scheduler = self.scheduler.clone();
                Arc::new(move |run: &PlannedRun| {
                    injected_run(&*body, &quiet, &panics, run, excuse, &scheduler)
                })
            };
            let (mut planned, mut covered) = (Tuples::new(), Tuples::new());
            stop = pool::run(limits, &mut jobs, work, |run, ran| {
                let kind = run.repro.injections.first().map(|injection| injection.kind);
                let label = run
                    .point
                    .map(|(b, p)| point_label(&baselines[b].points[p], kind));
                let out = match ran {
                    Ran::Done(out) => out,
                    Ran::Skipped => {
                        report.counts.not_run += 1;
                        return;
                    }
                    Ran::Stuck { .. } => {
                        report.counts.add_injected(injected_kind(run));
                        let expected = seed_panics(&panics, &run.repro, &self.scheduler);
                        let case = case_name(label.as_deref(), run);
                        let stuck = Stuck {
                            collector: &mut collector,
                            cases: &mut cases,
                            config: &traced_config,
                        };
                        self.stuck(stuck, &run.repro, &ran, expected, label, case);
                        return;
                    }
                };
                report.counts.add_injected(injected_kind(run));
                let kinds: std::collections::BTreeSet<&'static str> =
                    out.fired.iter().map(|i| i.kind.name()).collect();
                for kind in kinds {
                    *report.counts.fired_per_kind.entry(kind).or_default() += 1;
                }
                report.counts.abort_consequences += usize::from(out.consequences.0 > 0);
                report.counts.assertion_timeouts += usize::from(out.consequences.1);
                report.counts.judged(out.judged);
                planned.extend(plan::tuples_of(&run.repro.injections));
                covered.extend(plan::tuples_of(&out.fired));
                let case = case_name(label.as_deref(), run);
                if out.violations.is_empty() {
                    cases.add(case, false, || unreachable!());
                } else {
                    let traced = |repro: &Repro| {
                        let expected = seed_panics(&panics, repro, &self.scheduler);
                        run_with_baseline(&*self.body, &traced_config, repro, false, expected).trace
                    };
                    self.fail(
                        &mut collector,
                        &mut cases,
                        &run.repro,
                        out.violations,
                        Some(&traced),
                        label,
                        case,
                    );
                }
            });
            report.counts.not_run += jobs.count();
            report.counts.tuples_planned = planned.len();
            report.counts.tuples_covered = covered.len();
        }
        report.counts.stopped = stop.map(|stop| match stop {
            Stop::TimeBudget => "the time budget ran out",
            Stop::Stuck => "a poll got stuck",
        });
        let (mut failures, groups, failed, ungrouped) =
            collector.finish(&self.scheduler, &report.seeds);
        super::failure::note_state_kept(&mut failures);
        report.failures = failures;
        report.groups = groups;
        report.counts.failed_runs = failed;
        report.counts.ungrouped_runs = ungrouped;
        report.cases = cases.finish();
        report
    }

    /// How a report names a baseline: by its seed, and by its scheduler
    /// when it is one of the explored schedules.
    pub(super) fn baseline_label(&self, repro: &Repro) -> String {
        if repro.scheduler == self.scheduler {
            format!("baseline (seed {})", repro.seed)
        } else {
            format!("a {} schedule (seed {})", repro.scheduler, repro.seed)
        }
    }

    /// Adds a run the watchdog stopped: a `stuck-poll` failure whose
    /// trace is the same run again, stopped right before the stuck poll
    /// (which also names the task).
    pub(super) fn stuck<T>(
        &self,
        to: Stuck<'_>,
        repro: &Repro,
        ran: &Ran<T>,
        expected: &[TaskId],
        label: Option<String>,
        case: String,
    ) {
        let Ran::Stuck {
            task,
            point,
            step,
            running,
            limit,
        } = *ran
        else {
            unreachable!("called on a stuck run")
        };
        // The name is in the baseline's trace up to the stuck poll.
        let id = TaskId(task);
        let message = |shown: &str| crate::watchdog::stuck_message(shown, point, running, limit);
        let unnamed = Violation::new(ViolationCode::StuckPoll, message(&id.to_string()))
            .task(id, (task == 0).then_some("main"))
            .at_point(point, None);
        let mut trace = run_until_stuck(
            &*self.body,
            to.config,
            repro,
            expected,
            step,
            unnamed.clone(),
        );
        let name = if task == 0 {
            Some("main".to_string())
        } else {
            trace.task_name(id).map(str::to_string)
        };
        let violation = match &name {
            Some(name) => {
                let named =
                    Violation::new(ViolationCode::StuckPoll, message(&format!("{name}{id}")))
                        .task(id, Some(name))
                        .at_point(point, None);
                // Again, so that the trace's last line names it too.
                trace =
                    run_until_stuck(&*self.body, to.config, repro, expected, step, named.clone());
                named
            }
            None => unnamed,
        };
        let failure = junit_failure(repro, std::slice::from_ref(&violation));
        to.collector.add(repro, vec![violation], Some(trace), label);
        to.cases.add(case, true, || failure);
    }

    /// Adds a failing run to the report: kept (with its trace, made by
    /// `traced`; none for a stuck run) when the collector keeps it.
    #[allow(clippy::too_many_arguments)]
    fn fail(
        &self,
        collector: &mut Collector,
        cases: &mut CaseList,
        repro: &Repro,
        violations: Vec<Violation>,
        traced: Option<&dyn Fn(&Repro) -> Trace>,
        label: Option<String>,
        case: String,
    ) {
        let failure = junit_failure(repro, &violations);
        let trace = collector.keeps(&violations).then(|| match traced {
            Some(traced) => traced(repro),
            // A stuck run has no end to trace.
            None => Trace::new(TraceMode::Off, repro.seed, repro.scheduler.name(), 0),
        });
        collector.add(repro, violations, trace, label);
        cases.add(case, true, || failure);
    }
}

/// One baseline, twice: its first `collect` await points, its
/// violations, and a `nondeterminism` violation when the two runs differ.
///
/// The second run goes under the determinism check
/// ([`DeterminismCheck`](crate::schedule::DeterminismCheck)): each of its
/// questions is compared with the first run's as it is asked, and the run
/// stops at the first difference. Runs whose questions all agree are then
/// compared by outcome: violations, steps, end time.
fn baseline_run<F, Fut>(body: &F, quiet: &Config, repro: &Repro, collect: usize) -> BaselineOut
where
    F: Fn() -> Fut,
    Fut: Future,
{
    let (role, slot) = DeterminismRole::record();
    let mut config = quiet.clone();
    config.determinism = Some(role);
    let first = run_collecting(body, &config, repro, collect);
    // The first run's world is dropped: its recording is in the slot.
    let recording = slot
        .lock()
        .ok()
        .and_then(|mut slot| slot.take())
        .unwrap_or_default();
    config.determinism = Some(DeterminismRole::Check(Arc::new(recording)));
    let second = run_once(body, &config, repro, false);
    let difference = super::determinism::difference(&first, &second);
    let mut violations = first.violations;
    violations.extend(difference);
    BaselineOut {
        violations,
        points: first.points,
        steps: first.steps,
        tasks: first.tasks,
        panicked: first.panicked,
        outlived_root: first.outlived_root,
        wall: first.wall,
        end_time: first.end_time,
    }
}

/// One injected run.
fn injected_run<F, Fut>(
    body: &F,
    quiet: &Config,
    panics: &BTreeMap<u64, Vec<TaskId>>,
    run: &PlannedRun,
    excuse: bool,
    scheduler: &SchedulerKind,
) -> InjectedOut
where
    F: Fn() -> Fut,
    Fut: Future,
{
    let expected = seed_panics(panics, &run.repro, scheduler);
    let mut result = run_with_baseline(body, quiet, &run.repro, false, expected);
    let judged = judge_expiry(body, quiet, &run.repro, expected, &mut result, excuse);
    if run.repro.injections.len() == 1 && !result.unfired.is_empty() {
        result.violations.push(Violation::new(
            ViolationCode::Nondeterminism,
            format!(
                "injection {} never fired although the baseline reached its await point",
                run.repro.injections[0]
            ),
        ));
    }
    InjectedOut {
        violations: result.violations,
        fired: result.fired,
        consequences: result.consequences,
        judged,
    }
}

/// The testcase of an injected run: its await point × kind, or the plan.
/// The kind a report counts an injected run under: its injection's, or
/// none for a random plan.
fn injected_kind(run: &PlannedRun) -> Option<&'static str> {
    run.point.map(|_| run.repro.injections[0].kind.name())
}

pub(super) fn case_name(label: Option<&str>, run: &PlannedRun) -> String {
    match (label, run.point) {
        (Some(label), Some(_)) => format!("{label} x {}", run.repro.injections[0].kind.name()),
        _ => format!("random plan {}", run.repro),
    }
}

/// `fetch#1 await point 3 on sleep (src/fetch.rs:12:5)`; for an expiry
/// there (`kind`), where the deadline it expires was set when that is
/// elsewhere (`, under the deadline set at src/fetch.rs:30:9`: the wait is
/// in a dependency, the `timeout` or `select!` in the code).
pub(super) fn point_label(point: &AwaitPoint, kind: Option<crate::InjectionKind>) -> String {
    struct Wait<'a>(&'a crate::trace::Wait, Option<&'a str>);
    impl std::fmt::Display for Wait<'_> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            crate::vocab::write_wait_joining(f, self.0, self.1)
        }
    }
    let mut label = format!(
        "{} on {}",
        point.label(),
        Wait(&point.wait, point.joined.as_deref())
    );
    let scope = match kind {
        Some(crate::InjectionKind::Timeout) => point.timeout,
        Some(crate::InjectionKind::TimeoutOuter) => point.outer_timeout,
        _ => None,
    };
    if let Some((_, at)) = scope.filter(|(_, at)| point.wait.at != Some(*at)) {
        label.push_str(", under the deadline set at ");
        label.push_str(&crate::trace::display_location(at));
    }
    label
}

/// The tasks that panicked in the baseline of `repro`'s seed (what its
/// injected runs expect to panic): none for an explored schedule's, whose
/// baseline is swept only when it ran clean.
fn seed_panics<'a>(
    panics: &'a BTreeMap<u64, Vec<TaskId>>,
    repro: &Repro,
    scheduler: &SchedulerKind,
) -> &'a [TaskId] {
    if repro.scheduler != *scheduler {
        return &[];
    }
    panics.get(&repro.seed).map_or(&[][..], Vec::as_slice)
}
