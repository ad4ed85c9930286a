//! `StreamExt::timeout` (tokio-stream's `stream_ext/timeout.rs`, over the
//! facade's timer; the wait for each item is a race the sweep can expire).

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use cancelsim_tokio::__private::{reset_sleep_located, sleep_until_located};
use cancelsim_tokio::time::{Instant, Sleep};
use futures_core::Stream;
use pin_project_lite::pin_project;
use tokio_stream::adapters::Fuse;

use super::race::ItemRace;

pin_project! {
    /// Stream returned by the [`timeout`](super::StreamExt::timeout) method.
    #[must_use = "streams do nothing unless polled"]
    #[derive(Debug)]
    pub struct Timeout<S> {
        #[pin]
        stream: Fuse<S>,
        #[pin]
        deadline: Sleep,
        duration: Duration,
        poll_deadline: bool,
        race: ItemRace,
        at: &'static Location<'static>,
    }
}

/// Error returned by `Timeout` and `TimeoutRepeating` (tokio-stream's
/// `Elapsed`).
#[derive(Debug, PartialEq, Eq)]
pub struct Elapsed(());

impl<S: Stream> Timeout<S> {
    #[track_caller]
    pub(super) fn new(stream: S, duration: Duration) -> Self {
        let at = Location::caller();
        let next = Instant::now() + duration;
        Timeout {
            stream: tokio_stream::StreamExt::fuse(stream),
            deadline: sleep_until_located(next, at),
            duration,
            poll_deadline: true,
            race: ItemRace::new(at),
            at,
        }
    }
}

impl<S: Stream> Stream for Timeout<S> {
    type Item = Result<S::Item, Elapsed>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut me = self.project();
        if !*me.poll_deadline {
            // Timed out already, until the next item: no timer to race.
            return me.stream.poll_next(cx).map(|v| {
                if v.is_some() {
                    let next = Instant::now() + *me.duration;
                    reset_sleep_located(me.deadline, next, me.at);
                    *me.poll_deadline = true;
                }
                v.map(Ok)
            });
        }

        me.race.begin(true);
        if let Poll::Ready(v) = me.race.poll_item(|| me.stream.poll_next(cx)) {
            if v.is_some() {
                let next = Instant::now() + *me.duration;
                reset_sleep_located(me.deadline, next, me.at);
                *me.poll_deadline = true;
            }
            return Poll::Ready(v.map(Ok));
        }

        if me
            .race
            .poll_timer(|| me.deadline.as_mut().poll(cx))
            .is_ready()
        {
            *me.poll_deadline = false;
            return Poll::Ready(Some(Err(Elapsed::new())));
        }
        me.race.pending();
        Poll::Pending
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let (lower, upper) = self.stream.size_hint();

        // The timeout stream may insert an error before and after each message
        // from the underlying stream, but no more than one error between each
        // message. Hence the upper bound is computed as 2x+1.
        fn twice_plus_one(value: Option<usize>) -> Option<usize> {
            value?.checked_mul(2)?.checked_add(1)
        }

        (lower, twice_plus_one(upper))
    }
}

impl Elapsed {
    pub(super) fn new() -> Self {
        Elapsed(())
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, fmt: &mut fmt::Formatter<'_>) -> fmt::Result {
        "deadline has elapsed".fmt(fmt)
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(_err: Elapsed) -> std::io::Error {
        std::io::ErrorKind::TimedOut.into()
    }
}
