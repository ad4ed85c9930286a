//! Bounded-exhaustive sweeps ([`Check::explore_exhaustively`]): every
//! schedule, within a deviation bound, of every program the sweep plans —
//! the baseline of each seed and each planned injection plan — walked
//! depth first by a [`DfsExplorer`], and a report that says whether all of
//! them were covered ([`Exploration`]).
//!
//! Invariants:
//! * one job per program (one DFS tree), run on one worker from its first
//!   schedule to its last, since each next path depends on the run before;
//!   programs run in parallel;
//! * the runs budget is spent in program order when results are folded: the
//!   fold takes of a tree's runs what the budget has left after the trees
//!   before it. A tree job stops once it has run what the budget had left
//!   when it last looked (never less than the fold will take, since only
//!   the trees before it were folded by then). Which runs count, and so the
//!   report, do not depend on the number of threads (the time budget, as
//!   everywhere, does depend on the machine);
//! * a program whose tree was cut (the runs budget, the time budget, a
//!   stuck poll) or never started is not explored, and the report says the
//!   exploration is not exhausted: never a silently partial "all".

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::counterfactual::{judge_expiry, Judged};
use super::failure::Collector;
use super::junit::CaseList;
use super::plan::{self, Baseline, Plan, PlannedRun, Tuples};
use super::pool::{self, Limits, Ran, Stop};
use super::report::junit_failure;
use super::run::run_with_baseline;
use super::sweep::{case_name, point_label, Stuck};
use super::{Check, Report, Repro};
use crate::config::Config;
use crate::inject::Injection;
use crate::oracle::Violation;
use crate::schedule::{DfsExplorer, DfsPath, SchedulerKind};
use crate::task::TaskId;

/// What a bounded-exhaustive sweep covered: how many schedules it ran, of
/// how many programs (each seed's baseline, each injection plan), and
/// whether it ran every schedule of every one of them within the bound.
///
/// ```
/// use cancelsim::Check;
///
/// // Tasks a and b ready at once, the root waiting for a: a first (then b
/// // and the root it woke are ready: b first, or the root, a deviation),
/// // or b first (a deviation) — 3 schedules.
/// let report = Check::new(|| async {
///     let a = cancelsim::spawn(async {});
///     let b = cancelsim::spawn(async {});
///     let _ = (a.await, b.await);
/// })
/// .explore_exhaustively(1)
/// .run();
/// let exploration = report.exploration().unwrap();
/// assert!(exploration.is_exhausted());
/// assert_eq!(exploration.schedules(), 3);
/// assert!(report.to_string().contains("explored all 3 schedules within 1 deviation"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Exploration {
    max_deviations: Option<usize>,
    schedules: usize,
    programs: usize,
    explored: usize,
    exhausted: bool,
    stopped: Option<&'static str>,
}

impl Exploration {
    /// An exploration the sweep stopped (`stop`) before it began.
    pub(super) fn not_started(bound: Option<usize>, stop: Option<Stop>) -> Self {
        Exploration {
            max_deviations: bound.and_then(|bound| u32::try_from(bound).ok().map(|_| bound)),
            schedules: 0,
            programs: 0,
            explored: 0,
            exhausted: false,
            stopped: Some(match stop {
                Some(Stop::Stuck) => "a stuck poll",
                _ => "the time budget",
            }),
        }
    }

    /// The deviation bound per schedule (`None`: unbounded).
    pub fn max_deviations(&self) -> Option<usize> {
        self.max_deviations
    }

    /// Schedules run, over all programs.
    pub fn schedules(&self) -> usize {
        self.schedules
    }

    /// Programs to explore: one baseline per seed swept and one per
    /// planned injection plan (sampled out ones included).
    pub fn programs(&self) -> usize {
        self.programs
    }

    /// Programs whose every schedule within the bound was run.
    pub fn programs_explored(&self) -> usize {
        self.explored
    }

    /// Every schedule within the bound of every program was run (and no
    /// seed of the check was left out).
    pub fn is_exhausted(&self) -> bool {
        self.exhausted
    }

    /// What cut the exploration short, when it was.
    pub fn stopped_by(&self) -> Option<&'static str> {
        self.stopped
    }
}

impl fmt::Display for Exploration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bound = match self.max_deviations {
            Some(1) => "within 1 deviation".to_string(),
            Some(k) => format!("within {k} deviations"),
            None => "with no deviation bound".to_string(),
        };
        let programs = if self.programs == 1 {
            "1 program".to_string()
        } else {
            format!("{} programs", self.programs)
        };
        if self.exhausted {
            write!(
                f,
                "explored all {} schedules {bound} of {programs} (every seed's baseline and injection plan)",
                self.schedules
            )
        } else {
            write!(
                f,
                "NOT exhausted: {} schedules run {bound}; {} of {programs} explored completely; \
                 stopped by {} (raise max_runs / CANCELSIM_MAX_RUNS or the time budget, \
                 or lower the deviation bound)",
                self.schedules,
                self.explored,
                self.stopped.unwrap_or("the runs budget")
            )
        }
    }
}

/// One program to explore: a plan whose scheduler each run replaces with
/// a DFS path.
pub(super) struct Tree {
    repro: Repro,
    /// (baseline, await point) of an injected plan's await point.
    point: Option<(usize, usize)>,
    /// The run in progress (for a stuck poll's report).
    current: Mutex<Option<Repro>>,
}

impl Tree {
    fn new(repro: Repro, point: Option<(usize, usize)>) -> Self {
        Tree {
            repro,
            point,
            current: Mutex::new(None),
        }
    }

    fn at(&self, path: DfsPath) -> Repro {
        let mut repro = self.repro.clone();
        repro.scheduler = SchedulerKind::Dfs(Arc::new(path));
        repro
    }
}

/// One run of a tree, as the fold needs it.
struct Explored {
    /// The path, for a failing run.
    path: Option<DfsPath>,
    violations: Vec<Violation>,
    fired: Vec<Injection>,
    consequences: (u32, bool),
    /// Its counterfactual, if it had one.
    judged: Judged,
}

/// A tree's runs in DFS order, and whether they are all of it.
pub(super) struct TreeOut {
    runs: Vec<Explored>,
    finished: bool,
}

/// Where the exploration writes.
pub(super) struct Sink<'a> {
    pub report: &'a mut Report,
    pub collector: &'a mut Collector,
    pub cases: &'a mut CaseList,
    pub traced: &'a Config,
}

/// What the exploration explores.
pub(super) struct Programs<'a> {
    /// The seeds whose baselines are explored.
    pub seeds: Vec<u64>,
    pub baselines: &'a [Baseline],
    pub plan: &'a Plan<'a>,
    pub panics: Arc<BTreeMap<u64, Vec<TaskId>>>,
    /// Runs of the whole exploration.
    pub max_runs: usize,
    /// See [`Check::excuse_timeout_results`].
    pub excuse_timeout_results: bool,
}

/// The runs budget of an exploration: its size, and how much of it the
/// trees folded so far took.
struct RunsBudget {
    max: usize,
    spent: AtomicUsize,
}

impl RunsBudget {
    /// What is left after the trees folded so far: at least what the fold
    /// will give any tree not folded yet.
    fn left(&self) -> usize {
        self.max.saturating_sub(self.spent.load(Ordering::Relaxed))
    }
}

/// Runs `tree` depth first while the budget has runs left for it, none
/// started past `deadline`.
#[allow(clippy::too_many_arguments)]
fn explore_tree<F, Fut>(
    body: &F,
    config: &Config,
    tree: &Tree,
    bound: Option<u32>,
    budget: &RunsBudget,
    deadline: Option<Instant>,
    expected: &[TaskId],
    excuse: bool,
) -> TreeOut
where
    F: Fn() -> Fut,
    Fut: Future,
{
    let mut explorer = DfsExplorer::new(bound);
    let mut runs = Vec::new();
    while let Some(path) = explorer.next_path() {
        if runs.len() >= budget.left()
            || deadline.is_some_and(|deadline| Instant::now() >= deadline)
        {
            return TreeOut {
                runs,
                finished: false,
            };
        }
        let repro = tree.at(path.clone());
        *tree.current.lock().unwrap_or_else(|p| p.into_inner()) = Some(repro.clone());
        let mut result = run_with_baseline(body, config, &repro, false, expected);
        explorer.explored(&result.schedule);
        let judged = judge_expiry(body, config, &repro, expected, &mut result, excuse);
        runs.push(Explored {
            path: (!result.violations.is_empty()).then_some(path),
            violations: result.violations,
            fired: result.fired,
            consequences: result.consequences,
            judged,
        });
    }
    TreeOut {
        runs,
        finished: true,
    }
}

impl<F, Fut> Check<F>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future,
{
    /// Explores every program of the sweep (each seed's baseline, then
    /// each planned injection plan, in plan order) depth first within the
    /// deviation bound, folding the runs into the report.
    pub(super) fn explore_programs(
        &self,
        bound: usize,
        limits: Limits,
        quiet: &Arc<Config>,
        programs: Programs<'_>,
        sink: Sink<'_>,
    ) -> Option<Stop> {
        let Sink {
            report,
            collector,
            cases,
            traced,
        } = sink;
        let bound = u32::try_from(bound).ok();
        let baseline_trees = programs.seeds.iter().map(|&seed| {
            let mut repro = Repro::baseline(seed, SchedulerKind::Fifo);
            repro.test.clone_from(&self.name);
            Tree::new(repro, None)
        });
        let planned = programs.plan.total();
        let in_shard = match self.shard {
            Some((k, n)) => (planned + n - 1 - k) / n,
            None => planned,
        };
        let sampled = programs.plan.select(Some(programs.max_runs), self.shard);
        let total = programs.seeds.len() + in_shard;
        // Trees past the budget are not started (those already started
        // are folded as taking none).
        let budget = Arc::new(RunsBudget {
            max: programs.max_runs,
            spent: AtomicUsize::new(0),
        });
        let mut jobs = baseline_trees
            .chain(sampled.map(|run: PlannedRun| Tree::new(run.repro, run.point)))
            .take_while(|_| budget.left() > 0);
        let work = {
            let (body, quiet, panics, budget) = (
                Arc::clone(&self.body),
                Arc::clone(quiet),
                Arc::clone(&programs.panics),
                Arc::clone(&budget),
            );
            let deadline = limits.deadline;
            let excuse = programs.excuse_timeout_results;
            Arc::new(move |tree: &Tree| {
                let expected = if tree.repro.injections.is_empty() {
                    &[][..]
                } else {
                    panics.get(&tree.repro.seed).map_or(&[][..], Vec::as_slice)
                };
                explore_tree(
                    &*body, &quiet, tree, bound, &budget, deadline, expected, excuse,
                )
            })
        };
        let (mut schedules, mut explored, mut cut) = (0usize, 0usize, false);
        let (mut planned_tuples, mut covered) = (Tuples::new(), Tuples::new());
        let stop = pool::run(limits, &mut jobs, work, |tree, ran| {
            let kind = tree
                .repro
                .injections
                .first()
                .map(|injection| injection.kind);
            let label = tree
                .point
                .map(|(b, p)| point_label(&programs.baselines[b].points[p], kind));
            let case = match tree.point {
                Some(_) => format!(
                    "{} (every schedule)",
                    case_name(
                        label.as_deref(),
                        &PlannedRun {
                            repro: tree.repro.clone(),
                            point: tree.point
                        }
                    )
                ),
                None if tree.repro.injections.is_empty() => {
                    format!("every schedule of the baseline (seed {})", tree.repro.seed)
                }
                None => format!("every schedule of random plan {}", tree.repro),
            };
            let expected = programs
                .panics
                .get(&tree.repro.seed)
                .filter(|_| !tree.repro.injections.is_empty())
                .map_or(&[][..], Vec::as_slice);
            let out = match ran {
                Ran::Done(out) => out,
                Ran::Skipped => {
                    cut = true;
                    return;
                }
                Ran::Stuck { .. } => {
                    cut = true;
                    report.counts.runs += 1;
                    schedules += 1;
                    let repro = tree
                        .current
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .clone()
                        .unwrap_or_else(|| tree.at(DfsPath::default()));
                    let label = label.or_else(|| Some(self.baseline_label(&repro)));
                    let stuck = Stuck {
                        collector: &mut *collector,
                        cases: &mut *cases,
                        config: traced,
                    };
                    self.stuck(stuck, &repro, &ran, expected, label, case);
                    return;
                }
            };
            let take = out.runs.len().min(budget.left());
            budget.spent.fetch_add(take, Ordering::Relaxed);
            if out.finished && take == out.runs.len() {
                explored += 1;
            } else {
                cut = true;
            }
            if take > 0 {
                planned_tuples.extend(plan::tuples_of(&tree.repro.injections));
            }
            let mut first_failure = None;
            for run in out.runs.into_iter().take(take) {
                schedules += 1;
                report.counts.runs += 1;
                if !tree.repro.injections.is_empty() {
                    let kinds: BTreeSet<&'static str> =
                        run.fired.iter().map(|i| i.kind.name()).collect();
                    for kind in kinds {
                        *report.counts.fired_per_kind.entry(kind).or_default() += 1;
                    }
                    match tree.point {
                        Some(_) => {
                            *report
                                .counts
                                .per_kind
                                .entry(tree.repro.injections[0].kind.name())
                                .or_default() += 1;
                        }
                        None => report.counts.random_plans += 1,
                    }
                    report.counts.abort_consequences += usize::from(run.consequences.0 > 0);
                    report.counts.assertion_timeouts += usize::from(run.consequences.1);
                    report.counts.judged(run.judged);
                    covered.extend(plan::tuples_of(&run.fired));
                }
                if run.violations.is_empty() {
                    continue;
                }
                let repro = tree.at(run.path.expect("kept for a failing run"));
                first_failure.get_or_insert_with(|| junit_failure(&repro, &run.violations));
                let trace = collector
                    .keeps(&run.violations)
                    .then(|| run_with_baseline(&*self.body, traced, &repro, false, expected).trace);
                let label = label.clone().or_else(|| Some(self.baseline_label(&repro)));
                collector.add(&repro, run.violations, trace, label);
            }
            let failed = first_failure.is_some();
            cases.add(case, failed, || first_failure.expect("failed"));
        });
        cut |= jobs.next().is_some();
        drop(jobs);
        report.counts.tuples_planned = planned_tuples.len();
        report.counts.tuples_covered = covered.len();
        let stopped = match stop {
            Some(Stop::TimeBudget) => Some("the time budget"),
            Some(Stop::Stuck) => Some("a stuck poll"),
            None if cut || explored < total => Some("the runs budget"),
            None => None,
        };
        let counts = &report.counts;
        report.exploration = Some(Exploration {
            max_deviations: bound.map(|bound| bound as usize),
            schedules,
            programs: total,
            explored,
            exhausted: stopped.is_none()
                && explored == total
                && counts.seeds_left_out == 0
                && counts.seeds_not_injected == 0,
            stopped: stopped.or_else(|| {
                (counts.seeds_left_out > 0 || counts.seeds_not_injected > 0)
                    .then_some("the runs budget (seeds left out)")
            }),
        });
        stop
    }
}
