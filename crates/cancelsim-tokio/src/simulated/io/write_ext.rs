//! `AsyncWriteExt`: tokio's, each future polled at its caller's location
//! (see [`call_site`](super::call_site)).

use std::future::Future;
use std::io::{self, IoSlice};

use bytes::Buf;
use tokio::io::AsyncWrite;

use super::call_site::AtCallSite;

/// Declares (`trait`) or defines (`impl`) the number writers, each tokio's
/// own, polled at the caller's location.
macro_rules! write_numbers {
    (trait $($name:ident($ty:ty);)*) => {$(
        #[doc = concat!(
            "tokio's [`AsyncWriteExt::", stringify!($name), "`](tokio::io::AsyncWriteExt::",
            stringify!($name), "); a wait in it is shown at this call."
        )]
        #[track_caller]
        fn $name(&mut self, n: $ty) -> impl Future<Output = io::Result<()>> + '_
        where
            Self: Unpin;
    )*};
    (impl $($name:ident($ty:ty);)*) => {$(
        #[track_caller]
        fn $name(&mut self, n: $ty) -> impl Future<Output = io::Result<()>> + '_
        where
            Self: Unpin,
        {
            AtCallSite::new(tokio::io::AsyncWriteExt::$name(self, n))
        }
    )*};
}

/// Declares (`trait`) or defines (`impl`) the methods that take no
/// argument and return `()`: `flush`, `shutdown`.
macro_rules! write_unit {
    (trait $($name:ident;)*) => {$(
        #[doc = concat!(
            "tokio's [`AsyncWriteExt::", stringify!($name), "`](tokio::io::AsyncWriteExt::",
            stringify!($name), "); a wait in it is shown at this call."
        )]
        #[track_caller]
        fn $name(&mut self) -> impl Future<Output = io::Result<()>> + '_
        where
            Self: Unpin;
    )*};
    (impl $($name:ident;)*) => {$(
        #[track_caller]
        fn $name(&mut self) -> impl Future<Output = io::Result<()>> + '_
        where
            Self: Unpin,
        {
            AtCallSite::new(tokio::io::AsyncWriteExt::$name(self))
        }
    )*};
}

/// Writes bytes to a sink: tokio's [`AsyncWriteExt`](tokio::io::AsyncWriteExt),
/// whose futures are tokio's own, run at their caller's location: a task
/// that waits in `writer.write_all(&frame).await` on a full simulated
/// stream waits on a `duplex write` at that line. Implemented for every
/// [`AsyncWrite`], as tokio's.
pub trait AsyncWriteExt: AsyncWrite {
    /// tokio's [`AsyncWriteExt::write`](tokio::io::AsyncWriteExt::write); a
    /// wait in it is shown at this call.
    #[track_caller]
    fn write<'a>(&'a mut self, src: &'a [u8]) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Unpin;

    /// tokio's [`AsyncWriteExt::write_vectored`](tokio::io::AsyncWriteExt::write_vectored);
    /// a wait in it is shown at this call.
    #[track_caller]
    fn write_vectored<'a, 'b>(
        &'a mut self,
        bufs: &'a [IoSlice<'b>],
    ) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Unpin;

    /// tokio's [`AsyncWriteExt::write_buf`](tokio::io::AsyncWriteExt::write_buf);
    /// a wait in it is shown at this call.
    #[track_caller]
    fn write_buf<'a, B>(
        &'a mut self,
        src: &'a mut B,
    ) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Sized + Unpin,
        B: Buf;

    /// tokio's [`AsyncWriteExt::write_all_buf`](tokio::io::AsyncWriteExt::write_all_buf);
    /// a wait in it is shown at this call.
    #[track_caller]
    fn write_all_buf<'a, B>(
        &'a mut self,
        src: &'a mut B,
    ) -> impl Future<Output = io::Result<()>> + 'a
    where
        Self: Sized + Unpin,
        B: Buf;

    /// tokio's [`AsyncWriteExt::write_all`](tokio::io::AsyncWriteExt::write_all);
    /// a wait in it is shown at this call.
    #[track_caller]
    fn write_all<'a>(&'a mut self, src: &'a [u8]) -> impl Future<Output = io::Result<()>> + 'a
    where
        Self: Unpin;

    write_numbers! { trait
        write_u8(u8); write_i8(i8);
        write_u16(u16); write_i16(i16); write_u32(u32); write_i32(i32);
        write_u64(u64); write_i64(i64); write_u128(u128); write_i128(i128);
        write_f32(f32); write_f64(f64);
        write_u16_le(u16); write_i16_le(i16); write_u32_le(u32); write_i32_le(i32);
        write_u64_le(u64); write_i64_le(i64); write_u128_le(u128); write_i128_le(i128);
        write_f32_le(f32); write_f64_le(f64);
    }

    write_unit! { trait flush; shutdown; }
}

impl<W: AsyncWrite + ?Sized> AsyncWriteExt for W {
    #[track_caller]
    fn write<'a>(&'a mut self, src: &'a [u8]) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Unpin,
    {
        AtCallSite::new(tokio::io::AsyncWriteExt::write(self, src))
    }

    #[track_caller]
    fn write_vectored<'a, 'b>(
        &'a mut self,
        bufs: &'a [IoSlice<'b>],
    ) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Unpin,
    {
        AtCallSite::new(tokio::io::AsyncWriteExt::write_vectored(self, bufs))
    }

    #[track_caller]
    fn write_buf<'a, B>(
        &'a mut self,
        src: &'a mut B,
    ) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Sized + Unpin,
        B: Buf,
    {
        AtCallSite::new(tokio::io::AsyncWriteExt::write_buf(self, src))
    }

    #[track_caller]
    fn write_all_buf<'a, B>(
        &'a mut self,
        src: &'a mut B,
    ) -> impl Future<Output = io::Result<()>> + 'a
    where
        Self: Sized + Unpin,
        B: Buf,
    {
        AtCallSite::new(tokio::io::AsyncWriteExt::write_all_buf(self, src))
    }

    #[track_caller]
    fn write_all<'a>(&'a mut self, src: &'a [u8]) -> impl Future<Output = io::Result<()>> + 'a
    where
        Self: Unpin,
    {
        AtCallSite::new(tokio::io::AsyncWriteExt::write_all(self, src))
    }

    write_numbers! { impl
        write_u8(u8); write_i8(i8);
        write_u16(u16); write_i16(i16); write_u32(u32); write_i32(i32);
        write_u64(u64); write_i64(i64); write_u128(u128); write_i128(i128);
        write_f32(f32); write_f64(f64);
        write_u16_le(u16); write_i16_le(i16); write_u32_le(u32); write_i32_le(i32);
        write_u64_le(u64); write_i64_le(i64); write_u128_le(u128); write_i128_le(i128);
        write_f32_le(f32); write_f64_le(f64);
    }

    write_unit! { impl flush; shutdown; }
}
