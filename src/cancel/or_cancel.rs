//! `fut.or_cancel()`.

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::world;
use crate::world::Cancelled;

/// Makes any future cancellable by the current task's cancel requests.
pub trait OrCancel: Future + Sized {
    /// Runs `self` until it completes (`Ok(value)`) or a cancel request of the
    /// current task is delivered at one of its suspensions (`Err(Cancelled)`,
    /// and `self` is dropped there). A request pending when the task resumes
    /// wins over a value that arrived meanwhile (asyncio's semantics: the
    /// value is lost, which is what the "woken but not yet polled" injection
    /// probes).
    #[track_caller]
    fn or_cancel(self) -> OrCancelled<Self> {
        OrCancelled {
            inner: Some(self),
            suspended: false,
            at: Location::caller(),
        }
    }
}

impl<F: Future> OrCancel for F {}

pin_project_lite::pin_project! {
    /// The future of [`OrCancel::or_cancel`].
    #[must_use = "futures do nothing unless awaited"]
    pub struct OrCancelled<F> {
        #[pin]
        inner: Option<F>,
        suspended: bool,
        at: &'static Location<'static>,
    }
}

impl<F: Future> Future for OrCancelled<F> {
    type Output = Result<F::Output, Cancelled>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let at = *this.at;
        if *this.suspended {
            if let Some(cancelled) = world::with(|world| world.try_deliver_cancel(at)) {
                this.inner.set(None);
                return Poll::Ready(Err(cancelled));
            }
        }
        let Some(inner) = this.inner.as_mut().as_pin_mut() else {
            panic!("cancelsim: or_cancel future polled after it completed");
        };
        if let Poll::Ready(value) = inner.poll(cx) {
            this.inner.set(None);
            return Poll::Ready(Ok(value));
        }
        if let Some(cancelled) = world::with(|world| world.try_deliver_cancel(at)) {
            this.inner.set(None);
            return Poll::Ready(Err(cancelled));
        }
        world::with(|world| world.register_cancel_waiter(cx.waker()));
        *this.suspended = true;
        Poll::Pending
    }
}

impl<F> fmt::Debug for OrCancelled<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OrCancelled").field("at", &self.at).finish()
    }
}
