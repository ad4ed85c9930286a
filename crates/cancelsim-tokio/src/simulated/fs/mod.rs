//! `tokio::fs`, simulated: each call is cancelsim blocking work (the
//! facade's `spawn_blocking`; virtual cost:
//! [`set_blocking_cost`](crate::cancelsim::set_blocking_cost)) on the real
//! file system, as tokio runs it on its blocking pool. A `File` keeps
//! tokio's design: each read, write, seek or flush is one piece of blocking
//! work, writes run behind the caller, and work whose future is dropped
//! still completes.
//!
//! The file system is real and shared: the runs of a sweep (which may run
//! in parallel) see each other's files, so a test that writes should use a
//! path of its own per run.

use std::io;
use std::path::{Path, PathBuf};

mod buf;
mod file;
mod open_options;
mod read_dir;

pub use file::File;
pub use open_options::{DirBuilder, OpenOptions};
pub use read_dir::{read_dir, DirEntry, ReadDir};

/// Runs `f` as blocking work; a panic in it is resumed here.
async fn blocking<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    match crate::task::spawn_blocking(f).await {
        Ok(value) => value,
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    }
}

macro_rules! path_fn {
    ($(#[$doc:meta] $name:ident($($arg:ident: $ty:ty),*) -> $out:ty = $std:path;)*) => {$(
        #[$doc]
        pub async fn $name(path: impl AsRef<Path>, $($arg: $ty),*) -> io::Result<$out> {
            let path: PathBuf = path.as_ref().to_owned();
            blocking(move || $std(path, $($arg),*)).await
        }
    )*};
}

path_fn! {
    /// `tokio::fs::read`.
    read() -> Vec<u8> = std::fs::read;
    /// `tokio::fs::read_to_string`.
    read_to_string() -> String = std::fs::read_to_string;
    /// `tokio::fs::create_dir`.
    create_dir() -> () = std::fs::create_dir;
    /// `tokio::fs::create_dir_all`.
    create_dir_all() -> () = std::fs::create_dir_all;
    /// `tokio::fs::remove_file`.
    remove_file() -> () = std::fs::remove_file;
    /// `tokio::fs::remove_dir`.
    remove_dir() -> () = std::fs::remove_dir;
    /// `tokio::fs::remove_dir_all`.
    remove_dir_all() -> () = std::fs::remove_dir_all;
    /// `tokio::fs::metadata`.
    metadata() -> std::fs::Metadata = std::fs::metadata;
    /// `tokio::fs::canonicalize`.
    canonicalize() -> PathBuf = std::fs::canonicalize;
    /// `tokio::fs::read_link`.
    read_link() -> PathBuf = std::fs::read_link;
    /// `tokio::fs::symlink_metadata`.
    symlink_metadata() -> std::fs::Metadata = std::fs::symlink_metadata;
}

/// `tokio::fs::set_permissions`.
pub async fn set_permissions(path: impl AsRef<Path>, perm: std::fs::Permissions) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    blocking(move || std::fs::set_permissions(path, perm)).await
}

/// `tokio::fs::hard_link`.
pub async fn hard_link(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    let (original, link) = (original.as_ref().to_owned(), link.as_ref().to_owned());
    blocking(move || std::fs::hard_link(original, link)).await
}

/// `tokio::fs::symlink` (unix).
#[cfg(unix)]
pub async fn symlink(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    let (original, link) = (original.as_ref().to_owned(), link.as_ref().to_owned());
    blocking(move || std::os::unix::fs::symlink(original, link)).await
}

/// `tokio::fs::write`.
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let (path, contents) = (path.as_ref().to_owned(), contents.as_ref().to_owned());
    blocking(move || std::fs::write(path, contents)).await
}

/// `tokio::fs::rename`.
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    blocking(move || std::fs::rename(from, to)).await
}

/// `tokio::fs::copy`.
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    blocking(move || std::fs::copy(from, to)).await
}

/// `tokio::fs::try_exists`.
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    let path = path.as_ref().to_owned();
    blocking(move || path.try_exists()).await
}
