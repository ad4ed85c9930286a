//! What the two ends of a connection know of each other, as two hosts'
//! TCP stacks do, on top of the in-memory pipes that carry the bytes: how
//! an end that goes away ends its peer's stream.
//!
//! As Linux does on loopback (the compat tests hold both to it):
//!
//! * an end closed with bytes of its peer's unread (or never accepted:
//!   its listener dropped) resets the connection: the peer's next read
//!   that finds no more bytes, or its next write, whichever comes first,
//!   fails with `ConnectionReset` (once: reads then find the end of the
//!   stream), and its writes fail with `BrokenPipe` after that — unless
//!   the closing end had shut its writing down first: the peer then reads
//!   that end of the stream, and its writes fail with `BrokenPipe`;
//! * an end closed with nothing unread ends the peer's stream (the peer
//!   reads the end), and the peer's first write after that still goes
//!   out (lost: the closed end answers it with a reset), its next ones
//!   fail with `BrokenPipe`;
//! * an end shut down for writing ends what its peer reads; its own
//!   writes fail with `BrokenPipe` from then on.
//!
//! A socket closes when its last half goes: each half holds the end's
//! [`Close`].

use std::io;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::ReadBuf;

use crate::simulated::io::Pipe;

type ReadPipe = Pipe<tokio::io::ReadHalf<tokio::io::DuplexStream>>;
type WritePipe = Pipe<tokio::io::WriteHalf<tokio::io::DuplexStream>>;

/// One end's side of the connection's state.
#[derive(Default)]
struct EndState {
    /// Bytes this end's writes handed to the connection.
    written: AtomicU64,
    /// Bytes this end's reads took.
    read: AtomicU64,
    /// The peer reset the connection: this end's writes fail.
    reset: AtomicBool,
    /// ... and its next read that finds no more bytes, or its next write,
    /// says so (`ConnectionReset`, once).
    reset_unreported: AtomicBool,
    /// The peer's socket closed (its last half dropped).
    peer_closed: AtomicBool,
    /// This end wrote once since the peer closed.
    wrote_after_close: AtomicBool,
    /// This end shut its writing down.
    shut_down: AtomicBool,
}

/// A connection's two ends: the client's (0) and the server's (1).
#[derive(Default)]
pub(super) struct Conn {
    ends: [EndState; 2],
}

/// An end's socket: closed when the last of its halves is dropped.
pub(super) struct Close {
    conn: Arc<Conn>,
    side: usize,
    /// A server end stays unaccepted while it waits in a backlog.
    accepted: AtomicBool,
}

impl Close {
    /// The two ends of a new connection: the client's, the server's (not
    /// accepted yet).
    pub(super) fn pair() -> (Arc<Close>, Arc<Close>) {
        let conn = Arc::new(Conn::default());
        let end = |side| {
            Arc::new(Close {
                conn: Arc::clone(&conn),
                side,
                accepted: AtomicBool::new(side == 0),
            })
        };
        (end(0), end(1))
    }

    pub(super) fn accepted(&self) {
        self.accepted.store(true, Ordering::Relaxed);
    }

    fn me(&self) -> &EndState {
        &self.conn.ends[self.side]
    }

    fn peer(&self) -> &EndState {
        &self.conn.ends[1 - self.side]
    }
}

impl Drop for Close {
    fn drop(&mut self) {
        let (me, peer) = (self.me(), self.peer());
        peer.peer_closed.store(true, Ordering::Relaxed);
        let unread = peer.written.load(Ordering::Relaxed) > me.read.load(Ordering::Relaxed);
        if unread || !self.accepted.load(Ordering::Relaxed) {
            peer.reset.store(true, Ordering::Relaxed);
            // After this end's own end of the stream, the peer reads that.
            if !me.shut_down.load(Ordering::Relaxed) {
                peer.reset_unreported.store(true, Ordering::Relaxed);
            }
        }
    }
}

/// The reading side of an end.
pub(super) struct ReadEnd {
    pipe: ReadPipe,
    close: Arc<Close>,
}

impl ReadEnd {
    pub(super) fn new(pipe: ReadPipe, close: Arc<Close>) -> Self {
        ReadEnd { pipe, close }
    }

    pub(super) fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let read = self.pipe.poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = read {
            let got = buf.filled().len() - before;
            self.close
                .me()
                .read
                .fetch_add(got as u64, Ordering::Relaxed);
            let end_of_stream = got == 0 && buf.remaining() > 0;
            if end_of_stream
                && self
                    .close
                    .me()
                    .reset_unreported
                    .swap(false, Ordering::Relaxed)
            {
                return Poll::Ready(Err(connection_reset()));
            }
        }
        read
    }

    pub(super) fn set_site(&mut self, at: &'static Location<'static>) {
        self.pipe.set_site(at);
    }

    pub(super) fn close(&self) -> &Arc<Close> {
        &self.close
    }
}

/// The writing side of an end.
pub(super) struct WriteEnd {
    pipe: WritePipe,
    close: Arc<Close>,
}

impl WriteEnd {
    pub(super) fn new(pipe: WritePipe, close: Arc<Close>) -> Self {
        WriteEnd { pipe, close }
    }

    /// `written` as the connection's state makes it: counted, failed
    /// after this end's shutdown or a reset (the reset said once), the
    /// first write after the peer's clean close gone out.
    fn sent(&self, written: Poll<io::Result<usize>>, len: usize) -> Poll<io::Result<usize>> {
        let me = self.close.me();
        if me.shut_down.load(Ordering::Relaxed) {
            return Poll::Ready(Err(broken_pipe()));
        }
        if me.reset.load(Ordering::Relaxed) {
            return Poll::Ready(Err(if me.reset_unreported.swap(false, Ordering::Relaxed) {
                connection_reset()
            } else {
                broken_pipe()
            }));
        }
        match written {
            Poll::Ready(Ok(n)) => {
                me.written.fetch_add(n as u64, Ordering::Relaxed);
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(error)) if error.kind() == io::ErrorKind::BrokenPipe => {
                if me.peer_closed.load(Ordering::Relaxed)
                    && !me.wrote_after_close.swap(true, Ordering::Relaxed)
                {
                    Poll::Ready(Ok(len))
                } else {
                    Poll::Ready(Err(error))
                }
            }
            other => other,
        }
    }

    pub(super) fn poll_write(
        &mut self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = self.pipe.poll_write(cx, buf);
        self.sent(written, buf.len())
    }

    pub(super) fn poll_write_vectored(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = self.pipe.poll_write_vectored(cx, bufs);
        let len = bufs.iter().map(|b| b.len()).sum();
        self.sent(written, len)
    }

    pub(super) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.pipe.poll_flush(cx)
    }

    pub(super) fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let shut = self.pipe.poll_shutdown(cx);
        if let Poll::Ready(Ok(())) = shut {
            self.close.me().shut_down.store(true, Ordering::Relaxed);
        }
        shut
    }

    pub(super) fn set_site(&mut self, at: &'static Location<'static>) {
        self.pipe.set_site(at);
    }

    pub(super) fn close(&self) -> &Arc<Close> {
        &self.close
    }
}

fn connection_reset() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionReset,
        "connection reset by peer (it closed with bytes unread, or was never accepted)",
    )
}

fn broken_pipe() -> io::Error {
    io::Error::new(
        io::ErrorKind::BrokenPipe,
        "broken pipe: the connection is shut down or was reset",
    )
}
