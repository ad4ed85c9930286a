//! The explored schedules a sweep also expires timeouts in: beside the
//! seeds' baselines, the schedules whose own timing reached new waits, then
//! others, whose order after an expiry differs.

use super::plan::Baseline;
use super::Repro;
use crate::inject::AwaitPoint;

/// The explored schedules whose expiries the sweep also injects, from
/// the clean explored baselines' await points (in plan order): at most
/// [`EXPLORED_EXPIRY_SCHEDULES`] with a `timeout` or a `select!` against a
/// timer to expire, first those reaching a sequence of waits no seed's
/// baseline and no schedule picked before reached (what the schedule's own
/// timing added: an I/O chunk that came late leaves a `read_line` waiting
/// mid-line, where a timer's win loses the half read), then the first
/// others (their order after an expiry differs).
pub(super) fn explored_for_expiries(
    seeds: &[Baseline],
    mut explored: Vec<(usize, Repro, Vec<AwaitPoint>)>,
) -> Vec<Baseline> {
    explored.sort_by_key(|(index, _, _)| *index);
    let shape = |points: &[AwaitPoint]| -> Vec<_> {
        points
            .iter()
            .map(|p| (p.task, p.wait, p.timeout.map(|(_, at)| at)))
            .collect()
    };
    let mut seen: Vec<Vec<_>> = seeds.iter().map(|b| shape(&b.points)).collect();
    let mut picked = Vec::new();
    let mut same_shape = Vec::new();
    for (_, repro, points) in explored {
        if picked.len() == EXPLORED_EXPIRY_SCHEDULES {
            break;
        }
        if points.iter().all(|p| p.timeout.is_none() || !p.injectable) {
            continue;
        }
        let this = shape(&points);
        let baseline = Baseline {
            seed: repro.seed,
            points,
            explored: Some(repro.scheduler),
        };
        if seen.contains(&this) {
            same_shape.push(baseline);
            continue;
        }
        seen.push(this);
        picked.push(baseline);
    }
    // Too few new sequences of waits: schedules that reached the seeds'
    // own still order what comes after an expiry their own way — the
    // branches of the next `select!` (a hedged read's backup polled before
    // the slow primary it races), the tasks the expiry woke.
    let room = EXPLORED_EXPIRY_SCHEDULES - picked.len();
    picked.extend(same_shape.into_iter().take(room));
    picked
}

/// How many explored schedules a sweep also expires timeouts in.
const EXPLORED_EXPIRY_SCHEDULES: usize = 2;
