//! How the determinism check sees the run it is part of: the current
//! world's step, time and task labels (see `schedule::DeterminismCheck`).

use crate::schedule::RunView;
use crate::vocab::{display_location, Instant, TaskKey, TaskKind};

/// The world current on this thread, read when asked.
#[derive(Debug)]
pub(super) struct CurrentRun;

impl RunView for CurrentRun {
    fn position(&self) -> (u64, Instant) {
        super::try_with(|world| (world.steps(), world.now())).unwrap_or((0, Instant(0)))
    }

    fn task_label(&self, task: TaskKey) -> String {
        let known = super::try_with(|world| {
            let core = world.core.try_borrow().ok()?;
            let slot = core.tasks.get(task)?;
            let name = match (&slot.meta.name, slot.meta.kind) {
                (Some(name), _) => Some(name.to_string()),
                (None, TaskKind::Root) => Some("main".to_string()),
                (None, _) => None,
            };
            Some(match name {
                Some(name) => format!(
                    "{} {name} ({})",
                    task.id,
                    display_location(slot.meta.spawned_at)
                ),
                None => format!("{} ({})", task.id, display_location(slot.meta.spawned_at)),
            })
        });
        known.flatten().unwrap_or_else(|| task.id.to_string())
    }
}
