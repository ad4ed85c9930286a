//! The determinism check's verdict on a baseline's two runs, once both
//! ended: the difference the wrapper scheduler stopped the second run at
//! ([`DeterminismCheck`](crate::schedule::DeterminismCheck)), or, when
//! every question agreed, what else differs (violations, steps, end time).

use super::run::RunResult;
use crate::oracle::{Violation, ViolationCode};
use crate::vocab::violation_hint::{PARTED, SAME_SCHEDULE};

/// The `nondeterminism` violation of a baseline whose second run differs
/// from its first, naming what differs; `None` when nothing does.
pub(super) fn difference(first: &RunResult, second: &RunResult) -> Option<Violation> {
    let (outcome, first) = (first, &first.violations[..]);
    // The check stopped the second run where its questions parted.
    if let Some(parted) = second.violations.iter().find(|violation| {
        violation.kind() == ViolationCode::Nondeterminism && !first.contains(violation)
    }) {
        let message = parted.message();
        let message = message.strip_prefix("nondeterminism ").unwrap_or(message);
        return Some(Violation::new(
            ViolationCode::Nondeterminism,
            format!("{PARTED} {message}"),
        ));
    }
    let same_schedule = outcome.schedule == second.schedule;
    let mut differs = Vec::new();
    if !same_schedule {
        // A run that stopped early (a deadlock, a step limit) is not asked
        // whether it took every recorded decision: compare the lists.
        let taken = second.schedule.decisions();
        let parted_at = outcome
            .schedule
            .decisions()
            .iter()
            .zip(&taken)
            .position(|(a, b)| a != b)
            .unwrap_or(outcome.schedule.len().min(taken.len()));
        differs.push(format!(
            "the first run took {} decisions, this run {}, parting at decision {parted_at}",
            outcome.schedule.len(),
            taken.len()
        ));
    }
    if outcome.steps != second.steps {
        differs.push(format!(
            "the first run took {} steps, this run {}",
            outcome.steps, second.steps
        ));
    }
    if outcome.end_time != second.end_time {
        differs.push(format!(
            "the first run ended at {}, this run at {}",
            outcome.end_time, second.end_time
        ));
    }
    let only = |of: &[Violation], not_in: &[Violation]| -> Vec<String> {
        of.iter()
            .filter(|violation| !not_in.contains(violation))
            .map(|violation| format!("`{}: {}`", violation.code(), violation.message()))
            .collect()
    };
    let only_first = only(first, &second.violations);
    let only_second = only(&second.violations, first);
    if !only_first.is_empty() {
        differs.push(format!("only the first run had {}", only_first.join(", ")));
    }
    if !only_second.is_empty() {
        differs.push(format!("only this run had {}", only_second.join(", ")));
    }
    if differs.is_empty() {
        return None;
    }
    // Only the violations differ: the runs did the same thing and judged
    // it differently, so state outlived the first run.
    let lead =
        if same_schedule && outcome.steps == second.steps && outcome.end_time == second.end_time {
            let decisions = match outcome.schedule.len() {
                1 => "1 decision".to_string(),
                n => format!("{n} decisions"),
            };
            format!(
                "{SAME_SCHEDULE} ({decisions}, {} steps, ending at {}), not the same violations",
                outcome.steps, outcome.end_time
            )
        } else {
            PARTED.to_string()
        };
    Some(Violation::new(
        ViolationCode::Nondeterminism,
        format!("{lead}: {}", differs.join("; ")),
    ))
}
