//! `leaked-task`: a task that was not detached still alive when the root
//! ends; detached work (detached tasks, shielded and blocking work) still
//! alive when the drain is over.

use crate::vocab::{display_location, EndState, LiveTask, Moment, TaskKind};
use crate::vocab::{Violation, ViolationCode};

/// The leaks of `state`: at the root's end, the live tasks that were not
/// detached; after the drain, the detached ones (the others were reported
/// at the root's end).
pub(crate) fn check(state: &EndState) -> Vec<Violation> {
    let (leaked, what): (fn(&LiveTask) -> bool, &str) = match state.moment {
        Moment::RootEnded => (
            |task| task.kind == TaskKind::User && !task.detached,
            "is still alive when the root finished",
        ),
        Moment::Drained => (
            |task| task.detached,
            "is detached work still running after the drain budget",
        ),
    };
    state
        .tasks
        .iter()
        .filter(|task| leaked(task))
        .map(|task| leak(task, what))
        .collect()
}

fn leak(task: &LiveTask, what: &str) -> Violation {
    let label = match &task.name {
        Some(name) => format!("{name}{}", task.id),
        None => format!("{}", task.id),
    };
    Violation::new(
        ViolationCode::LeakedTask,
        format!(
            "task {label} {what} (spawned by {} at {})",
            task.spawner,
            display_location(task.spawned_at)
        ),
    )
    .task(task.id, task.name.as_deref())
    .at_point(task.point, Some(task.wait))
    .located(task.spawned_at)
}
