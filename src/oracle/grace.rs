//! `cancel-ignored` at the end of a run: a cancel request (or the
//! program's cancellation signal) still outstanding after the drain, past
//! its grace budget. While the run goes, the same budget is checked as
//! each poll ends (the injector's hook, `World::on_poll_end`); this is
//! what is left once polls cannot grow any more: only the elapsed time
//! decides, and a request younger than its grace time is part of a leak,
//! which the leak oracle reports.
//!
//! Once per deaf task: a task that only waits for one that ignored its
//! request (joins it, or waits on something else while one of its
//! children ignores it) is excused, and counts as ignoring for its own
//! waiters.

use crate::vocab::{EndState, Instant, Moment, WaitKind};
use crate::vocab::{Violation, ViolationCode};

/// The outstanding requests of the tasks alive after the drain that are
/// past their grace budget, in task order.
pub(crate) fn check(state: &EndState) -> Vec<Violation> {
    if state.moment != Moment::Drained {
        return Vec::new();
    }
    let mut ignoring = state.ignoring.clone();
    let mut ignoring_parents = state.ignoring_parents.clone();
    let mut violations = Vec::new();
    for task in &state.tasks {
        let Some(request) = task.cancel.as_ref().filter(|r| r.pending && !r.reported) else {
            continue;
        };
        let excused = match task.wait.kind {
            WaitKind::Join(joined) => ignoring.contains(&joined),
            WaitKind::External | WaitKind::Io(_) | WaitKind::SelectBranch(_) => {
                ignoring_parents.contains(&task.id)
            }
            _ => false,
        };
        let over_polls = request.polls > state.grace_polls;
        let over_time = state.now.saturating_sub(request.since) > state.grace_nanos;
        if !(excused || over_polls || over_time) {
            continue;
        }
        ignoring.insert(task.id);
        ignoring_parents.extend(task.parent);
        if excused {
            continue;
        }
        let budget = if over_polls {
            format!("{} polls", state.grace_polls)
        } else {
            format!("{} of virtual time", Instant(state.grace_nanos))
        };
        let what = if request.signalled {
            "the cancellation signal fired at"
        } else {
            "cancel requested at"
        };
        violations.push(
            Violation::new(
                ViolationCode::CancelIgnored,
                format!(
                    "{what} {} still not honoured after {budget} (task still running)",
                    Instant(request.since)
                ),
            )
            .task(task.id, task.name.as_deref())
            .at_point(task.point, Some(task.wait)),
        );
    }
    violations
}
