//! `StreamExt::timeout_repeating` (tokio-stream's
//! `stream_ext/timeout_repeating.rs`, over the facade's `Interval`; the
//! wait for each item is a race the sweep can expire).

use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

use cancelsim_tokio::__private::{poll_tick_located, reset_interval_located};
use cancelsim_tokio::time::Interval;
use futures_core::Stream;
use pin_project_lite::pin_project;
use tokio_stream::adapters::Fuse;

use super::race::ItemRace;
use super::Elapsed;

pin_project! {
    /// Stream returned by the [`timeout_repeating`](super::StreamExt::timeout_repeating) method.
    #[must_use = "streams do nothing unless polled"]
    #[derive(Debug)]
    pub struct TimeoutRepeating<S> {
        #[pin]
        stream: Fuse<S>,
        interval: Interval,
        race: ItemRace,
        at: &'static Location<'static>,
    }
}

impl<S: Stream> TimeoutRepeating<S> {
    #[track_caller]
    pub(super) fn new(stream: S, interval: Interval) -> Self {
        let at = Location::caller();
        TimeoutRepeating {
            stream: tokio_stream::StreamExt::fuse(stream),
            interval,
            race: ItemRace::new(at),
            at,
        }
    }
}

impl<S: Stream> Stream for TimeoutRepeating<S> {
    type Item = Result<S::Item, Elapsed>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let me = self.project();

        me.race.begin(true);
        if let Poll::Ready(v) = me.race.poll_item(|| me.stream.poll_next(cx)) {
            if v.is_some() {
                reset_interval_located(me.interval, me.at);
            }
            return Poll::Ready(v.map(Ok));
        }

        let at = *me.at;
        let interval = me.interval;
        if me
            .race
            .poll_timer(|| poll_tick_located(interval, cx, at).map(drop))
            .is_ready()
        {
            return Poll::Ready(Some(Err(Elapsed::new())));
        }
        me.race.pending();
        Poll::Pending
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let (lower, _) = self.stream.size_hint();

        // The timeout stream may insert an error an infinite number of times.
        (lower, None)
    }
}
