//! `blocking(cost, f)`: work on a worker thread, like asyncio's `to_thread`.

use std::fmt;
use std::future::Future;
use std::panic::{self, Location};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::task::JoinHandle;
use crate::time::Sleep;
use crate::trace::{EventKind, WaitKind};
use crate::vocab::nanos;
use crate::vocab::TaskKind;
use crate::world;

/// Runs `f` as blocking work taking `cost` of virtual time on a simulated
/// worker. The awaiting task suspends; `f` runs (and its side effects happen)
/// when the cost has elapsed, even if the awaiter was dropped or cancelled
/// meanwhile: blocking work cannot be interrupted. A panic in `f` is resumed
/// in the awaiter. Starts when first polled.
///
/// Awaiting it is not a cancellation point: a cooperative cancel request
/// made meanwhile is seen at the task's next checkpoint, after the work. For
/// asyncio's `await to_thread(...)` (the awaiter gets `CancelledError` at
/// once, the work finishes on its own), await
/// `blocking(cost, f).or_cancel()` instead.
#[track_caller]
pub fn blocking<R, F>(cost: Duration, f: F) -> Blocking<R>
where
    F: FnOnce() -> R + 'static,
    R: 'static,
{
    Blocking {
        start: Some((cost, Box::new(f))),
        handle: None,
        at: Location::caller(),
    }
}

/// [`blocking`], reported at `at`: for a library that makes the work away
/// from its user's call site (a simulated `tokio::fs` call captures it
/// with `#[track_caller]`).
pub fn blocking_located<R, F>(cost: Duration, f: F, at: &'static Location<'static>) -> Blocking<R>
where
    F: FnOnce() -> R + 'static,
    R: 'static,
{
    Blocking {
        start: Some((cost, Box::new(f))),
        handle: None,
        at,
    }
}

type Work<R> = Box<dyn FnOnce() -> R>;

/// The future of [`blocking`].
#[must_use = "futures do nothing unless awaited"]
pub struct Blocking<R> {
    start: Option<(Duration, Work<R>)>,
    handle: Option<JoinHandle<R>>,
    at: &'static Location<'static>,
}

impl<R: 'static> Future for Blocking<R> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<R> {
        let this = &mut *self;
        let at = this.at;
        if let Some((cost, work)) = this.start.take() {
            let job = async move {
                let deadline = world::with(|world| {
                    if let Some(task) = world.current_id() {
                        world.record(
                            task,
                            EventKind::BlockingStart {
                                cost_nanos: nanos(cost),
                                at,
                            },
                        );
                    }
                    world.now()
                }) + cost;
                Sleep::new(deadline, false, at).await;
                if let Some(after) = world::with(|world| world.blocking_held_until()) {
                    // An injected expiry holds a slow operation: this work
                    // is its backend (`world/held_expiry.rs`).
                    Sleep::new(after, false, at).await;
                }
                let value = work();
                world::with(|world| {
                    if let Some(task) = world.current_id() {
                        world.record(task, EventKind::BlockingEnd);
                    }
                });
                value
            };
            this.handle = Some(world::with(|world| {
                let (key, slot) =
                    world.spawn(job, TaskKind::Blocking, Some(Rc::from("blocking")), at);
                JoinHandle::new(key, slot, world, at).waiting_as(WaitKind::Blocking(key.id))
            }));
        }
        let handle = this.handle.as_mut().expect("started above");
        match Pin::new(handle).poll(cx) {
            Poll::Ready(Ok(value)) => Poll::Ready(value),
            Poll::Ready(Err(error)) => match error.panic_message().map(str::to_string) {
                Some(message) => panic::resume_unwind(Box::new(message)),
                None => panic!("cancelsim: blocking work was aborted ({error}); blocking work cannot be interrupted"),
            },
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<R> fmt::Debug for Blocking<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Blocking")
            .field("task", &self.handle.as_ref().map(JoinHandle::id))
            .field("at", &self.at)
            .finish()
    }
}
