//! Where a trace keeps its events, compactly.
//!
//! The executor records several events per poll, so storage must be cheap:
//! a full trace appends 24-byte raw records to fixed-size chunks (no
//! doubling, no copying) taken from a per-thread pool, so that the many short
//! runs of a sweep reuse memory instead of faulting in fresh pages. Source
//! locations are interned (a 16-bit index); the step of an event is not
//! stored but recounted from the polls before it; and a poll immediately
//! followed by its suspension at the same instant shares one record. The
//! public [`Event`] is rebuilt when reading. A capped trace keeps a ring of
//! plain events.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};

use super::{CancelVia, Event, EventKind, Outcome, SourceLocation, Wait, WaitKind, WakeCause};
use crate::inject::{InjectAt, InjectionKind};
use crate::oracle::ViolationCode;
use crate::task::TaskId;
use crate::time::Instant;

const CHUNK: usize = 4096;
const POOL_MAX: usize = 256;
const NO_LOCATION: u16 = u16::MAX;

thread_local! {
    static POOL: RefCell<Vec<Vec<Raw>>> = const { RefCell::new(Vec::new()) };
}

fn fresh_chunk() -> Vec<Raw> {
    POOL.with(|pool| pool.borrow_mut().pop())
        .unwrap_or_else(|| Vec::with_capacity(CHUNK))
}

fn recycle(mut chunk: Vec<Raw>) {
    if chunk.capacity() != CHUNK {
        return;
    }
    chunk.clear();
    let _ = POOL.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.len() < POOL_MAX {
            pool.push(chunk);
        }
    });
}

/// One stored event: 24 bytes.
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
const POLL_SUSPEND: u8 = 3;
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

/// Interned source locations.
#[derive(Clone, Debug, Default)]
pub(crate) struct Locations {
    list: Vec<SourceLocation>,
    index: HashMap<usize, u16>,
    cache: Vec<(usize, u16)>,
}

impl Locations {
    #[inline]
    fn intern(&mut self, at: SourceLocation) -> u16 {
        let key = at as *const _ as usize;
        if self.cache.is_empty() {
            self.cache = vec![(0, NO_LOCATION); 256];
        }
        let slot = (key >> 3) & 255;
        if self.cache[slot].0 == key {
            return self.cache[slot].1;
        }
        let next = self.list.len();
        let id = *self.index.entry(key).or_insert_with(|| {
            if next >= usize::from(NO_LOCATION) {
                NO_LOCATION
            } else {
                next as u16
            }
        });
        if usize::from(id) == next {
            self.list.push(at);
        }
        self.cache[slot] = (key, id);
        id
    }

    fn get(&self, id: u16) -> Option<SourceLocation> {
        self.list.get(usize::from(id)).copied()
    }

    fn opt(&mut self, at: Option<SourceLocation>) -> u16 {
        at.map_or(NO_LOCATION, |at| self.intern(at))
    }
}

fn wait_code(kind: WaitKind) -> (u8, u32) {
    match kind {
        WaitKind::Yield => (0, 0),
        WaitKind::Sleep => (1, 0),
        WaitKind::Timeout => (2, 0),
        WaitKind::Join(task) => (3, task.0),
        WaitKind::Checkpoint => (4, 0),
        WaitKind::CancelSignal => (5, 0),
        WaitKind::Shield(task) => (6, task.0),
        WaitKind::Blocking(task) => (7, task.0),
        WaitKind::External => (8, 0),
    }
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
                raw.tag = SUSPEND;
                raw.a = ordinal;
                (raw.aux, raw.b) = wait_code(wait.kind);
                raw.loc = locations.opt(wait.at);
            }
            EventKind::Wake { by } => {
                raw.tag = WAKE;
                (raw.aux, raw.a) = match by {
                    WakeCause::Task(task) => (0, task.0),
                    WakeCause::Timer => (1, 0),
                    WakeCause::Outside => (2, 0),
                };
            }
            EventKind::CancelRequested { by, via } => {
                raw.tag = CANCEL_REQUESTED;
                raw.a = by.map_or(0, |task| task.0);
                let (via, group) = match via {
                    CancelVia::Handle => (0, 0),
                    CancelVia::Group(group) => (1, group),
                    CancelVia::Injection => (2, 0),
                };
                raw.aux = via | if by.is_some() { 4 } else { 0 };
                raw.b = group;
            }
            EventKind::CancelDelivered { at } => {
                raw.tag = CANCEL_DELIVERED;
                raw.loc = locations.intern(at);
            }
            EventKind::Abort { by } => {
                raw.tag = ABORT;
                raw.aux = u8::from(by.is_some());
                raw.a = by.map_or(0, |task| task.0);
            }
            EventKind::Work { cost_nanos } => {
                raw.tag = WORK;
                (raw.a, raw.b) = split(cost_nanos);
            }
            EventKind::BlockingStart { cost_nanos, at } => {
                raw.tag = BLOCKING_START;
                (raw.a, raw.b) = split(cost_nanos);
                raw.loc = locations.intern(at);
            }
            EventKind::BlockingEnd => raw.tag = BLOCKING_END,
            EventKind::TimeoutFired { at } => {
                raw.tag = TIMEOUT_FIRED;
                raw.loc = locations.intern(at);
            }
            EventKind::Random { value } => {
                raw.tag = RANDOM;
                (raw.a, raw.b) = split(value);
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
            SUSPEND | POLL_SUSPEND => EventKind::Suspend {
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
                    _ => CancelVia::Injection,
                },
            },
            CANCEL_DELIVERED => EventKind::CancelDelivered { at: loc() },
            ABORT => EventKind::Abort {
                by: (self.aux != 0).then_some(TaskId(self.a)),
            },
            WORK => EventKind::Work {
                cost_nanos: join(self.a, self.b),
            },
            BLOCKING_START => EventKind::BlockingStart {
                cost_nanos: join(self.a, self.b),
                at: loc(),
            },
            BLOCKING_END => EventKind::BlockingEnd,
            TIMEOUT_FIRED => EventKind::TimeoutFired { at: loc() },
            RANDOM => EventKind::Random {
                value: join(self.a, self.b),
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
    Chunks {
        chunks: Vec<Vec<Raw>>,
        locations: Locations,
        /// A poll not stored yet: it shares a record with its suspension
        /// when that comes next.
        pending_poll: Option<Event>,
        /// Step of the first event (the world's step when the trace began).
        base_step: u32,
        len: usize,
    },
    Ring {
        ring: VecDeque<Event>,
        cap: usize,
        dropped: u64,
    },
}

impl EventStore {
    pub fn new(cap: Option<usize>, base_step: u32) -> Self {
        match cap {
            None => EventStore::Chunks {
                chunks: Vec::new(),
                locations: Locations::default(),
                pending_poll: None,
                base_step,
                len: 0,
            },
            Some(cap) => EventStore::Ring {
                ring: VecDeque::with_capacity(cap.min(1 << 20)),
                cap,
                dropped: 0,
            },
        }
    }

    #[inline]
    pub fn push(&mut self, event: Event) {
        match self {
            EventStore::Chunks {
                chunks,
                locations,
                pending_poll,
                len,
                ..
            } => {
                *len += 1;
                let raw = match (pending_poll.take(), &event.kind) {
                    (Some(poll), EventKind::Suspend { .. })
                        if poll.task == event.task && poll.time == event.time =>
                    {
                        let mut raw = Raw::encode(&event, locations);
                        raw.tag = POLL_SUSPEND;
                        raw
                    }
                    (pending, kind) => {
                        if let Some(poll) = pending {
                            store(chunks, Raw::encode(&poll, locations));
                        }
                        if matches!(kind, EventKind::Poll) {
                            *pending_poll = Some(event);
                            return;
                        }
                        Raw::encode(&event, locations)
                    }
                };
                store(chunks, raw);
            }
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
        }
    }

    pub fn len(&self) -> usize {
        match self {
            EventStore::Chunks { len, .. } => *len,
            EventStore::Ring { ring, .. } => ring.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn dropped(&self) -> u64 {
        match self {
            EventStore::Chunks { .. } => 0,
            EventStore::Ring { dropped, .. } => *dropped,
        }
    }

    /// The events, rebuilt, oldest first.
    pub fn iter(&self) -> Box<dyn Iterator<Item = Event> + '_> {
        match self {
            EventStore::Chunks {
                chunks,
                locations,
                pending_poll,
                base_step,
                ..
            } => {
                let mut step = *base_step;
                let stored = chunks.iter().flatten().flat_map(move |raw| {
                    let time = Instant(raw.time);
                    let task = TaskId(raw.task);
                    let poll = if matches!(raw.tag, POLL | POLL_SUSPEND) {
                        step = step.saturating_add(1);
                        Some(Event {
                            step,
                            time,
                            task,
                            kind: EventKind::Poll,
                        })
                    } else {
                        None
                    };
                    let rest = (raw.tag != POLL).then(|| Event {
                        step,
                        time,
                        task,
                        kind: raw.kind(locations),
                    });
                    poll.into_iter().chain(rest)
                });
                Box::new(stored.chain(pending_poll.iter().copied()))
            }
            EventStore::Ring { ring, .. } => Box::new(ring.iter().copied()),
        }
    }
}

#[inline]
fn store(chunks: &mut Vec<Vec<Raw>>, raw: Raw) {
    match chunks.last_mut() {
        Some(last) if last.len() < CHUNK => last.push(raw),
        _ => {
            let mut chunk = fresh_chunk();
            chunk.push(raw);
            chunks.push(chunk);
        }
    }
}

impl Clone for EventStore {
    fn clone(&self) -> Self {
        match self {
            EventStore::Chunks {
                chunks,
                locations,
                pending_poll,
                base_step,
                len,
            } => EventStore::Chunks {
                chunks: chunks
                    .iter()
                    .map(|chunk| {
                        let mut copy = Vec::with_capacity(CHUNK);
                        copy.extend_from_slice(chunk);
                        copy
                    })
                    .collect(),
                locations: locations.clone(),
                pending_poll: *pending_poll,
                base_step: *base_step,
                len: *len,
            },
            EventStore::Ring { ring, cap, dropped } => EventStore::Ring {
                ring: ring.clone(),
                cap: *cap,
                dropped: *dropped,
            },
        }
    }
}

impl Drop for EventStore {
    fn drop(&mut self) {
        if let EventStore::Chunks { chunks, .. } = self {
            for chunk in chunks.drain(..) {
                recycle(chunk);
            }
        }
    }
}
