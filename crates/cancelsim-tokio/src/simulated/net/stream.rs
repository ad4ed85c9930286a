//! `TcpStream`: one end of a connection on the simulation's network. Each
//! direction is an in-memory pipe with a 64 KiB buffer whose chunks
//! arrive after a seeded, recorded delivery delay, in one piece or two
//! (as `io::duplex`'s: see `io/stream.rs`), so schedules explore a read
//! racing a timer with half a frame there.

use std::fmt;
use std::future::Future;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::panic::Location;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use ::cancelsim::trace::{IoWait, Wait, WaitKind};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::addr::{first_that, ToSocketAddrs};
use super::network;
use crate::simulated::io::Pipe;

/// The buffer of each direction of a connection, in bytes.
const SEND_BUFFER: usize = 64 * 1024;

use super::conn::{Close, ReadEnd, WriteEnd};

/// A TCP connection's end (tokio's `net::TcpStream`) on the simulation's
/// network: made by [`connect`](TcpStream::connect) to a
/// [`TcpListener`](super::TcpListener) of the same simulation, or by its
/// `accept`. What one end writes the other reads, each chunk after a
/// recorded delivery delay (none in the `Fifo` baseline; up to
/// [`set_io_delay`](crate::cancelsim::set_io_delay) under random
/// schedules) and possibly in two pieces. A task waiting to read (or to
/// write into a full 64 KiB buffer) waits on a `tcp read` (`tcp write`) at
/// the call that waits. Shutting down an end's writing ends the stream
/// its peer reads; dropping the end does too when it had read all its
/// peer sent (the peer's first write after that still goes out, the next
/// fail with `BrokenPipe`), and resets the connection when it had not
/// (the peer reads what reached it, then `ConnectionReset`; its writes
/// fail), as Linux does.
pub struct TcpStream {
    read: ReadEnd,
    write: WriteEnd,
    local: SocketAddr,
    peer: SocketAddr,
    /// Kept by the reading half of `into_split`, for the stream
    /// reunited.
    options: Arc<Options>,
}

/// Socket options: kept and reported back, with no effect on delivery.
#[derive(Debug)]
struct Options {
    nodelay: AtomicBool,
    ttl: AtomicU32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            nodelay: AtomicBool::new(false),
            ttl: AtomicU32::new(64),
        }
    }
}

impl TcpStream {
    /// Connects to `addr` (tokio's `connect`): to the listener of this
    /// simulation bound there, or `ConnectionRefused` when none is. The
    /// handshake is one wait (`tcp connect`), during which the connection
    /// already waits in the listener's backlog: a connect dropped there
    /// leaves the server an end whose client is gone, as on a real host.
    #[track_caller]
    pub fn connect<A: ToSocketAddrs>(addr: A) -> impl Future<Output = io::Result<TcpStream>> {
        let at = Location::caller();
        async move {
            crate::task::require_runtime();
            let stream = first_that(&addr, |addr| TcpStream::open(addr, at))?;
            Handshake { at, done: false }.await;
            Ok(stream)
        }
    }

    /// Makes a connection to `addr` and offers its server end to the
    /// listener there.
    fn open(addr: SocketAddr, at: &'static Location<'static>) -> io::Result<TcpStream> {
        let refused = || {
            io::Error::new(
                io::ErrorKind::ConnectionRefused,
                format!("connection refused: no listener of this simulation is bound to {addr}"),
            )
        };
        let (listener, addr, port) = network::route(addr)?;
        let listener = listener.ok_or_else(refused)?;
        let local = SocketAddr::new(addr.ip(), port);
        let (client, server) = tokio::io::duplex(SEND_BUFFER);
        let (client_end, server_end) = Close::pair();
        let client = TcpStream::new(client, client_end, local, addr, at);
        let server = TcpStream::new(server, server_end, addr, local, at);
        if listener.offer(server, local) {
            Ok(client)
        } else {
            Err(refused())
        }
    }

    fn new(
        inner: tokio::io::DuplexStream,
        close: Arc<Close>,
        local: SocketAddr,
        peer: SocketAddr,
        at: &'static Location<'static>,
    ) -> TcpStream {
        let (read, write) = tokio::io::split(inner);
        let read = Pipe::new(read, at, IoWait::TcpRead, IoWait::TcpWrite);
        let write = Pipe::new(write, at, IoWait::TcpRead, IoWait::TcpWrite);
        TcpStream {
            read: ReadEnd::new(read, Arc::clone(&close)),
            write: WriteEnd::new(write, close),
            local,
            peer,
            options: Arc::default(),
        }
    }

    /// A server end, accepted at `at`: its waits are shown there and its
    /// delivery delays recorded there.
    pub(crate) fn accepted_at(&mut self, at: &'static Location<'static>) {
        self.read.close().accepted();
        self.read.set_site(at);
        self.write.set_site(at);
    }

    /// `TCP_NODELAY` (kept, no effect: every write is delivered as a chunk
    /// of its own).
    pub fn nodelay(&self) -> io::Result<bool> {
        Ok(self.options.nodelay.load(Ordering::Relaxed))
    }

    /// Sets `TCP_NODELAY` (kept, no effect).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.options.nodelay.store(nodelay, Ordering::Relaxed);
        Ok(())
    }

    /// The IP time-to-live (kept, no effect).
    pub fn ttl(&self) -> io::Result<u32> {
        Ok(self.options.ttl.load(Ordering::Relaxed))
    }

    /// Sets the IP time-to-live (kept, no effect).
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.options.ttl.store(ttl, Ordering::Relaxed);
        Ok(())
    }

    /// Its reading and writing halves, borrowed (tokio's `split`): usable
    /// at once, in one task.
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        let (local, peer) = (self.local, self.peer);
        (
            ReadHalf {
                read: &mut self.read,
                local,
                peer,
            },
            WriteHalf {
                write: &mut self.write,
                local,
                peer,
            },
        )
    }

    /// Its reading and writing halves, owned (tokio's `into_split`): each
    /// can move to a task of its own. Dropping the writing half shuts the
    /// writing down (the peer reads the end of the stream), unless it is
    /// [`forget`](OwnedWriteHalf::forget)ed.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        let TcpStream {
            read,
            write,
            local,
            peer,
            options,
        } = self;
        (
            OwnedReadHalf {
                read,
                local,
                peer,
                options,
            },
            OwnedWriteHalf {
                write: Some(write),
                local,
                peer,
                shutdown_on_drop: true,
            },
        )
    }
}

/// The handshake of a `connect`: one wait, woken at once.
struct Handshake {
    at: &'static Location<'static>,
    done: bool,
}

impl Future for Handshake {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.done {
            return Poll::Ready(());
        }
        self.done = true;
        ::cancelsim::note_wait(Wait {
            kind: WaitKind::Io(IoWait::TcpConnect),
            at: Some(self.at),
        });
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// The pipe a stream or half reads from.
trait Reads {
    fn read_end(&mut self) -> &mut ReadEnd;
}

/// The pipe a stream or half writes to.
trait Writes {
    fn write_end(&mut self) -> &mut WriteEnd;
}

/// `AsyncRead` over its [`Reads`] (`read`), `AsyncWrite` over its [`Writes`] (`write`).
macro_rules! stream_io {
    (read: $($name:ty),*) => {$(
        impl AsyncRead for $name {
            fn poll_read(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                self.read_end().poll_read(cx, buf)
            }
        }
    )*};
    (write: $($name:ty),*) => {$(
        impl AsyncWrite for $name {
            fn poll_write(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                self.write_end().poll_write(cx, buf)
            }

            fn poll_write_vectored(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                self.write_end().poll_write_vectored(cx, bufs)
            }

            // As tokio's `TcpStream` and its halves say.
            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.write_end().poll_flush(cx)
            }

            fn poll_shutdown(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
            ) -> Poll<io::Result<()>> {
                self.write_end().poll_shutdown(cx)
            }
        }
    )*};
}

impl Reads for TcpStream {
    fn read_end(&mut self) -> &mut ReadEnd {
        &mut self.read
    }
}

impl Writes for TcpStream {
    fn write_end(&mut self) -> &mut WriteEnd {
        &mut self.write
    }
}

stream_io!(read: TcpStream, ReadHalf<'_>, OwnedReadHalf);
stream_io!(write: TcpStream, WriteHalf<'_>, OwnedWriteHalf);

/// The borrowed reading half of a [`TcpStream`] (tokio's `tcp::ReadHalf`).
pub struct ReadHalf<'a> {
    read: &'a mut ReadEnd,
    local: SocketAddr,
    peer: SocketAddr,
}

/// The borrowed writing half of a [`TcpStream`] (tokio's
/// `tcp::WriteHalf`): `shutdown` ends the stream its peer reads.
pub struct WriteHalf<'a> {
    write: &'a mut WriteEnd,
    local: SocketAddr,
    peer: SocketAddr,
}

impl Reads for ReadHalf<'_> {
    fn read_end(&mut self) -> &mut ReadEnd {
        self.read
    }
}

impl Writes for WriteHalf<'_> {
    fn write_end(&mut self) -> &mut WriteEnd {
        self.write
    }
}

/// The owned reading half of a [`TcpStream`] (tokio's
/// `tcp::OwnedReadHalf`).
pub struct OwnedReadHalf {
    read: ReadEnd,
    local: SocketAddr,
    peer: SocketAddr,
    /// The stream's options, kept for `reunite`.
    options: Arc<Options>,
}

/// The owned writing half of a [`TcpStream`] (tokio's
/// `tcp::OwnedWriteHalf`): dropped, it shuts the writing down.
pub struct OwnedWriteHalf {
    /// `None` once reunited.
    write: Option<WriteEnd>,
    local: SocketAddr,
    peer: SocketAddr,
    shutdown_on_drop: bool,
}

impl Reads for OwnedReadHalf {
    fn read_end(&mut self) -> &mut ReadEnd {
        &mut self.read
    }
}

impl Writes for OwnedWriteHalf {
    fn write_end(&mut self) -> &mut WriteEnd {
        self.write
            .as_mut()
            .expect("a writing half is whole until reunited")
    }
}

/// Two halves that are not of one stream (tokio's `tcp::ReuniteError`):
/// they come back.
#[derive(Debug)]
pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

impl fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves that are not from the same socket")
    }
}

impl std::error::Error for ReuniteError {}

// tokio's signatures: its `ReuniteError` gives both halves back by value.
#[allow(clippy::result_large_err)]
fn reunite(read: OwnedReadHalf, mut write: OwnedWriteHalf) -> Result<TcpStream, ReuniteError> {
    let write_end = write
        .write
        .as_ref()
        .expect("a writing half is whole until reunited");
    if !Arc::ptr_eq(read.read.close(), write_end.close()) {
        return Err(ReuniteError(read, write));
    }
    Ok(TcpStream {
        read: read.read,
        write: write
            .write
            .take()
            .expect("a writing half is whole until reunited"),
        local: read.local,
        peer: read.peer,
        options: read.options,
    })
}

impl OwnedReadHalf {
    /// The stream again, with its writing half (tokio's `reunite`).
    #[allow(clippy::result_large_err)]
    pub fn reunite(self, other: OwnedWriteHalf) -> Result<TcpStream, ReuniteError> {
        reunite(self, other)
    }
}

impl OwnedWriteHalf {
    /// The stream again, with its reading half (tokio's `reunite`).
    #[allow(clippy::result_large_err)]
    pub fn reunite(self, other: OwnedReadHalf) -> Result<TcpStream, ReuniteError> {
        reunite(other, self)
    }

    /// Drops the half without shutting the writing down (tokio's
    /// `forget`): the peer reads the end only when the reading half goes
    /// too.
    pub fn forget(mut self) {
        self.shutdown_on_drop = false;
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        if let (true, Some(write)) = (self.shutdown_on_drop, self.write.as_mut()) {
            // A pipe's shutdown completes at once.
            let _ = write.poll_shutdown(&mut Context::from_waker(Waker::noop()));
        }
    }
}

/// `local_addr` and `peer_addr` of a half.
macro_rules! addresses {
    ($($name:ty),*) => {$(
        impl $name {
            /// The stream's address.
            pub fn local_addr(&self) -> io::Result<SocketAddr> {
                Ok(self.local)
            }

            /// The peer's address.
            pub fn peer_addr(&self) -> io::Result<SocketAddr> {
                Ok(self.peer)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("local", &self.local)
                    .field("peer", &self.peer)
                    .finish_non_exhaustive()
            }
        }
    )*};
}

addresses!(
    TcpStream,
    ReadHalf<'_>,
    WriteHalf<'_>,
    OwnedReadHalf,
    OwnedWriteHalf
);
