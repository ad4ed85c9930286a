//! # cancelsim
//!
//! A deterministic simulation test harness for async Rust. A single-threaded
//! executor with a virtual clock runs the code under test under a seeded,
//! recorded schedule, and keeps a trace of everything that happened, so that
//! cancellation bugs can be found, replayed and snapshotted.
//!
//! ```
//! use std::time::Duration;
//! use cancelsim::{cancel::{checkpoint, Cancelled}, time, Config, Sim};
//!
//! let mut sim = Sim::new(Config::default().seed(1));
//! let result = sim.block_on(async {
//!     let worker = cancelsim::spawn_named("worker", async {
//!         loop {
//!             time::sleep(Duration::from_millis(100)).await;
//!             checkpoint().await?;
//!         }
//!         #[allow(unreachable_code)]
//!         Ok::<(), Cancelled>(())
//!     });
//!     time::sleep(Duration::from_millis(250)).await;
//!     worker.cancel();
//!     worker.await.unwrap()
//! });
//! assert_eq!(result.unwrap(), Err(Cancelled));
//! assert!(sim.trace().to_string().contains("cancel delivered"));
//! ```
//!
//! Modules: [`time`] (virtual clock), [`cancel`] (cooperative cancellation),
//! [`schedule`] (schedulers and recorded decisions), [`trace`] (events, their
//! text form and the JSON, Chrome and SVG renderings), `strategy` (proptest
//! strategies, feature `proptest`), [`check`](mod@check) (sweeps, single runs, reports).
//! Snapshot a trace with [`assert_trace_snapshot!`]. Everything else is re-exported here.

#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations)]

/// Every Rust block of the README is a doctest, so the README stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme {}

mod blocking;
pub mod cancel;
pub mod check;
mod config;
mod error;
pub mod inject;
pub mod oracle;
mod panic;
mod prefetch;
mod random;
pub mod resource;
pub mod scenario;
pub mod schedule;
mod sim;
#[cfg(feature = "proptest")]
pub mod strategy;
pub mod task;
pub mod time;
pub mod trace;
mod world;

pub use blocking::{blocking, Blocking};
pub use check::{check, Check, Failure, Report, Repro};
pub use config::{Config, TraceMode};
pub use error::{BlockedTask, SimError};
pub use inject::{AwaitPoint, CancelMode, InjectAt, Injection, InjectionKind};
pub use oracle::{invariant, Violation, ViolationCode};
pub use random::{random, random_range, SimRandom};
pub use schedule::{Decision, Schedule, Scheduler, SchedulerKind};
pub use sim::Sim;
pub use task::{
    spawn, spawn_named, yield_now, AbortOnDropHandle, GroupError, JoinError, JoinHandle, TaskGroup,
    TaskId, YieldNow,
};
pub use time::work;
pub use trace::Trace;
