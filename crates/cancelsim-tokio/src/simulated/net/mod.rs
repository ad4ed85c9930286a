//! `tokio::net`, simulated for TCP: a [`TcpListener`] bound to an address
//! of the simulation's network takes the connections that
//! [`TcpStream::connect`] makes to it in the same simulation; each
//! direction of a connection delivers its chunks after a seeded, recorded
//! delay, as `io::duplex` does. Every simulation (every run of a sweep)
//! has a network of its own, empty at its start: nothing reaches a real
//! socket, and no other run. There is no DNS: an address is an IP address
//! or `localhost`.
//!
//! UDP, Unix sockets and `TcpSocket` are not simulated: code that uses
//! them fails to compile with a message that says what to do, instead of
//! opening real sockets inside the simulation.
//!
//! ```compile_fail,E0277
//! # async fn f() {
//! use cancelsim_tokio as tokio;
//! let _socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await;
//! # }
//! ```
//!
//! ```compile_fail,E0283
//! use cancelsim_tokio as tokio;
//! let _socket = tokio::net::TcpSocket::new_v4();
//! ```
//!
//! ```compile_fail,E0283
//! use cancelsim_tokio as tokio;
//! let _pair = tokio::net::UnixStream::pair();
//! ```

use std::marker::PhantomData;

mod addr;
mod conn;
mod listener;
mod network;
mod stream;

pub use addr::{lookup_host, ToSocketAddrs};
pub use listener::TcpListener;
pub use stream::TcpStream;

/// The halves of a [`TcpStream`] (tokio's `net::tcp`).
pub mod tcp {
    pub use super::stream::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
}

/// Not implemented by any type: a bound on it is the compile error.
#[diagnostic::on_unimplemented(
    message = "this part of tokio::net is not simulated by cancelsim-tokio",
    label = "real sockets cannot run inside the simulation",
    note = "the simulation build simulates TCP (`TcpListener`, `TcpStream`); for the rest, \
            connect the pieces under test with `tokio::io::duplex()` (in-memory streams with a \
            seeded delivery delay), or keep this code out of the simulated tests with \
            `#[cfg(not(cancelsim))]`"
)]
pub trait NetIsNotSimulated {}

macro_rules! unsimulated {
    ($($name:ident),*) => {$(
        #[doc = concat!("`tokio::net::", stringify!($name), "`: not simulated (any use fails to compile).")]
        #[derive(Debug)]
        pub struct $name(PhantomData<()>);

        impl $name {
            /// Not simulated: fails to compile.
            pub async fn bind<A: NetIsNotSimulated>(_addr: A) -> std::io::Result<$name> {
                unreachable!()
            }

            /// Not simulated: fails to compile.
            pub async fn connect<A: NetIsNotSimulated>(_addr: A) -> std::io::Result<$name> {
                unreachable!()
            }

            /// Not simulated: fails to compile (the type parameter cannot
            /// satisfy `NetIsNotSimulated`).
            pub fn new_v4<A: NetIsNotSimulated>() -> std::io::Result<$name> {
                unreachable!()
            }

            /// Not simulated: fails to compile.
            pub fn new_v6<A: NetIsNotSimulated>() -> std::io::Result<$name> {
                unreachable!()
            }

            /// Not simulated: fails to compile.
            pub fn pair<A: NetIsNotSimulated>() -> std::io::Result<($name, $name)> {
                unreachable!()
            }
        }
    )*};
}

unsimulated!(TcpSocket, UdpSocket, UnixListener, UnixStream);
