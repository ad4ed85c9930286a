//! The timer queue of one world.
//!
//! Invariants: armed timers are listed under their deadline in registration
//! order, so timers due at the same instant come out in registration order
//! and the scheduler picks among them. A timer's key names its deadline and
//! its place in that deadline's list, so arming, polling, cancelling and
//! firing touch only that list: there is no separate table of timers. A
//! cancelled timer stays in its
//! list, marked, until its instant is done; an instant whose timers are all
//! cancelled is dropped at once, so cancelled timers never pile up.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::num::NonZeroU32;
use std::task::Waker;

use crate::prefetch::prefetch;
use crate::vocab::TaskKey;

/// Names one registration of a timer: its instant, its place in that
/// instant's list, and a sequence number that no other registration has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimerKey {
    deadline: u64,
    seq: u64,
    position: u32,
}

impl TimerKey {
    /// The key of a registration at `deadline` from its other parts (as
    /// [`TimerKey::parts`] gives them).
    #[inline(always)]
    pub fn new(deadline: u64, seq: u64, place: NonZeroU32) -> TimerKey {
        TimerKey {
            deadline,
            seq,
            position: place.get() - 1,
        }
    }

    /// The key without its deadline, for a holder that keeps the deadline
    /// itself: the sequence number, and the place in the instant's list
    /// counted from 1 (so that an unarmed holder needs no separate flag).
    #[inline(always)]
    pub fn parts(self) -> (u64, NonZeroU32) {
        // A list cannot hold u32::MAX timers (that is 128 GiB of them).
        (self.seq, NonZeroU32::MIN.saturating_add(self.position))
    }
}

/// Whom a timer wakes.
pub(crate) enum Target {
    /// A task of this world, armed from its own poll with its own waker:
    /// firing queues it directly (no waker clone when arming, and the
    /// waker's memory is not touched when firing).
    Task(TaskKey),
    /// Any other waker (a combinator's, another world's).
    Waker(Waker),
}

#[cfg(test)]
impl Timers {
    /// Number of instants with a group (in the slots: with an armed timer).
    fn instants(&self) -> usize {
        if self.large {
            self.groups.len()
        } else {
            self.small_armed.count_ones() as usize
        }
    }
}

#[cfg(test)]
impl Target {
    /// The waker, if this target is one.
    pub fn into_waker(self) -> Option<Waker> {
        match self {
            Target::Waker(waker) => Some(waker),
            Target::Task(_) => None,
        }
    }
}

impl From<Waker> for Target {
    fn from(waker: Waker) -> Self {
        Target::Waker(waker)
    }
}

enum State {
    Armed(Target),
    Fired,
    Cancelled,
}

struct Listed {
    seq: u64,
    state: State,
}

/// The timers of one instant, in registration order.
struct Group {
    listed: Vec<Listed>,
    /// How many are still armed (a full word: see docs/performance.md,
    /// "Whole words").
    armed: usize,
}

/// Hashes a deadline with one multiplication (the deadlines are the
/// simulation's own numbers; no attacker chooses them).
#[derive(Default)]
struct DeadlineHasher(u64);

impl Hasher for DeadlineHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = (value ^ self.0).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Up to this many distinct instants, the groups sit in a few fixed slots
/// (most worlds: a few tasks, each with a timer or two); past it, in a hash
/// map with a heap of instants.
const SMALL_INSTANTS: usize = 8;

/// Timers grouped by deadline: each instant holds its registrations in
/// order, so firing an instant takes one group.
///
/// While there are few instants, the groups sit in `small`: a handful of
/// slots, in no order, each free (no armed timer) or holding one instant.
/// Finding an instant (or the earliest) is a scan of a few words; a slot
/// is filled and emptied where it lies, keeping its list's storage, so no
/// group is ever moved. Past [`SMALL_INSTANTS`] they move to a hash map
/// (arming a timer at an instant that already has one is a hash probe and
/// a push), with
/// the distinct deadlines in a min-heap, which only changes when an instant
/// gets its first timer or is done. The heap may hold deadlines whose group
/// is gone (fired, or all cancelled): they are skipped, and the heap is
/// rebuilt when they outnumber the live ones. When the last armed timer is
/// gone, the queue goes back to the slots.
#[derive(Default)]
pub(crate) struct Timers {
    /// The groups while there are few: a slot is in use while its group
    /// has an armed timer.
    small: Vec<(u64, Group)>,
    /// Bit `i` is set while `small[i]` is in use (its group has an armed
    /// timer): look-ups visit the slots in use only, however many slots an
    /// earlier, busier world of the thread left behind.
    small_armed: u32,
    /// The groups are in `groups` and `order`, not in `small`.
    large: bool,
    groups: HashMap<u64, Group, BuildHasherDefault<DeadlineHasher>>,
    order: BinaryHeap<Reverse<u64>>,
    spare_lists: Vec<Vec<Listed>>,
    next_seq: u64,
    armed: usize,
    /// The earliest deadline of an armed timer, when known (`next_deadline`
    /// is asked several times per instant; this spares the look-ups).
    earliest: Option<u64>,
}

impl Timers {
    /// Makes an empty queue ready for world number `world`: its sequence
    /// numbers start at `world << 32`, so that a key from another world (a
    /// `Sleep` made in one simulation and dropped in the next) never
    /// matches a timer here.
    pub fn start_world(&mut self, world: u64) {
        self.next_seq = world << 32;
    }

    /// Forgets every timer (dropping their wakers), keeping the storage
    /// unless it holds more than `keep_at_most` instants.
    pub fn clear(&mut self, keep_at_most: usize) {
        for (_, group) in &mut self.small {
            group.listed.clear();
            group.armed = 0;
        }
        self.small_armed = 0;
        self.large = false;
        self.groups.clear();
        self.order.clear();
        if self.groups.capacity() > keep_at_most {
            self.groups = HashMap::default();
            self.order = BinaryHeap::new();
        }
        self.armed = 0;
        self.earliest = None;
    }

    /// The earliest deadline of a timer armed by task `key` from its own
    /// poll ([`Target::Task`]), if it has one. A scan of every armed
    /// timer: for the end of a run, not its steps.
    pub fn earliest_of_task(&self, key: TaskKey) -> Option<u64> {
        let armed_by = |group: &Group| {
            group
                .listed
                .iter()
                .any(|listed| matches!(&listed.state, State::Armed(Target::Task(k)) if *k == key))
        };
        let small = self
            .small
            .iter()
            .enumerate()
            .filter(|(at, _)| !self.large && self.small_armed & (1 << at) != 0)
            .map(|(_, (deadline, group))| (*deadline, group));
        let large = self
            .groups
            .iter()
            .filter(|_| self.large)
            .map(|(deadline, group)| (*deadline, group));
        small
            .chain(large)
            .filter(|(_, group)| armed_by(group))
            .map(|(deadline, _)| deadline)
            .min()
    }

    #[inline]
    pub fn insert(&mut self, deadline: u64, target: Target) -> TimerKey {
        self.earliest = match self.earliest {
            Some(earliest) => Some(earliest.min(deadline)),
            None if self.armed == 0 => Some(deadline),
            None => None,
        };
        let seq = self.next_seq;
        self.next_seq += 1;
        self.armed += 1;
        let listed = Listed {
            seq,
            state: State::Armed(target),
        };
        if !self.large {
            if let Some(at) = self.small_slot(deadline) {
                return Self::push(&mut self.small[at].1, deadline, listed);
            }
            let free = (!self.small_armed).trailing_zeros() as usize;
            if free < self.small.len() {
                self.small_armed |= 1 << free;
                self.small[free].0 = deadline;
                return Self::push(&mut self.small[free].1, deadline, listed);
            }
            if self.small.len() < SMALL_INSTANTS {
                self.small_armed |= 1 << self.small.len();
                self.small.push((
                    deadline,
                    Group {
                        listed: Vec::new(),
                        armed: 0,
                    },
                ));
                let at = self.small.len() - 1;
                return Self::push(&mut self.small[at].1, deadline, listed);
            }
            self.grow();
        }
        let spare = &mut self.spare_lists;
        let order = &mut self.order;
        let group = self.groups.entry(deadline).or_insert_with(|| {
            order.push(Reverse(deadline));
            Group {
                listed: spare.pop().unwrap_or_default(),
                armed: 0,
            }
        });
        let key = Self::push(group, deadline, listed);
        if self.order.len() > 64 && self.order.len() > 2 * self.groups.len() {
            self.order = self
                .groups
                .keys()
                .map(|&deadline| Reverse(deadline))
                .collect();
        }
        key
    }

    /// Appends an armed timer to its instant's group; its key.
    #[inline(always)]
    fn push(group: &mut Group, deadline: u64, listed: Listed) -> TimerKey {
        let key = TimerKey {
            deadline,
            seq: listed.seq,
            position: group.listed.len() as u32,
        };
        group.listed.push(listed);
        group.armed += 1;
        key
    }

    /// The slot in use for the instant `deadline`.
    #[inline(always)]
    fn small_slot(&self, deadline: u64) -> Option<usize> {
        let mut in_use = self.small_armed;
        while in_use != 0 {
            let at = in_use.trailing_zeros() as usize;
            if self.small[at].0 == deadline {
                return Some(at);
            }
            in_use &= in_use - 1;
        }
        None
    }

    /// Empties a slot where it lies (its list keeps its storage).
    #[inline(always)]
    fn free_slot(&mut self, at: usize) {
        let group = &mut self.small[at].1;
        group.listed.clear();
        group.armed = 0;
        self.small_armed &= !(1 << at);
    }

    /// Moves the groups from the slots to the hash map and heap.
    #[cold]
    fn grow(&mut self) {
        for (deadline, group) in &mut self.small {
            if group.armed > 0 {
                let listed = std::mem::take(&mut group.listed);
                self.order.push(Reverse(*deadline));
                self.groups.insert(
                    *deadline,
                    Group {
                        listed,
                        armed: group.armed,
                    },
                );
                group.armed = 0;
            }
        }
        self.small_armed = 0;
        self.large = true;
    }

    /// Goes back to the slots once no timer is armed.
    fn shrink_if_idle(&mut self) {
        if self.large && self.armed == 0 {
            let spare = &mut self.spare_lists;
            for (_, group) in self.groups.drain() {
                recycle_into(spare, group.listed);
            }
            self.order.clear();
            self.large = false;
        }
    }

    fn listed(&mut self, key: TimerKey) -> Option<(&mut Listed, &mut usize)> {
        let group = if self.large {
            self.groups.get_mut(&key.deadline)?
        } else {
            let at = self.small_slot(key.deadline)?;
            &mut self.small[at].1
        };
        let listed = group.listed.get_mut(key.position as usize)?;
        (listed.seq == key.seq).then_some((listed, &mut group.armed))
    }

    /// Has the timer fired? While armed, it now wakes `own` (the polling
    /// task, when `waker` is that task's own) or else `waker`.
    pub fn poll(&mut self, key: TimerKey, waker: &Waker, own: Option<TaskKey>) -> bool {
        match self.listed(key) {
            Some((
                Listed {
                    state: State::Armed(target),
                    ..
                },
                _,
            )) => {
                match (target, own) {
                    (Target::Task(stored), Some(own)) if *stored == own => {}
                    (Target::Waker(stored), None) if stored.will_wake(waker) => {}
                    (target, Some(own)) => *target = Target::Task(own),
                    (target, None) => *target = Target::Waker(waker.clone()),
                }
                false
            }
            _ => true,
        }
    }

    /// Forgets the timer (fired or not).
    pub fn remove(&mut self, key: TimerKey) {
        if self.disarm(key).is_some() {
            self.earliest = None;
        }
    }

    /// Takes an armed timer out of its group, marked `Cancelled`; whom it
    /// would have woken. An instant left with nothing to fire is dropped
    /// at once, so cancelled timers never pile up.
    fn disarm(&mut self, key: TimerKey) -> Option<Target> {
        let slot = if self.large {
            None
        } else {
            Some(self.small_slot(key.deadline)?)
        };
        let group = match slot {
            Some(at) => &mut self.small[at].1,
            None => self.groups.get_mut(&key.deadline)?,
        };
        let listed = group
            .listed
            .get_mut(key.position as usize)
            .filter(|listed| listed.seq == key.seq)?;
        if !matches!(listed.state, State::Armed(_)) {
            return None;
        }
        let State::Armed(target) = std::mem::replace(&mut listed.state, State::Cancelled) else {
            unreachable!("matched Armed above")
        };
        group.armed -= 1;
        let empty = group.armed == 0;
        self.armed -= 1;
        if empty {
            match slot {
                Some(at) => self.free_slot(at),
                None => {
                    // Its heap entry goes stale.
                    if let Some(group) = self.groups.remove(&key.deadline) {
                        self.recycle(group.listed);
                    }
                    self.shrink_if_idle();
                }
            }
        }
        Some(target)
    }

    /// The earliest deadline of an armed timer.
    #[inline(always)]
    pub fn next_deadline(&mut self) -> Option<u64> {
        if self.earliest.is_some() {
            return self.earliest;
        }
        let next = if self.large {
            self.find_next_deadline()
        } else {
            let mut in_use = self.small_armed;
            let mut next = None;
            while in_use != 0 {
                let at = self.small[in_use.trailing_zeros() as usize].0;
                next = Some(next.map_or(at, |next: u64| next.min(at)));
                in_use &= in_use - 1;
            }
            next
        };
        self.earliest = next;
        next
    }

    #[inline(never)]
    fn find_next_deadline(&mut self) -> Option<u64> {
        loop {
            let &Reverse(deadline) = self.order.peek()?;
            match self.groups.get(&deadline) {
                Some(group) if group.armed > 0 => {
                    // Fired next, after this instant's tasks ran: its list
                    // is hinted into the cache meanwhile.
                    if let (Some(first), Some(last)) = (group.listed.first(), group.listed.last()) {
                        prefetch(first);
                        prefetch(last);
                    }
                    return Some(deadline);
                }
                Some(_) => {
                    let group = self.groups.remove(&deadline).expect("looked up");
                    self.recycle(group.listed);
                }
                None => {}
            }
            self.order.pop();
        }
    }

    /// Removes the armed timers due exactly at `deadline`, in registration
    /// order, marking them fired: returns whom the first wakes and appends
    /// whom the others wake to `rest` (most instants have one timer: it
    /// comes back as the return value, not through the list).
    pub fn take_due_at(&mut self, deadline: u64, rest: &mut Vec<Target>) -> Option<Target> {
        // Asked again after this, whatever happens here (so that a caller
        // looping on `next_deadline` always moves on).
        self.earliest = None;
        if !self.large {
            let at = self.small_slot(deadline)?;
            let (armed, first) = Self::fire_all(&mut self.small[at].1.listed, rest);
            self.armed -= armed;
            self.free_slot(at);
            return first;
        }
        // Worked on where it lies, then removed empty (see
        // docs/performance.md, "Moving through memory").
        let group = self.groups.get_mut(&deadline)?;
        let (armed, first) = Self::fire_all(&mut group.listed, rest);
        let list = std::mem::take(&mut group.listed);
        self.groups.remove(&deadline);
        self.armed -= armed;
        if self.order.peek() == Some(&Reverse(deadline)) {
            self.order.pop();
        }
        self.recycle(list);
        self.shrink_if_idle();
        first
    }

    /// Marks every armed timer of `list` fired: how many there were, and
    /// whom the first wakes; whom the others wake goes to `rest`.
    #[inline(always)]
    fn fire_all(list: &mut [Listed], rest: &mut Vec<Target>) -> (usize, Option<Target>) {
        let mut armed = 0;
        let mut first = None;
        for listed in list {
            if matches!(listed.state, State::Armed(_)) {
                if let State::Armed(target) = std::mem::replace(&mut listed.state, State::Fired) {
                    armed += 1;
                    if first.is_none() {
                        first = Some(target);
                    } else {
                        rest.push(target);
                    }
                }
            }
        }
        (armed, first)
    }

    /// Fires an armed timer now; returns whom it wakes. Its key then reads
    /// as fired, like any fired timer's. (Only the tests fire a timer
    /// early: an injected expiry waits for its deadline.)
    #[cfg(test)]
    pub fn fire(&mut self, key: TimerKey) -> Option<Target> {
        self.earliest = None;
        self.disarm(key)
    }

    #[inline(always)]
    fn recycle(&mut self, list: Vec<Listed>) {
        recycle_into(&mut self.spare_lists, list);
    }
}

/// Keeps an instant's emptied list for reuse (up to 64 of them).
#[inline(always)]
fn recycle_into(spare: &mut Vec<Vec<Listed>>, mut list: Vec<Listed>) {
    if spare.len() < 64 {
        list.clear();
        spare.push(list);
    }
}

#[cfg(test)]
mod tests;
