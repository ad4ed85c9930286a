//! From baselines to the runs of a sweep, computed lazily: every (await
//! point × injection kind × instant), seeded random multi-injection plans,
//! the deterministic sample under a budget, and sharding. Nothing here is
//! proportional to the number of runs: the plan is a few counters over the
//! baselines' await points.
//!
//! The order makes any budget a good sample:
//! 1. *cover* rounds: round `k` injects the `k`-th kind at suspension at
//!    every await point, for the first baseline (seed) that has that
//!    (task, await point, kind) tuple; after them every tuple ran once;
//! 2. the other rounds: the same at other seeds, then on wake;
//! 3. the expiries at the await points of the explored schedules the
//!    sweep also expires timeouts in (their own timing reached waits no
//!    seed did);
//! 4. the random plans.
//!
//! Each round visits the await points in the order they were found, so a
//! prefix covers every await point once before repeating one. A budget
//! takes whole rounds while it lasts and spreads what is left evenly over
//! the next round, so a budget smaller than the number of await points
//! still reaches late ones.

use std::collections::{BTreeMap, BTreeSet};

use super::Repro;
use crate::inject::{AwaitPoint, CancelMode, InjectAt, Injection, InjectionKind};
use crate::schedule::{SchedulerKind, SimRng};
use crate::task::TaskId;
use crate::trace::WaitKind;

/// Which dimensions a sweep covers.
#[derive(Clone, Debug)]
pub(crate) struct Dimensions {
    pub cancel: Option<CancelMode>,
    pub timeouts: bool,
    pub on_wake: bool,
    /// Fire the program's registered cancellation signal at every await point.
    pub signal: bool,
    /// Drop only where the program could (`AwaitPoint::abortable`).
    pub drop_only_abortable: bool,
    /// Expire a timeout only where its future waits on something that can
    /// be late (`Check::timeouts_only_where_late`).
    pub timeouts_only_where_late: bool,
}

impl Dimensions {
    /// Injection kinds the check asked for by name (its cancel modes):
    /// `assert_clean` fails when one of them fired in no run.
    pub fn requested(&self) -> Vec<&'static str> {
        match self.cancel {
            Some(CancelMode::Drop) => vec![InjectionKind::CancelDrop.name()],
            Some(CancelMode::Cooperative) => vec![InjectionKind::CancelCooperative.name()],
            Some(CancelMode::Both) => vec![
                InjectionKind::CancelDrop.name(),
                InjectionKind::CancelCooperative.name(),
            ],
            None => Vec::new(),
        }
    }

    /// The kinds to inject at one await point, in their fixed order.
    fn kinds_at(&self, point: &AwaitPoint) -> Vec<InjectionKind> {
        if !point.injectable {
            return Vec::new();
        }
        let mut kinds = Vec::new();
        let drop = !self.drop_only_abortable || point.abortable;
        match self.cancel {
            Some(CancelMode::Drop) if drop => kinds.push(InjectionKind::CancelDrop),
            Some(CancelMode::Drop)
                if !point.self_woken
                    && (point.aborted_at_deadline
                        || point.awaited_at_deadline
                        || point.aborted_after_end) =>
            {
                kinds.push(InjectionKind::Stall);
            }
            Some(CancelMode::Cooperative) => kinds.push(InjectionKind::CancelCooperative),
            Some(CancelMode::Both) => {
                if drop {
                    kinds.push(InjectionKind::CancelDrop);
                }
                kinds.push(InjectionKind::CancelCooperative);
            }
            _ => {}
        }
        let late = !self.timeouts_only_where_late || point.wait.kind != WaitKind::Sleep;
        if self.timeouts && point.timeout.is_some() && late {
            kinds.push(InjectionKind::Timeout);
            if point.outer_timeout.is_some() {
                kinds.push(InjectionKind::TimeoutOuter);
            }
        }
        if self.signal && point.signal {
            kinds.push(InjectionKind::Signal);
        }
        kinds
    }

    /// [`Dimensions::kinds_at`] at an await point of `baseline`: at an
    /// explored schedule's, only a timeout's expiry (what the schedule's
    /// own timing — an I/O chunk late, a branch order — can add to the
    /// seeds' sweep is a wait cut short mid-way).
    fn kinds_in(&self, baseline: &Baseline, point: &AwaitPoint) -> Vec<InjectionKind> {
        let mut kinds = self.kinds_at(point);
        if baseline.explored.is_some() {
            kinds.retain(|kind| kind.is_expiry());
        }
        kinds
    }

    /// [`Dimensions::injections_at`] at an await point of `baseline`.
    fn injections_in(&self, baseline: &Baseline, point: &AwaitPoint) -> Vec<Injection> {
        Self::injections_for(self.kinds_in(baseline, point), self.on_wake, point)
    }

    /// The injections to try at one await point: every kind at
    /// suspension, then every kind on wake (when the task was woken there).
    pub fn injections_at(&self, point: &AwaitPoint) -> Vec<Injection> {
        Self::injections_for(self.kinds_at(point), self.on_wake, point)
    }

    fn injections_for(
        kinds: Vec<InjectionKind>,
        on_wake: bool,
        point: &AwaitPoint,
    ) -> Vec<Injection> {
        let mut instants = vec![InjectAt::Suspend];
        if on_wake && point.resumed {
            instants.push(InjectAt::Wake);
        }
        let mut out = Vec::new();
        for at in instants {
            for &kind in &kinds {
                if kind == InjectionKind::Stall && at == InjectAt::Wake {
                    // Stalling a woken task is stalling it where it waits.
                    continue;
                }
                out.push(Injection {
                    task: point.task,
                    point: point.ordinal,
                    kind,
                    at,
                });
            }
        }
        out
    }
}

/// A baseline whose await points the sweep injects at.
#[derive(Debug)]
pub(crate) struct Baseline {
    pub seed: u64,
    pub points: Vec<AwaitPoint>,
    /// An explored schedule's (its scheduler): only timeouts are expired
    /// at its await points (`explored.rs`, `explored_for_expiries`).
    pub explored: Option<SchedulerKind>,
}

/// One planned run and the await point it is about (for grouping).
#[derive(Clone, Debug)]
pub(crate) struct PlannedRun {
    pub repro: Repro,
    /// (baseline, await point) indices of the targeted await point; `None`
    /// for random plans.
    pub point: Option<(usize, usize)>,
}

type Tuple = (TaskId, u32, InjectionKind);

/// The sweep's plan over `baselines`.
pub(crate) struct Plan<'a> {
    baselines: &'a [Baseline],
    dims: &'a Dimensions,
    scheduler: &'a SchedulerKind,
    test: &'a Option<String>,
    /// The baseline that has each tuple first.
    first: BTreeMap<Tuple, usize>,
    /// Sizes of the rounds, in order: cover rounds, other rounds, random.
    rounds: Vec<(Round, usize)>,
    random_plans: usize,
}

#[derive(Clone, Copy, Debug)]
enum Round {
    /// The `k`-th kind at suspension, at the tuple's first baseline.
    Cover(usize),
    /// The `k`-th injection of the point's list, where not covered already.
    Rest(usize),
    /// The expiries at the explored schedules' await points, after every
    /// seed's (`Baseline::explored`).
    Explored,
    Random,
}

impl<'a> Plan<'a> {
    pub fn new(
        baselines: &'a [Baseline],
        dims: &'a Dimensions,
        scheduler: &'a SchedulerKind,
        test: &'a Option<String>,
        random_plans: usize,
    ) -> Plan<'a> {
        let mut first = BTreeMap::new();
        let mut kinds_max = 0;
        let mut list_max = 0;
        let seeds = baselines.iter().filter(|b| b.explored.is_none());
        for (index, baseline) in seeds.enumerate() {
            for point in &baseline.points {
                let kinds = dims.kinds_in(baseline, point);
                kinds_max = kinds_max.max(kinds.len());
                list_max = list_max.max(dims.injections_in(baseline, point).len());
                for kind in kinds {
                    first
                        .entry((point.task, point.ordinal, kind))
                        .or_insert(index);
                }
            }
        }
        let mut plan = Plan {
            baselines,
            dims,
            scheduler,
            test,
            first,
            rounds: Vec::new(),
            random_plans,
        };
        let mut rounds: Vec<Round> = (0..kinds_max).map(Round::Cover).collect();
        rounds.extend((0..list_max).map(Round::Rest));
        rounds.push(Round::Explored);
        plan.rounds = rounds
            .into_iter()
            .map(|round| (round, plan.round(round).count()))
            .collect();
        if plan.random_plans > 0 && !plan.first.is_empty() {
            plan.rounds.push((Round::Random, random_plans));
        }
        plan
    }

    /// Runs in the full plan.
    pub fn total(&self) -> usize {
        self.rounds.iter().map(|(_, size)| size).sum()
    }

    /// Distinct (task, await point, kind) tuples in the full plan.
    pub fn tuples(&self) -> usize {
        self.first.len()
    }

    /// The runs a budget of `max` selects (all when it is `None`), then
    /// the `k`-th of `n` shards; lazily, in plan order.
    pub fn select(
        &'a self,
        max: Option<usize>,
        shard: Option<(usize, usize)>,
    ) -> impl Iterator<Item = PlannedRun> + 'a {
        let mut left = max.unwrap_or(usize::MAX);
        let mut taken: Vec<(Round, usize, usize)> = Vec::new();
        for &(round, size) in &self.rounds {
            if left == 0 {
                break;
            }
            let take = size.min(left);
            taken.push((round, size, take));
            left -= take;
        }
        taken
            .into_iter()
            .flat_map(move |(round, size, take)| {
                // `take` of `size`, evenly spread: index i is taken when
                // floor((i + 1) · take / size) steps up.
                self.round(round)
                    .enumerate()
                    .filter(move |(index, _)| {
                        take == size
                            || ((index + 1) as u128 * take as u128 / size as u128)
                                > (*index as u128 * take as u128 / size as u128)
                    })
                    .map(|(_, run)| run)
            })
            .enumerate()
            .filter(move |(index, _)| match shard {
                Some((k, n)) => index % n == k,
                None => true,
            })
            .map(|(_, run)| run)
    }

    fn run(
        &self,
        injections: Vec<Injection>,
        baseline: &Baseline,
        point: Option<(usize, usize)>,
    ) -> PlannedRun {
        PlannedRun {
            repro: Repro {
                seed: baseline.seed,
                scheduler: baseline
                    .explored
                    .clone()
                    .unwrap_or_else(|| self.scheduler.clone()),
                injections,
                test: self.test.clone(),
            },
            point,
        }
    }

    /// The runs of one round, lazily.
    fn round(&'a self, round: Round) -> Box<dyn Iterator<Item = PlannedRun> + 'a> {
        if let Round::Random = round {
            return Box::new(self.random());
        }
        let explored = matches!(round, Round::Explored);
        let points = self
            .baselines
            .iter()
            .enumerate()
            .filter(move |(_, baseline)| baseline.explored.is_some() == explored)
            .flat_map(|(b, baseline)| {
                baseline
                    .points
                    .iter()
                    .enumerate()
                    .map(move |(p, point)| (b, p, point))
            });
        if explored {
            return Box::new(points.flat_map(move |(b, p, point)| {
                let baseline = &self.baselines[b];
                self.dims
                    .injections_in(baseline, point)
                    .into_iter()
                    .map(move |injection| self.run(vec![injection], baseline, Some((b, p))))
            }));
        }
        Box::new(points.filter_map(move |(b, p, point)| {
            let baseline = &self.baselines[b];
            let kinds = self.dims.kinds_in(baseline, point);
            let is_cover = |index: usize| {
                index < kinds.len()
                    && self.first.get(&(point.task, point.ordinal, kinds[index])) == Some(&b)
            };
            let index = match round {
                Round::Cover(k) if is_cover(k) => k,
                Round::Rest(k) if !is_cover(k) => k,
                _ => return None,
            };
            let injection = *self.dims.injections_in(baseline, point).get(index)?;
            Some(self.run(vec![injection], baseline, Some((b, p))))
        }))
    }

    /// `random_plans` seeded random plans of 2 or 3 injections each, drawn
    /// from the candidate injections of one baseline each.
    fn random(&'a self) -> impl Iterator<Item = PlannedRun> + 'a {
        let candidates: Vec<(&Baseline, Vec<Injection>)> = self
            .baselines
            .iter()
            .filter(|baseline| baseline.explored.is_none())
            .map(|baseline| {
                (
                    baseline,
                    baseline
                        .points
                        .iter()
                        .flat_map(|p| self.dims.injections_at(p))
                        .collect::<Vec<_>>(),
                )
            })
            .filter(|(_, injections)| !injections.is_empty())
            .collect();
        let mut rng = SimRng::new(0x5eed_0f9a_75c4);
        (0..self.random_plans).filter_map(move |_| {
            if candidates.is_empty() {
                return None;
            }
            let (baseline, pool) = &candidates[rng.below(candidates.len() as u64) as usize];
            let size = 2 + rng.below(2) as usize;
            let mut picked: BTreeMap<(TaskId, u32), Injection> = BTreeMap::new();
            for _ in 0..size {
                let injection = pool[rng.below(pool.len() as u64) as usize];
                picked
                    .entry((injection.task, injection.point))
                    .or_insert(injection);
            }
            Some(self.run(picked.into_values().collect(), baseline, None))
        })
    }
}

/// The (task, await point, kind) tuples of `injections`.
pub(crate) fn tuples_of(injections: &[Injection]) -> impl Iterator<Item = Tuple> + '_ {
    injections.iter().map(|i| (i.task, i.point, i.kind))
}

/// A set of tuples (planned, covered).
pub(crate) type Tuples = BTreeSet<Tuple>;
