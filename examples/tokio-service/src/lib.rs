//! A small tokio service, written as ordinary tokio code, to show
//! cancelsim-tokio on realistic code: a length-prefixed frame reader in a
//! `select!` loop beside a heartbeat and a shutdown token ([`frames`]), a
//! worker pool shut down through a `CancellationToken` and a `JoinSet`
//! ([`pool`]), a cache updated under a `tokio::sync::Mutex` across an
//! await ([`cache`]), a retry loop on `timeout` + `sleep` ([`retry`]), and
//! a gateway built with tower, a crate compiled against real tokio
//! ([`gateway`]).
//!
//! Each module has the correct code and, behind `buggy`, the mistake
//! people make; the tests in `tests/` run on real tokio (`cargo test`) and
//! as sweeps (`RUSTFLAGS="--cfg cancelsim" cargo test`), and the sweeps
//! find each bug.

pub mod cache;
pub mod frames;
pub mod gateway;
pub mod pool;
pub mod retry;
