//! `tokio_stream::wrappers`, simulated: the wrappers over channels and I/O
//! utilities are tokio-stream's own (those types are tokio's in the facade
//! too); the wrappers over the runtime's types take the facade's
//! (`Interval`, `watch::Receiver`, `JoinSet`, `fs::ReadDir`,
//! `signal::unix::Signal`, `net::TcpListener`); `UnixListenerStream` fails
//! to compile, as the facade's Unix sockets do.

pub use tokio_stream::wrappers::{errors, ReceiverStream, UnboundedReceiverStream};

#[cfg(feature = "sync")]
pub use tokio_stream::wrappers::BroadcastStream;
#[cfg(feature = "io-util")]
pub use tokio_stream::wrappers::{LinesStream, SplitStream};

#[cfg(feature = "time")]
mod interval;
#[cfg(feature = "time")]
pub use interval::IntervalStream;

#[cfg(feature = "sync")]
mod watch;
#[cfg(feature = "sync")]
pub use watch::WatchStream;

#[cfg(feature = "rt")]
mod task;
#[cfg(feature = "rt")]
pub use task::JoinSetStream;

#[cfg(feature = "fs")]
mod read_dir;
#[cfg(feature = "fs")]
pub use read_dir::ReadDirStream;

#[cfg(all(feature = "signal", unix))]
mod signal_unix;
#[cfg(all(feature = "signal", unix))]
pub use signal_unix::SignalStream;

#[cfg(feature = "net")]
mod net;
#[cfg(all(feature = "net", unix))]
pub use net::UnixListenerStream;
#[cfg(feature = "net")]
pub use net::{ListenerStreamIsNotSimulated, TcpListenerStream};
