//! The timer queue against a sorted model, and its edge cases.

use std::sync::{Arc, Mutex};
use std::task::{Wake, Waker};

use super::{Target, TimerKey, Timers};
use crate::schedule::SimRng;

/// Wakers that write their number into a shared log when woken.
#[derive(Default)]
struct Log(Arc<Mutex<Vec<u32>>>);

struct Numbered {
    number: u32,
    log: Arc<Mutex<Vec<u32>>>,
}

impl Wake for Numbered {
    fn wake(self: Arc<Self>) {
        self.log.lock().unwrap().push(self.number);
    }
}

impl Log {
    fn waker(&self, number: u32) -> Waker {
        Waker::from(Arc::new(Numbered {
            number,
            log: Arc::clone(&self.0),
        }))
    }

    fn take(&self) -> Vec<u32> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

/// Fires every timer due by `now`, one instant at a time, as the world
/// does; returns the wakers' numbers, one list per instant.
fn fire_until(timers: &mut Timers, log: &Log, now: u64) -> Vec<Vec<u32>> {
    let mut instants = Vec::new();
    let mut wakers = Vec::new();
    while let Some(deadline) = timers.next_deadline().filter(|&at| at <= now) {
        let first = timers.take_due_at(deadline, &mut wakers);
        first
            .into_iter()
            .chain(wakers.drain(..))
            .filter_map(Target::into_waker)
            .for_each(Waker::wake);
        instants.push(log.take());
    }
    instants
}

#[test]
fn equal_deadlines_fire_together_in_registration_order() {
    let (mut timers, log) = (Timers::default(), Log::default());
    for (number, deadline) in [(0, 50), (1, 20), (2, 50), (3, 20), (4, 50), (5, 30)] {
        timers.insert(deadline, log.waker(number).into());
    }
    assert_eq!(
        fire_until(&mut timers, &log, 100),
        [vec![1, 3], vec![5], vec![0, 2, 4]]
    );
}

#[test]
fn nothing_fires_before_its_deadline() {
    let (mut timers, log) = (Timers::default(), Log::default());
    timers.insert(1_000_000_001, log.waker(0).into());
    assert!(fire_until(&mut timers, &log, 1_000_000_000).is_empty());
    assert_eq!(timers.next_deadline(), Some(1_000_000_001));
    assert_eq!(fire_until(&mut timers, &log, 1_000_000_001), [vec![0]]);
    assert_eq!(timers.next_deadline(), None);
}

#[test]
fn far_future_deadlines_keep_their_exact_order() {
    let (mut timers, log) = (Timers::default(), Log::default());
    let day = 86_400 * 1_000_000_000;
    let deadlines = [u64::MAX, 3 * day + 1, u64::MAX - 1, 3 * day, 7, u64::MAX];
    for (number, deadline) in deadlines.into_iter().enumerate() {
        timers.insert(deadline, log.waker(number as u32).into());
    }
    assert_eq!(timers.next_deadline(), Some(7));
    assert_eq!(
        fire_until(&mut timers, &log, u64::MAX - 2),
        [vec![4], vec![3], vec![1]]
    );
    assert_eq!(
        fire_until(&mut timers, &log, u64::MAX),
        [vec![2], vec![0, 5]]
    );
}

#[test]
fn a_removed_timer_never_fires() {
    let (mut timers, log) = (Timers::default(), Log::default());
    let first = timers.insert(10, log.waker(0).into());
    timers.insert(20, log.waker(1).into());
    timers.insert(10, log.waker(2).into());
    let only = timers.insert(15, log.waker(3).into());
    timers.remove(first);
    timers.remove(only);
    assert_eq!(fire_until(&mut timers, &log, 30), [vec![2], vec![1]]);
}

/// `timeout(1h, quick())` in a loop arms and cancels a timer per turn:
/// nothing of them may stay behind, at one instant or at many.
#[test]
fn cancelled_timers_do_not_pile_up() {
    let (mut timers, log) = (Timers::default(), Log::default());
    let keep = timers.insert(5, log.waker(0).into());
    for turn in 0..10_000u64 {
        let same = timers.insert(3_600_000, log.waker(1).into());
        let distinct = timers.insert(3_600_000 + turn, log.waker(2).into());
        timers.remove(same);
        timers.remove(distinct);
    }
    assert_eq!(timers.instants(), 1, "only the kept timer's instant");
    assert!(
        timers.order.len() <= 64,
        "stale deadlines: {}",
        timers.order.len()
    );
    assert_eq!(timers.next_deadline(), Some(5));
    assert!(!timers.poll(keep, &log.waker(0), None));
    assert_eq!(fire_until(&mut timers, &log, u64::MAX), [vec![0]]);
}

#[test]
fn a_stale_key_neither_cancels_nor_fires_the_slots_next_timer() {
    let (mut timers, log) = (Timers::default(), Log::default());
    let old = timers.insert(10, log.waker(0).into());
    timers.remove(old);
    let new = timers.insert(10, log.waker(1).into());
    assert_eq!(
        (new.deadline, new.position),
        (old.deadline, old.position),
        "the place is reused"
    );
    timers.remove(old);
    assert!(timers.fire(old).is_none());
    assert!(
        timers.poll(old, &log.waker(2), None),
        "a stale key reads as fired"
    );
    assert!(!timers.poll(new, &log.waker(1), None));
    assert_eq!(fire_until(&mut timers, &log, 20), [vec![1]]);
    assert!(timers.poll(old, &log.waker(2), None));
}

#[test]
fn poll_reports_fired_after_the_deadline_and_an_armed_timer_takes_the_waker() {
    let (mut timers, log) = (Timers::default(), Log::default());
    let key = timers.insert(10, log.waker(0).into());
    assert!(!timers.poll(key, &log.waker(1), None));
    assert_eq!(fire_until(&mut timers, &log, 10), [vec![1]]);
    assert!(timers.poll(key, &log.waker(2), None));
    timers.remove(key);
    let reused = timers.insert(10, log.waker(3).into());
    assert_eq!(
        (reused.deadline, reused.position),
        (key.deadline, key.position)
    );
    assert!(
        timers.poll(key, &log.waker(2), None),
        "the old key reads as fired"
    );
    assert!(!timers.poll(reused, &log.waker(3), None));
}

#[test]
fn a_forced_fire_wakes_once_and_the_timer_is_not_due_again() {
    let (mut timers, log) = (Timers::default(), Log::default());
    let forced = timers.insert(10, log.waker(0).into());
    timers.insert(10, log.waker(1).into());
    timers
        .fire(forced)
        .and_then(Target::into_waker)
        .expect("armed")
        .wake();
    assert_eq!(log.take(), [0]);
    assert!(timers.fire(forced).is_none());
    assert!(timers.poll(forced, &log.waker(0), None));
    assert_eq!(fire_until(&mut timers, &log, 10), [vec![1]]);
}

#[test]
fn interleaved_arming_cancelling_and_firing_match_a_sorted_model() {
    // Many instants (the hash map and heap), few (the short list), and
    // a count that keeps crossing between the two.
    let growing = check_against_model(11, 8);
    assert!(growing.grew >= 1, "{growing:?}");
    let small = check_against_model(12, 1);
    assert_eq!(small.grew, 0, "{small:?}");
    let mixed = check_against_model(13, 4);
    assert!(mixed.grew >= 2 && mixed.shrank >= 2, "{mixed:?}");
}

/// How often a model run moved the groups between the short list and
/// the hash map.
#[derive(Debug, Default)]
struct Moves {
    grew: u32,
    shrank: u32,
}

/// Arms up to `arms - 1` timers per round, cancels or forces one every
/// other round, fires the earliest instant each round, and checks each
/// step against a sorted model.
fn check_against_model(seed: u64, arms: u64) -> Moves {
    let (mut timers, log) = (Timers::default(), Log::default());
    let mut rng = SimRng::new(seed);
    let mut moves = Moves::default();
    let mut was_large = false;
    // The model: armed timers by (deadline, number); numbers rise with
    // registration, so this is the order they must fire in.
    let mut model = std::collections::BTreeSet::new();
    let mut keys: Vec<(TimerKey, u64, u32)> = Vec::new();
    let mut now = 0u64;
    let mut number = 0u32;
    for _ in 0..3_000 {
        for _ in 0..rng.below(arms) {
            // Nanoseconds to days ahead, often on a shared instant.
            let ahead = match rng.below(4) {
                0 => rng.below(64),
                1 => rng.below(4) * 1_000_000,
                2 => rng.below(1_000) * 1_000_000,
                _ => rng.below(1 << 50),
            };
            let deadline = now.saturating_add(ahead + 1);
            keys.push((
                timers.insert(deadline, log.waker(number).into()),
                deadline,
                number,
            ));
            model.insert((deadline, number));
            number += 1;
        }
        // Cancel or force some, enough for compactions.
        if !keys.is_empty() && rng.below(2) == 0 {
            let (key, deadline, number) = keys.swap_remove(rng.below(keys.len() as u64) as usize);
            if rng.below(2) == 0 {
                timers.remove(key);
            } else {
                timers
                    .fire(key)
                    .and_then(Target::into_waker)
                    .expect("armed")
                    .wake();
                assert_eq!(log.take(), [number]);
                timers.remove(key);
            }
            model.remove(&(deadline, number));
        }
        let expected = model.first().map(|&(deadline, _)| deadline);
        assert_eq!(timers.next_deadline(), expected);
        if let Some(deadline) = expected {
            now = deadline;
            let due: Vec<u32> = model
                .iter()
                .take_while(|&&(at, _)| at == deadline)
                .map(|&(_, number)| number)
                .collect();
            assert_eq!(
                fire_until(&mut timers, &log, now),
                std::slice::from_ref(&due)
            );
            model.retain(|&(at, _)| at != deadline);
            keys.retain(|&(key, _, number)| {
                !due.contains(&number) || {
                    assert!(timers.poll(key, &log.waker(0), None));
                    timers.remove(key);
                    false
                }
            });
        }
        match (was_large, timers.large) {
            (false, true) => moves.grew += 1,
            (true, false) => moves.shrank += 1,
            _ => {}
        }
        was_large = timers.large;
    }
    moves
}
