//! The decider: the one place that asks the scheduler, checks its answer,
//! records the decision and keeps a divergence for the run to report.
//!
//! Invariants:
//! * Every choice with more than one option (which ready task runs, which
//!   of the timers due at one instant fires first, a timeout's race, a
//!   `choose`, a random number) is answered here, and appended to the
//!   schedule in the order it was made; so is the end of every root.
//! * An answer out of range is a divergence, like the scheduler's own (a
//!   replay whose recording disagrees). Where the caller can stop the run
//!   (a task or timer choice of the executor) the divergence is returned
//!   and nothing is recorded; inside user code, which has no error channel,
//!   it is noted here, reported by the executor's next pick, and the answer
//!   is 0.
//! * The built-in `Fifo` answers 0 to every task and timer choice: those
//!   answers are taken without the dynamic call (and recorded like any
//!   other), which keeps the executor's common step short.

use std::cell::{Cell, RefCell, RefMut};

use crate::schedule::{Decision, Divergence, ReadyQueue, ReadyTasks, Schedule, Scheduler};

/// Asks, checks, records; see the module docs.
pub(crate) struct Decider {
    scheduler: RefCell<Box<dyn Scheduler>>,
    /// The scheduler is the built-in `Fifo`: task and timer answers are 0.
    answers_first: bool,
    schedule: RefCell<Schedule>,
    /// A divergence met inside user code, and the step it was met at.
    divergence: RefCell<Option<(u64, Divergence)>>,
    /// `divergence` is set (one load on the executor's common step).
    diverged: Cell<bool>,
}

impl Decider {
    /// `answers_first`: `scheduler` is the built-in `Fifo`. `schedule` is
    /// an empty container to record into.
    pub fn new(scheduler: Box<dyn Scheduler>, answers_first: bool, schedule: Schedule) -> Self {
        Decider {
            scheduler: RefCell::new(scheduler),
            answers_first,
            schedule: RefCell::new(schedule),
            divergence: RefCell::new(None),
            diverged: Cell::new(false),
        }
    }

    /// Which task of `ready` (more than one) runs next: its index.
    #[inline(always)]
    pub fn next_task(&self, ready: &ReadyQueue) -> Result<usize, Divergence> {
        let options = ready.len();
        let index = if self.answers_first {
            0
        } else {
            let answer = self
                .scheduler
                .borrow_mut()
                .next_task(ReadyTasks::new(ready));
            // The in-range answer is matched here, field by field (see
            // docs/performance.md, "Matching the answer in place").
            match answer {
                Ok(index) if index < options => index,
                other => self.checked(other, options)?,
            }
        };
        self.schedule.borrow_mut().push(Decision::Task {
            options: options as u32,
            chosen: index as u32,
        });
        Ok(index)
    }

    /// Which of `options` (more than one) timers due at the same instant
    /// fires first: its index in registration order.
    #[inline(always)]
    pub fn next_timer(&self, options: usize) -> Result<usize, Divergence> {
        if self.answers_first {
            self.schedule.borrow_mut().push(Decision::Timer {
                options: options as u32,
                chosen: 0,
            });
            return Ok(0);
        }
        self.ask_timer(options)
    }

    /// [`Decider::next_timer`] of a scheduler that is asked.
    #[inline(never)]
    fn ask_timer(&self, options: usize) -> Result<usize, Divergence> {
        let answer = self.scheduler.borrow_mut().next_timer(options);
        let index = self.checked(answer, options)?;
        self.schedule.borrow_mut().push(Decision::Timer {
            options: options as u32,
            chosen: index as u32,
        });
        Ok(index)
    }

    /// Two things fell due at the same instant inside a poll (a timeout and
    /// what it guards): which happens first, 0 being the natural order. A
    /// divergence is noted at `step` (nothing recorded) and the answer is 0.
    pub fn race(&self, options: usize, step: u64) -> usize {
        self.next_timer(options).unwrap_or_else(|divergence| {
            self.note(step, divergence);
            0
        })
    }

    /// A choice of the code under test among `options` (more than one)
    /// alternatives. A divergence is noted at `step`, and 0 recorded.
    pub fn choice(&self, options: u32, step: u64) -> u32 {
        let answer = self.scheduler.borrow_mut().next_choice(options);
        let chosen = match answer {
            Ok(chosen) if chosen < options => chosen,
            other => {
                let other = other.map(|chosen| chosen as usize);
                if let Err(divergence) = self.checked(other, options as usize) {
                    self.note(step, divergence);
                }
                0
            }
        };
        self.schedule
            .borrow_mut()
            .push(Decision::Choice { options, chosen });
        chosen
    }

    /// A random number for the code under test. A divergence is noted at
    /// `step`, and 0 recorded.
    pub fn random(&self, step: u64) -> u64 {
        let answer = self.scheduler.borrow_mut().next_u64();
        let value = answer.unwrap_or_else(|divergence| {
            self.note(step, divergence);
            0
        });
        self.schedule.borrow_mut().push(Decision::Random(value));
        value
    }

    /// The root future ended at `step`: marks it in the schedule, and asks
    /// the scheduler whether its recording agrees (a replay with decisions
    /// left for this root diverges here; noted).
    pub fn root_finished(&self, step: u64) {
        self.schedule.borrow_mut().push_root_end();
        let answer = self.scheduler.borrow_mut().root_finished();
        if let Err(divergence) = answer {
            self.note(step, divergence);
        }
    }

    /// The run is over: the scheduler's last word (a replay's recorded
    /// decisions never taken are a divergence).
    pub fn run_finished(&self) -> Result<(), Divergence> {
        self.scheduler.borrow_mut().run_finished()
    }

    /// `answer` to a choice among `options`; an index out of range is a
    /// divergence too.
    #[cold]
    fn checked(
        &self,
        answer: Result<usize, Divergence>,
        options: usize,
    ) -> Result<usize, Divergence> {
        match answer {
            Ok(index) if index < options => Ok(index),
            Ok(index) => Err(Divergence::new(
                self.schedule.borrow().len(),
                format!("an index below {options}"),
                format!("the scheduler's answer {index}"),
            )),
            Err(divergence) => Err(divergence),
        }
    }

    /// Notes a divergence met at `step` where it could not be returned (the
    /// first one is kept).
    pub fn note(&self, step: u64, divergence: Divergence) {
        self.divergence
            .borrow_mut()
            .get_or_insert((step, divergence));
        self.diverged.set(true);
    }

    /// A divergence is noted and not yet taken.
    #[inline(always)]
    pub fn has_diverged(&self) -> bool {
        self.diverged.get()
    }

    /// The noted divergence and its step, if any (taken).
    pub fn take_divergence(&self) -> Option<(u64, Divergence)> {
        self.diverged.set(false);
        self.divergence.borrow_mut().take()
    }

    /// The decisions so far.
    pub fn schedule(&self) -> Schedule {
        self.schedule.borrow().clone()
    }

    /// The schedule's container, unless it is borrowed (to hand it on to
    /// the next world).
    pub fn schedule_container(&self) -> Option<RefMut<'_, Schedule>> {
        self.schedule.try_borrow_mut().ok()
    }
}
