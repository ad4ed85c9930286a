//! `AsyncReadExt`: tokio's, each future polled at its caller's location
//! (see [`call_site`](super::call_site)).

use std::future::Future;
use std::io;

use bytes::BufMut;
use tokio::io::{AsyncRead, Chain, Take};

use super::call_site::AtCallSite;

/// Declares (`trait`) or defines (`impl`) the number readers, each tokio's
/// own, polled at the caller's location.
macro_rules! read_numbers {
    (trait $($name:ident -> $ty:ty;)*) => {$(
        #[doc = concat!(
            "tokio's [`AsyncReadExt::", stringify!($name), "`](tokio::io::AsyncReadExt::",
            stringify!($name), "); a wait in it is shown at this call."
        )]
        #[track_caller]
        fn $name(&mut self) -> impl Future<Output = io::Result<$ty>> + '_
        where
            Self: Unpin;
    )*};
    (impl $($name:ident -> $ty:ty;)*) => {$(
        #[track_caller]
        fn $name(&mut self) -> impl Future<Output = io::Result<$ty>> + '_
        where
            Self: Unpin,
        {
            AtCallSite::new(tokio::io::AsyncReadExt::$name(self))
        }
    )*};
}

/// Reads bytes from a source: tokio's [`AsyncReadExt`](tokio::io::AsyncReadExt),
/// whose futures are tokio's own, run at their caller's location: a task
/// that waits in `reader.read_exact(&mut buf).await` on a simulated stream
/// waits on a `duplex read` at that line. Implemented for every
/// [`AsyncRead`], as tokio's.
pub trait AsyncReadExt: AsyncRead {
    /// tokio's [`AsyncReadExt::chain`](tokio::io::AsyncReadExt::chain).
    fn chain<R>(self, next: R) -> Chain<Self, R>
    where
        Self: Sized,
        R: AsyncRead;

    /// tokio's [`AsyncReadExt::read`](tokio::io::AsyncReadExt::read); a
    /// wait in it is shown at this call.
    #[track_caller]
    fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Unpin;

    /// tokio's [`AsyncReadExt::read_buf`](tokio::io::AsyncReadExt::read_buf);
    /// a wait in it is shown at this call.
    #[track_caller]
    fn read_buf<'a, B>(
        &'a mut self,
        buf: &'a mut B,
    ) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Unpin,
        B: BufMut + ?Sized;

    /// tokio's [`AsyncReadExt::read_exact`](tokio::io::AsyncReadExt::read_exact);
    /// a wait in it is shown at this call.
    #[track_caller]
    fn read_exact<'a>(
        &'a mut self,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Unpin;

    read_numbers! { trait
        read_u8 -> u8; read_i8 -> i8;
        read_u16 -> u16; read_i16 -> i16; read_u32 -> u32; read_i32 -> i32;
        read_u64 -> u64; read_i64 -> i64; read_u128 -> u128; read_i128 -> i128;
        read_f32 -> f32; read_f64 -> f64;
        read_u16_le -> u16; read_i16_le -> i16; read_u32_le -> u32; read_i32_le -> i32;
        read_u64_le -> u64; read_i64_le -> i64; read_u128_le -> u128; read_i128_le -> i128;
        read_f32_le -> f32; read_f64_le -> f64;
    }

    /// tokio's [`AsyncReadExt::read_to_end`](tokio::io::AsyncReadExt::read_to_end);
    /// a wait in it is shown at this call.
    #[track_caller]
    fn read_to_end<'a>(
        &'a mut self,
        buf: &'a mut Vec<u8>,
    ) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Unpin;

    /// tokio's [`AsyncReadExt::read_to_string`](tokio::io::AsyncReadExt::read_to_string);
    /// a wait in it is shown at this call.
    #[track_caller]
    fn read_to_string<'a>(
        &'a mut self,
        dst: &'a mut String,
    ) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Unpin;

    /// tokio's [`AsyncReadExt::take`](tokio::io::AsyncReadExt::take).
    fn take(self, limit: u64) -> Take<Self>
    where
        Self: Sized;
}

impl<R: AsyncRead + ?Sized> AsyncReadExt for R {
    fn chain<N>(self, next: N) -> Chain<Self, N>
    where
        Self: Sized,
        N: AsyncRead,
    {
        tokio::io::AsyncReadExt::chain(self, next)
    }

    #[track_caller]
    fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Unpin,
    {
        AtCallSite::new(tokio::io::AsyncReadExt::read(self, buf))
    }

    #[track_caller]
    fn read_buf<'a, B>(&'a mut self, buf: &'a mut B) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Unpin,
        B: BufMut + ?Sized,
    {
        AtCallSite::new(tokio::io::AsyncReadExt::read_buf(self, buf))
    }

    #[track_caller]
    fn read_exact<'a>(
        &'a mut self,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Unpin,
    {
        AtCallSite::new(tokio::io::AsyncReadExt::read_exact(self, buf))
    }

    read_numbers! { impl
        read_u8 -> u8; read_i8 -> i8;
        read_u16 -> u16; read_i16 -> i16; read_u32 -> u32; read_i32 -> i32;
        read_u64 -> u64; read_i64 -> i64; read_u128 -> u128; read_i128 -> i128;
        read_f32 -> f32; read_f64 -> f64;
        read_u16_le -> u16; read_i16_le -> i16; read_u32_le -> u32; read_i32_le -> i32;
        read_u64_le -> u64; read_i64_le -> i64; read_u128_le -> u128; read_i128_le -> i128;
        read_f32_le -> f32; read_f64_le -> f64;
    }

    #[track_caller]
    fn read_to_end<'a>(
        &'a mut self,
        buf: &'a mut Vec<u8>,
    ) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Unpin,
    {
        AtCallSite::new(tokio::io::AsyncReadExt::read_to_end(self, buf))
    }

    #[track_caller]
    fn read_to_string<'a>(
        &'a mut self,
        dst: &'a mut String,
    ) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Unpin,
    {
        AtCallSite::new(tokio::io::AsyncReadExt::read_to_string(self, dst))
    }

    fn take(self, limit: u64) -> Take<Self>
    where
        Self: Sized,
    {
        tokio::io::AsyncReadExt::take(self, limit)
    }
}
