//! The recorder: how the executor's events reach the trace. A poll is only
//! noted, and reaches the trace with the next record (most often as one
//! record with the polled task's suspension), so that a step touches the
//! trace once.

use super::World;
use crate::trace::{Event, EventKind, Trace, Wait, WakeCause};
use crate::vocab::TaskId;

/// A task id no task has: "none" in [`World::unrecorded`].
const NO_TASK: u32 = u32::MAX;
/// [`World::unrecorded`] when nothing is noted.
pub(super) const NOTHING_UNRECORDED: u64 = u64::MAX;

/// [`World::unrecorded`]: the polled task in the low half, the task it woke
/// in the high half.
#[inline(always)]
fn noted(polled: u32, woken: u32) -> u64 {
    u64::from(polled) | (u64::from(woken) << 32)
}

impl World {
    /// Inlined (with the trace's `push` and encoder) so that each call
    /// site folds to the encoding of its own kind.
    #[inline(always)]
    pub fn record(&self, task: TaskId, kind: EventKind) {
        if self.trace_on {
            let event = Event {
                step: self.step32(),
                time: self.now(),
                task,
                kind,
            };
            if let Ok(mut trace) = self.trace.try_borrow_mut() {
                let noted = self.unrecorded.replace(NOTHING_UNRECORDED);
                let (polled, woken) = (noted as u32, (noted >> 32) as u32);
                if polled == task.0 && woken == NO_TASK {
                    // The first record since the poll, of the polled task:
                    // one record for both.
                    trace.store().push_polled(event);
                } else if polled == task.0 {
                    // The polled task woke another, then this: one record
                    // for the three when it has room.
                    trace.store().push_polled_woke(event, TaskId(woken));
                } else if woken == NO_TASK
                    && polled != NO_TASK
                    && matches!(kind, EventKind::Wake { by: WakeCause::Task(by) } if by.0 == polled)
                {
                    // A wake by the polled task given as an event (the
                    // executor records wakes through `record_wake`).
                    trace.store().push_polled(event);
                } else {
                    self.write_unrecorded(&mut trace, noted);
                    trace.store().push(event);
                }
            }
        }
    }

    /// Notes the poll of `task` (an `EventKind::Poll`). It reaches the trace
    /// with the next record: most polls end in a suspension with nothing
    /// recorded in between (or only a wake, see `record_wake`), written
    /// then as one record with the poll folded in, without touching the
    /// trace twice. The clock does not move while a poll is unrecorded (see
    /// [`World::flush_unrecorded`]), so the poll's time is the next
    /// record's.
    #[inline(always)]
    pub fn record_poll(&self, task: TaskId) {
        if self.trace_on {
            // Every poll ends in a record (a suspension or the end), which
            // takes what it noted.
            debug_assert_eq!(self.unrecorded.get(), NOTHING_UNRECORDED);
            self.unrecorded.set(noted(task.0, NO_TASK));
        }
    }

    /// Records what is noted and unrecorded, if anything, at the current
    /// time: called before the clock moves.
    #[inline]
    pub fn flush_unrecorded(&self) {
        if self.unrecorded.get() != NOTHING_UNRECORDED {
            self.write_unrecorded_now();
        }
    }

    #[inline(never)]
    fn write_unrecorded_now(&self) {
        if let Ok(mut trace) = self.trace.try_borrow_mut() {
            let noted = self.unrecorded.replace(NOTHING_UNRECORDED);
            self.write_unrecorded(&mut trace, noted);
        }
    }

    /// Writes `noted` (taken from [`World::unrecorded`]) to `trace`: a poll,
    /// or a poll and the wake it made as one record.
    #[inline(always)]
    fn write_unrecorded(&self, trace: &mut Trace, noted: u64) {
        if noted == NOTHING_UNRECORDED {
            return;
        }
        let (polled, woken) = (noted as u32, (noted >> 32) as u32);
        let step = || self.step32();
        if woken == NO_TASK {
            trace.store().push_poll(step, self.now(), TaskId(polled));
        } else {
            trace
                .store()
                .push_polled_wake(step, self.now(), TaskId(woken), TaskId(polled));
        }
    }

    /// `record(task, EventKind::Suspend { .. })` without building an
    /// `EventKind`: the executor records one per suspension.
    #[inline(always)]
    pub fn record_suspend(&self, task: TaskId, ordinal: u32, wait: Wait) {
        if self.trace_on {
            if let Ok(mut trace) = self.trace.try_borrow_mut() {
                let now = self.now();
                let step = || self.step32();
                let noted = self.unrecorded.replace(NOTHING_UNRECORDED);
                if noted as u32 == task.0 {
                    let woken = (noted >> 32) as u32;
                    if woken == NO_TASK {
                        // Polled, nothing recorded since, and suspended:
                        // one record for both.
                        trace
                            .store()
                            .push_suspend(step, now, task, ordinal, wait, true);
                    } else {
                        // Polled, woke a task, and suspended.
                        trace.store().push_polled_wake_suspend(
                            step,
                            now,
                            task,
                            TaskId(woken),
                            ordinal,
                            wait,
                        );
                    }
                } else {
                    self.write_unrecorded(&mut trace, noted);
                    trace
                        .store()
                        .push_suspend(step, now, task, ordinal, wait, false);
                }
            }
        }
    }

    /// `record(task, EventKind::Wake { by })` without building an `Event`:
    /// every wake inside the world is recorded. The first wake a poll makes
    /// is only noted, and reaches the trace with the next record.
    #[inline(always)]
    pub fn record_wake(&self, task: TaskId, by: WakeCause) {
        if self.trace_on {
            if let WakeCause::Task(by) = by {
                if self.unrecorded.get() == noted(by.0, NO_TASK) {
                    self.unrecorded.set(noted(by.0, task.0));
                    return;
                }
            }
            if let Ok(mut trace) = self.trace.try_borrow_mut() {
                let noted = self.unrecorded.replace(NOTHING_UNRECORDED);
                self.write_unrecorded(&mut trace, noted);
                trace
                    .store()
                    .push_wake(|| self.step32(), self.now(), task, by);
            }
        }
    }
}
