//! The store's tests: what is pushed reads back, through every `push_*`
//! path, in both forms of trace, and the pools reuse memory safely.

use super::encoded::{CHUNK_WORDS, ENCODER_POOL};
use super::EventStore;
use crate::inject::{InjectAt, InjectionKind};
use crate::trace::{
    CancelVia, Event, EventKind, IoWait, Outcome, SourceLocation, Wait, WaitKind, WakeCause,
};
use crate::vocab::Instant;
use crate::vocab::TaskId;
use crate::vocab::ViolationCode;

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
        Wait {
            kind: WaitKind::Io(IoWait::SimplexWrite),
            at: Some(here),
        },
        // Codes past four bits (a TCP write's, accept's, connect's) take
        // the long form.
        Wait {
            kind: WaitKind::Io(IoWait::TcpRead),
            at: Some(here),
        },
        Wait {
            kind: WaitKind::Io(IoWait::TcpConnect),
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
            let long = matches!(
                wait.kind,
                WaitKind::Blocking(_)
                    | WaitKind::Io(IoWait::TcpWrite | IoWait::TcpAccept | IoWait::TcpConnect)
            );
            expected += if !long && fits(task.0, ordinal) { 1 } else { 2 };
        }
    }
    let EventStore::Bytes(encoded) = &full else {
        unreachable!()
    };
    let words: usize = encoded.current.len() + encoded.chunks.iter().map(Vec::len).sum::<usize>();
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
    let (full, capped): (Vec<Event>, Vec<Event>) = (full.iter().collect(), capped.iter().collect());
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
            race: None,
            at: here,
        },
        EventKind::TimeoutFired {
            scope: 3,
            race: Some(u32::MAX),
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
        EventKind::GraceRun {
            until: Instant(u64::MAX - 7),
        },
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
