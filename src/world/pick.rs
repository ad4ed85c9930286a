//! Wakes, the ready queue and the scheduler's choice of the next task (and
//! of random values), with the divergence checks of a replay.

use super::task_table::PREFETCH_FROM_TASKS;
use super::waker;
use crate::error::SimError;
use crate::schedule::Divergence;
use crate::trace::{EventKind, SourceLocation, WakeCause};
use crate::vocab::Instant;
use crate::vocab::TaskKey;

use super::{Pick, World};

/// What the ready queue gave.
enum Ready {
    Run(TaskKey),
    Empty,
    Diverged(Box<crate::schedule::Divergence>),
}

impl World {
    // ----- wakes and the ready queue ------------------------------------------

    /// Queues a woken task unless it is queued already or has ended. Called
    /// by its waker; false when the world cannot take the wake right now
    /// (the waker then leaves it in the inbox, drained before the clock
    /// moves).
    #[inline]
    pub fn enqueue(&self, key: TaskKey) -> bool {
        self.enqueue_hinted(key, false)
    }

    /// [`World::enqueue`], hinting the future of a newly queued task into
    /// the cache when `prefetch` (a timer's wake: the task was idle, so its
    /// future is likely cold, and its poll comes after the instant's other
    /// wakes).
    #[inline(always)]
    pub(super) fn enqueue_hinted(&self, key: TaskKey, prefetch: bool) -> bool {
        match self.push_ready(key, prefetch) {
            Some(true) => {
                // The outside timers' wake is noted once the clock is at
                // its instant; a task held by an expiry ends its hold on
                // its owner's wake.
                if self.watch_wakes.get() && self.woke_watched(key) {
                    return true;
                }
            }
            Some(false) => {
                if self.watch_queued_wakes.get() {
                    // Already queued — or held by a stall or an expiry,
                    // which its owner's wake ends.
                    self.woke_while_stalled(key);
                }
                return true;
            }
            None => return false,
        }
        if self.collecting.get() {
            self.note_woke(key);
        }
        if self.trace_on {
            let by = if self.timer_waking.get() {
                Some(WakeCause::Timer)
            } else {
                match self.current.get() {
                    Some(current) if current == key => None,
                    Some(current) => Some(WakeCause::Task(current.id)),
                    None => Some(WakeCause::Outside),
                }
            };
            if let Some(by) = by {
                self.record_wake(key.id, by);
            }
        }
        true
    }

    /// Queues the task being polled, woken by itself (`yield_now`): the
    /// same as its waker's `enqueue`, which records nothing for a self-wake.
    #[inline]
    pub fn requeue_current(&self, key: TaskKey) -> bool {
        if self.config.root_first && key != self.root_first.get() {
            return self.defer_yield(key);
        }
        self.push_ready(key, false).is_some()
    }

    /// Puts a live task at the back of the ready queue unless it is there
    /// already: `Some(true)` when it was queued now, `Some(false)` when it
    /// was queued already or has ended, `None` when the ready queue or the
    /// task table is busy.
    #[inline(always)]
    fn push_ready(&self, key: TaskKey, prefetch: bool) -> Option<bool> {
        let mut ready = self.ready.try_borrow_mut().ok()?;
        let mut core = self.core.try_borrow_mut().ok()?;
        let prefetch = prefetch && core.tasks.len() >= PREFETCH_FROM_TASKS;
        let fresh = match core.tasks.get_mut(key) {
            Some(slot) => {
                let fresh = !std::mem::replace(&mut slot.queued, true);
                if prefetch && fresh {
                    if let Some(future) = &slot.future {
                        future.prefetch();
                    }
                }
                fresh
            }
            None => false,
        };
        if fresh && !self.root_woken(key) {
            ready.push_back(key);
        }
        Some(fresh)
    }

    /// Picks the next task to poll, firing due timers and moving the clock
    /// forward as needed.
    #[inline(always)]
    pub fn pick(&self) -> Pick {
        // The common step: no divergence pending, no timer due, a task ready.
        if !self.has_diverged() && self.earliest_timer.get() > self.now.get() {
            match self.take_ready() {
                Ready::Run(key) => return Pick::Run(key),
                Ready::Diverged(divergence) => return Pick::Stop(self.diverged(*divergence)),
                Ready::Empty => {}
            }
        }
        self.pick_until(u64::MAX)
    }

    /// Like `pick`, but treats timers past `horizon` as absent (idle).
    ///
    /// Never inlined: `pick`'s common step then needs no registers saved.
    #[inline(never)]
    pub fn pick_until(&self, horizon: u64) -> Pick {
        loop {
            if self.has_diverged() {
                if let Some(stop) = self.take_divergence() {
                    return Pick::Stop(stop);
                }
            }
            if self.earliest_timer.get() <= self.now.get() {
                if let Err(stop) = self.fire_due_timers() {
                    return Pick::Stop(stop);
                }
            }
            match self.take_ready() {
                Ready::Run(key) => return Pick::Run(key),
                Ready::Diverged(divergence) => return Pick::Stop(self.diverged(*divergence)),
                Ready::Empty => {}
            }
            if let Some(remote) = waker::remote_take(self.id) {
                if !remote.is_empty() {
                    for key in remote {
                        self.push_ready(key, false);
                    }
                    continue;
                }
            }
            let next = self.core.borrow_mut().timers.next_deadline();
            let stall_limit = self.stall_limit();
            if self.has_outside.get() {
                // Timers of another runtime may come first: asked up to
                // the next deadline of the world's own, or a stall's end.
                let own = next.filter(|deadline| *deadline <= horizon);
                let own = own.or((horizon != u64::MAX).then_some(horizon));
                let until = match (own, stall_limit) {
                    (Some(own), Some(limit)) => Some(own.min(limit)),
                    (own, limit) => own.or(limit),
                };
                if self.run_outside(until) {
                    continue;
                }
            }
            let idle = next.is_none_or(|deadline| deadline > horizon);
            if let Some(limit) = stall_limit {
                let past_limit = next.is_none_or(|deadline| deadline > limit);
                if (idle || past_limit) && self.release_stalled() {
                    continue;
                }
            }
            match next {
                Some(deadline) if deadline > horizon => return Pick::Deadlock,
                Some(deadline) => {
                    if deadline > self.max_time {
                        return Pick::Stop(SimError::TimeLimit {
                            time: self.now(),
                            next_deadline: Instant(deadline),
                        });
                    }
                    self.flush_unrecorded();
                    self.now.set(self.now.get().max(deadline));
                    self.earliest_timer.set(deadline);
                }
                None => return Pick::Deadlock,
            }
        }
    }

    /// Takes the ready task the scheduler picks (recording the choice when
    /// there was one).
    #[inline(always)]
    fn take_ready(&self) -> Ready {
        let mut ready = self.ready.borrow_mut();
        if self.config.root_first {
            if let Some(root) = self.root_turn(&mut ready) {
                return Ready::Run(root);
            }
        }
        if ready.len() <= 1 {
            return ready.pop_front().map_or(Ready::Empty, Ready::Run);
        }
        let index = match self.decider.next_task(&ready) {
            Ok(index) => index,
            Err(divergence) => return Ready::Diverged(Box::new(divergence)),
        };
        let key = if index == 0 {
            ready.pop_front()
        } else {
            ready.remove(index)
        };
        key.map_or(Ready::Empty, Ready::Run)
    }

    /// A divergence noted inside user code (a replayed `random()`), if any.
    pub fn take_divergence(&self) -> Option<SimError> {
        self.decider
            .take_divergence()
            .map(|(step, divergence)| SimError::Nondeterminism { step, divergence })
    }

    /// A divergence is noted and not yet reported.
    #[inline(always)]
    pub(crate) fn has_diverged(&self) -> bool {
        self.decider.has_diverged()
    }

    /// Notes again a divergence that stopped a `pick` whose caller cannot
    /// report it (the drain after the root): the end of the run does.
    pub(crate) fn keep_divergence(&self, step: u64, divergence: Divergence) {
        self.decider.note(step, divergence);
    }

    /// The root future ended: marks it in the schedule; a replay with
    /// decisions left for this root diverges here (noted, for `block_on`
    /// or the end of the run to report).
    pub(super) fn root_finished(&self) {
        self.decider.root_finished(self.steps());
    }

    /// The run is over (the root ended and the drain ran): a divergence
    /// noted on the way, else a replay's recorded decisions never taken.
    pub(crate) fn run_finished(&self) -> Option<SimError> {
        if let Some(stop) = self.take_divergence() {
            return Some(stop);
        }
        let answer = self.decider.run_finished();
        answer.err().map(|divergence| self.diverged(divergence))
    }

    pub(super) fn diverged(&self, divergence: Divergence) -> SimError {
        SimError::Nondeterminism {
            step: self.steps(),
            divergence,
        }
    }

    // ----- randomness -------------------------------------------------------------

    /// A recorded choice among `options` (> 0) alternatives: the scheduler's
    /// [`next_choice`](crate::Scheduler::next_choice). One option is no
    /// choice: nothing is asked or recorded.
    pub fn choose(&self, options: u32, at: SourceLocation) -> u32 {
        self.choose_labelled(options, at, &mut |_| None)
    }

    /// [`choose`](World::choose), its trace event labelled with what the
    /// alternative taken means (`label` is asked only when the trace is on).
    pub fn choose_labelled(
        &self,
        options: u32,
        at: SourceLocation,
        label: &mut dyn FnMut(u32) -> Option<String>,
    ) -> u32 {
        if options <= 1 {
            return 0;
        }
        let chosen = self.decider.choice(options, self.steps());
        if let Some(task) = self.current_id() {
            let label = if self.trace_on {
                label(chosen).map(|text| self.add_message(text))
            } else {
                None
            };
            self.record(
                task,
                EventKind::Choice {
                    chosen,
                    options,
                    at,
                    label,
                },
            );
        }
        chosen
    }

    /// Records that the current task's race at `at` was won by `branch`,
    /// dropping the pending branches in `dropped`; `first_poll`: the race
    /// was decided in its first poll (its losers never waited at an await
    /// point of the task).
    pub fn select_won(&self, branch: u32, dropped: u32, first_poll: bool, at: SourceLocation) {
        let Some(key) = self.current_key() else {
            return;
        };
        if dropped != 0 {
            self.note_branches_dropped();
        }
        let point = self
            .core
            .borrow()
            .tasks
            .get(key)
            .map_or(0, |slot| slot.meta.suspends);
        self.record(
            key.id,
            EventKind::SelectWon {
                branch,
                dropped,
                point: if dropped == 0 || first_poll { 0 } else { point },
                at,
            },
        );
    }

    pub fn next_random(&self, at: SourceLocation) -> u64 {
        let value = self.decider.random(self.steps());
        if let Some(task) = self.current_id() {
            self.record(task, EventKind::Random { value, at });
        }
        value
    }
}
