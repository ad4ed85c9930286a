//! `unobserved-panic` (a task panicked and nobody awaited its
//! `JoinHandle`) and `panic` (an awaited task panicked in an injected
//! run, when it does not in the plan's baseline).

use crate::vocab::EndState;
use crate::vocab::{Violation, ViolationCode};

/// The panics of `state` worth reporting, in task order. The baseline
/// judges the panics it has itself; an injected run reports only the
/// panics it caused.
pub(crate) fn check(state: &EndState) -> Vec<Violation> {
    let injected = state.first_injection.is_some();
    let mut violations = Vec::new();
    for (task, panicked) in &state.panics {
        let expected = state.baseline_panics.contains(task);
        let (code, text) = if (injected && expected) || (panicked.observed && panicked.blocking) {
            // Blocking work's awaiter resumes its panic: the awaiter's is
            // the one judged.
            continue;
        } else if !panicked.observed {
            (
                ViolationCode::UnobservedPanic,
                "panicked and nobody awaited its JoinHandle",
            )
        } else if injected {
            (
                ViolationCode::Panic,
                "panicked in an injected run (it does not in the baseline)",
            )
        } else {
            continue;
        };
        violations.push(
            Violation::new(code, format!("{text}: {}", panicked.message))
                .task(*task, panicked.name.as_deref())
                .at_point(panicked.point, None),
        );
    }
    violations
}
