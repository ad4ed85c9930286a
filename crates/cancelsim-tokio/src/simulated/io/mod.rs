//! `tokio::io`: tokio's traits and utilities, `duplex` and `simplex` with a
//! seeded delivery delay (so schedules explore a read racing a timer), and
//! the extension traits and `copy` functions whose futures are tokio's own,
//! polled at their caller's location: a task waiting on a simulated stream
//! waits on a `duplex read` (`duplex write`, `simplex read`, ...) at the
//! user's `read_exact`, `write_all`, `read_line` or `copy`.

pub use tokio::io::*;

mod buf_read_ext;
pub(crate) mod call_site;
mod copy;
mod read_ext;
mod stream;
mod write_ext;

pub use buf_read_ext::AsyncBufReadExt;
pub use copy::{copy, copy_bidirectional, copy_bidirectional_with_sizes, copy_buf};
pub use read_ext::AsyncReadExt;
pub use stream::{duplex, simplex, DuplexStream, SimplexStream};
pub(crate) use stream::{Pipe, MAX_DELAY};
pub use write_ext::AsyncWriteExt;
