//! `IntervalStream` over the facade's `Interval`: its ticks on the virtual
//! clock, waiting where the stream was made.

use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

use cancelsim_tokio::__private::poll_tick_located;
use cancelsim_tokio::time::{Instant, Interval};
use futures_core::stream::FusedStream;
use futures_core::Stream;

/// A wrapper around [`Interval`] that implements [`Stream`].
#[derive(Debug)]
pub struct IntervalStream {
    inner: Interval,
    at: &'static Location<'static>,
}

impl IntervalStream {
    /// Create a new `IntervalStream`.
    #[track_caller]
    pub fn new(interval: Interval) -> Self {
        Self {
            inner: interval,
            at: Location::caller(),
        }
    }

    /// Get back the inner `Interval`.
    pub fn into_inner(self) -> Interval {
        self.inner
    }
}

impl Stream for IntervalStream {
    type Item = Instant;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        let at = self.at;
        poll_tick_located(&mut self.inner, cx, at).map(Some)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}

impl FusedStream for IntervalStream {
    fn is_terminated(&self) -> bool {
        false
    }
}

impl AsRef<Interval> for IntervalStream {
    fn as_ref(&self) -> &Interval {
        &self.inner
    }
}

impl AsMut<Interval> for IntervalStream {
    fn as_mut(&mut self) -> &mut Interval {
        &mut self.inner
    }
}
