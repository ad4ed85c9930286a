//! What one poll of the executor polls ([`PollBody`]): a spawned task's
//! own future, or the root's, lent by the run loop. `World::run_task` is
//! generic over it, so that a spawned task's poll holds nothing of the
//! root's.

use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::run_loop::RootTask;
use super::task_table::TaskSlot;
use super::{TaskFuture, World};
use crate::panic;
use crate::vocab::TaskKey;

/// What a poll polls: a spawned task's own future, taken from its slot
/// and put back, or the root's, lent by the run loop ([`RootTask`]).
/// [`World::run_task`] is compiled once per kind: the spawned task's path
/// holds nothing of the root's.
pub(super) trait PollBody: Sized {
    /// The body of task `key` for this poll, from its slot or from what
    /// the run loop lent; `None` when there is nothing to poll.
    fn take(slot: &mut TaskSlot, key: TaskKey, lent: Option<Self>) -> Option<Self>;

    /// Polls it once.
    fn poll_body(&mut self, cx: &mut Context<'_>) -> Poll<()>;

    /// After a suspension: a task's future goes back to its slot, unless
    /// an abort came during the poll (then it is returned, to be dropped).
    fn suspend(self, slot: &mut TaskSlot) -> Option<TaskFuture>;

    /// After the poll returned or unwound.
    fn settle(
        self,
        world: &Rc<World>,
        key: TaskKey,
        waker: Waker,
        result: Result<Poll<()>, panic::Caught>,
    );
}

impl PollBody for TaskFuture {
    #[inline(always)]
    fn take(slot: &mut TaskSlot, _: TaskKey, _: Option<Self>) -> Option<Self> {
        slot.future.take()
    }

    #[inline(always)]
    fn poll_body(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.as_mut().poll(cx)
    }

    #[inline(always)]
    fn suspend(self, slot: &mut TaskSlot) -> Option<TaskFuture> {
        if slot.abort_requested {
            return Some(self);
        }
        slot.future = Some(self);
        None
    }

    #[inline(always)]
    fn settle(
        self,
        world: &Rc<World>,
        key: TaskKey,
        waker: Waker,
        result: Result<Poll<()>, panic::Caught>,
    ) {
        world.task_polled(key, self, waker, result);
    }
}

impl PollBody for &mut RootTask<'_> {
    fn take(_: &mut TaskSlot, key: TaskKey, lent: Option<Self>) -> Option<Self> {
        lent.filter(|root| root.key == key)
    }

    fn poll_body(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.future.as_mut().poll(cx)
    }

    fn suspend(self, _: &mut TaskSlot) -> Option<TaskFuture> {
        // The root's slot holds no future: the run loop keeps its body.
        None
    }

    fn settle(
        self,
        world: &Rc<World>,
        _: TaskKey,
        waker: Waker,
        result: Result<Poll<()>, panic::Caught>,
    ) {
        world.root_polled(self, waker, result);
    }
}
