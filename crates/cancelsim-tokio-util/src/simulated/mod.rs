//! The simulation build: tokio-util's runtime parts over the
//! `cancelsim-tokio` facade, the rest passed through.

pub mod future;

#[cfg(feature = "rt")]
pub mod context;
#[cfg(feature = "io")]
pub mod io;
#[cfg(feature = "rt")]
pub mod task;
#[cfg(feature = "time")]
pub mod time;

#[cfg(feature = "codec")]
pub use tokio_util::codec;
#[cfg(feature = "compat")]
pub use tokio_util::compat;
#[cfg(all(feature = "net", feature = "codec"))]
pub mod net;
/// tokio-util's synchronisation utilities (`CancellationToken`,
/// `PollSemaphore`, `PollSender`, ...), unchanged: they do not touch the
/// runtime.
pub use tokio_util::sync;
#[cfg(all(feature = "net", feature = "codec", not(target_arch = "wasm32")))]
pub use tokio_util::udp;
pub use tokio_util::{bytes, either};
