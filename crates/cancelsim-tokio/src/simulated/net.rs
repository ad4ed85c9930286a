//! `tokio::net` is not simulated yet: code that uses it fails to compile
//! with a message that says what to do, instead of opening real sockets
//! inside the simulation.
//!
//! ```compile_fail,E0277
//! # async fn f() {
//! use cancelsim_tokio as tokio;
//! let _listener = tokio::net::TcpListener::bind("127.0.0.1:0").await;
//! # }
//! ```

use std::marker::PhantomData;

/// Not implemented by any type: a bound on it is the compile error.
#[diagnostic::on_unimplemented(
    message = "tokio::net is not simulated by cancelsim-tokio yet",
    label = "real sockets cannot run inside the simulation",
    note = "in the simulation build, connect the pieces under test with `tokio::io::duplex()` \
            (in-memory streams with a seeded delivery delay), or keep the socket code out of \
            the simulated tests with `#[cfg(not(cancelsim))]`"
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
        }
    )*};
}

unsimulated!(
    TcpListener,
    TcpStream,
    TcpSocket,
    UdpSocket,
    UnixListener,
    UnixStream
);

/// Not simulated: fails to compile.
pub async fn lookup_host<A: NetIsNotSimulated>(
    _host: A,
) -> std::io::Result<std::vec::IntoIter<std::net::SocketAddr>> {
    unreachable!()
}
