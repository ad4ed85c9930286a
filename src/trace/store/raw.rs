//! One event flattened into a [`Raw`] record: its tag, a small field, the
//! interned location, the task and two 32-bit operands, as the word stream
//! (see [`Encoded`](super::encoded::Encoded)) stores it. Here the tags, the
//! codes of waits and injections, and the conversions from an [`Event`] (or
//! straight from the world's arguments, on the hot path) and back.

use super::locations::{Locations, NO_LOCATION};
use crate::trace::{CancelVia, Event, EventKind, IoWait, Outcome, Wait, WaitKind, WakeCause};
use crate::vocab::Instant;
use crate::vocab::TaskId;
use crate::vocab::ViolationCode;
use crate::vocab::{InjectAt, InjectionKind};

/// One event, flattened: what [`Encoded`](super::encoded::Encoded) writes as bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Raw {
    pub(super) time: u64,
    pub(super) task: u32,
    pub(super) tag: u8,
    pub(super) aux: u8,
    pub(super) loc: u16,
    pub(super) a: u32,
    pub(super) b: u32,
}

// Tags.
const SPAWN: u8 = 0;
pub(super) const POLL: u8 = 1;
pub(super) const SUSPEND: u8 = 2;
pub(super) const WAKE: u8 = 4;
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
// 20 and 21 are the encoder's own (time, short suspension).
const CHOICE: u8 = 22;
const SELECT_WON: u8 = 23;
const SIGNAL_FIRED: u8 = 24;
const CHOICE_LABELLED: u8 = 25;
const HELD_FOR_EXPIRY: u8 = 26;
const GRACE_RUN: u8 = 27;

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
        WaitKind::Select => 9,
        // 10 to 13, then 15 to 18, in `IoWait`'s declaration order: a
        // cast, not a second match (14 came before the TCP waits).
        WaitKind::Io(io) if (io as u8) < 4 => 10 + io as u8,
        WaitKind::Io(io) => 11 + io as u8,
        WaitKind::SelectBranch(_) => 14,
    };
    let task = match kind {
        WaitKind::Join(task) | WaitKind::Shield(task) | WaitKind::Blocking(task) => task.0,
        WaitKind::SelectBranch(branch) => branch,
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
        9 => WaitKind::Select,
        10 => WaitKind::Io(IoWait::DuplexRead),
        11 => WaitKind::Io(IoWait::DuplexWrite),
        12 => WaitKind::Io(IoWait::SimplexRead),
        13 => WaitKind::Io(IoWait::SimplexWrite),
        14 => WaitKind::SelectBranch(task),
        15 => WaitKind::Io(IoWait::TcpRead),
        16 => WaitKind::Io(IoWait::TcpWrite),
        17 => WaitKind::Io(IoWait::TcpAccept),
        18 => WaitKind::Io(IoWait::TcpConnect),
        _ => WaitKind::External,
    }
}

fn injection_kind(code: u8) -> InjectionKind {
    if code & 8 != 0 {
        return InjectionKind::Stall;
    }
    if code & 16 != 0 {
        return InjectionKind::TimeoutOuter;
    }
    match code & 3 {
        0 => InjectionKind::CancelDrop,
        1 => InjectionKind::CancelCooperative,
        2 => InjectionKind::Timeout,
        _ => InjectionKind::Signal,
    }
}

pub(super) fn split(value: u64) -> (u32, u32) {
    (value as u32, (value >> 32) as u32)
}

pub(super) fn join(a: u32, b: u32) -> u64 {
    u64::from(a) | (u64::from(b) << 32)
}

impl Raw {
    /// A poll of `task`.
    #[inline(always)]
    pub(super) fn poll(time: Instant, task: TaskId) -> Raw {
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
    pub(super) fn wakes_by_task(&self) -> bool {
        self.tag == WAKE && self.aux == 0
    }

    /// A wake (as `encode` writes one), built without an `Event`.
    #[inline(always)]
    pub(super) fn wake(time: Instant, task: TaskId, by: WakeCause) -> Raw {
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
    pub(super) fn suspend(
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
    pub(super) fn encode(event: &Event, locations: &mut Locations) -> Raw {
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
            EventKind::HeldForExpiry { until, blocking } => {
                raw.tag = HELD_FOR_EXPIRY;
                raw.aux = u8::from(blocking);
                (raw.a, raw.b) = split(until.as_nanos());
            }
            EventKind::TimeoutFired { scope, race, at } => {
                raw.tag = TIMEOUT_FIRED;
                raw.a = scope;
                (raw.aux, raw.b) = match race {
                    Some(race) => (1, race),
                    None => (0, 0),
                };
                raw.loc = locations.intern(at);
            }
            EventKind::Random { value, at } => {
                raw.tag = RANDOM;
                (raw.a, raw.b) = split(value);
                raw.loc = locations.intern(at);
            }
            EventKind::Choice {
                chosen,
                options,
                at,
                label,
            } => {
                raw.loc = locations.intern(at);
                match (label, u8::try_from(options)) {
                    // A labelled choice: the options in the small field.
                    (Some(label), Ok(options)) => {
                        raw.tag = CHOICE_LABELLED;
                        raw.aux = options;
                        (raw.a, raw.b) = (chosen, label);
                    }
                    _ => {
                        raw.tag = CHOICE;
                        (raw.a, raw.b) = (chosen, options);
                    }
                }
            }
            EventKind::SelectWon {
                branch,
                dropped,
                point,
                at,
            } => {
                raw.tag = SELECT_WON;
                raw.aux = branch.min(255) as u8;
                (raw.a, raw.b) = (dropped, point);
                raw.loc = locations.intern(at);
            }
            EventKind::SignalFired => raw.tag = SIGNAL_FIRED,
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
                    InjectionKind::Signal => 3,
                    InjectionKind::Stall => 8,
                    InjectionKind::TimeoutOuter => 16 | 2,
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
            EventKind::GraceRun { until } => {
                raw.tag = GRACE_RUN;
                (raw.a, raw.b) = split(until.as_nanos());
            }
        }
        raw
    }

    pub(super) fn kind(&self, locations: &Locations) -> EventKind {
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
            GRACE_RUN => EventKind::GraceRun {
                until: Instant(join(self.a, self.b)),
            },
            HELD_FOR_EXPIRY => EventKind::HeldForExpiry {
                until: Instant(join(self.a, self.b)),
                blocking: self.aux == 1,
            },
            TIMEOUT_FIRED => EventKind::TimeoutFired {
                scope: self.a,
                race: (self.aux == 1).then_some(self.b),
                at: loc(),
            },
            RANDOM => EventKind::Random {
                value: join(self.a, self.b),
                at: loc(),
            },
            CHOICE => EventKind::Choice {
                chosen: self.a,
                options: self.b,
                at: loc(),
                label: None,
            },
            CHOICE_LABELLED => EventKind::Choice {
                chosen: self.a,
                options: u32::from(self.aux),
                at: loc(),
                label: Some(self.b),
            },
            SELECT_WON => EventKind::SelectWon {
                branch: u32::from(self.aux),
                dropped: self.a,
                point: self.b,
                at: loc(),
            },
            SIGNAL_FIRED => EventKind::SignalFired,
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
