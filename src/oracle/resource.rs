//! `leaked-resource`: a tracked resource still held when the run ends.

use crate::vocab::EndState;
use crate::vocab::{Violation, ViolationCode};

/// One violation per resource still held, in the order acquired.
pub(crate) fn check(state: &EndState) -> Vec<Violation> {
    let mut violations = Vec::new();
    for held in &state.resources {
        let holder = match (held.holder, &held.holder_name) {
            (Some(task), Some(name)) => format!("{name}{task}"),
            (Some(task), None) => format!("{task}"),
            (None, _) => "the harness".to_string(),
        };
        let mut violation = Violation::new(
            ViolationCode::LeakedResource,
            format!(
                "resource `{}` acquired by {holder} is still held when the run ended",
                held.name
            ),
        )
        .located(held.at);
        if let Some(task) = held.holder {
            // Where the holder was cancelled, if an injection hit it;
            // else where it acquired the resource.
            let point = state
                .first_injection
                .filter(|injection| injection.task == task)
                .map_or(held.point, |injection| injection.point);
            violation = violation
                .task(task, held.holder_name.as_deref())
                .at_point(point, None);
        }
        violations.push(violation);
    }
    violations
}
