//! Timers in virtual time: arming and removing them, firing the due ones in
//! the scheduler's order, and races between same-instant deadlines.

use std::task::Waker;

use crate::error::SimError;
use crate::schedule::Decision;
use crate::time::timers::TimerKey;
use crate::time::Instant;

use super::World;

impl World {
    /// Fires every timer due by now, earliest first; the scheduler orders
    /// timers due at the same instant.
    pub(super) fn fire_due_timers(&self) -> Result<(), SimError> {
        let now = self.now.get();
        let mut wakers = std::mem::take(&mut *self.due_wakers.borrow_mut());
        let result = loop {
            {
                let mut core = self.core.borrow_mut();
                match core.timers.next_deadline() {
                    Some(deadline) if deadline <= now => {
                        core.timers.take_due_at(deadline, &mut wakers)
                    }
                    next => {
                        self.earliest_timer.set(next.unwrap_or(u64::MAX));
                        break Ok(());
                    }
                }
            }
            // Timers due at the same instant: the scheduler orders them.
            let mut index = 0;
            while wakers.len() - index > 1 {
                let options = wakers.len() - index;
                let answer = self.scheduler.borrow_mut().next_timer(options);
                let chosen = match self.checked_choice(answer, options) {
                    Ok(chosen) => chosen,
                    Err(divergence) => {
                        wakers.clear();
                        *self.due_wakers.borrow_mut() = wakers;
                        return Err(self.diverged(divergence));
                    }
                };
                self.schedule.borrow_mut().push(Decision::Timer {
                    options: options as u32,
                    chosen: chosen as u32,
                });
                let picked = wakers.remove(index + chosen);
                wakers.insert(index, picked);
                index += 1;
            }
            self.timer_waking.set(true);
            for waker in wakers.drain(..) {
                waker.wake();
            }
            self.timer_waking.set(false);
        };
        *self.due_wakers.borrow_mut() = wakers;
        result
    }

    /// Two things fell due at the same instant (a timeout and what it guards):
    /// the scheduler picks which happens first; 0 is the natural order.
    pub fn choose_race(&self, options: usize) -> usize {
        let answer = self.scheduler.borrow_mut().next_timer(options);
        match self.checked_choice(answer, options) {
            Ok(index) => {
                self.schedule.borrow_mut().push(Decision::Timer {
                    options: options as u32,
                    chosen: index as u32,
                });
                index
            }
            Err(divergence) => {
                self.note_divergence(divergence);
                0
            }
        }
    }

    // ----- timers ---------------------------------------------------------------

    pub fn insert_timer(&self, deadline: Instant, waker: &Waker) -> TimerKey {
        if deadline.0 < self.earliest_timer.get() {
            self.earliest_timer.set(deadline.0);
        }
        self.core
            .borrow_mut()
            .timers
            .insert(deadline.0, waker.clone())
    }

    pub fn poll_timer(&self, key: TimerKey, waker: &Waker) -> bool {
        self.core.borrow_mut().timers.poll(key, waker)
    }

    pub fn remove_timer(&self, key: TimerKey) {
        if let Ok(mut core) = self.core.try_borrow_mut() {
            core.timers.remove(key);
        }
    }
}
