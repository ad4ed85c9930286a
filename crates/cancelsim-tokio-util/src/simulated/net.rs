//! `tokio_util::net`, simulated: the [`Listener`] trait with tokio-util's
//! name and signature, implemented for the facade's simulated
//! [`TcpListener`](cancelsim_tokio::net::TcpListener) (tokio-util's own is
//! implemented for real tokio's listener only, and Rust's orphan rule
//! keeps this crate from adding an impl of it). Code generic over
//! `L: tokio_util::net::Listener` compiles unchanged and accepts simulated
//! connections.
//!
//! Not simulated: `net::unix` (the facade has no Unix sockets) and
//! tokio-util's `Either<L, R>::accept` over two listeners (an inherent
//! method of tokio-util's `Either`, bound by its own trait): match on the
//! `Either` and accept from the listener inside.

use std::future::Future;
use std::io::Result;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A trait for a listener: the simulated `TcpListener` (tokio-util's
/// `Listener`).
pub trait Listener {
    /// The stream's type of this listener.
    type Io: tokio::io::AsyncRead + tokio::io::AsyncWrite;
    /// The socket address type of this listener.
    type Addr;

    /// Polls to accept a new incoming connection to this listener.
    fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<Result<(Self::Io, Self::Addr)>>;

    /// Accepts a new incoming connection from this listener: a wait
    /// (`tcp accept`) a sweep cancels like the listener's own `accept()`.
    #[track_caller]
    fn accept(&mut self) -> ListenerAcceptFut<'_, Self>
    where
        Self: Sized,
    {
        ListenerAcceptFut {
            listener: self,
            at: Location::caller(),
        }
    }

    /// Returns the local address that this listener is bound to.
    fn local_addr(&self) -> Result<Self::Addr>;
}

impl Listener for cancelsim_tokio::net::TcpListener {
    type Io = cancelsim_tokio::net::TcpStream;
    type Addr = std::net::SocketAddr;

    fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<Result<(Self::Io, Self::Addr)>> {
        cancelsim_tokio::net::TcpListener::poll_accept(self, cx)
    }

    fn local_addr(&self) -> Result<Self::Addr> {
        cancelsim_tokio::net::TcpListener::local_addr(self)
    }
}

/// Future for accepting a new connection from a listener.
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ListenerAcceptFut<'a, L> {
    listener: &'a mut L,
    at: &'static Location<'static>,
}

impl<L: Listener> Future for ListenerAcceptFut<'_, L> {
    type Output = Result<(L::Io, L::Addr)>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let at = self.at;
        cancelsim_tokio::__private::polled_at(at, || self.listener.poll_accept(cx))
    }
}
