//! `TcpListenerStream` and `UnixListenerStream` are not simulated, as the
//! facade's `tokio::net` is not: code that uses them fails to compile with
//! a message that says what to do, instead of accepting on real sockets
//! inside the simulation.
//!
//! ```compile_fail,E0277
//! # async fn f(listener: cancelsim_tokio::net::TcpListener) {
//! let _incoming = cancelsim_tokio_stream::wrappers::TcpListenerStream::new(listener);
//! # }
//! ```

use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

/// Not implemented by any type: a bound on it is the compile error.
#[diagnostic::on_unimplemented(
    message = "tokio-stream's listener streams are not simulated by cancelsim-tokio-stream",
    label = "they accept on real sockets, which cannot run inside the simulation",
    note = "in the simulation build, hand the code under test its connections as \
            `tokio::io::duplex()` streams (a `ReceiverStream` of them stands for the listener), \
            or keep the socket code out of the simulated tests with `#[cfg(not(cancelsim))]`"
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

unsimulated!(TcpListenerStream(TcpListener, TcpStream));
#[cfg(unix)]
unsimulated!(UnixListenerStream(UnixListener, UnixStream));
