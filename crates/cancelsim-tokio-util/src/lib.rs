//! # cancelsim-tokio-util
//!
//! tokio-util, or its runtime parts on cancelsim. The companion of
//! `cancelsim-tokio`: depend on both under their usual names,
//!
//! ```toml
//! [dependencies]
//! tokio = { package = "cancelsim-tokio", version = "0.1", features = ["full"] }
//! tokio-util = { package = "cancelsim-tokio-util", version = "0.1", features = ["rt", "time"] }
//! ```
//!
//! * A **normal build** is real tokio-util, unchanged: this crate
//!   re-exports `tokio_util::*` with your features forwarded.
//! * In the **simulation build** (`RUSTFLAGS="--cfg cancelsim"`) tokio-util
//!   itself is still compiled against real tokio, so what of it calls
//!   tokio's runtime would panic with "there is no reactor running" there.
//!   Those parts are rewritten over the `cancelsim-tokio` facade, with
//!   tokio-util's paths, names and behaviour: `task` (`AbortOnDropHandle`,
//!   `AbortOnDrop`, `TaskTracker` and `task_tracker::*`, `JoinQueue`,
//!   `LocalPoolHandle`), `time` (`DelayQueue`, `delay_queue::*`, on the
//!   virtual clock with tokio-util's own timing wheel), `future::FutureExt`
//!   (its `timeout`, `timeout_at`), `context::{TokioContext,
//!   RuntimeExt}` and `net::Listener` (for the facade's simulated
//!   `TcpListener`). The rest — `sync` (`CancellationToken`, ...), `codec`,
//!   `io` (but `SyncIoBridge`), `compat`, `either`, `udp` — is
//!   tokio-util's own, passed through (it does not touch the runtime). Not
//!   simulated (they fail to compile with a message): `task::JoinMap`,
//!   `io::SyncIoBridge`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(not(cancelsim))]
pub use tokio_util::*;

#[cfg(cancelsim)]
mod simulated;
#[cfg(cancelsim)]
pub use simulated::*;
