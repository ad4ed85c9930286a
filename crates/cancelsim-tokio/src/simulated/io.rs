//! `tokio::io`: tokio's traits and utilities unchanged, and `duplex` with a
//! seeded delivery delay, so schedules explore a read racing a timer.

use std::cell::Cell;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

pub use tokio::io::*;

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
/// socket's buffer, so a dropped read future loses nothing by itself.
#[derive(Debug)]
pub struct DuplexStream {
    inner: tokio::io::DuplexStream,
    /// A chunk taken from `inner`, not yet handed to a read.
    held: Vec<u8>,
    start: usize,
    /// The chunk arrives when this fires.
    arrival: Option<Pin<Box<::cancelsim::time::Sleep>>>,
    /// Where the stream was made (`duplex`): its delivery delays, chosen
    /// inside reads' polls, and its reads' waits are recorded there.
    at: &'static Location<'static>,
}

/// A pair of connected in-memory streams (tokio's `io::duplex`), each with
/// `max_buf_size` bytes of buffer.
#[track_caller]
pub fn duplex(max_buf_size: usize) -> (DuplexStream, DuplexStream) {
    let at = Location::caller();
    let (a, b) = tokio::io::duplex(max_buf_size);
    (DuplexStream::new(a, at), DuplexStream::new(b, at))
}

impl DuplexStream {
    fn new(inner: tokio::io::DuplexStream, at: &'static Location<'static>) -> Self {
        DuplexStream {
            inner,
            held: Vec::new(),
            start: 0,
            arrival: None,
            at,
        }
    }
}

impl AsyncRead for DuplexStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        if this.start == this.held.len() {
            // Take the next chunk in, and decide when it arrives.
            let mut chunk = vec![0u8; CHUNK];
            let mut chunk_buf = ReadBuf::new(&mut chunk);
            match Pin::new(&mut this.inner).poll_read(cx, &mut chunk_buf) {
                Poll::Pending => {
                    // Waiting for the other end: a wait on this stream,
                    // shown where it was made (the read's own call site is
                    // in tokio's `AsyncReadExt` futures, not the user's).
                    ::cancelsim::note_wait(::cancelsim::trace::Wait {
                        kind: ::cancelsim::trace::WaitKind::External,
                        at: Some(this.at),
                    });
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
            this.held = chunk;
            this.start = 0;
            let at = this.at;
            this.arrival = delivery_delay(at).map(|delay| {
                let deadline = ::cancelsim::time::Instant::now() + delay;
                Box::pin(::cancelsim::time::sleep_until_located(deadline, at))
            });
        }
        if let Some(arrival) = &mut this.arrival {
            if arrival.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.arrival = None;
        }
        let n = buf.remaining().min(this.held.len() - this.start);
        buf.put_slice(&this.held[this.start..this.start + n]);
        this.start += n;
        Poll::Ready(Ok(()))
    }
}

/// The delay of one chunk: a recorded choice (at the stream's site `at`),
/// none outside a simulation.
fn delivery_delay(at: &'static Location<'static>) -> Option<Duration> {
    let max = MAX_DELAY.with(Cell::get);
    if max.is_zero() || !::cancelsim::in_simulation() {
        return None;
    }
    let step = ::cancelsim::choose_located(DELAY_STEPS as usize, at) as u32;
    (step > 0).then(|| max * step / (DELAY_STEPS - 1))
}

impl AsyncWrite for DuplexStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
