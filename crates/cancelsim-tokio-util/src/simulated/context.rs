//! `tokio_util::context`, simulated: a future bound to a runtime's handle.
//! A simulation has one runtime, the one the future runs on, so entering
//! the handle's context around each poll changes nothing; the types keep
//! tokio-util's shape over the facade's `Runtime` and `Handle`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use cancelsim_tokio::runtime::{Handle, Runtime};

pin_project_lite::pin_project! {
    /// A future that runs in the context of a runtime (tokio-util's
    /// `TokioContext`).
    pub struct TokioContext<F> {
        #[pin]
        inner: F,
        handle: Handle,
    }
}

impl<F> TokioContext<F> {
    /// `future`, polled in the context of `handle`'s runtime.
    pub fn new(future: F, handle: Handle) -> TokioContext<F> {
        TokioContext {
            inner: future,
            handle,
        }
    }

    /// The runtime's handle.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// The future back.
    pub fn into_inner(self) -> F {
        self.inner
    }
}

impl<F: Future> Future for TokioContext<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _enter = this.handle.enter();
        this.inner.poll(cx)
    }
}

/// Binds futures to a runtime (tokio-util's `RuntimeExt`).
pub trait RuntimeExt {
    /// `fut` in the context of this runtime.
    fn wrap<F: Future>(&self, fut: F) -> TokioContext<F>;
}

impl RuntimeExt for Runtime {
    fn wrap<F: Future>(&self, fut: F) -> TokioContext<F> {
        TokioContext::new(fut, self.handle().clone())
    }
}
