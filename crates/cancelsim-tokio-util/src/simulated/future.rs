//! `tokio_util::future`, simulated: [`FutureExt`] with its `timeout` and
//! `timeout_at` on the virtual clock (tokio-util's own call real tokio's
//! timer), and its `CancellationToken` adapters.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio_util::sync::{
    CancellationToken, WaitForCancellationFuture, WaitForCancellationFutureOwned,
};

/// Extra methods on futures (tokio-util's `FutureExt`).
pub trait FutureExt: Future {
    /// [`tokio::time::timeout`](cancelsim_tokio::time::timeout) on `self`:
    /// a sweep expires it at every await point inside.
    #[track_caller]
    fn timeout(self, timeout: std::time::Duration) -> cancelsim_tokio::time::Timeout<Self>
    where
        Self: Sized,
    {
        cancelsim_tokio::time::timeout(timeout, self)
    }

    /// [`tokio::time::timeout_at`](cancelsim_tokio::time::timeout_at) on
    /// `self`.
    #[track_caller]
    fn timeout_at(
        self,
        deadline: cancelsim_tokio::time::Instant,
    ) -> cancelsim_tokio::time::Timeout<Self>
    where
        Self: Sized,
    {
        cancelsim_tokio::time::timeout_at(deadline, self)
    }

    /// `Some(output)`, or `None` once `cancellation_token` is cancelled
    /// (at once if it is already).
    fn with_cancellation_token(
        self,
        cancellation_token: &CancellationToken,
    ) -> WithCancellationTokenFuture<'_, Self>
    where
        Self: Sized,
    {
        WithCancellationTokenFuture {
            already: cancellation_token.is_cancelled(),
            cancellation: cancellation_token.cancelled(),
            future: self,
        }
    }

    /// Like `with_cancellation_token`, owning the token.
    fn with_cancellation_token_owned(
        self,
        cancellation_token: CancellationToken,
    ) -> WithCancellationTokenFutureOwned<Self>
    where
        Self: Sized,
    {
        WithCancellationTokenFutureOwned {
            already: cancellation_token.is_cancelled(),
            cancellation: cancellation_token.cancelled_owned(),
            future: self,
        }
    }
}

impl<T: Future + ?Sized> FutureExt for T {}

pin_project_lite::pin_project! {
    /// The future of [`FutureExt::with_cancellation_token`]: `None` at once
    /// if the token was cancelled when it was made; then biased towards the
    /// future when both are ready, as tokio-util's.
    #[must_use = "futures do nothing unless polled"]
    pub struct WithCancellationTokenFuture<'a, F: Future> {
        already: bool,
        #[pin]
        cancellation: WaitForCancellationFuture<'a>,
        #[pin]
        future: F,
    }
}

impl<F: Future> Future for WithCancellationTokenFuture<'_, F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if *this.already {
            return Poll::Ready(None);
        }
        if let Poll::Ready(output) = this.future.poll(cx) {
            Poll::Ready(Some(output))
        } else if this.cancellation.poll(cx).is_ready() {
            Poll::Ready(None)
        } else {
            Poll::Pending
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`FutureExt::with_cancellation_token_owned`].
    #[must_use = "futures do nothing unless polled"]
    pub struct WithCancellationTokenFutureOwned<F: Future> {
        already: bool,
        #[pin]
        cancellation: WaitForCancellationFutureOwned,
        #[pin]
        future: F,
    }
}

impl<F: Future> Future for WithCancellationTokenFutureOwned<F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if *this.already {
            return Poll::Ready(None);
        }
        if let Poll::Ready(output) = this.future.poll(cx) {
            Poll::Ready(Some(output))
        } else if this.cancellation.poll(cx).is_ready() {
            Poll::Ready(None)
        } else {
            Poll::Pending
        }
    }
}
