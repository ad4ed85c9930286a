//! Join handles.

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};

use super::{JoinError, TaskId};
use crate::trace::{CancelVia, SourceLocation, Wait, WaitKind};
use crate::vocab::TaskKey;
use crate::world::{Enter, Finished, JoinSlot, World};

/// A clonable permission to abort a task, without joining it (tokio's
/// `AbortHandle`): from [`JoinHandle::abort_handle`].
#[derive(Clone)]
pub struct AbortHandle {
    key: TaskKey,
    slot: Rc<dyn Finished>,
    world: Weak<World>,
}

impl AbortHandle {
    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.key.id
    }

    /// Like [`JoinHandle::abort`].
    #[track_caller]
    pub fn abort(&self) {
        if let Some(world) = self.live_world() {
            let _enter = Enter::new(&world);
            world.abort(self.key, Some(Location::caller()));
        }
    }

    /// Like [`JoinHandle::request_abort`] (tokio's `AbortHandle::abort`).
    #[track_caller]
    pub fn request_abort(&self) {
        if let Some(world) = self.live_world() {
            let _enter = Enter::new(&world);
            world.abort_later(self.key, Some(Location::caller()));
        }
    }

    fn live_world(&self) -> Option<Rc<World>> {
        live_world(&*self.slot, &self.world)
    }

    /// The task has ended.
    pub fn is_finished(&self) -> bool {
        self.slot.finished()
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("id", &self.key.id)
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// An owned permission to join a task (`.await` it), abort it, or ask it to
/// cancel.
///
/// Dropping a handle neither cancels nor detaches the task (tokio's
/// semantics): the task runs on, and is reported as leaked if it is still
/// alive when the root ends. Use [`JoinHandle::detach`] for intended
/// background work and [`JoinHandle::abort_on_drop`] for structured
/// ownership.
pub struct JoinHandle<T> {
    pub(crate) key: TaskKey,
    slot: Rc<JoinSlot<T>>,
    world: Weak<World>,
    at: SourceLocation,
    wait: WaitKind,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(
        key: TaskKey,
        slot: Rc<JoinSlot<T>>,
        world: &Rc<World>,
        at: SourceLocation,
    ) -> Self {
        JoinHandle {
            key,
            slot,
            world: Rc::downgrade(world),
            at,
            wait: WaitKind::Join(key.id),
        }
    }

    /// Reports waits on this handle as `kind` (shield, blocking).
    pub(crate) fn waiting_as(mut self, kind: WaitKind) -> Self {
        self.wait = kind;
        self
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.key.id
    }

    /// Drops the task's future at its current await point, now: its `Drop`s
    /// run before `abort` returns (or, if the task aborts itself, as soon as
    /// its current poll returns). Awaiting the handle then gives a
    /// [`JoinError`] with `is_cancelled()`. No effect on a finished task.
    #[track_caller]
    pub fn abort(&self) {
        self.abort_at(Some(Location::caller()));
    }

    /// tokio's `abort`: the task's future is dropped when the executor
    /// would next run it (a recorded scheduling decision), not inside this
    /// call — so its `Drop`s never run while the caller holds a lock or a
    /// borrow, and `is_finished()` is false until then. Awaiting the handle
    /// gives a [`JoinError`] with `is_cancelled()`. No effect on a finished
    /// task.
    #[track_caller]
    pub fn request_abort(&self) {
        if let Some(world) = live_world(&*self.slot, &self.world) {
            let _enter = Enter::new(&world);
            world.abort_later(self.key, Some(Location::caller()));
        }
    }

    /// [`request_abort`](JoinHandle::request_abort), recorded as asked at
    /// `at`: for a library whose abort runs away from its user's call site
    /// (a set of tasks' `shutdown` aborts them when first polled, a dropped
    /// set in its `Drop`), which captures that site with `#[track_caller]`.
    pub fn request_abort_located(&self, at: &'static Location<'static>) {
        if let Some(world) = live_world(&*self.slot, &self.world) {
            let _enter = Enter::new(&world);
            world.abort_later(self.key, Some(at));
        }
    }

    /// `abort`, recorded as asked at `at` (none: not by a call site, as
    /// when a group or the harness aborts).
    pub(crate) fn abort_at(&self, at: Option<SourceLocation>) {
        if let Some(world) = live_world(&*self.slot, &self.world) {
            let _enter = Enter::new(&world);
            world.abort(self.key, at);
        }
    }

    /// Makes a cooperative cancel request (like asyncio's `Task.cancel()`):
    /// the task's next `checkpoint`, `or_cancel` or `shield` gives it
    /// `Err(Cancelled)`, once; `is_cancelled()` and `cancelled()` see it from
    /// now on. The task is not finished until it has handled the request.
    /// Each call is a new request.
    #[track_caller]
    pub fn cancel(&self) {
        self.cancel_via(CancelVia::Handle, Some(Location::caller()));
    }

    /// `cancel`, recorded as asked through `via` at `at`.
    pub(crate) fn cancel_via(&self, via: CancelVia, at: Option<SourceLocation>) {
        if let Some(world) = self.world.upgrade() {
            let _enter = Enter::new(&world);
            world.request_cancel(self.key, via, at);
        }
    }

    /// The task has ended (returned, was aborted or panicked).
    pub fn is_finished(&self) -> bool {
        self.slot.is_done()
    }

    /// A clonable handle that can abort the task (tokio's `abort_handle`).
    pub fn abort_handle(&self) -> AbortHandle
    where
        T: 'static,
    {
        AbortHandle {
            key: self.key,
            slot: Rc::clone(&self.slot) as Rc<dyn Finished>,
            world: Weak::clone(&self.world),
        }
    }

    /// Marks the task as intended background work and lets it run on. A
    /// detached task is not a leak when the root ends, only if it is still
    /// alive after the world drains.
    pub fn detach(self) {
        // A finished task has nothing left to mark.
        if self.slot.is_done() {
            return;
        }
        if let Some(world) = self.world.upgrade() {
            world.detach(self.key);
        }
    }

    /// A handle that aborts the task when dropped (tokio-util's
    /// `AbortOnDropHandle`).
    #[track_caller]
    pub fn abort_on_drop(self) -> AbortOnDropHandle<T> {
        AbortOnDropHandle {
            handle: Some(self),
            at: Location::caller(),
        }
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let result = this.slot.poll(cx);
        if let Poll::Ready(Err(error)) = &result {
            if let Some(world) = this.world.upgrade() {
                if error.is_panic() {
                    world.observe_panic(this.key.id);
                } else {
                    world.observe_abort(this.key.id);
                }
                world.observe_join_error(this.key.id);
            }
        }
        if result.is_pending() {
            crate::world::try_with(|world| {
                world.note_wait(Wait {
                    kind: this.wait,
                    at: Some(this.at),
                });
                world.note_join_awaited(this.key.id);
            });
        }
        result
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        if !self.slot.is_done() {
            let wait = Wait {
                kind: self.wait,
                at: Some(self.at),
            };
            crate::world::try_with(|world| world.retract_wait(wait));
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.key.id)
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// A [`JoinHandle`] that aborts its task when dropped.
pub struct AbortOnDropHandle<T> {
    handle: Option<JoinHandle<T>>,
    /// Where the handle was made: the drop's abort is recorded there.
    at: SourceLocation,
}

impl<T> AbortOnDropHandle<T> {
    fn handle(&self) -> &JoinHandle<T> {
        self.handle.as_ref().expect("present until dropped")
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.handle().id()
    }

    /// See [`JoinHandle::abort`].
    #[track_caller]
    pub fn abort(&self) {
        self.handle().abort();
    }

    /// See [`JoinHandle::cancel`].
    #[track_caller]
    pub fn cancel(&self) {
        self.handle().cancel();
    }

    /// See [`JoinHandle::is_finished`].
    pub fn is_finished(&self) -> bool {
        self.handle().is_finished()
    }

    /// Gives back the plain handle (no abort on drop any more).
    pub fn into_inner(mut self) -> JoinHandle<T> {
        self.handle.take().expect("present until dropped")
    }
}

impl<T> Future for AbortOnDropHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let handle = self
            .get_mut()
            .handle
            .as_mut()
            .expect("present until dropped");
        Pin::new(handle).poll(cx)
    }
}

impl<T> Drop for AbortOnDropHandle<T> {
    fn drop(&mut self) {
        if let Some(handle) = &self.handle {
            if !handle.is_finished() {
                handle.abort_at(Some(self.at));
            }
        }
    }
}

impl<T> fmt::Debug for AbortOnDropHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AbortOnDropHandle")
            .field(&self.handle)
            .finish()
    }
}

/// The task's world, unless the task's result was taken already: then an
/// abort does nothing (as tokio's on a finished task), and says nothing of
/// a slower run either (its joiner would still be waiting for the result,
/// not aborting). For every abort of a `JoinHandle` or an `AbortHandle`.
fn live_world(slot: &dyn Finished, world: &Weak<World>) -> Option<Rc<World>> {
    if slot.taken() {
        return None;
    }
    world.upgrade()
}
