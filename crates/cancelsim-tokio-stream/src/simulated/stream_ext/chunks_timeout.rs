//! `StreamExt::chunks_timeout` (tokio-stream's
//! `stream_ext/chunks_timeout.rs`, over the facade's timer; the wait to
//! fill a started chunk is a race the sweep can expire, which ends the
//! chunk at its deadline).

use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use cancelsim_tokio::__private::sleep_until_located;
use cancelsim_tokio::time::{Instant, Sleep};
use futures_core::Stream;
use pin_project_lite::pin_project;
use tokio_stream::adapters::Fuse;

use super::race::ItemRace;

pin_project! {
    /// Stream returned by the [`chunks_timeout`](super::StreamExt::chunks_timeout) method.
    #[must_use = "streams do nothing unless polled"]
    #[derive(Debug)]
    pub struct ChunksTimeout<S: Stream> {
        #[pin]
        stream: Fuse<S>,
        #[pin]
        deadline: Option<Sleep>,
        duration: Duration,
        items: Vec<S::Item>,
        cap: usize, // https://github.com/rust-lang/futures-rs/issues/1475
        race: ItemRace,
        at: &'static Location<'static>,
    }
}

impl<S: Stream> ChunksTimeout<S> {
    #[track_caller]
    pub(super) fn new(stream: S, max_size: usize, duration: Duration) -> Self {
        let at = Location::caller();
        ChunksTimeout {
            stream: tokio_stream::StreamExt::fuse(stream),
            deadline: None,
            duration,
            items: Vec::with_capacity(max_size),
            cap: max_size,
            race: ItemRace::new(at),
            at,
        }
    }

    /// Consumes the [`ChunksTimeout`] and then returns all buffered items.
    pub fn into_remainder(mut self: Pin<&mut Self>) -> Vec<S::Item> {
        let me = self.as_mut().project();
        std::mem::take(me.items)
    }
}

impl<S: Stream> Stream for ChunksTimeout<S> {
    type Item = Vec<S::Item>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut me = self.as_mut().project();
        // A chunk started before this poll has its deadline to race.
        me.race.begin(!me.items.is_empty());
        let stream = me.stream.as_mut();
        let deadline = me.deadline.as_mut();
        let items = &mut *me.items;
        let (cap, duration, at) = (*me.cap, *me.duration, *me.at);
        let filled = me
            .race
            .poll_item(|| fill(stream, deadline, items, cap, duration, at, cx));
        if let Poll::Ready(chunk) = filled {
            return Poll::Ready(chunk);
        }

        if !me.items.is_empty() {
            if let Some(mut deadline) = me.deadline.as_pin_mut() {
                if me
                    .race
                    .poll_timer(|| deadline.as_mut().poll(cx))
                    .is_pending()
                {
                    me.race.pending();
                    return Poll::Pending;
                }
            } else {
                me.race.pending();
            }
            return Poll::Ready(Some(std::mem::take(me.items)));
        }

        me.race.pending();
        Poll::Pending
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let chunk_len = if self.items.is_empty() { 0 } else { 1 };
        let (lower, upper) = self.stream.size_hint();
        let lower = (lower / self.cap).saturating_add(chunk_len);
        let upper = upper.and_then(|x| x.checked_add(chunk_len));
        (lower, upper)
    }
}

/// tokio-stream's loop: takes items until the stream waits (pending), the
/// chunk is full or the stream ends (ready).
fn fill<S: Stream>(
    mut stream: Pin<&mut Fuse<S>>,
    mut deadline: Pin<&mut Option<Sleep>>,
    items: &mut Vec<S::Item>,
    cap: usize,
    duration: Duration,
    at: &'static Location<'static>,
    cx: &mut Context<'_>,
) -> Poll<Option<Vec<S::Item>>> {
    loop {
        match stream.as_mut().poll_next(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Some(item)) => {
                if items.is_empty() {
                    deadline.set(Some(sleep_until_located(Instant::now() + duration, at)));
                    items.reserve_exact(cap);
                }
                items.push(item);
                if items.len() >= cap {
                    return Poll::Ready(Some(std::mem::take(items)));
                }
            }
            Poll::Ready(None) => {
                // Returning Some here is only correct because we fuse the inner stream.
                let last = if items.is_empty() {
                    None
                } else {
                    Some(std::mem::take(items))
                };

                return Poll::Ready(last);
            }
        }
    }
}
