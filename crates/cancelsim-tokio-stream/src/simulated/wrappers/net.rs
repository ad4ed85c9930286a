//! `TcpListenerStream` over the facade's simulated `TcpListener`.
//! `UnixListenerStream` is not simulated, as the facade's Unix sockets are
//! not: code that uses it fails to compile with a message that says what
//! to do, instead of accepting on real sockets inside the simulation.
//!
//! ```compile_fail,E0277
//! # async fn f(listener: cancelsim_tokio::net::UnixListener) {
//! let _incoming = cancelsim_tokio_stream::wrappers::UnixListenerStream::new(listener);
//! # }
//! ```

use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

/// Not implemented by any type: a bound on it is the compile error.
#[diagnostic::on_unimplemented(
    message = "tokio-stream's `UnixListenerStream` is not simulated by cancelsim-tokio-stream",
    label = "they accept on real sockets, which cannot run inside the simulation",
    note = "in the simulation build, use TCP (`TcpListenerStream` over a simulated \
            `TcpListener`), hand the code under test its connections as `tokio::io::duplex()` \
            streams, or keep the socket code out of the simulated tests with \
            `#[cfg(not(cancelsim))]`"
)]
pub trait ListenerStreamIsNotSimulated {}

macro_rules! unsimulated {
    ($($name:ident($listener:ident, $stream:ident)),*) => {$(
        #[doc = concat!("`tokio_stream::wrappers::", stringify!($name), "`: not simulated (any use fails to compile).")]
        #[derive(Debug)]
        pub struct $name(PhantomData<()>);

        impl $name {
            /// Not simulated: fails to compile.
            pub fn new<L: ListenerStreamIsNotSimulated>(_listener: L) -> Self {
                unreachable!()
            }

            /// Not simulated.
            pub fn into_inner(self) -> cancelsim_tokio::net::$listener {
                unreachable!()
            }
        }

        impl Stream for $name {
            type Item = std::io::Result<cancelsim_tokio::net::$stream>;

            fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
                unreachable!()
            }
        }
    )*};
}

/// A stream of the connections a [`TcpListener`] accepts (tokio-stream's
/// `TcpListenerStream`), over the facade's simulated listener: waiting
/// for the next one is a `tcp accept`.
///
/// [`TcpListener`]: cancelsim_tokio::net::TcpListener
#[derive(Debug)]
pub struct TcpListenerStream {
    inner: cancelsim_tokio::net::TcpListener,
}

impl TcpListenerStream {
    /// The stream of `listener`'s connections.
    pub fn new(listener: cancelsim_tokio::net::TcpListener) -> Self {
        TcpListenerStream { inner: listener }
    }

    /// The listener back.
    pub fn into_inner(self) -> cancelsim_tokio::net::TcpListener {
        self.inner
    }
}

impl Stream for TcpListenerStream {
    type Item = std::io::Result<cancelsim_tokio::net::TcpStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.inner.poll_accept(cx) {
            Poll::Ready(Ok((stream, _))) => Poll::Ready(Some(Ok(stream))),
            Poll::Ready(Err(error)) => Poll::Ready(Some(Err(error))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsRef<cancelsim_tokio::net::TcpListener> for TcpListenerStream {
    fn as_ref(&self) -> &cancelsim_tokio::net::TcpListener {
        &self.inner
    }
}

impl AsMut<cancelsim_tokio::net::TcpListener> for TcpListenerStream {
    fn as_mut(&mut self) -> &mut cancelsim_tokio::net::TcpListener {
        &mut self.inner
    }
}

#[cfg(unix)]
unsimulated!(UnixListenerStream(UnixListener, UnixStream));
