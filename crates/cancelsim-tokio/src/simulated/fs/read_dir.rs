//! `read_dir`, `ReadDir` and `DirEntry`: a directory's entries read in
//! chunks of 32, each chunk one piece of blocking work, as tokio does.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::{FileType, Metadata};
use std::future::Future;
use std::io;
use std::panic::Location;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use super::blocking;
use crate::task::{spawn_blocking_located, JoinHandle};

const CHUNK_SIZE: usize = 32;

type Chunk = (VecDeque<io::Result<DirEntry>>, std::fs::ReadDir, bool);

/// The entries of the directory at `path` (tokio's `fs::read_dir`).
#[track_caller]
pub fn read_dir(
    path: impl AsRef<Path>,
) -> impl Future<Output = io::Result<ReadDir>> + Send + 'static {
    let at = Location::caller();
    let path = path.as_ref().to_owned();
    blocking(at, "fs::read_dir", move || -> io::Result<ReadDir> {
        let mut std = std::fs::read_dir(path)?;
        let mut buf = VecDeque::with_capacity(CHUNK_SIZE);
        let remain = ReadDir::next_chunk(&mut buf, &mut std);
        Ok(ReadDir(State::Idle(Some((buf, std, remain))), at))
    })
}

/// A directory's entries (tokio's `fs::ReadDir`), its chunks read as
/// blocking work spawned where `read_dir` was called.
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct ReadDir(State, &'static Location<'static>);

#[derive(Debug)]
enum State {
    Idle(Option<Chunk>),
    Pending(JoinHandle<Chunk>),
}

impl ReadDir {
    /// The next entry, `None` after the last.
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        std::future::poll_fn(|cx| self.poll_next_entry(cx)).await
    }

    /// Polls for the next entry.
    pub fn poll_next_entry(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<DirEntry>>> {
        loop {
            match self.0 {
                State::Idle(ref mut data) => {
                    let (buf, _, remain) = data.as_mut().expect("an idle ReadDir has its chunk");
                    if let Some(entry) = buf.pop_front() {
                        return Poll::Ready(entry.map(Some));
                    } else if !*remain {
                        return Poll::Ready(Ok(None));
                    }
                    let (mut buf, mut std, _) = data.take().expect("checked above");
                    self.0 = State::Pending(spawn_blocking_located(
                        self.1,
                        "ReadDir::next_entry",
                        move || {
                            let remain = ReadDir::next_chunk(&mut buf, &mut std);
                            (buf, std, remain)
                        },
                    ));
                }
                State::Pending(ref mut rx) => {
                    self.0 = State::Idle(Some(ready!(Pin::new(rx).poll(cx))?));
                }
            }
        }
    }

    /// Reads up to a chunk of entries; `false` at the end.
    fn next_chunk(buf: &mut VecDeque<io::Result<DirEntry>>, std: &mut std::fs::ReadDir) -> bool {
        for _ in 0..CHUNK_SIZE {
            let Some(ret) = std.next() else {
                return false;
            };
            let success = ret.is_ok();
            buf.push_back(ret.map(|std| DirEntry {
                file_type: std.file_type().ok(),
                std: Arc::new(std),
            }));
            if !success {
                break;
            }
        }
        true
    }
}

/// An entry of a [`ReadDir`] (tokio's `fs::DirEntry`).
#[derive(Debug)]
pub struct DirEntry {
    file_type: Option<FileType>,
    std: Arc<std::fs::DirEntry>,
}

impl DirEntry {
    /// The entry's full path.
    pub fn path(&self) -> PathBuf {
        self.std.path()
    }

    /// The entry's name.
    pub fn file_name(&self) -> OsString {
        self.std.file_name()
    }

    /// The entry's metadata (blocking work).
    #[track_caller]
    pub fn metadata(&self) -> impl Future<Output = io::Result<Metadata>> + Send + 'static {
        let std = Arc::clone(&self.std);
        blocking(Location::caller(), "DirEntry::metadata", move || {
            std.metadata()
        })
    }

    /// The entry's file type (read with the entry where the OS gives it).
    #[track_caller]
    pub fn file_type(&self) -> impl Future<Output = io::Result<FileType>> + Send + 'static {
        let at = Location::caller();
        let (known, std) = (self.file_type, Arc::clone(&self.std));
        async move {
            if let Some(file_type) = known {
                return Ok(file_type);
            }
            blocking(at, "DirEntry::file_type", move || std.file_type()).await
        }
    }

    /// The entry's inode number (unix).
    #[cfg(unix)]
    pub fn ino(&self) -> u64 {
        std::os::unix::fs::DirEntryExt::ino(&*self.std)
    }
}
