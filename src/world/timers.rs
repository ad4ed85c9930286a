//! Timers in virtual time: arming and removing them, firing the due ones in
//! the scheduler's order, and races between same-instant deadlines.

use std::num::NonZeroU32;
use std::task::Waker;

use super::task_table::PREFETCH_FROM_TASKS;
use super::waker;
use super::{Target, TimerKey};
use crate::error::SimError;
use crate::vocab::Instant;

use super::World;

impl World {
    /// Fires every timer due by now, earliest first; the scheduler orders
    /// timers due at the same instant.
    pub(super) fn fire_due_timers(&self) -> Result<(), SimError> {
        let now = self.now.get();
        loop {
            let (first, alone) = {
                let mut core = self.core.borrow_mut();
                match core.timers.next_deadline() {
                    Some(deadline) if deadline <= now => {
                        let mut rest = self.due_targets.borrow_mut();
                        let first = core.timers.take_due_at(deadline, &mut rest);
                        (first, rest.is_empty())
                    }
                    next => {
                        self.earliest_timer.set(next.unwrap_or(u64::MAX));
                        return Ok(());
                    }
                }
            };
            let Some(first) = first else { continue };
            if alone {
                // The only timer of its instant: nothing to order.
                self.timer_waking.set(true);
                self.wake_target(first);
                self.timer_waking.set(false);
                continue;
            }
            // Taken out while the wakes run (a waker may arm timers).
            let mut targets = std::mem::take(&mut *self.due_targets.borrow_mut());
            targets.insert(0, first);
            let core = self.core.borrow();
            if core.tasks.len() >= PREFETCH_FROM_TASKS {
                // Hinted together (docs/performance.md, "Prefetching").
                for target in &targets {
                    if let Target::Task(key) = target {
                        core.tasks.prefetch_slot(*key);
                    }
                }
            }
            drop(core);
            // Timers due at the same instant: the scheduler orders them.
            let mut index = 0;
            while targets.len() - index > 1 {
                let options = targets.len() - index;
                let chosen = match self.decider.next_timer(options) {
                    Ok(chosen) => chosen,
                    Err(divergence) => {
                        targets.clear();
                        *self.due_targets.borrow_mut() = targets;
                        return Err(self.diverged(divergence));
                    }
                };
                if chosen > 0 {
                    // The picked timer goes first, the others keep their
                    // order (a remove and an insert moved the whole tail
                    // twice, even for the natural order).
                    targets[index..=index + chosen].rotate_right(1);
                }
                index += 1;
            }
            self.timer_waking.set(true);
            for target in targets.drain(..) {
                self.wake_target(target);
            }
            self.timer_waking.set(false);
            *self.due_targets.borrow_mut() = targets;
        }
    }

    /// Two things fell due at the same instant (a timeout and what it guards):
    /// the scheduler picks which happens first; 0 is the natural order.
    pub fn choose_race(&self, options: usize) -> usize {
        self.decider.race(options, self.steps())
    }

    // ----- timers ---------------------------------------------------------------

    /// Arms a timer for `waker` (or for the polling task, when it is that
    /// task's own waker) and writes its key's parts (see
    /// [`TimerKey::parts`]) to `seq` and `place`.
    pub fn insert_timer(
        &self,
        deadline: Instant,
        waker: &Waker,
        seq: &mut u64,
        place: &mut Option<NonZeroU32>,
    ) {
        if deadline.0 < self.earliest_timer.get() {
            self.earliest_timer.set(deadline.0);
        }
        let target = match self.own_task(waker) {
            Some(key) => Target::Task(key),
            None => Target::Waker(waker.clone()),
        };
        let key = self.core.borrow_mut().timers.insert(deadline.0, target);
        let (key_seq, key_place) = key.parts();
        *seq = key_seq;
        *place = Some(key_place);
    }

    /// Has the timer `key`, due at `deadline`, fired? While armed, it now
    /// wakes `waker` (or the polling task, when it is that task's own).
    #[inline(always)]
    pub fn poll_timer(&self, key: TimerKey, deadline: Instant, waker: &Waker) -> bool {
        if deadline.0 < self.earliest_timer.get() {
            // No armed timer is due before `earliest_timer`: this one is
            // not armed any more, so it fired (no look-up needed).
            return true;
        }
        let own = self.own_task(waker);
        self.core.borrow_mut().timers.poll(key, waker, own)
    }

    /// Wakes whom a fired timer names (a task's future is hinted into the
    /// cache: it runs after the instant's other wakes).
    pub(super) fn wake_target(&self, target: Target) {
        match target {
            Target::Task(key) => {
                if !self.enqueue_hinted(key, true) {
                    waker::remote_push(self.id, key);
                }
            }
            Target::Waker(waker) => waker.wake(),
        }
    }

    pub fn remove_timer(&self, key: TimerKey) {
        if let Ok(mut core) = self.core.try_borrow_mut() {
            core.timers.remove(key);
        }
    }
}
