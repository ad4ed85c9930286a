//! `WatchStream` over the facade's `watch::Receiver` (whose receivers wake
//! in a fixed order): tokio-stream's code, with a boxed future in place of
//! tokio-util's `ReusableBoxFuture`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use cancelsim_tokio::sync::watch::error::RecvError;
use cancelsim_tokio::sync::watch::Receiver;
use futures_core::Stream;

type Changed<T> = Pin<Box<dyn Future<Output = (Result<(), RecvError>, Receiver<T>)> + Send>>;

/// A wrapper around the facade's `tokio::sync::watch::Receiver` that
/// implements [`Stream`]: it yields the current value first (with
/// [`new`](WatchStream::new)), then each value not yet seen; `None` once
/// every sender is gone.
pub struct WatchStream<T> {
    inner: Changed<T>,
}

async fn make_future<T: Clone + Send + Sync>(
    mut rx: Receiver<T>,
) -> (Result<(), RecvError>, Receiver<T>) {
    let result = rx.changed().await;
    (result, rx)
}

impl<T: 'static + Clone + Send + Sync> WatchStream<T> {
    /// Create a new `WatchStream`: its first item is the current value.
    pub fn new(rx: Receiver<T>) -> Self {
        Self {
            inner: Box::pin(async move { (Ok(()), rx) }),
        }
    }

    /// Create a new `WatchStream` that waits for the value to be changed.
    pub fn from_changes(rx: Receiver<T>) -> Self {
        Self {
            inner: Box::pin(make_future(rx)),
        }
    }
}

impl<T: Clone + 'static + Send + Sync> Stream for WatchStream<T> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let (result, mut rx) = ready!(self.inner.as_mut().poll(cx));
        match result {
            Ok(_) => {
                let received = (*rx.borrow_and_update()).clone();
                self.inner = Box::pin(make_future(rx));
                Poll::Ready(Some(received))
            }
            Err(_) => {
                self.inner = Box::pin(make_future(rx));
                Poll::Ready(None)
            }
        }
    }
}

impl<T> Unpin for WatchStream<T> {}

impl<T> fmt::Debug for WatchStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WatchStream").finish()
    }
}

impl<T: 'static + Clone + Send + Sync> From<Receiver<T>> for WatchStream<T> {
    fn from(recv: Receiver<T>) -> Self {
        Self::new(recv)
    }
}
