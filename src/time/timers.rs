//! The timer queue of one world.
//!
//! Invariants: armed timers are listed under their deadline in registration
//! order, so timers due at the same instant come out in registration order
//! and the scheduler picks among them. A timer is cancelled by its owner (a
//! dropped `Sleep`) by vacating its entry; its listing goes stale and is
//! skipped, and stale listings are compacted away once they outnumber live
//! ones.

use std::collections::BTreeMap;
use std::task::Waker;

/// Names one registration of a timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimerKey {
    index: u32,
    seq: u64,
}

enum Entry {
    Vacant,
    Armed { seq: u64, waker: Waker },
    Fired { seq: u64 },
}

/// Timers grouped by deadline: each instant holds its registrations in
/// order, so firing an instant takes one map entry.
#[derive(Default)]
pub(crate) struct Timers {
    by_deadline: BTreeMap<u64, Vec<(u64, u32)>>,
    entries: Vec<Entry>,
    free: Vec<u32>,
    spare_lists: Vec<Vec<(u64, u32)>>,
    next_seq: u64,
    armed: usize,
    listed: usize,
}

impl Timers {
    pub fn insert(&mut self, deadline: u64, waker: Waker) -> TimerKey {
        let seq = self.next_seq;
        self.next_seq += 1;
        let entry = Entry::Armed { seq, waker };
        let index = match self.free.pop() {
            Some(index) => {
                self.entries[index as usize] = entry;
                index
            }
            None => {
                self.entries.push(entry);
                (self.entries.len() - 1) as u32
            }
        };
        let spare = &mut self.spare_lists;
        self.by_deadline
            .entry(deadline)
            .or_insert_with(|| spare.pop().unwrap_or_default())
            .push((seq, index));
        self.armed += 1;
        self.listed += 1;
        if self.listed > 1024 && self.listed > 2 * self.armed {
            self.compact();
        }
        TimerKey { index, seq }
    }

    /// Has the timer fired? Updates its waker while armed.
    pub fn poll(&mut self, key: TimerKey, waker: &Waker) -> bool {
        match &mut self.entries[key.index as usize] {
            Entry::Armed { seq, waker: stored } if *seq == key.seq => {
                if !stored.will_wake(waker) {
                    stored.clone_from(waker);
                }
                false
            }
            _ => true,
        }
    }

    /// Forgets the timer (fired or not).
    pub fn remove(&mut self, key: TimerKey) {
        let entry = &mut self.entries[key.index as usize];
        let (live, armed) = match entry {
            Entry::Armed { seq, .. } => (*seq == key.seq, true),
            Entry::Fired { seq } => (*seq == key.seq, false),
            Entry::Vacant => (false, false),
        };
        if live {
            if armed {
                self.armed -= 1;
            }
            *entry = Entry::Vacant;
            self.free.push(key.index);
        }
    }

    /// The earliest deadline of an armed timer.
    pub fn next_deadline(&mut self) -> Option<u64> {
        loop {
            let (&deadline, list) = self.by_deadline.iter().next()?;
            if list.iter().any(|&(seq, index)| self.is_armed(index, seq)) {
                return Some(deadline);
            }
            let (_, list) = self.by_deadline.pop_first().expect("peeked");
            self.listed -= list.len();
            self.recycle(list);
        }
    }

    /// Removes the armed timers due exactly at `deadline`, in registration
    /// order, marking them fired; appends their wakers.
    pub fn take_due_at(&mut self, deadline: u64, wakers: &mut Vec<Waker>) {
        let Some(list) = self.by_deadline.remove(&deadline) else {
            return;
        };
        self.listed -= list.len();
        for &(seq, index) in &list {
            let entry = &mut self.entries[index as usize];
            if matches!(entry, Entry::Armed { seq: armed, .. } if *armed == seq) {
                let Entry::Armed { waker, .. } = std::mem::replace(entry, Entry::Fired { seq })
                else {
                    unreachable!("matched Armed above")
                };
                self.armed -= 1;
                wakers.push(waker);
            }
        }
        self.recycle(list);
    }

    /// Fires an armed timer now (a forced timeout); returns its waker.
    pub fn fire(&mut self, key: TimerKey) -> Option<Waker> {
        let entry = &mut self.entries[key.index as usize];
        match entry {
            Entry::Armed { seq, .. } if *seq == key.seq => {
                let Entry::Armed { waker, .. } =
                    std::mem::replace(entry, Entry::Fired { seq: key.seq })
                else {
                    unreachable!("matched Armed above")
                };
                self.armed -= 1;
                Some(waker)
            }
            _ => None,
        }
    }

    fn recycle(&mut self, mut list: Vec<(u64, u32)>) {
        if self.spare_lists.len() < 64 {
            list.clear();
            self.spare_lists.push(list);
        }
    }

    fn is_armed(&self, index: u32, seq: u64) -> bool {
        matches!(&self.entries[index as usize], Entry::Armed { seq: s, .. } if *s == seq)
    }

    fn compact(&mut self) {
        let entries = &self.entries;
        let mut listed = 0;
        self.by_deadline.retain(|_, list| {
            list.retain(|&(seq, index)| {
                matches!(&entries[index as usize], Entry::Armed { seq: s, .. } if *s == seq)
            });
            listed += list.len();
            !list.is_empty()
        });
        self.listed = listed;
    }
}
