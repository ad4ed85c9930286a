//! What a program's abort followed from (baseline runs only).
//!
//! A task the program aborts while it runs may, in a real run, be aborted
//! at any of its await points — unless the abort followed from something
//! the task did: then it cannot come before that. Two links count, the
//! latest of each:
//!
//! * the task woke the aborter (a value it sent, a beat): the abort comes
//!   at the task's await points after that wake;
//! * the task was polled while the aborter's wake was pending (woken by a
//!   task, not yet polled): the aborter's poll could observe what that
//!   poll did (two workers send at the same instant: only the first send
//!   wakes the receiver, the second finds its waker consumed, yet the
//!   receiver's poll reads both), so the abort comes at the task's await
//!   points from the one it reached in its first poll of that wait.
//!
//! A task that ran while the aborter slept or waited for something else,
//! not while it was woken, has no link: its abort may come at any of its
//! await points. A timer's wake opens no wait (the timer decides the
//! abort: see [`World::mark_abortable`]), nor does a task's wake of itself.

use std::collections::BTreeMap;

use crate::vocab::{TaskId, TaskKey};

use super::World;

/// The links of a baseline run.
#[derive(Default)]
pub(super) struct Causal {
    /// (waker, woken) → the waker's await point count when it last woke
    /// the other task.
    woke: BTreeMap<(TaskId, TaskId), u32>,
    /// Task → the first step whose polls its pending wake can observe (the
    /// step that woke it, or the next when no poll did).
    woken_at: BTreeMap<TaskId, u64>,
    /// Task → the steps `[from, to)` its past pending wakes spanned, in order.
    waits: BTreeMap<TaskId, Vec<(u64, u64)>>,
    /// Task → (step, ordinal) of each await point it reached, in order.
    points: BTreeMap<TaskId, Vec<(u64, u32)>>,
}

impl Causal {
    /// The await point `task` reached in its first poll during the latest
    /// of `aborter`'s pending wakes it was polled in.
    fn polled_while_woken(&self, task: TaskId, aborter: TaskId) -> Option<u32> {
        let waits = self.waits.get(&aborter)?;
        let points = self.points.get(&task)?;
        let (from, _) = points.iter().rev().find_map(|&(step, _)| {
            let after = waits.partition_point(|&(from, _)| from <= step);
            let (from, to) = *waits.get(after.checked_sub(1)?)?;
            (step < to).then_some((from, to))
        })?;
        let first = points.partition_point(|&(step, _)| step < from);
        points.get(first).map(|&(_, ordinal)| ordinal)
    }
}

impl World {
    /// Notes that the current task (or a timer, or code outside any task)
    /// woke `key`, queueing it (collecting only).
    #[cold]
    pub(super) fn note_woke(&self, key: TaskKey) {
        let by_timer = self.timer_waking.get();
        if let Ok(mut timer_woken) = self.timer_woken.try_borrow_mut() {
            if by_timer {
                timer_woken.insert(key.id);
            } else {
                timer_woken.remove(&key.id);
            }
        }
        let current = self.current.get();
        if current == Some(key) {
            return;
        }
        let Ok(mut causal) = self.causal.try_borrow_mut() else {
            return;
        };
        if by_timer {
            causal.woken_at.remove(&key.id);
        } else {
            // The waking poll itself counts (it may act after the wake); a
            // wake between polls starts with the next.
            let step = self.steps() + u64::from(current.is_none());
            causal.woken_at.insert(key.id, step);
        }
        let Some(current) = current else {
            return;
        };
        let Ok(core) = self.core.try_borrow() else {
            return;
        };
        let Some(suspends) = core.tasks.get(current).map(|slot| slot.meta.suspends) else {
            return;
        };
        drop(core);
        causal.woke.insert((current.id, key.id), suspends);
    }

    /// Task `key` is about to be polled (collecting only): its pending
    /// wake, if any, ends here.
    pub(super) fn note_polling(&self, key: TaskKey) {
        if let Ok(mut causal) = self.causal.try_borrow_mut() {
            if let Some(from) = causal.woken_at.remove(&key.id) {
                // This poll is the next step.
                let to = self.steps() + 1;
                causal.waits.entry(key.id).or_default().push((from, to));
            }
        }
    }

    /// Notes that `task` reached its await point `ordinal` (one logged).
    pub(super) fn note_point(&self, task: TaskId, ordinal: u32) {
        if let Ok(mut causal) = self.causal.try_borrow_mut() {
            let step = self.steps();
            causal.points.entry(task).or_default().push((step, ordinal));
        }
    }

    /// The first of `task`'s await points an abort `aborter` makes now
    /// (during its poll) could have come at: after the latest wake of
    /// `aborter` by `task`, and from the point `task` first reached in
    /// the latest of `aborter`'s pending wakes it was polled in; 0 with
    /// neither.
    pub(super) fn abort_follows(&self, task: TaskId, aborter: TaskId) -> u32 {
        let causal = self.causal.borrow();
        let woke = causal
            .woke
            .get(&(task, aborter))
            .map_or(0, |suspends| suspends + 1);
        let polled = causal.polled_while_woken(task, aborter).unwrap_or(0);
        woke.max(polled)
    }

    /// Forgets the links of a finished baseline.
    pub(super) fn clear_causal(&self) {
        *self.causal.borrow_mut() = Causal::default();
        self.timer_woken.borrow_mut().clear();
    }
}
