//! asyncio's `Queue`, `Event`, `Condition` and `Semaphore` (3.11), state
//! for state: waiters are futures in a deque, a waiter cancelled after it
//! was woken passes the wake-up on, a condition re-acquires its lock even
//! when cancelled and then raises.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

use super::exc::{CancelledError, Exc, Raise};
use super::future::{await_future, Fut, Lock};
use super::task_run::Ctx;
use crate::scenario::model::{Primitive, PrimitiveKind};

/// The declared primitives of a run, by name.
#[derive(Default)]
pub(super) struct Primitives {
    queues: BTreeMap<String, Rc<Queue>>,
    events: BTreeMap<String, Rc<Event>>,
    conditions: BTreeMap<String, Rc<Condition>>,
    semaphores: BTreeMap<String, Rc<Semaphore>>,
}

impl Primitives {
    pub(super) fn new(declared: &BTreeMap<String, Primitive>) -> Self {
        let mut primitives = Primitives::default();
        for (name, primitive) in declared {
            let name = name.clone();
            match primitive.kind {
                PrimitiveKind::Queue { maxsize } => {
                    primitives.queues.insert(name, Rc::new(Queue::new(maxsize)));
                }
                PrimitiveKind::Event => {
                    primitives.events.insert(name, Rc::default());
                }
                PrimitiveKind::Condition => {
                    primitives.conditions.insert(name, Rc::default());
                }
                PrimitiveKind::Semaphore { value } => {
                    primitives
                        .semaphores
                        .insert(name, Rc::new(Semaphore::new(value)));
                }
            }
        }
        primitives
    }

    // The static checks make sure a step names a primitive of its kind.

    pub(super) fn queue(&self, name: &str) -> Rc<Queue> {
        Rc::clone(&self.queues[name])
    }

    pub(super) fn event(&self, name: &str) -> Rc<Event> {
        Rc::clone(&self.events[name])
    }

    pub(super) fn condition(&self, name: &str) -> Option<Rc<Condition>> {
        self.conditions.get(name).cloned()
    }

    pub(super) fn semaphore(&self, name: &str) -> Option<Rc<Semaphore>> {
        self.semaphores.get(name).cloned()
    }
}

/// Wakes the first waiter not done yet (`_wakeup_next`): it leaves the
/// deque.
fn wake_next(waiters: &RefCell<VecDeque<Rc<Fut>>>) {
    loop {
        let Some(waiter) = waiters.borrow_mut().pop_front() else {
            return;
        };
        if !waiter.is_finished() {
            waiter.set_done();
            return;
        }
    }
}

fn remove(waiters: &RefCell<VecDeque<Rc<Fut>>>, future: &Rc<Fut>) {
    waiters.borrow_mut().retain(|w| !Rc::ptr_eq(w, future));
}

/// `asyncio.Queue`.
pub(super) struct Queue {
    maxsize: u32,
    items: RefCell<VecDeque<String>>,
    getters: RefCell<VecDeque<Rc<Fut>>>,
    putters: RefCell<VecDeque<Rc<Fut>>>,
    unfinished: Cell<u32>,
    finished: Event,
}

impl Queue {
    fn new(maxsize: u32) -> Self {
        let queue = Queue {
            maxsize,
            items: RefCell::default(),
            getters: RefCell::default(),
            putters: RefCell::default(),
            unfinished: Cell::new(0),
            finished: Event::default(),
        };
        queue.finished.set();
        queue
    }

    pub(super) fn is_empty(&self) -> bool {
        self.items.borrow().is_empty()
    }

    fn is_full(&self) -> bool {
        self.maxsize > 0 && self.items.borrow().len() >= self.maxsize as usize
    }

    /// `await queue.put(item)`.
    pub(super) async fn put(&self, ctx: &Ctx, item: String) -> Result<(), Raise> {
        while self.is_full() {
            let putter = Fut::new();
            self.putters.borrow_mut().push_back(Rc::clone(&putter));
            if let Err(raise) = await_future(ctx, &putter).await {
                remove(&self.putters, &putter);
                if !self.is_full() && !putter.is_cancelled() {
                    wake_next(&self.putters);
                }
                return Err(raise);
            }
        }
        self.put_nowait(item).map_err(Raise::Error)
    }

    /// `queue.put_nowait(item)`.
    pub(super) fn put_nowait(&self, item: String) -> Result<(), Exc> {
        if self.is_full() {
            return Err(Exc::new("QueueFull", ""));
        }
        self.items.borrow_mut().push_back(item);
        self.unfinished.set(self.unfinished.get() + 1);
        self.finished.clear();
        wake_next(&self.getters);
        Ok(())
    }

    /// `await queue.get()`.
    pub(super) async fn get(&self, ctx: &Ctx) -> Result<String, Raise> {
        while self.is_empty() {
            let getter = Fut::new();
            self.getters.borrow_mut().push_back(Rc::clone(&getter));
            if let Err(raise) = await_future(ctx, &getter).await {
                remove(&self.getters, &getter);
                if !self.is_empty() && !getter.is_cancelled() {
                    wake_next(&self.getters);
                }
                return Err(raise);
            }
        }
        self.get_nowait().map_err(Raise::Error)
    }

    /// `queue.get_nowait()`.
    pub(super) fn get_nowait(&self) -> Result<String, Exc> {
        let item = self
            .items
            .borrow_mut()
            .pop_front()
            .ok_or_else(|| Exc::new("QueueEmpty", ""))?;
        wake_next(&self.putters);
        Ok(item)
    }

    /// `queue.task_done()`.
    pub(super) fn task_done(&self) -> Result<(), Exc> {
        if self.unfinished.get() == 0 {
            return Err(Exc::new("ValueError", "task_done() called too many times"));
        }
        self.unfinished.set(self.unfinished.get() - 1);
        if self.unfinished.get() == 0 {
            self.finished.set();
        }
        Ok(())
    }

    /// `await queue.join()`.
    pub(super) async fn join(&self, ctx: &Ctx) -> Result<(), Raise> {
        if self.unfinished.get() > 0 {
            self.finished.wait(ctx).await?;
        }
        Ok(())
    }
}

/// `asyncio.Event`.
#[derive(Default)]
pub(super) struct Event {
    value: Cell<bool>,
    waiters: RefCell<VecDeque<Rc<Fut>>>,
}

impl Event {
    pub(super) fn is_set(&self) -> bool {
        self.value.get()
    }

    /// `event.set()`.
    pub(super) fn set(&self) {
        if !self.value.replace(true) {
            for waiter in self.waiters.borrow().iter() {
                waiter.set_done();
            }
        }
    }

    /// `event.clear()`.
    pub(super) fn clear(&self) {
        self.value.set(false);
    }

    /// `await event.wait()`.
    pub(super) async fn wait(&self, ctx: &Ctx) -> Result<(), Raise> {
        if self.value.get() {
            return Ok(());
        }
        let waiter = Fut::new();
        self.waiters.borrow_mut().push_back(Rc::clone(&waiter));
        let result = await_future(ctx, &waiter).await;
        remove(&self.waiters, &waiter);
        result
    }
}

/// `asyncio.Condition`, with its own lock.
#[derive(Default)]
pub(super) struct Condition {
    pub(super) lock: Lock,
    waiters: RefCell<VecDeque<Rc<Fut>>>,
}

impl Condition {
    /// `await condition.wait()`: releases the lock, waits to be notified,
    /// takes the lock back (also when cancelled meanwhile, then raises
    /// `CancelledError`).
    pub(super) async fn wait(&self, ctx: &Ctx) -> Result<(), Raise> {
        if !self.lock.is_locked() {
            return Err(Raise::Error(Exc::runtime(
                "cannot wait on un-acquired lock",
            )));
        }
        self.lock.release().map_err(Raise::Error)?;
        let waiter = Fut::new();
        self.waiters.borrow_mut().push_back(Rc::clone(&waiter));
        let woken = await_future(ctx, &waiter).await;
        remove(&self.waiters, &waiter);
        let mut cancelled: Option<CancelledError> = match woken {
            Ok(()) => None,
            Err(Raise::Cancelled(cancelled)) => Some(cancelled),
            Err(other) => return Err(other),
        };
        loop {
            match self.lock.acquire(ctx).await {
                Ok(()) => break,
                Err(Raise::Cancelled(again)) => match &mut cancelled {
                    Some(_) => ctx.absorb(again.token),
                    None => cancelled = Some(again),
                },
                Err(other) => return Err(other),
            }
        }
        match cancelled {
            // `raise exceptions.CancelledError`: a new one, no message.
            Some(cancelled) => Err(Raise::Cancelled(CancelledError {
                token: cancelled.token,
                message: None,
            })),
            None => Ok(()),
        }
    }

    /// `condition.notify(n)`; `None`: `notify_all()`.
    pub(super) fn notify(&self, count: Option<u32>) -> Result<(), Exc> {
        if !self.lock.is_locked() {
            return Err(Exc::runtime("cannot notify on un-acquired lock"));
        }
        let count = count.map_or(self.waiters.borrow().len(), |n| n as usize);
        let mut woken = 0;
        for waiter in self.waiters.borrow().iter() {
            if woken >= count {
                break;
            }
            if !waiter.is_finished() {
                woken += 1;
                waiter.set_done();
            }
        }
        Ok(())
    }
}

/// `asyncio.Semaphore`.
pub(super) struct Semaphore {
    value: Cell<u32>,
    waiters: RefCell<VecDeque<Rc<Fut>>>,
}

impl Semaphore {
    fn new(value: u32) -> Self {
        Semaphore {
            value: Cell::new(value),
            waiters: RefCell::default(),
        }
    }

    fn locked(&self) -> bool {
        self.value.get() == 0 || self.waiters.borrow().iter().any(|w| !w.is_cancelled())
    }

    /// `await semaphore.acquire()`.
    pub(super) async fn acquire(&self, ctx: &Ctx) -> Result<(), Raise> {
        if !self.locked() {
            self.value.set(self.value.get() - 1);
            return Ok(());
        }
        let waiter = Fut::new();
        self.waiters.borrow_mut().push_back(Rc::clone(&waiter));
        let result = await_future(ctx, &waiter).await;
        remove(&self.waiters, &waiter);
        if let Err(raise) = result {
            if !waiter.is_cancelled() {
                self.value.set(self.value.get() + 1);
                self.wake_up_next();
            }
            return Err(raise);
        }
        if self.value.get() > 0 {
            self.wake_up_next();
        }
        Ok(())
    }

    /// `semaphore.release()`.
    pub(super) fn release(&self) {
        self.value.set(self.value.get() + 1);
        self.wake_up_next();
    }

    fn wake_up_next(&self) {
        for waiter in self.waiters.borrow().iter() {
            if !waiter.is_finished() {
                self.value.set(self.value.get() - 1);
                waiter.set_done();
                return;
            }
        }
    }
}
