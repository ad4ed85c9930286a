//! `StreamExt::throttle` (tokio-stream's `stream_ext/throttle.rs`, over the
//! facade's timer). The pause between items is the adapter's own delay,
//! not a timeout: a `select!` branch waiting on it is not a timer branch,
//! and no sweep expires it.

use std::panic::Location;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use cancelsim_tokio::__private::{poll_delay, reset_sleep_located, sleep_until_located};
use cancelsim_tokio::time::{Duration, Instant, Sleep};
use futures_core::Stream;
use pin_project_lite::pin_project;

#[track_caller]
pub(super) fn throttle<T>(duration: Duration, stream: T) -> Throttle<T>
where
    T: Stream,
{
    let at = Location::caller();
    Throttle {
        delay: sleep_until_located(Instant::now() + duration, at),
        duration,
        has_delayed: true,
        stream,
        at,
    }
}

pin_project! {
    /// Stream for the [`throttle`](super::StreamExt::throttle) method. This object is `!Unpin`. If you need it to
    /// implement `Unpin` you can pin your throttle like this: `Box::pin(your_throttle)`.
    #[derive(Debug)]
    #[must_use = "streams do nothing unless polled"]
    pub struct Throttle<T> {
        #[pin]
        delay: Sleep,
        duration: Duration,

        // Set to true when `delay` has returned ready, but `stream` hasn't.
        has_delayed: bool,

        // The stream to throttle
        #[pin]
        stream: T,

        at: &'static Location<'static>,
    }
}

impl<T> Throttle<T> {
    /// Acquires a reference to the underlying stream that this combinator is
    /// pulling from.
    pub fn get_ref(&self) -> &T {
        &self.stream
    }

    /// Acquires a mutable reference to the underlying stream that this combinator
    /// is pulling from.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.stream
    }

    /// Consumes this combinator, returning the underlying stream.
    pub fn into_inner(self) -> T {
        self.stream
    }
}

impl<T: Stream> Stream for Throttle<T> {
    type Item = T::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut me = self.project();
        let dur = *me.duration;

        if !*me.has_delayed && !is_zero(dur) {
            ready!(poll_delay(me.delay.as_mut(), cx));
            *me.has_delayed = true;
        }

        let value = ready!(me.stream.poll_next(cx));

        if value.is_some() {
            if !is_zero(dur) {
                reset_sleep_located(me.delay, Instant::now() + dur, me.at);
            }

            *me.has_delayed = false;
        }

        Poll::Ready(value)
    }
}

fn is_zero(dur: Duration) -> bool {
    dur == Duration::from_millis(0)
}
