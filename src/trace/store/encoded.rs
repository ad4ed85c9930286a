//! The word stream of a full trace: its layout, its writer [`Encoded`] and
//! its reader, and the per-thread pools of chunks and encoders.
//!
//! One or two 64-bit words per record, appended to fixed-size chunks (no
//! doubling, no copying) taken from a per-thread pool, so that the many
//! short runs of a sweep reuse memory; the encoder of a dropped trace,
//! emptied, is kept for the next trace of the thread. The step of an event
//! is not stored but recounted from the polls before it; time is a record
//! of its own, written only when the clock moved; a suspension that waits
//! on no task, with a small task id and await point, is one word; and one
//! record can hold up to three events: a poll, the first wake that poll
//! made, and the record that ended the poll (most often the task's
//! suspension).

use std::cell::RefCell;

use super::locations::Locations;
use super::raw::{join, split, Raw, POLL, SUSPEND, WAKE};
use crate::trace::{Event, EventKind, WakeCause};
use crate::vocab::Instant;
use crate::vocab::TaskId;

/// Chunks a thread keeps from dropped traces for reuse (64 MiB): a long run
/// writes tens of MiB of trace, and fresh pages cost more than the writes.
const POOL_MAX: usize = 1024;

/// A full trace as a stream of 64-bit words: one head word per record
/// (tag, flags, a small field, the interned location and the task), then a
/// word of two operands when the head says so. Records carry no time: a
/// time record (the delta) comes before the first record of each new
/// instant, so the common record checks the clock once and is written as
/// one or two plain stores. A poll is folded into the record after it (the
/// world decides when: a record of the polled task, or a wake it caused).
/// Typical records take 8 to 16 bytes instead of a 40-byte `Event` (varint
/// bytes were smaller, but their per-field branches cost more than the
/// memory saved).
#[derive(Debug)]
pub(crate) struct Encoded {
    /// Full chunks, oldest first.
    pub(super) chunks: Vec<Vec<u64>>,
    /// The chunk being written (empty and unallocated until the first
    /// record), kept apart so that a write reaches it without going through
    /// the list.
    pub(super) current: Vec<u64>,
    pub(super) locations: Locations,
    /// The time of the last time record (zero before the first).
    pub(super) last_time: u64,
    /// Step of the first event (the world's step when the trace began).
    pub(super) base_step: u32,
    pub(super) len: usize,
}

// Head word: the tag in the low five bits, then these flags, then `aux`
// (bits 8..16), `loc` (16..32) and the task (32..64).
const TAG_BITS: u64 = 0x1f;
pub(super) const HEAD_POLL: u64 = 0x20;
/// With `HEAD_POLL`: between its poll and this record, the task woke the
/// task in `b` (the record's own `b` is then zero).
const HEAD_WOKE: u64 = 0x40;
const HEAD_AB: u64 = 0x80;
/// The tag of a time record: the clock moved by its operand word.
const TIME: u8 = 20;
/// The tag of a suspension in one word (no operand word): most of them wait
/// on no task (`b` is zero) and have a small task id and await point. Past
/// the flags: the wait code (bits 8..12), the layout (bit 12), the location
/// (13..29), then the task and the await point, split by the layout: a
/// 23-bit task and a 12-bit await point, or (bit 12 set) an 11-bit task and
/// a 24-bit await point (a few tasks that suspend a million times each).
const SUSPEND_SHORT: u8 = 21;
const SHORT_LONG_ORDINALS: u64 = 1 << 12;

// The head word of a record, in the layout above.
impl Raw {
    /// The head word of this record (see [`Encoded`]) with `flags`.
    #[inline(always)]
    fn head(&self, flags: u64) -> u64 {
        u64::from(self.tag)
            | flags
            | (u64::from(self.aux) << 8)
            | (u64::from(self.loc) << 16)
            | (u64::from(self.task) << 32)
    }

    /// This suspension as one [`SUSPEND_SHORT`] word, when it fits.
    #[inline(always)]
    pub(super) fn short_suspend(&self, flags: u64) -> Option<u64> {
        // (A wait code past four bits, a TCP wait's, takes the long form.)
        if self.b != 0 || self.aux > 0xf {
            return None;
        }
        let (task, ordinal) = (u64::from(self.task), u64::from(self.a));
        let packed = if task < 1 << 23 && ordinal < 1 << 12 {
            task | (ordinal << 23)
        } else if task < 1 << 11 && ordinal < 1 << 24 {
            task | (ordinal << 11) | (1 << 35)
        } else {
            return None;
        };
        Some(
            u64::from(SUSPEND_SHORT)
                | flags
                | (u64::from(self.aux) << 8)
                | (u64::from(self.loc) << 13)
                | ((packed & !(1 << 35)) << 29)
                | ((packed >> 35) * SHORT_LONG_ORDINALS),
        )
    }

    /// Reads a [`SUSPEND_SHORT`] word back (at `time`).
    fn from_short_suspend(head: u64, time: u64) -> Raw {
        let packed = head >> 29;
        let (task, ordinal) = if head & SHORT_LONG_ORDINALS == 0 {
            (packed & ((1 << 23) - 1), packed >> 23)
        } else {
            (packed & ((1 << 11) - 1), packed >> 11)
        };
        Raw {
            time,
            task: task as u32,
            tag: SUSPEND,
            aux: ((head >> 8) & 0xf) as u8,
            loc: (head >> 13) as u16,
            a: ordinal as u32,
            b: 0,
        }
    }
}

/// Words per chunk (64 KiB).
pub(super) const CHUNK_WORDS: usize = 8 * 1024;

thread_local! {
    static WORD_POOL: RefCell<Vec<Vec<u64>>> = const { RefCell::new(Vec::new()) };
    /// Encoders of dropped traces, emptied, with their current chunk and
    /// location list: a sweep makes a trace per run. Boxed because traces
    /// hold them boxed: handing one over moves a pointer, not the encoder.
    #[allow(clippy::vec_box)]
    pub(super) static ENCODER_POOL: RefCell<Vec<Box<Encoded>>> = const { RefCell::new(Vec::new()) };
}

/// Interned locations a kept encoder carries over, at most.
const LOCATIONS_KEPT: usize = 1024;

/// Encoders kept per thread, at most.
const ENCODER_POOL_MAX: usize = 4;

/// An empty encoder: a dropped trace's when one is kept, else a new one.
pub(super) fn fresh_encoder(base_step: u32) -> Box<Encoded> {
    let kept = ENCODER_POOL
        .try_with(|pool| pool.try_borrow_mut().ok()?.pop())
        .ok()
        .flatten();
    match kept {
        Some(mut encoded) => {
            encoded.base_step = base_step;
            encoded
        }
        None => Box::new(Encoded::new(base_step)),
    }
}

/// Empties a dropped trace's encoder and keeps it for the next trace (its
/// full chunks go back to the chunk pool).
pub(super) fn recycle_encoder(mut encoded: Box<Encoded>) {
    for chunk in encoded.chunks.drain(..) {
        recycle_chunk(chunk);
    }
    encoded.current.clear();
    if encoded.current.capacity() != CHUNK_WORDS {
        // A cloned trace's chunk is cut to its length: not one to fill.
        encoded.current = Vec::new();
    }
    // The interned locations stay: they are `'static`, so an entry the next
    // trace never uses is harmless, and a sweep's runs share their call
    // sites (re-interning them cost a scan and a push per site per run).
    if encoded.locations.list.len() > LOCATIONS_KEPT {
        encoded.locations.clear();
    }
    encoded.last_time = 0;
    encoded.len = 0;
    let _ = ENCODER_POOL.try_with(|pool| {
        if let Ok(mut pool) = pool.try_borrow_mut() {
            if pool.len() < ENCODER_POOL_MAX {
                pool.push(encoded);
                return;
            }
        }
        let current = std::mem::take(&mut encoded.current);
        if current.capacity() > 0 {
            recycle_chunk(current);
        }
    });
}

fn fresh_chunk() -> Vec<u64> {
    WORD_POOL
        .with(|pool| pool.borrow_mut().pop())
        .unwrap_or_else(|| Vec::with_capacity(CHUNK_WORDS))
}

fn recycle_chunk(mut chunk: Vec<u64>) {
    if chunk.capacity() != CHUNK_WORDS {
        return;
    }
    chunk.clear();
    let _ = WORD_POOL.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.len() < POOL_MAX {
            pool.push(chunk);
        }
    });
}

impl Encoded {
    fn new(base_step: u32) -> Self {
        Encoded {
            chunks: Vec::new(),
            current: Vec::new(),
            locations: Locations::default(),
            last_time: 0,
            base_step,
            len: 0,
        }
    }

    #[inline(always)]
    pub(super) fn push(&mut self, event: Event) {
        self.len += 1;
        let raw = Raw::encode(&event, &mut self.locations);
        self.write(&raw, 0);
    }

    /// Writes `raw` with head `flags`: its head, and its operand word when
    /// an operand is set.
    #[inline(always)]
    pub(super) fn write(&mut self, raw: &Raw, flags: u64) {
        self.at_time(raw.time);
        let head = raw.head(flags);
        let operands = join(raw.a, raw.b);
        if operands != 0 {
            self.put([head | HEAD_AB, operands]);
        } else {
            self.put([head]);
        }
    }

    /// `write`, with the operand word whatever it holds: for the records
    /// written on every poll, whose operands are seldom zero, one branch
    /// fewer.
    #[inline(always)]
    pub(super) fn write_ab(&mut self, raw: &Raw, flags: u64) {
        self.at_time(raw.time);
        self.put([raw.head(flags | HEAD_AB), join(raw.a, raw.b)]);
    }

    #[inline(always)]
    pub(super) fn at_time(&mut self, time: u64) {
        if time != self.last_time {
            self.move_time(time);
        }
    }

    /// A poll of `raw`'s task, its wake of `woken`, then `raw`: one record
    /// with `woken` in `b` when `raw` leaves it free (and is not a wake),
    /// else two. `ab`: write
    /// the operand word whatever it holds (see `write_ab`).
    #[inline(always)]
    pub(super) fn write_polled_woke(&mut self, raw: &Raw, woken: TaskId, ab: bool) {
        // A wake's poll belongs to its waker: a wake takes no `woken`.
        if raw.b == 0 && raw.tag != WAKE {
            let raw = Raw { b: woken.0, ..*raw };
            if ab {
                self.write_ab(&raw, HEAD_POLL | HEAD_WOKE);
            } else {
                self.write(&raw, HEAD_POLL | HEAD_WOKE);
            }
        } else {
            let wake = Raw::wake(Instant(raw.time), woken, WakeCause::Task(TaskId(raw.task)));
            self.write_ab(&wake, HEAD_POLL);
            self.write(raw, 0);
        }
    }

    /// Writes a time record: the clock moved to `time`.
    #[inline(never)]
    fn move_time(&mut self, time: u64) {
        let delta = time.wrapping_sub(self.last_time);
        self.last_time = time;
        self.put([u64::from(TIME) | HEAD_AB, delta]);
    }

    /// Appends one record's words to the current chunk (a record never
    /// spans two chunks).
    #[inline(always)]
    pub(super) fn put<const N: usize>(&mut self, words: [u64; N]) {
        if self.current.capacity() - self.current.len() < N {
            self.next_chunk();
        }
        self.current.extend_from_slice(&words);
    }

    /// Files the current chunk (if any) and starts a fresh one.
    #[cold]
    fn next_chunk(&mut self) {
        let full = std::mem::replace(&mut self.current, fresh_chunk());
        if full.capacity() > 0 {
            self.chunks.push(full);
        }
    }

    /// The chunks in order: the full ones, then the current one.
    fn chunk(&self, index: usize) -> Option<&[u64]> {
        match index.cmp(&self.chunks.len()) {
            std::cmp::Ordering::Less => Some(&self.chunks[index]),
            std::cmp::Ordering::Equal => Some(&self.current),
            std::cmp::Ordering::Greater => None,
        }
    }

    pub(super) fn iter(&self) -> EncodedIter<'_> {
        EncodedIter {
            store: self,
            chunk: 0,
            pos: 0,
            time: 0,
            step: self.base_step,
            queued: [None, None],
        }
    }
}

/// Reads an [`Encoded`] stream back into events, oldest first.
pub(super) struct EncodedIter<'a> {
    store: &'a Encoded,
    chunk: usize,
    pos: usize,
    time: u64,
    step: u32,
    /// Events of the last record not returned yet, in order.
    queued: [Option<Event>; 2],
}

impl Iterator for EncodedIter<'_> {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        if let Some(event) = self.queued[0].take() {
            self.queued[0] = self.queued[1].take();
            return Some(event);
        }
        loop {
            let words = self.store.chunk(self.chunk)?;
            if self.pos >= words.len() {
                self.chunk += 1;
                self.pos = 0;
                continue;
            }
            let head = words[self.pos];
            self.pos += 1;
            let operands = if head & HEAD_AB != 0 {
                self.pos += 1;
                words[self.pos - 1]
            } else {
                0
            };
            if (head & TAG_BITS) as u8 == TIME {
                self.time = self.time.wrapping_add(operands);
                continue;
            }
            let (a, b) = split(operands);
            let mut raw = if (head & TAG_BITS) as u8 == SUSPEND_SHORT {
                Raw::from_short_suspend(head, self.time)
            } else {
                Raw {
                    time: self.time,
                    task: (head >> 32) as u32,
                    tag: (head & TAG_BITS) as u8,
                    aux: (head >> 8) as u8,
                    loc: (head >> 16) as u16,
                    a,
                    b,
                }
            };
            let time = Instant(raw.time);
            let task = TaskId(raw.task);

            if raw.tag == POLL || head & HEAD_POLL != 0 {
                self.step = self.step.saturating_add(1);
            }
            let woke = (head & HEAD_WOKE != 0).then(|| {
                let woken = raw.b;
                raw.b = 0;
                Event {
                    step: self.step,
                    time,
                    task: TaskId(woken),
                    kind: EventKind::Wake {
                        by: WakeCause::Task(task),
                    },
                }
            });
            let poll = Event {
                step: self.step,
                time,
                task: if raw.wakes_by_task() {
                    TaskId(raw.a)
                } else {
                    task
                },
                kind: EventKind::Poll,
            };
            if raw.tag == POLL {
                return Some(poll);
            }
            let event = Event {
                step: self.step,
                time,
                task,
                kind: raw.kind(&self.store.locations),
            };
            if let Some(wake) = woke {
                self.queued = [Some(wake), Some(event)];
                return Some(poll);
            }
            if head & HEAD_POLL != 0 {
                self.queued[0] = Some(event);
                return Some(poll);
            }
            return Some(event);
        }
    }
}
