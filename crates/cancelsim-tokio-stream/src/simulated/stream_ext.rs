//! `tokio_stream::StreamExt`, simulated: the same methods and signatures.
//! The methods that make no timer are tokio-stream's own (they return its
//! `adapters` types); `timeout`, `timeout_repeating`, `throttle` and
//! `chunks_timeout` are tokio-stream's code over the facade's
//! `tokio::time` (its `Sleep`, `Interval` and `Instant`), so they run on
//! the virtual clock. The futures of `next`, `try_next`, `all`, `any`,
//! `fold` and `collect` are tokio-stream's, whose types it does not name
//! (here they are `impl Future`).

use std::future::Future;

use futures_core::Stream;
use tokio_stream::adapters::{
    Chain, Filter, FilterMap, Fuse, Map, MapWhile, Merge, Peekable, Skip, SkipWhile, Take,
    TakeWhile, Then,
};
use tokio_stream::FromStream;

#[cfg(feature = "time")]
mod chunks_timeout;
#[cfg(feature = "time")]
mod race;
#[cfg(feature = "time")]
mod throttle;
#[cfg(feature = "time")]
mod timeout;
#[cfg(feature = "time")]
mod timeout_repeating;

#[cfg(feature = "time")]
pub use chunks_timeout::ChunksTimeout;
#[cfg(feature = "time")]
pub use throttle::Throttle;
#[cfg(feature = "time")]
pub use timeout::{Elapsed, Timeout};
#[cfg(feature = "time")]
pub use timeout_repeating::TimeoutRepeating;

#[cfg(feature = "time")]
use cancelsim_tokio::time::{Duration, Interval};

/// An extension trait for [`Stream`]s with tokio-stream's methods (see
/// tokio-stream's `StreamExt` for each one's documentation).
pub trait StreamExt: Stream {
    /// The next item, or `None` at the end.
    fn next(&mut self) -> impl Future<Output = Option<Self::Item>>
    where
        Self: Unpin,
    {
        tokio_stream::StreamExt::next(self)
    }

    /// The next item of a stream of results, as a result of an option.
    fn try_next<T, E>(&mut self) -> impl Future<Output = Result<Option<T>, E>>
    where
        Self: Stream<Item = Result<T, E>> + Unpin,
    {
        tokio_stream::StreamExt::try_next(self)
    }

    /// Each item through `f`.
    fn map<T, F>(self, f: F) -> Map<Self, F>
    where
        F: FnMut(Self::Item) -> T,
        Self: Sized,
    {
        tokio_stream::StreamExt::map(self, f)
    }

    /// Items through `f` while it returns `Some`.
    fn map_while<T, F>(self, f: F) -> MapWhile<Self, F>
    where
        F: FnMut(Self::Item) -> Option<T>,
        Self: Sized,
    {
        tokio_stream::StreamExt::map_while(self, f)
    }

    /// Each item through the asynchronous `f`.
    fn then<F, Fut>(self, f: F) -> Then<Self, Fut, F>
    where
        F: FnMut(Self::Item) -> Fut,
        Fut: Future,
        Self: Sized,
    {
        tokio_stream::StreamExt::then(self, f)
    }

    /// Items of both streams as they come.
    fn merge<U>(self, other: U) -> Merge<Self, U>
    where
        U: Stream<Item = Self::Item>,
        Self: Sized,
    {
        tokio_stream::StreamExt::merge(self, other)
    }

    /// The items for which `f` holds.
    fn filter<F>(self, f: F) -> Filter<Self, F>
    where
        F: FnMut(&Self::Item) -> bool,
        Self: Sized,
    {
        tokio_stream::StreamExt::filter(self, f)
    }

    /// The `Some`s of each item through `f`.
    fn filter_map<T, F>(self, f: F) -> FilterMap<Self, F>
    where
        F: FnMut(Self::Item) -> Option<T>,
        Self: Sized,
    {
        tokio_stream::StreamExt::filter_map(self, f)
    }

    /// Ends for good after the first `None`.
    fn fuse(self) -> Fuse<Self>
    where
        Self: Sized,
    {
        tokio_stream::StreamExt::fuse(self)
    }

    /// The first `n` items.
    fn take(self, n: usize) -> Take<Self>
    where
        Self: Sized,
    {
        tokio_stream::StreamExt::take(self, n)
    }

    /// Items while `f` holds.
    fn take_while<F>(self, f: F) -> TakeWhile<Self, F>
    where
        F: FnMut(&Self::Item) -> bool,
        Self: Sized,
    {
        tokio_stream::StreamExt::take_while(self, f)
    }

    /// The items after the first `n`.
    fn skip(self, n: usize) -> Skip<Self>
    where
        Self: Sized,
    {
        tokio_stream::StreamExt::skip(self, n)
    }

    /// The items from the first for which `f` does not hold.
    fn skip_while<F>(self, f: F) -> SkipWhile<Self, F>
    where
        F: FnMut(&Self::Item) -> bool,
        Self: Sized,
    {
        tokio_stream::StreamExt::skip_while(self, f)
    }

    /// Whether `f` holds for every item (stops at the first that fails).
    fn all<F>(&mut self, f: F) -> impl Future<Output = bool>
    where
        Self: Unpin,
        F: FnMut(Self::Item) -> bool,
    {
        tokio_stream::StreamExt::all(self, f)
    }

    /// Whether `f` holds for some item (stops at the first that does).
    fn any<F>(&mut self, f: F) -> impl Future<Output = bool>
    where
        Self: Unpin,
        F: FnMut(Self::Item) -> bool,
    {
        tokio_stream::StreamExt::any(self, f)
    }

    /// This stream's items, then `other`'s.
    fn chain<U>(self, other: U) -> Chain<Self, U>
    where
        U: Stream<Item = Self::Item>,
        Self: Sized,
    {
        tokio_stream::StreamExt::chain(self, other)
    }

    /// Folds every item into `init` with `f`.
    fn fold<B, F>(self, init: B, f: F) -> impl Future<Output = B>
    where
        Self: Sized,
        F: FnMut(B, Self::Item) -> B,
    {
        tokio_stream::StreamExt::fold(self, init, f)
    }

    /// Collects every item into a `T`.
    fn collect<T>(self) -> impl Future<Output = T>
    where
        T: FromStream<Self::Item>,
        Self: Sized,
    {
        tokio_stream::StreamExt::collect(self)
    }

    /// Each item, or `Err(Elapsed)` when none came within `duration` (once
    /// per gap; the stream is kept). On the virtual clock; a sweep expires
    /// the wait for an item at every await point inside it.
    #[cfg(feature = "time")]
    #[track_caller]
    fn timeout(self, duration: Duration) -> Timeout<Self>
    where
        Self: Sized,
    {
        Timeout::new(self, duration)
    }

    /// Each item, or `Err(Elapsed)` at every tick of `interval` while none
    /// comes (the interval is reset by each item). On the virtual clock; a
    /// sweep expires the wait for an item at every await point inside it.
    #[cfg(feature = "time")]
    #[track_caller]
    fn timeout_repeating(self, interval: Interval) -> TimeoutRepeating<Self>
    where
        Self: Sized,
    {
        TimeoutRepeating::new(self, interval)
    }

    /// At most one item per `duration`, on the virtual clock.
    #[cfg(feature = "time")]
    #[track_caller]
    fn throttle(self, duration: Duration) -> Throttle<Self>
    where
        Self: Sized,
    {
        throttle::throttle(duration, self)
    }

    /// Items in chunks of at most `max_size`, a chunk ending `duration`
    /// after its first item at the latest. On the virtual clock; a sweep
    /// ends a chunk at its deadline (not full) at every await point where
    /// it waits to fill.
    ///
    /// # Panics
    ///
    /// When `max_size` is zero (as tokio-stream).
    #[cfg(feature = "time")]
    #[track_caller]
    fn chunks_timeout(self, max_size: usize, duration: Duration) -> ChunksTimeout<Self>
    where
        Self: Sized,
    {
        assert!(max_size > 0, "`max_size` must be non-zero.");
        ChunksTimeout::new(self, max_size, duration)
    }

    /// A stream whose next item can be looked at without taking it.
    fn peekable(self) -> Peekable<Self>
    where
        Self: Sized,
    {
        tokio_stream::StreamExt::peekable(self)
    }
}

impl<St: ?Sized> StreamExt for St where St: Stream {}
