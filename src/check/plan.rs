//! From baselines to the list of runs: every (await point × injection kind ×
//! instant), random multi-injection plans, the deterministic sample under
//! `max_runs`, and sharding.

use std::collections::BTreeMap;

use super::Repro;
use crate::inject::{AwaitPoint, CancelMode, InjectAt, Injection, InjectionKind};
use crate::schedule::{SchedulerKind, SimRng};
use crate::task::TaskId;

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
}

impl Dimensions {
    /// The injections to try at one await point.
    pub fn injections_at(&self, point: &AwaitPoint) -> Vec<Injection> {
        if !point.injectable {
            return Vec::new();
        }
        let mut kinds = Vec::new();
        let drop = !self.drop_only_abortable || point.abortable;
        match self.cancel {
            Some(CancelMode::Drop) if drop => kinds.push(InjectionKind::CancelDrop),
            Some(CancelMode::Cooperative) => kinds.push(InjectionKind::CancelCooperative),
            Some(CancelMode::Both) => {
                if drop {
                    kinds.push(InjectionKind::CancelDrop);
                }
                kinds.push(InjectionKind::CancelCooperative);
            }
            _ => {}
        }
        if self.timeouts && point.timeout.is_some() {
            kinds.push(InjectionKind::Timeout);
        }
        if self.signal && point.signal {
            kinds.push(InjectionKind::Signal);
        }
        let mut instants = vec![InjectAt::Suspend];
        if self.on_wake && point.resumed {
            instants.push(InjectAt::Wake);
        }
        let mut out = Vec::new();
        for kind in kinds {
            for &at in &instants {
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

/// One planned run and the await point it is about (for grouping).
#[derive(Clone, Debug)]
pub(crate) struct PlannedRun {
    pub repro: Repro,
    /// (seed, task, ordinal) of the targeted await point; `None` for random plans.
    pub point: Option<(u64, TaskId, u32)>,
}

/// Every single-injection run over the baselines' await points, interleaved
/// round-robin across await points so that a prefix covers every point
/// once before any point is repeated.
pub(crate) fn sweep(
    baselines: &[(u64, Vec<AwaitPoint>)],
    scheduler: &SchedulerKind,
    dims: &Dimensions,
) -> Vec<PlannedRun> {
    let mut by_point: Vec<Vec<PlannedRun>> = Vec::new();
    for (seed, points) in baselines {
        for point in points {
            let runs: Vec<PlannedRun> = dims
                .injections_at(point)
                .into_iter()
                .map(|injection| PlannedRun {
                    repro: Repro {
                        seed: *seed,
                        scheduler: scheduler.clone(),
                        injections: vec![injection],
                        test: None,
                    },
                    point: Some((*seed, point.task, point.ordinal)),
                })
                .collect();
            if !runs.is_empty() {
                by_point.push(runs);
            }
        }
    }
    round_robin(by_point)
}

fn round_robin(groups: Vec<Vec<PlannedRun>>) -> Vec<PlannedRun> {
    let mut out = Vec::new();
    let mut iters: Vec<_> = groups.into_iter().map(Vec::into_iter).collect();
    loop {
        let mut any = false;
        for iter in &mut iters {
            if let Some(run) = iter.next() {
                out.push(run);
                any = true;
            }
        }
        if !any {
            return out;
        }
    }
}

/// `count` seeded random plans of 2 or 3 injections each, drawn from the
/// candidate injections of the baselines.
pub(crate) fn random_plans(
    baselines: &[(u64, Vec<AwaitPoint>)],
    scheduler: &SchedulerKind,
    dims: &Dimensions,
    count: usize,
) -> Vec<PlannedRun> {
    let candidates: Vec<(u64, Vec<Injection>)> = baselines
        .iter()
        .map(|(seed, points)| {
            (
                *seed,
                points.iter().flat_map(|p| dims.injections_at(p)).collect(),
            )
        })
        .filter(|(_, injections): &(u64, Vec<Injection>)| !injections.is_empty())
        .collect();
    if candidates.is_empty() {
        return Vec::new();
    }
    let mut rng = SimRng::new(0x5eed_0f9a_75c4);
    (0..count)
        .map(|_| {
            let (seed, pool) = &candidates[rng.below(candidates.len() as u64) as usize];
            let size = 2 + rng.below(2) as usize;
            let mut picked: BTreeMap<(TaskId, u32), Injection> = BTreeMap::new();
            for _ in 0..size {
                let injection = pool[rng.below(pool.len() as u64) as usize];
                picked
                    .entry((injection.task, injection.point))
                    .or_insert(injection);
            }
            PlannedRun {
                repro: Repro {
                    seed: *seed,
                    scheduler: scheduler.clone(),
                    injections: picked.into_values().collect(),
                    test: None,
                },
                point: None,
            }
        })
        .collect()
}

/// Keeps the first `max` runs (the sweep is already ordered so that a prefix
/// covers every await point before repeating one), then the `k`-th of `n`
/// shards.
pub(crate) fn select(
    runs: Vec<PlannedRun>,
    max: Option<usize>,
    shard: Option<(usize, usize)>,
) -> Vec<(usize, PlannedRun)> {
    let max = max.unwrap_or(usize::MAX);
    runs.into_iter()
        .take(max)
        .enumerate()
        .filter(|(index, _)| match shard {
            Some((k, n)) => index % n == k,
            None => true,
        })
        .collect()
}
