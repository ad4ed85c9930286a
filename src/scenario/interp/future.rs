//! asyncio's futures and the lock built on them: what a primitive hands a
//! waiting task, which the task's `cancel()` cancels at once (so that the
//! primitive passes over it), and awaiting one as a task does.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::rc::Rc;
use std::task::{Poll, Waker};

use super::exc::{Exc, Raise};
use super::task::Awaiting;
use super::task_run::Ctx;
use crate::cancel::OrCancel;

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Pending,
    Done,
    Cancelled,
}

/// An asyncio `Future` with no value (a primitive's wake-up call).
pub(super) struct Fut {
    state: Cell<State>,
    waker: RefCell<Option<Waker>>,
}

impl Fut {
    pub(super) fn new() -> Rc<Self> {
        Rc::new(Fut {
            state: Cell::new(State::Pending),
            waker: RefCell::new(None),
        })
    }

    /// `done()`: it has a result or was cancelled.
    pub(super) fn is_finished(&self) -> bool {
        self.state.get() != State::Pending
    }

    pub(super) fn is_cancelled(&self) -> bool {
        self.state.get() == State::Cancelled
    }

    /// `set_result`: wakes the task awaiting it.
    pub(super) fn set_done(&self) {
        if self.state.get() == State::Pending {
            self.state.set(State::Done);
            if let Some(waker) = self.waker.borrow_mut().take() {
                waker.wake();
            }
        }
    }

    /// `cancel()`: the awaiting task's cancel request does it.
    pub(super) fn cancel(&self) {
        if self.state.get() == State::Pending {
            self.state.set(State::Cancelled);
        }
    }
}

/// asyncio's `loop.call_soon(f)`: `f` runs after the tasks ready now, as
/// a task of its own that finishes in its one poll (no await point, so
/// nothing is injected into it; detached, so never a leak).
pub(super) fn call_soon(f: impl FnOnce() + 'static) {
    crate::spawn_named("call_soon", async move { f() }).detach();
}

/// Awaits `future` as the task of `ctx` does (`await fut`): the task's
/// `cancel()` cancels it, and the request delivered here raises
/// `CancelledError`.
pub(super) async fn await_future(ctx: &Ctx, future: &Rc<Fut>) -> Result<(), Raise> {
    ctx.cell.set_awaiting(Awaiting::Future(Rc::clone(future)));
    let waiting = Rc::clone(future);
    let result = poll_fn(move |cx| {
        if waiting.state.get() == State::Done {
            Poll::Ready(())
        } else {
            *waiting.waker.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        }
    })
    .or_cancel()
    .await;
    ctx.cell.set_awaiting(Awaiting::Nothing);
    result.map_err(|token| {
        future.cancel();
        ctx.cancelled(token)
    })
}

/// Awaits `work`, which goes on by itself, as the task of `ctx` does: a
/// cancel request delivered meanwhile raises `CancelledError` (and drops
/// the await, not the work).
pub(super) async fn cancellable<T>(ctx: &Ctx, work: impl Future<Output = T>) -> Result<T, Raise> {
    work.or_cancel().await.map_err(|token| ctx.cancelled(token))
}

/// asyncio's `Lock` (3.11): first come, first served; a waiter cancelled
/// after it was handed the lock passes it on.
#[derive(Default)]
pub(super) struct Lock {
    locked: Cell<bool>,
    waiters: RefCell<VecDeque<Rc<Fut>>>,
}

impl Lock {
    /// `await lock.acquire()`.
    pub(super) async fn acquire(&self, ctx: &Ctx) -> Result<(), Raise> {
        let free = !self.locked.get() && self.waiters.borrow().iter().all(|w| w.is_cancelled());
        if free {
            self.locked.set(true);
            return Ok(());
        }
        let future = Fut::new();
        self.waiters.borrow_mut().push_back(Rc::clone(&future));
        let result = await_future(ctx, &future).await;
        self.waiters
            .borrow_mut()
            .retain(|w| !Rc::ptr_eq(w, &future));
        if let Err(raise) = result {
            if !self.locked.get() {
                self.wake_up_first();
            }
            return Err(raise);
        }
        self.locked.set(true);
        Ok(())
    }

    /// `lock.locked()`.
    pub(super) fn is_locked(&self) -> bool {
        self.locked.get()
    }

    /// `lock.release()`.
    pub(super) fn release(&self) -> Result<(), Exc> {
        if !self.locked.get() {
            return Err(Exc::runtime("Lock is not acquired."));
        }
        self.locked.set(false);
        self.wake_up_first();
        Ok(())
    }

    fn wake_up_first(&self) {
        if let Some(first) = self.waiters.borrow().front() {
            first.set_done();
        }
    }
}
