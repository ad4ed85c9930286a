//! The call site of the I/O operation being polled: where the user called
//! `read_exact`, `write_all`, `copy`, ..., so that a simulated stream that
//! makes the task wait names that call, not a line of tokio's.
//!
//! tokio's extension methods build their futures inside tokio, and a
//! stream's `poll_read` never learns who called; the facade's extension
//! traits are `#[track_caller]` and wrap tokio's futures in [`AtCallSite`],
//! which makes its location the current call site while it polls. The
//! facade's `select!` makes each branch's expression the call site while
//! it polls that branch, and `time::timeout` its own call ([`polled_at`]),
//! so a read through a wrapper whose
//! method the facade cannot wrap (`lines.next_line()`, a `FramedRead`'s
//! `next()`) is named at the branch. The innermost call wins; the outer
//! one is restored after the poll (and if the poll panics).

use std::cell::Cell;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

thread_local! {
    static CALL_SITE: Cell<Option<&'static Location<'static>>> = const { Cell::new(None) };
}

/// The call site of the I/O operation being polled, if one is.
pub(crate) fn current() -> Option<&'static Location<'static>> {
    CALL_SITE.with(Cell::get)
}

pin_project_lite::pin_project! {
    /// A future of tokio's I/O utilities, polled with its caller's location
    /// as the current call site.
    #[derive(Debug)]
    #[must_use = "futures do nothing unless awaited"]
    pub(super) struct AtCallSite<F> {
        #[pin]
        inner: F,
        at: &'static Location<'static>,
    }
}

impl<F> AtCallSite<F> {
    /// `inner`, called at the caller's location.
    #[track_caller]
    pub(super) fn new(inner: F) -> Self {
        AtCallSite {
            inner,
            at: Location::caller(),
        }
    }
}

impl<F: Future> Future for AtCallSite<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        polled_at(this.at, || this.inner.poll(cx))
    }
}

/// Runs `poll` with `at` as the current call site.
pub fn polled_at<R>(at: &'static Location<'static>, poll: impl FnOnce() -> R) -> R {
    let _entered = Entered {
        outer: CALL_SITE.with(|site| site.replace(Some(at))),
    };
    poll()
}

/// Restores the outer call site when dropped.
struct Entered {
    outer: Option<&'static Location<'static>>,
}

impl Drop for Entered {
    fn drop(&mut self) {
        CALL_SITE.with(|site| site.set(self.outer));
    }
}
