//! `AsyncBufReadExt`: tokio's, each future polled at its caller's location
//! (see [`call_site`](super::call_site)).

use std::future::Future;
use std::io;

use tokio::io::{AsyncBufRead, Lines, Split};

use super::call_site::AtCallSite;

/// Reads from a buffered source: tokio's
/// [`AsyncBufReadExt`](tokio::io::AsyncBufReadExt), whose futures are
/// tokio's own, run at their caller's location: a task that waits in
/// `reader.read_line(&mut line).await` on a `BufReader` over a simulated
/// stream waits on a `duplex read` at that line. Implemented for every
/// [`AsyncBufRead`], as tokio's.
pub trait AsyncBufReadExt: AsyncBufRead {
    /// tokio's [`AsyncBufReadExt::read_until`](tokio::io::AsyncBufReadExt::read_until);
    /// a wait in it is shown at this call.
    #[track_caller]
    fn read_until<'a>(
        &'a mut self,
        byte: u8,
        buf: &'a mut Vec<u8>,
    ) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Unpin;

    /// tokio's [`AsyncBufReadExt::read_line`](tokio::io::AsyncBufReadExt::read_line);
    /// a wait in it is shown at this call.
    #[track_caller]
    fn read_line<'a>(
        &'a mut self,
        buf: &'a mut String,
    ) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Unpin;

    /// tokio's [`AsyncBufReadExt::split`](tokio::io::AsyncBufReadExt::split).
    fn split(self, byte: u8) -> Split<Self>
    where
        Self: Sized + Unpin;

    /// tokio's [`AsyncBufReadExt::fill_buf`](tokio::io::AsyncBufReadExt::fill_buf);
    /// a wait in it is shown at this call.
    #[track_caller]
    fn fill_buf(&mut self) -> impl Future<Output = io::Result<&[u8]>> + '_
    where
        Self: Unpin;

    /// tokio's [`AsyncBufReadExt::consume`](tokio::io::AsyncBufReadExt::consume).
    fn consume(&mut self, amt: usize)
    where
        Self: Unpin;

    /// tokio's [`AsyncBufReadExt::lines`](tokio::io::AsyncBufReadExt::lines).
    fn lines(self) -> Lines<Self>
    where
        Self: Sized;
}

impl<R: AsyncBufRead + ?Sized> AsyncBufReadExt for R {
    #[track_caller]
    fn read_until<'a>(
        &'a mut self,
        byte: u8,
        buf: &'a mut Vec<u8>,
    ) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Unpin,
    {
        AtCallSite::new(tokio::io::AsyncBufReadExt::read_until(self, byte, buf))
    }

    #[track_caller]
    fn read_line<'a>(
        &'a mut self,
        buf: &'a mut String,
    ) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Unpin,
    {
        AtCallSite::new(tokio::io::AsyncBufReadExt::read_line(self, buf))
    }

    fn split(self, byte: u8) -> Split<Self>
    where
        Self: Sized + Unpin,
    {
        tokio::io::AsyncBufReadExt::split(self, byte)
    }

    #[track_caller]
    fn fill_buf(&mut self) -> impl Future<Output = io::Result<&[u8]>> + '_
    where
        Self: Unpin,
    {
        AtCallSite::new(tokio::io::AsyncBufReadExt::fill_buf(self))
    }

    fn consume(&mut self, amt: usize)
    where
        Self: Unpin,
    {
        tokio::io::AsyncBufReadExt::consume(self, amt);
    }

    fn lines(self) -> Lines<Self>
    where
        Self: Sized,
    {
        tokio::io::AsyncBufReadExt::lines(self)
    }
}
