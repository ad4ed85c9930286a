//! `shield(fut)`: protected work.

use std::fmt;
use std::future::Future;
use std::panic::{self, Location};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::task::JoinHandle;
use crate::trace::WaitKind;
use crate::vocab::TaskKind;
use crate::world;
use crate::world::Cancelled;

/// Protects `future` from cancellation of the task that awaits it (asyncio's
/// `shield`): the work runs as its own task and always runs to completion,
/// even if the awaiting task is cancelled or aborted. The awaiting task gets
/// the value, or `Err(Cancelled)` as soon as a cancel request of its own is
/// delivered (the work carries on without it). A panic in the work is
/// resumed in the awaiter.
#[track_caller]
pub fn shield<F>(future: F) -> Shield<F>
where
    F: Future + 'static,
    F::Output: 'static,
{
    Shield {
        future: Some(future),
        handle: None,
        suspended: false,
        at: Location::caller(),
    }
}

pin_project_lite::pin_project! {
    /// The future of [`shield`].
    #[must_use = "futures do nothing unless awaited"]
    pub struct Shield<F: Future> {
        future: Option<F>,
        handle: Option<JoinHandle<F::Output>>,
        suspended: bool,
        at: &'static Location<'static>,
    }
}

impl<F> Future for Shield<F>
where
    F: Future + 'static,
    F::Output: 'static,
{
    type Output = Result<F::Output, Cancelled>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let at = *this.at;
        if let Some(future) = this.future.take() {
            *this.handle = Some(world::with(|world| {
                let (key, slot) =
                    world.spawn(future, TaskKind::Shield, Some(Rc::from("shield")), at);
                JoinHandle::new(key, slot, world, at).waiting_as(WaitKind::Shield(key.id))
            }));
        }
        if *this.suspended {
            if let Some(cancelled) = world::with(|world| world.try_deliver_cancel(at)) {
                return Poll::Ready(Err(cancelled));
            }
        }
        let handle = this.handle.as_mut().expect("spawned above");
        match Pin::new(handle).poll(cx) {
            Poll::Ready(Ok(value)) => Poll::Ready(Ok(value)),
            Poll::Ready(Err(error)) => match error.panic_message().map(str::to_string) {
                Some(message) => panic::resume_unwind(Box::new(message)),
                None => Poll::Ready(Err(Cancelled)),
            },
            Poll::Pending => {
                if let Some(cancelled) = world::with(|world| world.try_deliver_cancel(at)) {
                    return Poll::Ready(Err(cancelled));
                }
                world::with(|world| world.register_cancel_waiter(cx.waker()));
                *this.suspended = true;
                Poll::Pending
            }
        }
    }
}

impl<F: Future> fmt::Debug for Shield<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shield")
            .field("task", &self.handle.as_ref().map(JoinHandle::id))
            .field("at", &self.at)
            .finish()
    }
}
