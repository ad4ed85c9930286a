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

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};

use super::{CancelVia, Event, EventKind, Outcome, SourceLocation, Wait, WaitKind, WakeCause};
use crate::inject::{InjectAt, InjectionKind};
use crate::oracle::ViolationCode;
use crate::task::TaskId;
use crate::time::Instant;

/// Chunks a thread keeps from dropped traces for reuse (64 MiB): a long run
/// writes tens of MiB of trace, and fresh pages cost more than the writes.
const POOL_MAX: usize = 1024;
const NO_LOCATION: u16 = u16::MAX;

/// One event, flattened: what [`Encoded`] writes as bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Raw {
    time: u64,
    task: u32,
    tag: u8,
    aux: u8,
    loc: u16,
    a: u32,
    b: u32,
}

// Tags.
const SPAWN: u8 = 0;
const POLL: u8 = 1;
const SUSPEND: u8 = 2;
const WAKE: u8 = 4;
const CANCEL_REQUESTED: u8 = 5;
const CANCEL_DELIVERED: u8 = 6;
const ABORT: u8 = 7;
const WORK: u8 = 8;
const BLOCKING_START: u8 = 9;
const BLOCKING_END: u8 = 10;
const TIMEOUT_FIRED: u8 = 11;
const RANDOM: u8 = 12;
const COMPLETE: u8 = 13;
const DEADLOCK: u8 = 14;
const INJECTED: u8 = 15;
const ACQUIRE: u8 = 16;
const RELEASE: u8 = 17;
const VIOLATION: u8 = 18;
const DRAIN: u8 = 19;

/// Slots of the direct-mapped cache in front of [`Locations`].
const LOCATION_CACHE: usize = 32;
/// Up to this many locations a miss scans the list; past it, a hash index
/// is built.
const LOCATION_SCAN: usize = 64;

/// Interned source locations: a trace stores a 16-bit index per event.
///
/// Creating one allocates nothing (a sweep creates thousands of traces): a
/// small inline cache answers most look-ups, a miss scans the short list,
/// and only a trace with many distinct locations builds a hash index.
#[derive(Clone, Debug)]
pub(crate) struct Locations {
    list: Vec<SourceLocation>,
    index: Option<HashMap<usize, u16>>,
    cache: [(usize, u16); LOCATION_CACHE],
}

impl Default for Locations {
    fn default() -> Self {
        Locations {
            list: Vec::new(),
            index: None,
            cache: [(0, NO_LOCATION); LOCATION_CACHE],
        }
    }
}

impl Locations {
    #[inline(always)]
    fn intern(&mut self, at: SourceLocation) -> u16 {
        let key = at as *const _ as usize;
        let slot = (key >> 3) % LOCATION_CACHE;
        if self.cache[slot].0 == key {
            return self.cache[slot].1;
        }
        let id = self.intern_miss(at, key);
        self.cache[slot] = (key, id);
        id
    }

    #[cold]
    fn intern_miss(&mut self, at: SourceLocation, key: usize) -> u16 {
        let found = match &self.index {
            Some(index) => index.get(&key).copied(),
            None => self
                .list
                .iter()
                .position(|known| std::ptr::eq(*known, at))
                .map(|id| id as u16),
        };
        if let Some(id) = found {
            return id;
        }
        let next = self.list.len();
        if next >= usize::from(NO_LOCATION) {
            return NO_LOCATION;
        }
        let id = next as u16;
        self.list.push(at);
        if self.list.len() > LOCATION_SCAN {
            let list = &self.list;
            self.index
                .get_or_insert_with(|| {
                    list.iter()
                        .enumerate()
                        .map(|(id, known)| (*known as *const _ as usize, id as u16))
                        .collect()
                })
                .insert(key, id);
        }
        id
    }

    /// Forgets every location (keeping the list's storage).
    fn clear(&mut self) {
        self.list.clear();
        self.index = None;
        self.cache = [(0, NO_LOCATION); LOCATION_CACHE];
    }

    fn get(&self, id: u16) -> Option<SourceLocation> {
        self.list.get(usize::from(id)).copied()
    }

    #[inline(always)]
    fn opt(&mut self, at: Option<SourceLocation>) -> u16 {
        match at {
            Some(at) => self.intern(at),
            None => NO_LOCATION,
        }
    }
}

/// The code (in declaration order) and the task of a wait. Two matches, not
/// one: each folds to a load (the first to the enum's own tag), where one
/// match building both was a jump table.
#[inline(always)]
fn wait_code(kind: WaitKind) -> (u8, u32) {
    let code = match kind {
        WaitKind::Yield => 0,
        WaitKind::Sleep => 1,
        WaitKind::Timeout => 2,
        WaitKind::Join(_) => 3,
        WaitKind::Checkpoint => 4,
        WaitKind::CancelSignal => 5,
        WaitKind::Shield(_) => 6,
        WaitKind::Blocking(_) => 7,
        WaitKind::External => 8,
    };
    let task = match kind {
        WaitKind::Join(task) | WaitKind::Shield(task) | WaitKind::Blocking(task) => task.0,
        _ => 0,
    };
    (code, task)
}

fn wait_kind(code: u8, task: u32) -> WaitKind {
    match code {
        0 => WaitKind::Yield,
        1 => WaitKind::Sleep,
        2 => WaitKind::Timeout,
        3 => WaitKind::Join(TaskId(task)),
        4 => WaitKind::Checkpoint,
        5 => WaitKind::CancelSignal,
        6 => WaitKind::Shield(TaskId(task)),
        7 => WaitKind::Blocking(TaskId(task)),
        _ => WaitKind::External,
    }
}

fn injection_kind(code: u8) -> InjectionKind {
    match code & 3 {
        0 => InjectionKind::CancelDrop,
        1 => InjectionKind::CancelCooperative,
        _ => InjectionKind::Timeout,
    }
}

fn split(value: u64) -> (u32, u32) {
    (value as u32, (value >> 32) as u32)
}

fn join(a: u32, b: u32) -> u64 {
    u64::from(a) | (u64::from(b) << 32)
}

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
    fn short_suspend(&self, flags: u64) -> Option<u64> {
        if self.b != 0 {
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

    /// A poll of `task`.
    #[inline(always)]
    fn poll(time: Instant, task: TaskId) -> Raw {
        Raw {
            time: time.0,
            task: task.0,
            tag: POLL,
            aux: 0,
            loc: NO_LOCATION,
            a: 0,
            b: 0,
        }
    }

    /// A wake by a task (the task is in `a`). A poll of the waker folds into
    /// it: a task that wakes another does so while being polled.
    #[inline(always)]
    fn wakes_by_task(&self) -> bool {
        self.tag == WAKE && self.aux == 0
    }

    /// A wake (as `encode` writes one), built without an `Event`.
    #[inline(always)]
    fn wake(time: Instant, task: TaskId, by: WakeCause) -> Raw {
        let (aux, a) = match by {
            WakeCause::Task(task) => (0, task.0),
            WakeCause::Timer => (1, 0),
            WakeCause::Outside => (2, 0),
        };
        Raw {
            time: time.0,
            task: task.0,
            tag: WAKE,
            aux,
            loc: NO_LOCATION,
            a,
            b: 0,
        }
    }

    /// A suspension (as `encode` writes one), built without an `Event`.
    #[inline(always)]
    fn suspend(
        time: Instant,
        task: TaskId,
        ordinal: u32,
        wait: Wait,
        locations: &mut Locations,
    ) -> Raw {
        let (aux, b) = wait_code(wait.kind);
        Raw {
            time: time.0,
            task: task.0,
            tag: SUSPEND,
            aux,
            loc: locations.opt(wait.at),
            a: ordinal,
            b,
        }
    }

    /// Inlined into each `record` call site, so that the `match` folds away
    /// for the constant kind recorded there.
    #[inline(always)]
    fn encode(event: &Event, locations: &mut Locations) -> Raw {
        let mut raw = Raw {
            time: event.time.0,
            task: event.task.0,
            tag: 0,
            aux: 0,
            loc: NO_LOCATION,
            a: 0,
            b: 0,
        };
        match event.kind {
            EventKind::Spawn { child, at } => {
                raw.tag = SPAWN;
                raw.a = child.0;
                raw.loc = locations.intern(at);
            }
            EventKind::Poll => raw.tag = POLL,
            EventKind::Suspend { ordinal, wait } => {
                return Raw::suspend(event.time, event.task, ordinal, wait, locations);
            }
            EventKind::Wake { by } => return Raw::wake(event.time, event.task, by),
            EventKind::CancelRequested { by, via, at } => {
                raw.tag = CANCEL_REQUESTED;
                raw.a = by.map_or(0, |task| task.0);
                let (via, number) = match via {
                    CancelVia::Handle => (0, 0),
                    CancelVia::Group(group) => (1, group),
                    CancelVia::Injection => (2, 0),
                    CancelVia::Timeout(scope) => (3, scope),
                };
                raw.aux = via | if by.is_some() { 4 } else { 0 };
                raw.b = number;
                raw.loc = locations.opt(at);
            }
            EventKind::CancelDelivered { at } => {
                raw.tag = CANCEL_DELIVERED;
                raw.loc = locations.intern(at);
            }
            EventKind::Abort { by, at } => {
                raw.tag = ABORT;
                raw.aux = u8::from(by.is_some());
                raw.a = by.map_or(0, |task| task.0);
                raw.loc = locations.opt(at);
            }
            EventKind::Work { cost_nanos, at } => {
                raw.tag = WORK;
                (raw.a, raw.b) = split(cost_nanos);
                raw.loc = locations.intern(at);
            }
            EventKind::BlockingStart { cost_nanos, at } => {
                raw.tag = BLOCKING_START;
                (raw.a, raw.b) = split(cost_nanos);
                raw.loc = locations.intern(at);
            }
            EventKind::BlockingEnd => raw.tag = BLOCKING_END,
            EventKind::TimeoutFired { scope, at } => {
                raw.tag = TIMEOUT_FIRED;
                raw.a = scope;
                raw.loc = locations.intern(at);
            }
            EventKind::Random { value, at } => {
                raw.tag = RANDOM;
                (raw.a, raw.b) = split(value);
                raw.loc = locations.intern(at);
            }
            EventKind::Complete { outcome } => {
                raw.tag = COMPLETE;
                (raw.aux, raw.a) = match outcome {
                    Outcome::Returned => (0, 0),
                    Outcome::Aborted => (1, 0),
                    Outcome::Panicked(message) => (2, message),
                };
            }
            EventKind::Deadlock => raw.tag = DEADLOCK,
            EventKind::Injected { kind, point, at } => {
                raw.tag = INJECTED;
                raw.a = point;
                raw.aux = match kind {
                    InjectionKind::CancelDrop => 0,
                    InjectionKind::CancelCooperative => 1,
                    InjectionKind::Timeout => 2,
                } | if at == InjectAt::Wake { 4 } else { 0 };
            }
            EventKind::Acquire { name, at } => {
                raw.tag = ACQUIRE;
                raw.a = name;
                raw.loc = locations.intern(at);
            }
            EventKind::Release { name } => {
                raw.tag = RELEASE;
                raw.a = name;
            }
            EventKind::Violation { code } => {
                raw.tag = VIOLATION;
                raw.aux = ViolationCode::ALL
                    .iter()
                    .position(|c| *c == code)
                    .unwrap_or(0) as u8;
            }
            EventKind::Drain => raw.tag = DRAIN,
        }
        raw
    }

    fn kind(&self, locations: &Locations) -> EventKind {
        let loc = || locations.get(self.loc).expect("interned when stored");
        match self.tag {
            SPAWN => EventKind::Spawn {
                child: TaskId(self.a),
                at: loc(),
            },
            POLL => EventKind::Poll,
            SUSPEND => EventKind::Suspend {
                ordinal: self.a,
                wait: Wait {
                    kind: wait_kind(self.aux, self.b),
                    at: locations.get(self.loc),
                },
            },
            WAKE => EventKind::Wake {
                by: match self.aux {
                    0 => WakeCause::Task(TaskId(self.a)),
                    1 => WakeCause::Timer,
                    _ => WakeCause::Outside,
                },
            },
            CANCEL_REQUESTED => EventKind::CancelRequested {
                by: (self.aux & 4 != 0).then_some(TaskId(self.a)),
                via: match self.aux & 3 {
                    0 => CancelVia::Handle,
                    1 => CancelVia::Group(self.b),
                    2 => CancelVia::Injection,
                    _ => CancelVia::Timeout(self.b),
                },
                at: locations.get(self.loc),
            },
            CANCEL_DELIVERED => EventKind::CancelDelivered { at: loc() },
            ABORT => EventKind::Abort {
                by: (self.aux != 0).then_some(TaskId(self.a)),
                at: locations.get(self.loc),
            },
            WORK => EventKind::Work {
                cost_nanos: join(self.a, self.b),
                at: loc(),
            },
            BLOCKING_START => EventKind::BlockingStart {
                cost_nanos: join(self.a, self.b),
                at: loc(),
            },
            BLOCKING_END => EventKind::BlockingEnd,
            TIMEOUT_FIRED => EventKind::TimeoutFired {
                scope: self.a,
                at: loc(),
            },
            RANDOM => EventKind::Random {
                value: join(self.a, self.b),
                at: loc(),
            },
            COMPLETE => EventKind::Complete {
                outcome: match self.aux {
                    0 => Outcome::Returned,
                    1 => Outcome::Aborted,
                    _ => Outcome::Panicked(self.a),
                },
            },
            DEADLOCK => EventKind::Deadlock,
            INJECTED => EventKind::Injected {
                kind: injection_kind(self.aux),
                point: self.a,
                at: if self.aux & 4 != 0 {
                    InjectAt::Wake
                } else {
                    InjectAt::Suspend
                },
            },
            ACQUIRE => EventKind::Acquire {
                name: self.a,
                at: loc(),
            },
            RELEASE => EventKind::Release { name: self.a },
            VIOLATION => EventKind::Violation {
                code: ViolationCode::ALL[usize::from(self.aux)],
            },
            _ => EventKind::Drain,
        }
    }
}

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
    chunks: Vec<Vec<u64>>,
    /// The chunk being written (empty and unallocated until the first
    /// record), kept apart so that a write reaches it without going through
    /// the list.
    current: Vec<u64>,
    locations: Locations,
    /// The time of the last time record (zero before the first).
    last_time: u64,
    /// Step of the first event (the world's step when the trace began).
    base_step: u32,
    len: usize,
}

// Head word: the tag in the low five bits, then these flags, then `aux`
// (bits 8..16), `loc` (16..32) and the task (32..64).
const TAG_BITS: u64 = 0x1f;
const HEAD_POLL: u64 = 0x20;
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

/// Words per chunk (64 KiB).
const CHUNK_WORDS: usize = 8 * 1024;

thread_local! {
    static WORD_POOL: RefCell<Vec<Vec<u64>>> = const { RefCell::new(Vec::new()) };
    /// Encoders of dropped traces, emptied, with their current chunk and
    /// location list: a sweep makes a trace per run. Boxed because traces
    /// hold them boxed: handing one over moves a pointer, not the encoder.
    #[allow(clippy::vec_box)]
    static ENCODER_POOL: RefCell<Vec<Box<Encoded>>> = const { RefCell::new(Vec::new()) };
}

/// Interned locations a kept encoder carries over, at most.
const LOCATIONS_KEPT: usize = 1024;

/// Encoders kept per thread, at most.
const ENCODER_POOL_MAX: usize = 4;

/// An empty encoder: a dropped trace's when one is kept, else a new one.
fn fresh_encoder(base_step: u32) -> Box<Encoded> {
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
fn recycle_encoder(mut encoded: Box<Encoded>) {
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
    fn push(&mut self, event: Event) {
        self.len += 1;
        let raw = Raw::encode(&event, &mut self.locations);
        self.write(&raw, 0);
    }

    /// Writes `raw` with head `flags`: its head, and its operand word when
    /// an operand is set.
    #[inline(always)]
    fn write(&mut self, raw: &Raw, flags: u64) {
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
    fn write_ab(&mut self, raw: &Raw, flags: u64) {
        self.at_time(raw.time);
        self.put([raw.head(flags | HEAD_AB), join(raw.a, raw.b)]);
    }

    #[inline(always)]
    fn at_time(&mut self, time: u64) {
        if time != self.last_time {
            self.move_time(time);
        }
    }

    /// A poll of `raw`'s task, its wake of `woken`, then `raw`: one record
    /// with `woken` in `b` when `raw` leaves it free (and is not a wake),
    /// else two. `ab`: write
    /// the operand word whatever it holds (see `write_ab`).
    #[inline(always)]
    fn write_polled_woke(&mut self, raw: &Raw, woken: TaskId, ab: bool) {
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
    fn put<const N: usize>(&mut self, words: [u64; N]) {
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

    fn iter(&self) -> EncodedIter<'_> {
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
struct EncodedIter<'a> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A cloned trace's encoder (its chunk cut to length) is kept like any
    /// other, and the next trace still writes and reads back across chunks.
    #[test]
    fn an_encoder_kept_from_a_clone_writes_whole_chunks() {
        let here = std::panic::Location::caller();
        std::thread::spawn(move || {
            let mut original = EventStore::new(None, 0);
            original.push(spawn_at(here));
            let mut clone = original.clone();
            clone.recycle();
            let mut store = EventStore::new(None, 0);
            let events = 3 * CHUNK_WORDS;
            for _ in 0..events {
                store.push(spawn_at(here));
            }
            assert_eq!(store.iter().count(), events);
            assert_eq!(store.len(), events);
            original.recycle();
        })
        .join()
        .unwrap();
    }

    /// A spawn at `at` by task 0, as the store reads it back.
    fn spawn_at(at: SourceLocation) -> Event {
        Event {
            step: 0,
            time: Instant(0),
            task: TaskId(0),
            kind: EventKind::Spawn {
                child: TaskId(1),
                at,
            },
        }
    }

    /// A dropped trace's encoder, reused by the next trace of the thread,
    /// keeps none of the old trace's events, and the new trace reads back
    /// its own locations (it meets them in another order; the interned
    /// locations are carried over).
    #[test]
    fn a_reused_encoder_starts_empty() {
        let (first, second) = (
            std::panic::Location::caller(),
            std::panic::Location::caller(),
        );
        std::thread::spawn(move || {
            let mut old = EventStore::new(None, 0);
            old.push(spawn_at(first));
            old.push(spawn_at(second));
            old.recycle();
            let mut new = EventStore::new(None, 3);
            assert_eq!(new.len(), 0);
            new.push(spawn_at(second));
            new.push(spawn_at(first));
            let read: Vec<Event> = new.iter().collect();
            assert_eq!(read.len(), 2);
            assert_eq!(read[0].step, 3);
            let at = |event: &Event| match event.kind {
                EventKind::Spawn { at, .. } => at,
                _ => panic!("not a spawn: {event:?}"),
            };
            assert!(std::ptr::eq(at(&read[0]), second));
            assert!(std::ptr::eq(at(&read[1]), first));
            ENCODER_POOL.with(|pool| assert!(pool.borrow().is_empty(), "the encoder was reused"));
        })
        .join()
        .unwrap();
    }

    /// A suspension that waits on no task reads back the same from its
    /// one-word form, in both layouts and at every bound (and takes the
    /// two-word form past them), with its step.
    #[test]
    fn one_word_suspensions_read_back_at_every_boundary() {
        let here: SourceLocation = std::panic::Location::caller();
        let edges = |bits: u32| [0, 1, (1 << bits) - 1, 1 << bits];
        let mut cases = Vec::new();
        for task in edges(11).into_iter().chain(edges(23)).chain([u32::MAX - 1]) {
            for ordinal in edges(12).into_iter().chain(edges(24)).chain([u32::MAX]) {
                cases.push((TaskId(task), ordinal));
            }
        }
        let waits = [
            Wait::EXTERNAL,
            Wait {
                kind: WaitKind::Sleep,
                at: Some(here),
            },
            Wait {
                kind: WaitKind::Blocking(TaskId(9)),
                at: Some(here),
            },
        ];
        let write = |store: &mut EventStore| {
            let polls = std::cell::Cell::new(0);
            for (round, &(task, ordinal)) in cases.iter().enumerate() {
                let time = Instant(round as u64 / 4);
                for (index, wait) in waits.iter().enumerate() {
                    let polled = (round + index) % 2 == 0;
                    polls.set(polls.get() + u32::from(polled));
                    store.push_suspend(|| polls.get(), time, task, ordinal, *wait, polled);
                }
            }
        };
        let mut full = EventStore::new(None, 0);
        let mut capped = EventStore::new(Some(1 << 20), 0);
        write(&mut full);
        write(&mut capped);
        let all = |store: &EventStore| -> Vec<String> {
            store.iter().map(|event| format!("{event:?}")).collect()
        };
        assert_eq!(all(&full), all(&capped));
        // One word where it fits (either layout), two otherwise, plus a
        // two-word time record each time the clock moved.
        let fits = |task: u32, ordinal: u32| {
            (task < 1 << 23 && ordinal < 1 << 12) || (task < 1 << 11 && ordinal < 1 << 24)
        };
        let mut expected = (cases.len() - 1) / 4 * 2;
        for &(task, ordinal) in &cases {
            for wait in &waits {
                let waits_on_a_task = matches!(wait.kind, WaitKind::Blocking(_));
                expected += if !waits_on_a_task && fits(task.0, ordinal) {
                    1
                } else {
                    2
                };
            }
        }
        let EventStore::Bytes(encoded) = &full else {
            unreachable!()
        };
        let words: usize =
            encoded.current.len() + encoded.chunks.iter().map(Vec::len).sum::<usize>();
        assert_eq!(words, expected);
        // Only the second layout fits a task of 11 bits at 4096.
        assert!(!fits(1 << 11, 1 << 12) && fits((1 << 11) - 1, 1 << 12));
        assert!(cases.contains(&(TaskId((1 << 11) - 1), 1 << 12)));
    }

    /// What the world writes through the `push_*` paths that fold several
    /// events into one record reads back as the plain events a capped
    /// trace keeps, whether or not the record had room for the wake (a
    /// wait or an event that uses `b`, a woken task 0, a wake).
    #[test]
    fn folded_records_read_back_as_the_plain_events() {
        let here: SourceLocation = std::panic::Location::caller();
        let write = |store: &mut EventStore| {
            for round in 0..2_000u32 {
                let time = Instant(u64::from(round / 3) * 1_000);
                let step = || round;
                let (task, other) = (TaskId(round % 7), TaskId(round % 5));
                let wait = match round % 4 {
                    0 => Wait::EXTERNAL,
                    1 => Wait {
                        kind: WaitKind::Join(TaskId(round + 1)),
                        at: Some(here),
                    },
                    2 => Wait {
                        kind: WaitKind::Join(TaskId(0)),
                        at: Some(here),
                    },
                    _ => Wait {
                        kind: WaitKind::Sleep,
                        at: Some(here),
                    },
                };
                store.push_polled_wake_suspend(step, time, task, other, round, wait);
                store.push_suspend(step, time, other, round, wait, true);
                store.push_polled_wake(step, time, other, task);
                store.push_suspend(step, time, task, round + 1, wait, false);
                let event = |kind| Event {
                    step: round,
                    time,
                    task,
                    kind,
                };
                store.push_polled_woke(
                    event(EventKind::Complete {
                        outcome: Outcome::Panicked(round % 3),
                    }),
                    other,
                );
                store.push_polled_woke(
                    event(EventKind::Work {
                        cost_nanos: u64::from(round) << 31,
                        at: here,
                    }),
                    other,
                );
                for by in [WakeCause::Timer, WakeCause::Task(TaskId(round % 3 + 10))] {
                    store.push_polled_woke(event(EventKind::Wake { by }), other);
                }
                store.push_poll(step, time, task);
                store.push_wake(step, time, other, WakeCause::Task(task));
                store.push_polled(event(EventKind::Spawn {
                    child: other,
                    at: here,
                }));
            }
        };
        let mut full = EventStore::new(None, 0);
        let mut capped = EventStore::new(Some(1 << 20), 0);
        write(&mut full);
        write(&mut capped);
        assert!(matches!(&full, EventStore::Bytes(encoded) if encoded.chunks.len() > 1));
        assert_eq!(full.len(), capped.len());
        let (full, capped): (Vec<Event>, Vec<Event>) =
            (full.iter().collect(), capped.iter().collect());
        assert_eq!(full.len(), capped.len());
        // Steps differ by design (a full trace recounts them from the
        // polls); everything else must match.
        let plain = |events: &[Event]| -> Vec<String> {
            events
                .iter()
                .map(|event| format!("{:?} {:?} {:?}", event.time, event.task, event.kind))
                .collect()
        };
        assert_eq!(plain(&full), plain(&capped));
    }

    /// Every kind, with extreme operands, across several chunks and with
    /// large time jumps, reads back exactly as written (steps recounted from
    /// the polls).
    #[test]
    fn word_stream_round_trips_every_kind() {
        let here: SourceLocation = std::panic::Location::caller();
        let kinds = [
            EventKind::Spawn {
                child: TaskId(u32::MAX),
                at: here,
            },
            EventKind::Suspend {
                ordinal: u32::MAX,
                wait: Wait {
                    kind: WaitKind::Join(TaskId(7)),
                    at: Some(here),
                },
            },
            EventKind::Suspend {
                ordinal: 1,
                wait: Wait::EXTERNAL,
            },
            EventKind::Wake {
                by: WakeCause::Task(TaskId(3)),
            },
            EventKind::Wake {
                by: WakeCause::Timer,
            },
            EventKind::CancelRequested {
                by: Some(TaskId(0)),
                via: CancelVia::Group(9),
                at: None,
            },
            EventKind::CancelRequested {
                by: Some(TaskId(u32::MAX - 1)),
                via: CancelVia::Timeout(u32::MAX),
                at: Some(here),
            },
            EventKind::CancelRequested {
                by: None,
                via: CancelVia::Injection,
                at: None,
            },
            EventKind::CancelRequested {
                by: Some(TaskId(2)),
                via: CancelVia::Handle,
                at: Some(here),
            },
            EventKind::CancelDelivered { at: here },
            EventKind::Abort { by: None, at: None },
            EventKind::Abort {
                by: Some(TaskId(6)),
                at: Some(here),
            },
            EventKind::Work {
                cost_nanos: u64::MAX,
                at: here,
            },
            EventKind::BlockingStart {
                cost_nanos: 1 << 40,
                at: here,
            },
            EventKind::Random {
                value: u64::MAX,
                at: here,
            },
            EventKind::TimeoutFired {
                scope: u32::MAX,
                at: here,
            },
            EventKind::Complete {
                outcome: Outcome::Panicked(5),
            },
            EventKind::Complete {
                outcome: Outcome::Aborted,
            },
            EventKind::Injected {
                kind: InjectionKind::Timeout,
                point: 4,
                at: InjectAt::Wake,
            },
            EventKind::Violation {
                code: ViolationCode::ALL[ViolationCode::ALL.len() - 1],
            },
            EventKind::Drain,
        ];
        let mut store = EventStore::new(None, 10);
        let mut written = Vec::new();
        let mut time = 0u64;
        for round in 0..3_000u32 {
            // Polls folded into the next record (same task, same instant)
            // and polls left on their own (the next record moves time).
            let step = 11 + round;
            let task = TaskId(round % 5 * 1_000_003);
            let poll = Event {
                step,
                time: Instant(time),
                task,
                kind: EventKind::Poll,
            };
            store.push(poll);
            written.push(poll);
            if round % 3 == 0 {
                // A poll folds into a wake made by the polled task.
                let wake = Event {
                    step,
                    time: Instant(time),
                    task: TaskId(42),
                    kind: EventKind::Wake {
                        by: WakeCause::Task(task),
                    },
                };
                store.push(wake);
                written.push(wake);
            }
            if round % 7 == 0 {
                time += 1 << 33;
            }
            for kind in kinds {
                let event = Event {
                    step,
                    time: Instant(time),
                    task,
                    kind,
                };
                store.push(event);
                written.push(event);
            }
        }
        assert!(matches!(&store, EventStore::Bytes(encoded) if encoded.chunks.len() > 1));
        assert_eq!(store.len(), written.len());
        let read: Vec<Event> = store.iter().collect();
        assert_eq!(format!("{read:?}"), format!("{written:?}"));
    }
}
