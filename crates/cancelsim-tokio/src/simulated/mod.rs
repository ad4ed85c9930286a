//! The simulation build: tokio's API on cancelsim.

pub mod fs;
pub mod io;
pub mod net;
pub mod process;
pub mod runtime;
mod select;
pub mod signal;
pub mod task;
pub mod time;

#[doc(hidden)]
pub mod __private;

pub mod sync;
pub use tokio::{join, pin, task_local, try_join};

pub use cancelsim_macros::tokio_main as main;
pub use cancelsim_macros::tokio_test as test;
pub use task::spawn;
