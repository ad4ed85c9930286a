//! Where a trace keeps its events, compactly.
//!
//! The executor records several events per poll, so recording must be cheap
//! in instructions and in fresh memory. A full trace is a word stream (see
//! [`Encoded`]): one or two 64-bit words per record, appended to fixed-size
//! chunks (no doubling, no copying) taken from a per-thread pool, so that
//! the many short runs of a sweep reuse memory. Source locations are
//! interned (a 16-bit index); the step of an event is not stored but
//! recounted from the polls before it; time is a record of its own, written
//! only when the clock moved; a suspension that waits on no task, with a
//! small task id and await point, is one word; and one record can hold up
//! to three events: a poll, the first wake that poll made, and the record
//! that ended the poll (most often the task's suspension). The world decides
//! what folds (it notes a poll and its first wake without touching the
//! trace). The public
//! [`Event`] is rebuilt when reading. A capped trace keeps a ring of plain
//! events.
//!
//! The parts:
//!
//! * [`locations`]: source locations, interned to a 16-bit index;
//! * [`raw`]: one event flattened into a record, and rebuilt from one;
//! * [`encoded`]: the word stream of a full trace (its layout, writer and
//!   reader) and the per-thread pools of chunks and encoders;
//! * here, [`EventStore`]: a full trace, a capped ring or nothing, and the
//!   `push_*` methods the world records through.

mod encoded;
mod locations;
mod raw;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;

use super::{Event, EventKind, Wait, WakeCause};
use crate::vocab::Instant;
use crate::vocab::TaskId;
use encoded::{fresh_encoder, recycle_encoder, Encoded, HEAD_POLL};
use raw::Raw;

#[derive(Debug)]
pub(crate) enum EventStore {
    /// Boxed: the encoder carries its location cache inline.
    Bytes(Box<Encoded>),
    Ring {
        ring: VecDeque<Event>,
        cap: usize,
        dropped: u64,
    },
    /// Recording is off: nothing is kept, nothing counted as dropped.
    Off,
}

impl EventStore {
    pub fn new(cap: Option<usize>, base_step: u32) -> Self {
        match cap {
            None => EventStore::Bytes(fresh_encoder(base_step)),
            Some(cap) => EventStore::Ring {
                ring: VecDeque::with_capacity(cap.min(1 << 20)),
                cap,
                dropped: 0,
            },
        }
    }

    #[inline(always)]
    pub fn push(&mut self, event: Event) {
        match self {
            EventStore::Bytes(encoded) => encoded.push(event),
            EventStore::Ring { .. } => self.push_ring(event),
            EventStore::Off => {}
        }
    }

    #[inline(never)]
    fn push_ring(&mut self, event: Event) {
        match self {
            EventStore::Bytes(encoded) => encoded.push(event),
            EventStore::Ring { ring, cap, dropped } => {
                if *cap == 0 {
                    *dropped += 1;
                    return;
                }
                if ring.len() >= *cap {
                    ring.pop_front();
                    *dropped += 1;
                }
                ring.push_back(event);
            }
            EventStore::Off => {}
        }
    }

    // The `push_*` below record one kind each without building an `Event`
    // first. `step` is asked for only by a capped trace (a full trace
    // recounts steps from the polls).

    #[inline(always)]
    pub fn push_poll(&mut self, step: impl Fn() -> u32, time: Instant, task: TaskId) {
        match self {
            EventStore::Bytes(encoded) => {
                encoded.len += 1;
                encoded.write(&Raw::poll(time, task), 0);
            }
            _ => self.push_ring(Event {
                step: step(),
                time,
                task,
                kind: EventKind::Poll,
            }),
        }
    }

    /// A suspension, with the task's poll folded in front (one record)
    /// when `polled`: the poll came just before, at the same instant.
    #[inline(always)]
    pub fn push_suspend(
        &mut self,
        step: impl Fn() -> u32 + Copy,
        time: Instant,
        task: TaskId,
        ordinal: u32,
        wait: Wait,
        polled: bool,
    ) {
        match self {
            EventStore::Bytes(encoded) => {
                let raw = Raw::suspend(time, task, ordinal, wait, &mut encoded.locations);
                encoded.len += 1 + usize::from(polled);
                let flags = if polled { HEAD_POLL } else { 0 };
                match raw.short_suspend(flags) {
                    Some(word) => {
                        encoded.at_time(raw.time);
                        encoded.put([word]);
                    }
                    None => encoded.write_ab(&raw, flags),
                }
            }
            _ => {
                if polled {
                    self.push_poll(step, time, task);
                }
                self.push_ring(Event {
                    step: step(),
                    time,
                    task,
                    kind: EventKind::Suspend { ordinal, wait },
                });
            }
        }
    }

    #[inline(always)]
    pub fn push_wake(
        &mut self,
        step: impl Fn() -> u32,
        time: Instant,
        task: TaskId,
        by: WakeCause,
    ) {
        match self {
            EventStore::Bytes(encoded) => {
                encoded.len += 1;
                encoded.write(&Raw::wake(time, task, by), 0);
            }
            _ => self.push_ring(Event {
                step: step(),
                time,
                task,
                kind: EventKind::Wake { by },
            }),
        }
    }

    /// `push_poll` of `by` then `push_wake` of `task` by it at the same
    /// instant: one record.
    #[inline(always)]
    pub fn push_polled_wake(
        &mut self,
        step: impl Fn() -> u32 + Copy,
        time: Instant,
        task: TaskId,
        by: TaskId,
    ) {
        match self {
            EventStore::Bytes(encoded) => {
                encoded.len += 2;
                encoded.write_ab(&Raw::wake(time, task, WakeCause::Task(by)), HEAD_POLL);
            }
            _ => {
                self.push_poll(step, time, by);
                self.push_wake(step, time, task, WakeCause::Task(by));
            }
        }
    }

    /// A poll and then `event` (of the polled task, or a wake it caused),
    /// at the same instant: one record.
    #[inline(always)]
    pub fn push_polled(&mut self, event: Event) {
        match self {
            EventStore::Bytes(encoded) => {
                let raw = Raw::encode(&event, &mut encoded.locations);
                encoded.len += 2;
                encoded.write(&raw, HEAD_POLL);
            }
            _ => {
                let polled = match event.kind {
                    EventKind::Wake {
                        by: WakeCause::Task(by),
                    } if by != event.task => by,
                    _ => event.task,
                };
                self.push_poll(|| event.step, event.time, polled);
                self.push(event);
            }
        }
    }

    /// A poll and a wake the polled task made, then `event` of that task,
    /// at the same instant: one record when `event` leaves `b` free.
    #[inline(always)]
    pub fn push_polled_woke(&mut self, event: Event, woken: TaskId) {
        match self {
            EventStore::Bytes(encoded) => {
                let raw = Raw::encode(&event, &mut encoded.locations);
                encoded.len += 3;
                encoded.write_polled_woke(&raw, woken, false);
            }
            _ => {
                self.push_poll(|| event.step, event.time, event.task);
                self.push_wake(
                    || event.step,
                    event.time,
                    woken,
                    WakeCause::Task(event.task),
                );
                self.push(event);
            }
        }
    }

    /// A poll of `task`, its wake of `woken`, then its suspension, at the
    /// same instant: one record when the wait names no task (the wake's
    /// task takes its place), else two.
    #[inline(always)]
    pub fn push_polled_wake_suspend(
        &mut self,
        step: impl Fn() -> u32 + Copy,
        time: Instant,
        task: TaskId,
        woken: TaskId,
        ordinal: u32,
        wait: Wait,
    ) {
        match self {
            EventStore::Bytes(encoded) => {
                let raw = Raw::suspend(time, task, ordinal, wait, &mut encoded.locations);
                encoded.len += 3;
                encoded.write_polled_woke(&raw, woken, true);
            }
            _ => {
                self.push_poll(step, time, task);
                self.push_wake(step, time, woken, WakeCause::Task(task));
                self.push_suspend(step, time, task, ordinal, wait, false);
            }
        }
    }

    pub fn len(&self) -> usize {
        match self {
            EventStore::Bytes(encoded) => encoded.len,
            EventStore::Ring { ring, .. } => ring.len(),
            EventStore::Off => 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn dropped(&self) -> u64 {
        match self {
            EventStore::Bytes(_) | EventStore::Off => 0,
            EventStore::Ring { dropped, .. } => *dropped,
        }
    }

    /// The events, rebuilt, oldest first.
    pub fn iter(&self) -> Box<dyn Iterator<Item = Event> + '_> {
        match self {
            EventStore::Bytes(encoded) => Box::new(encoded.iter()),
            EventStore::Ring { ring, .. } => Box::new(ring.iter().copied()),
            EventStore::Off => Box::new(std::iter::empty()),
        }
    }
}

impl Clone for EventStore {
    fn clone(&self) -> Self {
        match self {
            EventStore::Bytes(encoded) => EventStore::Bytes(Box::new(Encoded {
                chunks: encoded.chunks.clone(),
                current: encoded.current.clone(),
                locations: encoded.locations.clone(),
                last_time: encoded.last_time,
                base_step: encoded.base_step,
                len: encoded.len,
            })),
            EventStore::Ring { ring, cap, dropped } => EventStore::Ring {
                ring: ring.clone(),
                cap: *cap,
                dropped: *dropped,
            },
            EventStore::Off => EventStore::Off,
        }
    }
}

impl EventStore {
    /// Hands the encoder (if any) back to the pool, leaving an empty store;
    /// called when the trace is dropped.
    pub fn recycle(&mut self) {
        let taken = std::mem::replace(self, EventStore::Off);
        if let EventStore::Bytes(encoded) = taken {
            recycle_encoder(encoded);
        }
    }
}
