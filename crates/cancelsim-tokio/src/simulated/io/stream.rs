//! `duplex` and `simplex`: tokio's in-memory pipes, each chunk a reader
//! takes in arriving after a seeded, recorded delivery delay (in one piece
//! or two, a recorded choice too), and each wait on one named (`duplex
//! read`, `simplex write`) at its user's call.
//!
//! Invariants: data not yet handed to a read stays in the stream (as in a
//! socket's buffer), so a dropped read future loses nothing by itself; a
//! delay is chosen only when a chunk is taken in, inside a read's poll, and
//! recorded where the stream was made; a wait is noted before the stream
//! polls its own delay timer, so the task waits on the read, not on a
//! sleep, and the delay never makes a `select!` branch a timer branch.

use std::cell::Cell;
use std::io::IoSlice;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use ::cancelsim::trace::{IoWait, Wait, WaitKind};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf, ReadHalf, WriteHalf};

use super::call_site;

thread_local! {
    /// The largest delivery delay of one chunk.
    pub(crate) static MAX_DELAY: Cell<Duration> = const { Cell::new(Duration::from_millis(1)) };
}

/// Delays a chunk may take: 0, a third, two thirds or all of the maximum.
const DELAY_STEPS: u32 = 4;

/// Bytes read ahead from the inner stream per chunk.
const CHUNK: usize = 8 * 1024;

/// One end of an in-memory byte stream (tokio's `DuplexStream`). Each chunk
/// the reader takes in arrives after a delay that is a recorded choice of
/// the schedule: none in the `Fifo` baseline; under random schedules up to
/// [`set_io_delay`](crate::cancelsim::set_io_delay) (default 1 ms). Data
/// that has not been handed to a read yet stays in the stream, as in a
/// socket's buffer, so a dropped read future loses nothing by itself. A
/// task waiting to read (or to write into a full buffer) waits on a
/// `duplex read` (`duplex write`) at the call that waits: the
/// [`AsyncReadExt`](super::AsyncReadExt) method, or where the stream was
/// made when a library polls it directly.
#[derive(Debug)]
pub struct DuplexStream(Pipe<tokio::io::DuplexStream>);

/// A pair of connected in-memory streams (tokio's `io::duplex`), each with
/// `max_buf_size` bytes of buffer.
#[track_caller]
pub fn duplex(max_buf_size: usize) -> (DuplexStream, DuplexStream) {
    let at = Location::caller();
    let (a, b) = tokio::io::duplex(max_buf_size);
    let pipe = |inner| Pipe::new(inner, at, IoWait::DuplexRead, IoWait::DuplexWrite);
    (DuplexStream(pipe(a)), DuplexStream(pipe(b)))
}

/// A one-way in-memory byte stream (tokio's `SimplexStream`): what is
/// written is read back, each chunk after a recorded delivery delay, as a
/// [`DuplexStream`]'s; its waits are `simplex read` and `simplex write`.
#[derive(Debug)]
pub struct SimplexStream(Pipe<tokio::io::SimplexStream>);

impl SimplexStream {
    /// A simplex stream with `max_buf_size` bytes of buffer, not split
    /// (tokio's `SimplexStream::new_unsplit`).
    #[track_caller]
    pub fn new_unsplit(max_buf_size: usize) -> SimplexStream {
        SimplexStream(Pipe::new(
            tokio::io::SimplexStream::new_unsplit(max_buf_size),
            Location::caller(),
            IoWait::SimplexRead,
            IoWait::SimplexWrite,
        ))
    }
}

/// A one-way in-memory pipe (tokio's `io::simplex`): its reading half and
/// its writing half, with `max_buf_size` bytes of buffer.
#[track_caller]
pub fn simplex(max_buf_size: usize) -> (ReadHalf<SimplexStream>, WriteHalf<SimplexStream>) {
    tokio::io::split(SimplexStream::new_unsplit(max_buf_size))
}

/// A stream of tokio's, with the delivery delay and the named waits
/// (also the two directions of a simulated TCP stream, `net`).
#[derive(Debug)]
pub(crate) struct Pipe<S> {
    inner: S,
    /// A chunk taken from `inner`, not yet handed to a read; of it, the
    /// bytes before `cut` arrive with `arrival`, the rest after a delay of
    /// their own (a second segment).
    held: Vec<u8>,
    start: usize,
    cut: usize,
    /// The chunk arrives when this fires.
    arrival: Option<Pin<Box<::cancelsim::time::Sleep>>>,
    /// A read took the chunk's first segment with room for more: the
    /// chunk's rest is still to come (`cancelsim::note_partial_read`).
    partial: bool,
    /// Where the stream was made: its delivery delays are recorded there,
    /// and its waits shown there when no call site is known.
    at: &'static Location<'static>,
    read: IoWait,
    write: IoWait,
}

impl<S> Pipe<S> {
    pub(crate) fn new(
        inner: S,
        at: &'static Location<'static>,
        read: IoWait,
        write: IoWait,
    ) -> Self {
        Pipe {
            inner,
            held: Vec::new(),
            start: 0,
            cut: 0,
            arrival: None,
            partial: false,
            at,
            read,
            write,
        }
    }

    /// A wait of kind `op`, at the call that waits.
    fn wait(&self, op: IoWait) -> Wait {
        Wait {
            kind: WaitKind::Io(op),
            at: Some(call_site::current().unwrap_or(self.at)),
        }
    }
}

impl<S: AsyncRead + Unpin> Pipe<S> {
    pub(crate) fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.start == self.held.len() {
            // Take the next chunk in, and decide when it arrives.
            let mut chunk = vec![0u8; CHUNK];
            let mut chunk_buf = ReadBuf::new(&mut chunk);
            match Pin::new(&mut self.inner).poll_read(cx, &mut chunk_buf) {
                Poll::Pending => {
                    ::cancelsim::note_wait(self.wait(self.read));
                    return Poll::Pending;
                }
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Ready(Ok(())) => {}
            }
            let filled = chunk_buf.filled().len();
            if filled == 0 {
                return Poll::Ready(Ok(())); // end of stream
            }
            chunk.truncate(filled);
            self.held = chunk;
            self.start = 0;
            self.cut = segment_cut(self.at, filled);
            let piece = if self.cut < filled { "the first " } else { "" };
            self.arrival = self.arrival_timer(piece, self.cut);
        } else if self.start == self.cut && self.arrival.is_none() {
            // The chunk's second segment: it arrives after its own delay.
            let first = self.cut;
            self.cut = self.held.len();
            self.arrival = self.arrival_timer("the last ", self.cut - first);
        }
        if let Some(arrival) = &mut self.arrival {
            // The task waits on the read, not on the delay's timer: noted
            // first, the timer's own note loses.
            let wait = Wait {
                kind: WaitKind::Io(self.read),
                at: Some(call_site::current().unwrap_or(self.at)),
            };
            ::cancelsim::note_wait(wait);
            if arrival.as_mut().poll_delay(cx).is_pending() {
                return Poll::Pending;
            }
            ::cancelsim::retract_wait(wait);
            self.arrival = None;
        }
        let n = buf.remaining().min(self.cut - self.start);
        buf.put_slice(&self.held[self.start..self.start + n]);
        self.start += n;
        if self.start == self.cut && self.cut < self.held.len() && buf.remaining() > 0 {
            // The reader had room for the rest of the chunk: it got part
            // of what was written in one call.
            self.partial = true;
            ::cancelsim::note_partial_read();
        } else if self.partial && self.start == self.held.len() {
            self.partial = false;
            ::cancelsim::note_partial_read_done();
        }
        Poll::Ready(Ok(()))
    }
}

impl<S> Pipe<S> {
    /// The timer of the arrival of a segment of `len` bytes (`piece`: of
    /// its chunk, for the trace), if it is delayed.
    fn arrival_timer(&self, piece: &str, len: usize) -> Option<Pin<Box<::cancelsim::time::Sleep>>> {
        let at = self.at;
        delivery_delay(at, piece, len).map(|delay| {
            let deadline = ::cancelsim::time::Instant::now() + delay;
            Box::pin(::cancelsim::time::sleep_until_located(deadline, at))
        })
    }
}

impl<S: AsyncWrite + Unpin> Pipe<S> {
    /// `written`, noting a wait when the buffer is full.
    fn noted<T>(&self, written: Poll<std::io::Result<T>>) -> Poll<std::io::Result<T>> {
        if written.is_pending() {
            ::cancelsim::note_wait(self.wait(self.write));
        }
        written
    }

    pub(crate) fn poll_write(
        &mut self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let inner = &mut self.inner;
        let written = ::cancelsim::wakes_from_peer(|| Pin::new(inner).poll_write(cx, buf));
        self.noted(written)
    }

    pub(crate) fn poll_write_vectored(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let inner = &mut self.inner;
        let written =
            ::cancelsim::wakes_from_peer(|| Pin::new(inner).poll_write_vectored(cx, bufs));
        self.noted(written)
    }

    pub(crate) fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let inner = &mut self.inner;
        let flushed = ::cancelsim::wakes_from_peer(|| Pin::new(inner).poll_flush(cx));
        self.noted(flushed)
    }

    pub(crate) fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let inner = &mut self.inner;
        let shut = ::cancelsim::wakes_from_peer(|| Pin::new(inner).poll_shutdown(cx));
        self.noted(shut)
    }
}

impl<S> Pipe<S> {
    /// Shows the stream's waits, and records its delays, at `at` (a
    /// connection's server end, once accepted there).
    pub(crate) fn set_site(&mut self, at: &'static Location<'static>) {
        self.at = at;
    }
}

/// The delay of a segment of `len` bytes: a recorded choice (at the
/// stream's site `at`), labelled in the trace with what it means (`the
/// first 3 bytes arrive after 333.333µs`); none outside a simulation.
fn delivery_delay(at: &'static Location<'static>, piece: &str, len: usize) -> Option<Duration> {
    let max = MAX_DELAY.with(Cell::get);
    if max.is_zero() || !::cancelsim::in_simulation() {
        return None;
    }
    let delay = |step: u32| max * step / (DELAY_STEPS - 1);
    let step = ::cancelsim::choose_labelled(DELAY_STEPS as usize, at, |step| match step {
        0 => format!("{piece}{} at once", bytes(len)),
        _ => format!("{piece}{} after {:?}", bytes(len), delay(step as u32)),
    }) as u32;
    (step > 0).then(|| delay(step))
}

/// `1 byte arrives`, `6 bytes arrive`.
fn bytes(len: usize) -> String {
    match len {
        1 => "1 byte arrives".to_string(),
        _ => format!("{len} bytes arrive"),
    }
}

/// Where a chunk of `len` bytes splits into two segments, the second
/// arriving after a delay of its own (a recorded choice at the stream's
/// site `at`, made where delays are: a peer's writes reach the reader in
/// pieces, so a line or a frame can be half there); `len`: in one piece.
fn segment_cut(at: &'static Location<'static>, len: usize) -> usize {
    let max = MAX_DELAY.with(Cell::get);
    if len < 2 || max.is_zero() || !::cancelsim::in_simulation() {
        return len;
    }
    let cut = |step: usize| match step {
        0 => len,
        _ => (len * step / SEGMENT_STEPS).max(1),
    };
    let step = ::cancelsim::choose_labelled(SEGMENT_STEPS, at, |step| match cut(step) {
        whole if whole == len => format!("{len} bytes written arrive in one piece"),
        first => format!(
            "{len} bytes written arrive in two pieces, {first} + {}",
            len - first
        ),
    });
    cut(step)
}

/// Where a chunk may split: whole, or after a quarter, a half or three
/// quarters of it.
const SEGMENT_STEPS: usize = 4;

/// `AsyncRead` and `AsyncWrite` for a public stream type over its `Pipe`.
macro_rules! pipe_stream {
    ($name:ident) => {
        impl AsyncRead for $name {
            fn poll_read(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<std::io::Result<()>> {
                self.0.poll_read(cx, buf)
            }
        }

        impl AsyncWrite for $name {
            fn poll_write(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<std::io::Result<usize>> {
                self.0.poll_write(cx, buf)
            }

            fn poll_write_vectored(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<std::io::Result<usize>> {
                self.0.poll_write_vectored(cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                self.0.is_write_vectored()
            }

            fn poll_flush(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
            ) -> Poll<std::io::Result<()>> {
                self.0.poll_flush(cx)
            }

            fn poll_shutdown(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
            ) -> Poll<std::io::Result<()>> {
                self.0.poll_shutdown(cx)
            }
        }
    };
}

pipe_stream!(DuplexStream);
pipe_stream!(SimplexStream);
