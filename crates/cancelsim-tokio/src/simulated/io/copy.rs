//! `copy`, `copy_buf` and `copy_bidirectional`: tokio's, each future
//! polled at its caller's location (see [`call_site`](super::call_site)).

use std::future::Future;
use std::io;

use tokio::io::{AsyncBufRead, AsyncRead, AsyncWrite};

use super::call_site::AtCallSite;

/// tokio's [`io::copy`](tokio::io::copy); a wait in it (on either stream)
/// is shown at this call.
#[track_caller]
pub fn copy<'a, R, W>(
    reader: &'a mut R,
    writer: &'a mut W,
) -> impl Future<Output = io::Result<u64>> + 'a
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    AtCallSite::new(tokio::io::copy(reader, writer))
}

/// tokio's [`io::copy_buf`](tokio::io::copy_buf); a wait in it (on either
/// stream) is shown at this call.
#[track_caller]
pub fn copy_buf<'a, R, W>(
    reader: &'a mut R,
    writer: &'a mut W,
) -> impl Future<Output = io::Result<u64>> + 'a
where
    R: AsyncBufRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    AtCallSite::new(tokio::io::copy_buf(reader, writer))
}

/// tokio's [`io::copy_bidirectional`](tokio::io::copy_bidirectional); a
/// wait in it (on either stream) is shown at this call.
#[track_caller]
pub fn copy_bidirectional<'a, A, B>(
    a: &'a mut A,
    b: &'a mut B,
) -> impl Future<Output = io::Result<(u64, u64)>> + 'a
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    AtCallSite::new(tokio::io::copy_bidirectional(a, b))
}

/// tokio's
/// [`io::copy_bidirectional_with_sizes`](tokio::io::copy_bidirectional_with_sizes);
/// a wait in it (on either stream) is shown at this call.
#[track_caller]
pub fn copy_bidirectional_with_sizes<'a, A, B>(
    a: &'a mut A,
    b: &'a mut B,
    a_to_b_buf_size: usize,
    b_to_a_buf_size: usize,
) -> impl Future<Output = io::Result<(u64, u64)>> + 'a
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    AtCallSite::new(tokio::io::copy_bidirectional_with_sizes(
        a,
        b,
        a_to_b_buf_size,
        b_to_a_buf_size,
    ))
}
