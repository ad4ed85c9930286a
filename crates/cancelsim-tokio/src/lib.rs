//! # cancelsim-tokio
//!
//! tokio, or cancelsim's simulation of it. Depend on it under tokio's name:
//!
//! ```toml
//! [dependencies]
//! tokio = { package = "cancelsim-tokio", version = "0.1", features = ["full"] }
//! ```
//!
//! * A **normal build** is real tokio, unchanged: this crate re-exports
//!   `tokio::*` with your features forwarded, and compiles nothing else.
//! * The **simulation build** — `RUSTFLAGS="--cfg cancelsim"
//!   RUSTDOCFLAGS="--cfg cancelsim" cargo test` (the second for doctests;
//!   use its own target directory: `CARGO_TARGET_DIR=target/sim`) — runs
//!   the same code on cancelsim: one thread, a virtual clock, a seeded and
//!   recorded schedule. Every `#[tokio::test]` becomes a sweep with the
//!   tokio preset (`cancelsim::Check::tokio_preset`): a drop cancellation
//!   at every await point of the test body and of every task the program
//!   can abort (`JoinSet`, `AbortHandle`, `abort`), timeout expiry inside every
//!   `time::timeout`, your registered shutdown signal at every await point
//!   ([`cancelsim::register_signal`]), and random schedules that include
//!   `select!`'s branch order.
//!
//! Simulated in the simulation build: `spawn`, `task` (`JoinHandle`,
//! `AbortHandle`, `JoinError`, `JoinSet`, `LocalSet`, `Builder`,
//! `spawn_blocking`, `yield_now`; `coop` and `unconstrained` accepted with
//! no budget), `time` (all of it, on the virtual clock), `select!` (the
//! start branch a recorded choice; the trace shows the winner and the
//! dropped branches), `runtime` (`Runtime`, `Builder` — its thread and
//! driver tuning accepted with no effect —, `Handle`, `enter`,
//! `runtime_flavor`, `LocalRuntime`), `#[tokio::main]`, `#[tokio::test]`,
//! `io::duplex` and `io::simplex` (with a seeded delivery delay; a wait
//! on one is a `duplex read` at the user's `read_exact`, `write_all`, ...:
//! the facade's `AsyncReadExt`, `AsyncWriteExt`, `AsyncBufReadExt` and
//! `copy` run tokio's futures at their caller's location), `sync::watch` and
//! `sync::Barrier` (their waiters woken in a fixed order), `fs` (`File` and the rest,
//! through cancelsim's blocking work on real files), `signal::ctrl_c` and `signal::unix` (fired by the test:
//! [`cancelsim::fire_ctrl_c`], `cancelsim::fire_signal`). Passed through
//! unchanged (runtime-agnostic): `sync`, `io`'s traits and utilities,
//! `join!`, `try_join!`, `pin!`, `task_local!`. `process::Command`'s
//! `output` and `status` run the real program and wait for it as blocking
//! work at the caller's line. `net`'s TCP (`TcpListener`, `TcpStream`)
//! runs on a network of the simulation's own, its deliveries delayed as
//! `io::duplex`'s. Not simulated: UDP, Unix sockets, `TcpSocket` and
//! `process::Command::spawn` (they fail to compile with a message saying
//! what to use instead).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(not(cancelsim))]
pub use tokio::*;

#[cfg(cancelsim)]
mod simulated;
#[cfg(cancelsim)]
pub use simulated::*;

pub mod cancelsim;
