//! The world's side of [`OutsideTimers`]:
//! the one installed in a run, asked when the world is idle, before its
//! clock moves, and told of the wakes that end its wait.

use std::task::Waker;

use super::World;
use crate::vocab::TaskKey;
use crate::vocab::{Idle, OutsideTimers};

/// The outside timers of a run, and the state of an `idle` call.
#[derive(Default)]
pub(crate) struct Outside {
    timers: Option<Box<dyn OutsideTimers>>,
    /// Woken when a simulated task is, during an `idle` call.
    waker: Option<Waker>,
    /// The tasks woken during an `idle` call, noted after it.
    woken: Vec<TaskKey>,
}

impl World {
    /// Installs `timers` (what `outside::install` does).
    pub(crate) fn install_outside(&self, timers: Box<dyn OutsideTimers>) -> bool {
        if self.has_outside.get() {
            return false;
        }
        self.outside.borrow_mut().timers = Some(timers);
        self.has_outside.set(true);
        true
    }

    pub(crate) fn has_outside(&self) -> bool {
        self.has_outside.get()
    }

    /// Asks the outside timers to run up to `until` (nanoseconds; `None`:
    /// the world has no timer). When one of them woke a task, moves the
    /// clock to that instant, notes the wakes there, and returns true.
    #[cold]
    pub(super) fn run_outside(&self, until: Option<u64>) -> bool {
        let now = self.now.get();
        let Some(mut timers) = self.outside.borrow_mut().timers.take() else {
            return false;
        };
        self.outside_waiting.set(true);
        self.rewatch_wakes();
        self.outside_woke.set(false);
        let woken = || self.outside_woke.get();
        let wake_on_wake = |waker: &Waker| self.outside_wake_on_wake(waker);
        let idle = Idle {
            now,
            until,
            woken: &woken,
            wake_on_wake: &wake_on_wake,
        };
        // Caught: a panic here is the outside runtime's (or the user code
        // it polled), and the world must not stay waiting.
        let at = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| timers.idle(&idle)));
        self.outside_waiting.set(false);
        self.rewatch_wakes();
        let woken = {
            let mut outside = self.outside.borrow_mut();
            outside.timers = Some(timers);
            // A waker registered and not woken: its wait is over.
            outside.waker = None;
            std::mem::take(&mut outside.woken)
        };
        let at = match at {
            Ok(at) => at,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        if !self.outside_woke.get() {
            return false;
        }
        // The instant said, within the idle span (a task woken without
        // one was woken now).
        let at = at.map_or(now, |at| crate::vocab::nanos(at).max(now));
        let at = until.map_or(at, |until| at.min(until));
        self.flush_unrecorded();
        self.now.set(at);
        for key in woken {
            if self.collecting.get() {
                self.note_woke(key);
            }
            self.record_wake(key.id, crate::trace::WakeCause::Outside);
        }
        true
    }

    /// Registers the waker woken when a simulated task is (see
    /// [`Idle::wake_on_wake`]).
    fn outside_wake_on_wake(&self, waker: &Waker) {
        if let Ok(mut outside) = self.outside.try_borrow_mut() {
            match &mut outside.waker {
                Some(kept) if kept.will_wake(waker) => {}
                slot => *slot = Some(waker.clone()),
            }
        }
    }

    /// Task `key` was queued while the outside timers run: ends their
    /// wait.
    #[cold]
    pub(super) fn woke_while_outside(&self, key: TaskKey) {
        self.outside_woke.set(true);
        let waker = self.outside.try_borrow_mut().ok().and_then(|mut outside| {
            outside.woken.push(key);
            outside.waker.take()
        });
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Drops the outside timers (after the run's tasks: their futures may
    /// hold the outside runtime's timers).
    pub(super) fn drop_outside(&self) {
        self.has_outside.set(false);
        let outside = std::mem::take(&mut *self.outside.borrow_mut());
        drop(outside);
    }
}
