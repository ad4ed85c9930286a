//! `JoinSetStream` over the facade's `JoinSet`: its joins wait where the
//! stream was made.

use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

use cancelsim_tokio::__private::poll_join_next_located;
use cancelsim_tokio::task::{JoinError, JoinSet};
use futures_core::Stream;

/// A wrapper around [`JoinSet`] that implements [`Stream`].
#[derive(Debug)]
pub struct JoinSetStream<T> {
    inner: JoinSet<T>,
    at: &'static Location<'static>,
}

impl<T> JoinSetStream<T> {
    /// Create a new `JoinSetStream`.
    #[track_caller]
    pub fn new(join_set: JoinSet<T>) -> Self {
        Self {
            inner: join_set,
            at: Location::caller(),
        }
    }

    /// Get back the inner `JoinSet`.
    pub fn into_inner(self) -> JoinSet<T> {
        self.inner
    }
}

impl<T: 'static> Stream for JoinSetStream<T> {
    type Item = Result<T, JoinError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        poll_join_next_located(&mut this.inner, cx, this.at)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let size = self.inner.len();
        (size, Some(size))
    }
}

impl<T> AsRef<JoinSet<T>> for JoinSetStream<T> {
    fn as_ref(&self) -> &JoinSet<T> {
        &self.inner
    }
}

impl<T> AsMut<JoinSet<T>> for JoinSetStream<T> {
    fn as_mut(&mut self) -> &mut JoinSet<T> {
        &mut self.inner
    }
}

impl<T> From<JoinSet<T>> for JoinSetStream<T> {
    #[track_caller]
    fn from(join_set: JoinSet<T>) -> Self {
        Self::new(join_set)
    }
}
