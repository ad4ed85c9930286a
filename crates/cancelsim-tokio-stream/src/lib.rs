//! # cancelsim-tokio-stream
//!
//! tokio-stream, or its runtime parts on cancelsim. The companion of
//! `cancelsim-tokio`: depend on both under their usual names,
//!
//! ```toml
//! [dependencies]
//! tokio = { package = "cancelsim-tokio", version = "0.1", features = ["full"] }
//! tokio-stream = { package = "cancelsim-tokio-stream", version = "0.1", features = ["sync"] }
//! ```
//!
//! * A **normal build** is real tokio-stream, unchanged: this crate
//!   re-exports `tokio_stream::*` with your features forwarded (its
//!   default, `time`, included).
//! * In the **simulation build** (`RUSTFLAGS="--cfg cancelsim"`)
//!   tokio-stream itself is still compiled against real tokio, so what of
//!   it makes tokio's timers (`StreamExt::{timeout, timeout_repeating,
//!   throttle, chunks_timeout}`, `wrappers::IntervalStream`) would panic
//!   with "there is no reactor running" there, and its wrappers over the
//!   runtime's types would not take the facade's. Those parts are
//!   rewritten over the `cancelsim-tokio` facade with tokio-stream's
//!   paths, names and behaviour: [`StreamExt`] (its time methods on the
//!   virtual clock, the rest tokio-stream's own), `adapters` (the time
//!   adapters these), [`Elapsed`], and the wrappers `IntervalStream`,
//!   `WatchStream` (over the facade's `watch::Receiver`), `JoinSetStream`,
//!   `ReadDirStream`, `TcpListenerStream` (over the facade's simulated
//!   `TcpListener`) and, on unix, `SignalStream`. A sweep expires a
//!   `timeout`'s or `timeout_repeating`'s wait for the next item, and a
//!   `chunks_timeout`'s wait to fill a chunk, at every await point inside
//!   (the stream is kept, as tokio-stream keeps it: its item comes later).
//!   [`StreamMap`] is tokio-stream's, but for the entry it polls first,
//!   which tokio-stream draws from a random number generator of its own and
//!   the simulation makes a recorded choice (a seed replays it, seeds
//!   explore it).
//!   The rest — `Stream`, `iter`, `once`, `empty`, `pending`,
//!   `StreamNotifyClose`, `FromStream`, the other adapters, and
//!   the wrappers over channels and I/O (`ReceiverStream`,
//!   `UnboundedReceiverStream`, `BroadcastStream`, `errors`, `LinesStream`,
//!   `SplitStream`) — is tokio-stream's own, passed through. Not simulated
//!   (it fails to compile with a message): `wrappers::UnixListenerStream`,
//!   as the facade's Unix sockets.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(not(cancelsim))]
pub use tokio_stream::*;

#[cfg(cancelsim)]
mod simulated;
#[cfg(cancelsim)]
pub use simulated::*;
