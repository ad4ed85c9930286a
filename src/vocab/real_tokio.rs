//! Real tokio called inside a simulation: how its "no reactor" panic is
//! recognised, and the hints that explain it.

use super::Violation;

/// Is this real tokio's "no reactor" panic (in a task or the root)?
pub(crate) fn shows_real_tokio(violation: &Violation) -> bool {
    is_real_tokio_panic(&violation.message)
}

/// Is `message` real tokio's "no reactor" panic? The facade's own (called
/// outside a runtime) says what to do itself; a panic's location may name
/// the facade's directory, so its words are matched.
pub(crate) fn is_real_tokio_panic(message: &str) -> bool {
    message.contains("there is no reactor running")
        && !message.contains("cancelsim-tokio: this is the simulation build")
}

/// The hint for a violation of a run in which real tokio was called: the
/// failure follows from that.
pub(super) const ELSEWHERE_IN_RUN: &str =
    "real tokio was called inside the simulation in this run (its `there is no reactor running` \
     panic is reported too, with the likely culprits): that is what broke the run — this \
     violation follows from it; fix that first";

/// The hint for real tokio's "no reactor" panic in a simulation build
/// (`--cfg cancelsim`): the facade is in use, so a dependency built
/// against real tokio called its runtime.
pub(super) const IN_SIMULATION_BUILD: &str =
    "real tokio was called inside the simulation: a dependency compiled against real tokio \
     (not the `cancelsim-tokio` facade) spawned a task or made a timer on tokio's runtime, which \
     does not exist here. Likely culprits: tokio-util's `TaskTracker`, `DelayQueue` or \
     `AbortOnDropHandle` (depend on `tokio-util = { package = \"cancelsim-tokio-util\" }`, which \
     simulates them); tokio-stream's `StreamExt::{timeout, throttle, chunks_timeout}` or \
     `IntervalStream` (depend on `tokio-stream = { package = \"cancelsim-tokio-stream\" }`); \
     tokio's own `mpsc::Sender::send_timeout` (write \
     `tokio::time::timeout(d, tx.send(v))`); another crate with its own `tokio` dependency \
     (tower, backoff): a `#[tokio::test]` sweep sweeps again with real tokio bridged in (its \
     timers on a hidden paused tokio runtime that follows the virtual clock) and says so; with \
     `cancelsim::Check` directly, wrap the body's future in \
     `tokio::cancelsim::bridge_real_tokio(..)`";

/// The hint for real tokio's "no reactor" panic in a normal build: the
/// code under test may not use the facade at all yet.
pub(super) const IN_NORMAL_BUILD: &str =
    "real tokio was called inside the simulation: a crate compiled against real tokio (not \
     through the `tokio = { package = \"cancelsim-tokio\" }` dependency) spawned a task or made a \
     timer. If you are not already building with RUSTFLAGS=\"--cfg cancelsim\", do, so the whole \
     graph uses the facade; if a dependency still calls real tokio (tokio-util's `TaskTracker` or \
     `DelayQueue`: use `cancelsim-tokio-util`; tokio-stream's time adapters: use \
     `cancelsim-tokio-stream`; `mpsc::Sender::send_timeout`: write \
     `tokio::time::timeout(d, tx.send(v))`), keep it out of the simulated test";
