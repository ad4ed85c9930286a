//! The timer queue of one world.
//!
//! Invariants: the heap orders armed timers by (deadline, registration
//! sequence), so timers due at the same instant are listed in registration
//! order and the scheduler picks among them. A timer is cancelled by its owner
//! (a dropped `Sleep`) by vacating its entry; the heap entry goes stale and is
//! skipped, and stale entries are compacted away once they outnumber live ones.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
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

#[derive(Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<(u64, u64, u32)>>,
    entries: Vec<Entry>,
    free: Vec<u32>,
    next_seq: u64,
    armed: usize,
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
        self.heap.push(Reverse((deadline, seq, index)));
        self.armed += 1;
        if self.heap.len() > 1024 && self.heap.len() > 2 * self.armed {
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
            Entry::Fired { seq } if *seq == key.seq => true,
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
        while let Some(&Reverse((deadline, seq, index))) = self.heap.peek() {
            if self.is_armed(index, seq) {
                return Some(deadline);
            }
            self.heap.pop();
        }
        None
    }

    /// Removes the armed timers due exactly at `deadline` (the earliest one),
    /// in registration order, marking them fired; returns their wakers.
    pub fn take_due_at(&mut self, deadline: u64, wakers: &mut Vec<Waker>) {
        while let Some(&Reverse((due, seq, index))) = self.heap.peek() {
            if due != deadline {
                break;
            }
            self.heap.pop();
            if let Entry::Armed { seq: armed, .. } = &self.entries[index as usize] {
                if *armed == seq {
                    let Entry::Armed { waker, .. } =
                        std::mem::replace(&mut self.entries[index as usize], Entry::Fired { seq })
                    else {
                        unreachable!("matched Armed above")
                    };
                    self.armed -= 1;
                    wakers.push(waker);
                }
            }
        }
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

    fn is_armed(&self, index: u32, seq: u64) -> bool {
        matches!(&self.entries[index as usize], Entry::Armed { seq: s, .. } if *s == seq)
    }

    fn compact(&mut self) {
        let heap = std::mem::take(&mut self.heap);
        self.heap = heap
            .into_iter()
            .filter(|Reverse((_, seq, index))| self.is_armed(*index, *seq))
            .collect();
    }
}
