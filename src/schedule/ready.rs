//! The ready queue: the tasks woken and not yet polled, in wake order.
//!
//! A ring buffer whose capacity is a power of two, so that queueing and
//! taking a task are a few instructions inlined into the executor (the
//! standard `VecDeque`'s `push_back` stayed an out-of-line call). The
//! scheduler sees it through [`ReadyTasks`].

use crate::vocab::{TaskId, TaskKey};

/// Filler of unused places.
const NONE: TaskKey = TaskKey {
    index: u32::MAX,
    id: TaskId(u32::MAX),
};

#[derive(Debug, Default)]
pub(crate) struct ReadyQueue {
    /// `buf.len()` is the capacity: zero or a power of two.
    buf: Vec<TaskKey>,
    head: usize,
    len: usize,
}

impl ReadyQueue {
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    fn mask(&self) -> usize {
        self.buf.len().wrapping_sub(1)
    }

    #[inline(always)]
    pub fn push_back(&mut self, key: TaskKey) {
        if self.len == self.buf.len() {
            self.grow();
        }
        let at = (self.head + self.len) & self.mask();
        self.buf[at] = key;
        self.len += 1;
    }

    #[inline]
    pub fn pop_front(&mut self) -> Option<TaskKey> {
        if self.len == 0 {
            return None;
        }
        let key = self.buf[self.head];
        self.head = (self.head + 1) & self.mask();
        self.len -= 1;
        Some(key)
    }

    /// The `index`-th task in wake order.
    #[inline]
    pub fn get(&self, index: usize) -> Option<TaskKey> {
        (index < self.len).then(|| self.buf[(self.head + index) & self.mask()])
    }

    /// Takes out the `index`-th task; the others keep their order.
    pub fn remove(&mut self, index: usize) -> Option<TaskKey> {
        let key = self.get(index)?;
        let mask = self.mask();
        for at in index..self.len - 1 {
            self.buf[(self.head + at) & mask] = self.buf[(self.head + at + 1) & mask];
        }
        self.len -= 1;
        Some(key)
    }

    /// Keeps the tasks for which `keep` holds, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&TaskKey) -> bool) {
        let kept: Vec<TaskKey> = self.iter().filter(|key| keep(key)).collect();
        self.clear();
        for key in kept {
            self.push_back(key);
        }
    }

    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }

    /// The tasks in wake order.
    pub fn iter(&self) -> impl Iterator<Item = TaskKey> + '_ {
        (0..self.len).map(|index| self.buf[(self.head + index) & self.mask()])
    }

    #[cold]
    fn grow(&mut self) {
        let capacity = (self.buf.len() * 2).max(16);
        let mut buf = vec![NONE; capacity];
        for (at, key) in self.iter().enumerate() {
            buf[at] = key;
        }
        self.buf = buf;
        self.head = 0;
    }
}

/// The tasks ready to run, in the order they were woken.
#[derive(Clone, Copy, Debug)]
pub struct ReadyTasks<'a> {
    queue: &'a ReadyQueue,
}

impl<'a> ReadyTasks<'a> {
    pub(crate) fn new(queue: &'a ReadyQueue) -> Self {
        ReadyTasks { queue }
    }

    /// Number of ready tasks.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// No task is ready.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// The `index`-th ready task.
    pub fn get(&self, index: usize) -> Option<TaskId> {
        self.queue.get(index).map(|key| key.id)
    }

    /// The ready tasks in wake order.
    pub fn iter(&self) -> impl Iterator<Item = TaskId> + 'a {
        let queue: &'a ReadyQueue = self.queue;
        queue.iter().map(|key| key.id)
    }

    /// The ready tasks' keys in wake order.
    pub(crate) fn keys(&self) -> impl Iterator<Item = TaskKey> + 'a {
        let queue: &'a ReadyQueue = self.queue;
        queue.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u32) -> TaskKey {
        TaskKey {
            index: n,
            id: TaskId(n),
        }
    }

    /// Against a `VecDeque` model, across growth and wrap-around.
    #[test]
    fn behaves_like_a_deque() {
        let mut queue = ReadyQueue::default();
        let mut model = std::collections::VecDeque::new();
        let mut next = 0;
        for round in 0..2_000u32 {
            match round % 7 {
                0..=2 => {
                    queue.push_back(key(next));
                    model.push_back(key(next));
                    next += 1;
                }
                3 | 4 => assert_eq!(queue.pop_front(), model.pop_front()),
                5 => {
                    let index = (round as usize) % (model.len() + 1);
                    assert_eq!(queue.remove(index), model.remove(index));
                }
                _ => {
                    queue.retain(|key| key.index % 5 != 0);
                    model.retain(|key| key.index % 5 != 0);
                }
            }
            if round % 50 == 0 {
                for _ in 0..40 {
                    queue.push_back(key(next));
                    model.push_back(key(next));
                    next += 1;
                }
            }
            assert_eq!(queue.len(), model.len());
            assert!(queue.iter().eq(model.iter().copied()));
            assert_eq!(
                queue.get(model.len() / 2),
                model.get(model.len() / 2).copied()
            );
        }
        queue.clear();
        assert!(queue.is_empty());
        assert_eq!(queue.pop_front(), None);
    }
}
