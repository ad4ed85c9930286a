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

use std::future::Future;
use std::io;
use std::panic::Location;
use std::path::{Path, PathBuf};

mod buf;
mod file;
mod open_options;
mod read_dir;

pub use file::File;
pub use open_options::{DirBuilder, OpenOptions};
pub use read_dir::{read_dir, DirEntry, ReadDir};

use crate::task::blocking_at as blocking;

macro_rules! path_fn {
    ($(#[$doc:meta] $name:ident($($arg:ident: $ty:ty),*) -> $out:ty = $std:path;)*) => {$(
        #[$doc]
        #[track_caller]
        pub fn $name(
            path: impl AsRef<Path>,
            $($arg: $ty),*
        ) -> impl Future<Output = io::Result<$out>> + Send + 'static {
            let at = Location::caller();
            let path: PathBuf = path.as_ref().to_owned();
            blocking(at, concat!("fs::", stringify!($name)), move || $std(path, $($arg),*))
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
#[track_caller]
pub fn set_permissions(
    path: impl AsRef<Path>,
    perm: std::fs::Permissions,
) -> impl Future<Output = io::Result<()>> + Send + 'static {
    let path = path.as_ref().to_owned();
    blocking(Location::caller(), "fs::set_permissions", move || {
        std::fs::set_permissions(path, perm)
    })
}

/// `tokio::fs::hard_link`.
#[track_caller]
pub fn hard_link(
    original: impl AsRef<Path>,
    link: impl AsRef<Path>,
) -> impl Future<Output = io::Result<()>> + Send + 'static {
    let (original, link) = (original.as_ref().to_owned(), link.as_ref().to_owned());
    blocking(Location::caller(), "fs::hard_link", move || {
        std::fs::hard_link(original, link)
    })
}

/// `tokio::fs::symlink` (unix).
#[cfg(unix)]
#[track_caller]
pub fn symlink(
    original: impl AsRef<Path>,
    link: impl AsRef<Path>,
) -> impl Future<Output = io::Result<()>> + Send + 'static {
    let (original, link) = (original.as_ref().to_owned(), link.as_ref().to_owned());
    blocking(Location::caller(), "fs::symlink", move || {
        std::os::unix::fs::symlink(original, link)
    })
}

/// `tokio::fs::write`.
#[track_caller]
pub fn write(
    path: impl AsRef<Path>,
    contents: impl AsRef<[u8]>,
) -> impl Future<Output = io::Result<()>> + Send + 'static {
    let (path, contents) = (path.as_ref().to_owned(), contents.as_ref().to_owned());
    blocking(Location::caller(), "fs::write", move || {
        std::fs::write(path, contents)
    })
}

/// `tokio::fs::rename`.
#[track_caller]
pub fn rename(
    from: impl AsRef<Path>,
    to: impl AsRef<Path>,
) -> impl Future<Output = io::Result<()>> + Send + 'static {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    blocking(Location::caller(), "fs::rename", move || {
        std::fs::rename(from, to)
    })
}

/// `tokio::fs::copy`.
#[track_caller]
pub fn copy(
    from: impl AsRef<Path>,
    to: impl AsRef<Path>,
) -> impl Future<Output = io::Result<u64>> + Send + 'static {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    blocking(Location::caller(), "fs::copy", move || {
        std::fs::copy(from, to)
    })
}

/// `tokio::fs::try_exists`.
#[track_caller]
pub fn try_exists(
    path: impl AsRef<Path>,
) -> impl Future<Output = io::Result<bool>> + Send + 'static {
    let path = path.as_ref().to_owned();
    blocking(Location::caller(), "fs::try_exists", move || {
        path.try_exists()
    })
}
