//! `tokio::fs::File`, simulated: tokio's own design, each read, write,
//! seek or flush one piece of blocking work (the facade's `spawn_blocking`,
//! on the virtual clock) on the real file. As in tokio, a write returns as
//! soon as its bytes are taken (the blocking write runs behind it; `flush`
//! waits for it), reads are buffered, and an operation whose future is
//! dropped still completes: the file waits for it before the next one.
//!
//! The state machine is tokio 1.54's (`tokio/src/fs/file.rs`, MIT,
//! Copyright (c) Tokio Contributors) without io_uring.

use std::fmt;
use std::fs::{File as StdFile, Metadata, Permissions};
use std::future::Future;
use std::io::{self, Seek, SeekFrom};
use std::panic::Location;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncSeek, AsyncWrite, ReadBuf};
use tokio::sync::Mutex;

use super::buf::{Buf, DEFAULT_MAX_BUF_SIZE};
use super::{blocking, OpenOptions};
use crate::task::{spawn_blocking_located, JoinHandle};

/// An open file (tokio's `fs::File`).
pub struct File {
    std: Arc<StdFile>,
    inner: Mutex<Inner>,
    max_buf_size: usize,
    /// Where the file was opened: its reads, writes and seeks (made inside
    /// `AsyncRead`/`AsyncWrite` polls, with no call site of the user's)
    /// are blocking work spawned there.
    at: &'static Location<'static>,
}

struct Inner {
    state: State,
    /// A write that failed behind the caller's back: the next operation
    /// reports it.
    last_write_err: Option<io::ErrorKind>,
    pos: u64,
}

#[derive(Debug)]
enum State {
    Idle(Option<Buf>),
    Busy(JoinHandle<(Operation, Buf)>),
}

#[derive(Debug)]
enum Operation {
    Read(io::Result<usize>),
    Write(io::Result<()>),
    Seek(io::Result<u64>),
}

impl File {
    /// Opens `path` to read.
    #[track_caller]
    pub fn open(path: impl AsRef<Path>) -> impl Future<Output = io::Result<File>> + Send + 'static {
        File::options()
            .read(true)
            .open_located(path, Location::caller())
    }

    /// Opens `path` to write, creating or truncating it.
    #[track_caller]
    pub fn create(
        path: impl AsRef<Path>,
    ) -> impl Future<Output = io::Result<File>> + Send + 'static {
        File::options()
            .write(true)
            .create(true)
            .truncate(true)
            .open_located(path, Location::caller())
    }

    /// Creates `path` to read and write; fails if it exists.
    #[track_caller]
    pub fn create_new<P: AsRef<Path>>(
        path: P,
    ) -> impl Future<Output = io::Result<File>> + Send + 'static {
        File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open_located(path, Location::caller())
    }

    /// Options to open a file with.
    #[must_use]
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// A simulated file over an open `std` file.
    #[track_caller]
    pub fn from_std(std: StdFile) -> File {
        File::from_std_located(std, Location::caller())
    }

    /// [`File::from_std`], its operations spawned at `at`.
    pub(super) fn from_std_located(std: StdFile, at: &'static Location<'static>) -> File {
        File {
            std: Arc::new(std),
            inner: Mutex::new(Inner {
                state: State::Idle(Some(Buf::with_capacity(0))),
                last_write_err: None,
                pos: 0,
            }),
            max_buf_size: DEFAULT_MAX_BUF_SIZE,
            at,
        }
    }

    /// Writes what is in flight, then syncs data and metadata to disk.
    #[track_caller]
    pub fn sync_all(&self) -> impl Future<Output = io::Result<()>> + '_ {
        let at = Location::caller();
        async move {
            let mut inner = self.inner.lock().await;
            inner.complete_inflight().await;
            let std = Arc::clone(&self.std);
            blocking(at, "File::sync_all", move || std.sync_all()).await
        }
    }

    /// Writes what is in flight, then syncs data to disk.
    #[track_caller]
    pub fn sync_data(&self) -> impl Future<Output = io::Result<()>> + '_ {
        let at = Location::caller();
        async move {
            let mut inner = self.inner.lock().await;
            inner.complete_inflight().await;
            let std = Arc::clone(&self.std);
            blocking(at, "File::sync_data", move || std.sync_data()).await
        }
    }

    /// Truncates or extends the file to `size` bytes.
    #[track_caller]
    pub fn set_len(&self, size: u64) -> impl Future<Output = io::Result<()>> + '_ {
        let at = Location::caller();
        async move { self.set_len_at(size, at).await }
    }

    async fn set_len_at(&self, size: u64, at: &'static Location<'static>) -> io::Result<()> {
        let mut inner = self.inner.lock().await;
        inner.complete_inflight().await;
        let mut buf = match inner.state {
            State::Idle(ref mut buf_cell) => buf_cell.take().expect("an idle file has its buffer"),
            State::Busy(_) => unreachable!("in-flight work was completed"),
        };
        let seek = (!buf.is_empty()).then(|| SeekFrom::Current(buf.discard_read()));
        let std = Arc::clone(&self.std);
        inner.state = State::Busy(spawn_blocking_located(at, "File::set_len", move || {
            let res = match seek {
                Some(seek) => (&*std).seek(seek).and_then(|_| std.set_len(size)),
                None => std.set_len(size),
            }
            .map(|()| 0); // the value is discarded
            (Operation::Seek(res), buf)
        }));
        let (op, buf) = match inner.state {
            State::Idle(_) => unreachable!("just made busy"),
            State::Busy(ref mut rx) => {
                let res = rx.await;
                if res.is_err() {
                    inner.state = State::Idle(Some(Buf::with_capacity(0)));
                }
                res?
            }
        };
        inner.state = State::Idle(Some(buf));
        match op {
            Operation::Seek(res) => res.map(|pos| inner.pos = pos),
            _ => unreachable!("set_len runs a seek"),
        }
    }

    /// The file's metadata.
    #[track_caller]
    pub fn metadata(&self) -> impl Future<Output = io::Result<Metadata>> + Send + 'static {
        let std = Arc::clone(&self.std);
        blocking(Location::caller(), "File::metadata", move || std.metadata())
    }

    /// A second handle to the same open file.
    #[track_caller]
    pub fn try_clone(&self) -> impl Future<Output = io::Result<File>> + '_ {
        let at = Location::caller();
        async move {
            self.inner.lock().await.complete_inflight().await;
            let std = Arc::clone(&self.std);
            let std_file = blocking(at, "File::try_clone", move || std.try_clone()).await?;
            let mut file = File::from_std_located(std_file, at);
            file.set_max_buf_size(self.max_buf_size);
            Ok(file)
        }
    }

    /// The `std` file, once in-flight work is done.
    ///
    /// # Panics
    ///
    /// If a blocking operation of another handle still holds it, as tokio.
    pub async fn into_std(mut self) -> StdFile {
        self.inner.get_mut().complete_inflight().await;
        Arc::try_unwrap(self.std).expect("Arc::try_unwrap failed")
    }

    /// The `std` file if nothing is in flight, else the file back.
    #[allow(clippy::result_large_err)]
    pub fn try_into_std(mut self) -> Result<StdFile, Self> {
        match Arc::try_unwrap(self.std) {
            Ok(file) => Ok(file),
            Err(std) => {
                self.std = std;
                Err(self)
            }
        }
    }

    /// Changes the file's permissions.
    #[track_caller]
    pub fn set_permissions(
        &self,
        perm: Permissions,
    ) -> impl Future<Output = io::Result<()>> + Send + 'static {
        let std = Arc::clone(&self.std);
        blocking(Location::caller(), "File::set_permissions", move || {
            std.set_permissions(perm)
        })
    }

    /// The largest read or write of one blocking operation.
    ///
    /// # Panics
    ///
    /// When `max_buf_size` is zero, as tokio.
    #[track_caller]
    pub fn set_max_buf_size(&mut self, max_buf_size: usize) {
        assert!(max_buf_size > 0, "`max_buf_size` must be greater than 0");
        self.max_buf_size = max_buf_size;
    }

    /// The largest read or write of one blocking operation.
    pub fn max_buf_size(&self) -> usize {
        self.max_buf_size
    }
}

impl AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        dst: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let me = self.get_mut();
        let inner = me.inner.get_mut();
        loop {
            match inner.state {
                State::Idle(ref mut buf_cell) => {
                    let mut buf = buf_cell.take().expect("an idle file has its buffer");
                    if !buf.is_empty() || dst.remaining() == 0 {
                        buf.copy_to(dst);
                        *buf_cell = Some(buf);
                        return Poll::Ready(Ok(()));
                    }
                    let std = Arc::clone(&me.std);
                    let max_buf_size = dst.remaining().min(me.max_buf_size);
                    inner.state = State::Busy(spawn_blocking_located(
                        op_site(me.at),
                        "File read",
                        move || {
                            let mut buf = buf;
                            let res = buf.read_from(&mut &*std, max_buf_size);
                            (Operation::Read(res), buf)
                        },
                    ));
                }
                State::Busy(ref mut rx) => {
                    let res = ready!(Pin::new(rx).poll(cx));
                    let (op, mut buf) = inner.finish(res)?;
                    match op {
                        Operation::Read(Ok(_)) => {
                            buf.copy_to(dst);
                            inner.state = State::Idle(Some(buf));
                            return Poll::Ready(Ok(()));
                        }
                        Operation::Read(Err(e)) => {
                            inner.state = State::Idle(Some(buf));
                            return Poll::Ready(Err(e));
                        }
                        Operation::Write(Ok(())) => {
                            inner.state = State::Idle(Some(buf));
                        }
                        Operation::Write(Err(e)) => {
                            inner.last_write_err = Some(e.kind());
                            inner.state = State::Idle(Some(buf));
                        }
                        Operation::Seek(result) => {
                            inner.state = State::Idle(Some(buf));
                            if let Ok(pos) = result {
                                inner.pos = pos;
                            }
                        }
                    }
                }
            }
        }
    }
}

impl AsyncSeek for File {
    fn start_seek(self: Pin<&mut Self>, mut pos: SeekFrom) -> io::Result<()> {
        let me = self.get_mut();
        let inner = me.inner.get_mut();
        match inner.state {
            State::Busy(_) => Err(io::Error::other(
                "other file operation is pending, call poll_complete before start_seek",
            )),
            State::Idle(ref mut buf_cell) => {
                let mut buf = buf_cell.take().expect("an idle file has its buffer");
                // What was read ahead and not handed out moves the seek back.
                let extra_seek = if buf.is_empty() {
                    None
                } else {
                    let n = buf.discard_read();
                    match pos {
                        SeekFrom::Current(ref mut offset) => match offset.checked_add(n) {
                            Some(new_offset) => {
                                *offset = new_offset;
                                None
                            }
                            None => Some(SeekFrom::Current(n)),
                        },
                        _ => None,
                    }
                };
                let std = Arc::clone(&me.std);
                inner.state = State::Busy(spawn_blocking_located(
                    op_site(me.at),
                    "File seek",
                    move || {
                        let res = match extra_seek {
                            Some(extra_seek) => {
                                (&*std).seek(extra_seek).and_then(|_| (&*std).seek(pos))
                            }
                            None => (&*std).seek(pos),
                        };
                        (Operation::Seek(res), buf)
                    },
                ));
                Ok(())
            }
        }
    }

    fn poll_complete(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        let inner = self.inner.get_mut();
        loop {
            match inner.state {
                State::Idle(_) => return Poll::Ready(Ok(inner.pos)),
                State::Busy(ref mut rx) => {
                    let res = ready!(Pin::new(rx).poll(cx));
                    let (op, buf) = inner.finish(res)?;
                    inner.state = State::Idle(Some(buf));
                    match op {
                        Operation::Read(_) | Operation::Write(Ok(())) => {}
                        Operation::Write(Err(e)) => inner.last_write_err = Some(e.kind()),
                        Operation::Seek(res) => {
                            if let Ok(pos) = res {
                                inner.pos = pos;
                            }
                            return Poll::Ready(res);
                        }
                    }
                }
            }
        }
    }
}

impl AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        src: &[u8],
    ) -> Poll<io::Result<usize>> {
        let me = self.get_mut();
        let max_buf_size = me.max_buf_size;
        me.poll_write_with(cx, |buf| buf.copy_from(src, max_buf_size))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let me = self.get_mut();
        let max_buf_size = me.max_buf_size;
        me.poll_write_with(cx, |buf| buf.copy_from_bufs(bufs, max_buf_size))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner.get_mut().poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl File {
    /// A write: waits for the operation in flight, then takes the bytes
    /// `fill` puts in the buffer and writes them behind the caller.
    fn poll_write_with(
        &mut self,
        cx: &mut Context<'_>,
        fill: impl FnOnce(&mut Buf) -> usize,
    ) -> Poll<io::Result<usize>> {
        let inner = self.inner.get_mut();
        if let Some(e) = inner.last_write_err.take() {
            return Poll::Ready(Err(e.into()));
        }
        let mut fill = Some(fill);
        loop {
            match inner.state {
                State::Idle(ref mut buf_cell) => {
                    let mut buf = buf_cell.take().expect("an idle file has its buffer");
                    let seek = (!buf.is_empty()).then(|| SeekFrom::Current(buf.discard_read()));
                    let n = (fill.take().expect("filled once"))(&mut buf);
                    let std = Arc::clone(&self.std);
                    inner.state = State::Busy(spawn_blocking_located(
                        op_site(self.at),
                        "File write",
                        move || {
                            let res = match seek {
                                Some(seek) => {
                                    (&*std).seek(seek).and_then(|_| buf.write_to(&mut &*std))
                                }
                                None => buf.write_to(&mut &*std),
                            };
                            (Operation::Write(res), buf)
                        },
                    ));
                    return Poll::Ready(Ok(n));
                }
                State::Busy(ref mut rx) => {
                    let res = ready!(Pin::new(rx).poll(cx));
                    let (op, buf) = inner.finish(res)?;
                    inner.state = State::Idle(Some(buf));
                    if let Operation::Write(res) = op {
                        res?;
                    }
                }
            }
        }
    }
}

impl Inner {
    /// The outcome of the operation in flight; a failed join (its work
    /// panicked) leaves the file idle with an empty buffer.
    fn finish(
        &mut self,
        res: Result<(Operation, Buf), crate::task::JoinError>,
    ) -> io::Result<(Operation, Buf)> {
        if res.is_err() {
            self.state = State::Idle(Some(Buf::with_capacity(0)));
        }
        Ok(res?)
    }

    async fn complete_inflight(&mut self) {
        std::future::poll_fn(|cx| match self.poll_flush(cx) {
            Poll::Ready(Err(e)) => {
                self.last_write_err = Some(e.kind());
                Poll::Ready(())
            }
            Poll::Ready(Ok(())) => Poll::Ready(()),
            Poll::Pending => Poll::Pending,
        })
        .await;
    }

    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(e) = self.last_write_err.take() {
            return Poll::Ready(Err(e.into()));
        }
        let (op, buf) = match self.state {
            State::Idle(_) => return Poll::Ready(Ok(())),
            State::Busy(ref mut rx) => {
                let res = ready!(Pin::new(rx).poll(cx));
                self.finish(res)?
            }
        };
        self.state = State::Idle(Some(buf));
        match op {
            Operation::Read(_) | Operation::Seek(_) => Poll::Ready(Ok(())),
            Operation::Write(res) => Poll::Ready(res),
        }
    }
}

impl From<StdFile> for File {
    fn from(std: StdFile) -> Self {
        File::from_std(std)
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("tokio::fs::File")
            .field("std", &self.std)
            .finish()
    }
}

#[cfg(unix)]
impl From<std::os::fd::OwnedFd> for File {
    fn from(fd: std::os::fd::OwnedFd) -> Self {
        File::from_std(StdFile::from(fd))
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for File {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.std.as_raw_fd()
    }
}

#[cfg(unix)]
impl std::os::fd::AsFd for File {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.std.as_fd()
    }
}

/// Where a read, write or flush of a `File` is spawned: the user's
/// `read_exact`, `write_all` or `flush` (the facade's extension methods
/// make it the current call site), else where the file was opened.
fn op_site(opened: &'static Location<'static>) -> &'static Location<'static> {
    crate::io::call_site::current().unwrap_or(opened)
}
