//! `OpenOptions` and `DirBuilder`: std's builders, whose `open` / `create`
//! is blocking work.

use std::future::Future;
use std::io;
use std::panic::Location;
use std::path::Path;

use super::{blocking, File};

/// Options to open a file with (tokio's `fs::OpenOptions`).
#[derive(Clone, Debug)]
pub struct OpenOptions(std::fs::OpenOptions);

impl OpenOptions {
    /// Every option off.
    pub fn new() -> OpenOptions {
        OpenOptions(std::fs::OpenOptions::new())
    }

    /// Read access.
    pub fn read(&mut self, read: bool) -> &mut OpenOptions {
        self.0.read(read);
        self
    }

    /// Write access.
    pub fn write(&mut self, write: bool) -> &mut OpenOptions {
        self.0.write(write);
        self
    }

    /// Append mode.
    pub fn append(&mut self, append: bool) -> &mut OpenOptions {
        self.0.append(append);
        self
    }

    /// Truncate the file on open.
    pub fn truncate(&mut self, truncate: bool) -> &mut OpenOptions {
        self.0.truncate(truncate);
        self
    }

    /// Create the file if missing.
    pub fn create(&mut self, create: bool) -> &mut OpenOptions {
        self.0.create(create);
        self
    }

    /// Create the file, failing if it exists.
    pub fn create_new(&mut self, create_new: bool) -> &mut OpenOptions {
        self.0.create_new(create_new);
        self
    }

    /// Opens `path` with these options (blocking work).
    #[track_caller]
    pub fn open(
        &self,
        path: impl AsRef<Path>,
    ) -> impl Future<Output = io::Result<File>> + Send + 'static {
        self.open_located(path, Location::caller())
    }

    /// [`OpenOptions::open`] at `at`: the file's blocking work is spawned
    /// there.
    pub(super) fn open_located(
        &self,
        path: impl AsRef<Path>,
        at: &'static Location<'static>,
    ) -> impl Future<Output = io::Result<File>> + Send + 'static {
        let path = path.as_ref().to_owned();
        let opts = self.0.clone();
        async move {
            let std = blocking(at, "OpenOptions::open", move || opts.open(path)).await?;
            Ok(File::from_std_located(std, at))
        }
    }

    /// The permission bits of a created file (unix).
    #[cfg(unix)]
    pub fn mode(&mut self, mode: u32) -> &mut OpenOptions {
        std::os::unix::fs::OpenOptionsExt::mode(&mut self.0, mode);
        self
    }

    /// Extra flags for `open` (unix).
    #[cfg(unix)]
    pub fn custom_flags(&mut self, flags: i32) -> &mut OpenOptions {
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut self.0, flags);
        self
    }
}

impl From<std::fs::OpenOptions> for OpenOptions {
    fn from(options: std::fs::OpenOptions) -> OpenOptions {
        OpenOptions(options)
    }
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions::new()
    }
}

/// Creates directories (tokio's `fs::DirBuilder`).
#[derive(Debug, Default)]
pub struct DirBuilder {
    recursive: bool,
    #[cfg(unix)]
    mode: Option<u32>,
}

impl DirBuilder {
    /// A builder of one directory, default permissions.
    pub fn new() -> Self {
        DirBuilder::default()
    }

    /// Create missing parents too.
    pub fn recursive(&mut self, recursive: bool) -> &mut Self {
        self.recursive = recursive;
        self
    }

    /// The permission bits of the directories (unix).
    #[cfg(unix)]
    pub fn mode(&mut self, mode: u32) -> &mut Self {
        self.mode = Some(mode);
        self
    }

    /// Creates `path` (blocking work).
    #[track_caller]
    pub fn create(
        &self,
        path: impl AsRef<Path>,
    ) -> impl Future<Output = io::Result<()>> + Send + 'static {
        let at = Location::caller();
        let path = path.as_ref().to_owned();
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(self.recursive);
        #[cfg(unix)]
        if let Some(mode) = self.mode {
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, mode);
        }
        blocking(at, "DirBuilder::create", move || builder.create(path))
    }
}
