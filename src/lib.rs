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
//! strategies, feature `proptest`), [`check`](mod@check) (sweeps, single runs, reports),
//! `scenario` (the KDL scenario language, feature `scenario`, on by default
//! through `cli`; a library user who needs neither the CLI nor scenarios
//! turns default features off and compiles no clap, kdl, miette or indicatif).
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
pub mod outside;
mod panic;
mod prefetch;
mod random;
pub mod resource;
#[cfg(feature = "scenario")]
pub mod scenario;
pub mod schedule;
pub mod select;
mod sim;
#[cfg(feature = "proptest")]
pub mod strategy;
pub mod task;
mod test_attr;
pub mod time;
pub mod trace;
mod vocab;
mod watchdog;
mod world;

pub use blocking::{blocking, blocking_located, Blocking};
pub use check::{check, Check, Failure, Report, Repro};
pub use config::{Config, TraceMode};
pub use error::{BlockedTask, SimError};
pub use inject::{AwaitPoint, CancelMode, InjectAt, Injection, InjectionKind};
pub use oracle::{invariant, Violation, ViolationCode};
pub use random::{choose, choose_labelled, choose_located, random, random_range, SimRandom};
pub use schedule::{Decision, Schedule, Scheduler, SchedulerKind};
pub use sim::Sim;
pub use task::{
    spawn, spawn_named, yield_now, AbortOnDropHandle, GroupError, JoinError, JoinHandle, TaskGroup,
    TaskId, YieldNow,
};
pub use time::work;
pub use trace::Trace;

/// `#[cancelsim::test]`: an async test swept at every await point. Without
/// arguments it is [`check()`]'s sweep (both cancel modes, timeouts, 16
/// random schedules); arguments: `seeds = N`, `scheduler = "fifo" |
/// "random" | "pct:N"`, `cancel = "drop" | "coop" | "both" | "none"`,
/// `timeouts = bool`, `max_runs = N`, `explore = N` (random schedules),
/// `exhaustive = K` (every schedule within K deviations,
/// [`Check::explore_exhaustively`], in place of the random ones),
/// `preset = "tokio"` ([`Check::tokio_preset`]). A failing sweep fails the
/// test with the report; its repro lines name the test.
///
/// ```
/// #[cancelsim::test(seeds = 2)]
/// async fn holds_no_resource_across_cancellation() {
///     let conn = cancelsim::resource::acquire("db");
///     cancelsim::time::sleep(std::time::Duration::from_millis(5)).await;
///     drop(conn);
/// }
/// ```
pub use cancelsim_macros::cancelsim_test as test;

/// Is the caller running inside a simulation (a `Sim::block_on`, a
/// `Check` run)? Simulated libraries use it to fall back outside one.
pub fn in_simulation() -> bool {
    world::try_with(|_| ()).is_some()
}

/// A number that identifies the simulation the caller runs in (unique in
/// the process), so simulated libraries can keep per-run state.
pub fn simulation_id() -> Option<u64> {
    world::try_with(|world| world.id())
}

/// Notes, for traces and reports, what the current task's poll waits on
/// (`suspend at await point 2 on join #3 (src/jobs.rs:40:24)`): for a
/// simulated library whose future waits through futures of its own, so
/// that the wait shown is at its user's call site. The first note of a
/// poll wins: note before polling the inner futures (their own notes then
/// lose), and [`retract_wait`] the same wait when the poll completes after
/// all. Does nothing outside a simulation.
///
/// ```
/// use cancelsim::trace::{Wait, WaitKind};
/// # let mut sim = cancelsim::Sim::new(cancelsim::Config::default());
/// # sim.block_on(async {
/// let child = cancelsim::spawn(cancelsim::yield_now());
/// let wait = Wait { kind: WaitKind::Join(child.id()), at: Some(std::panic::Location::caller()) };
/// cancelsim::note_wait(wait);
/// child.await.unwrap();
/// # }).unwrap();
/// ```
pub fn note_wait(wait: trace::Wait) {
    world::try_with(|world| world.note_wait(wait));
}

/// Notes that the current poll waits for `task` to end, for a join that
/// does not poll the task's [`JoinHandle`] every time (a set of handles
/// that polls only the woken ones, as tokio's `JoinSet` does). A join
/// polled inside a `timeout` (or a `select!` against a timer) tells the
/// sweep that the task may be slow and still running at the deadline: it
/// is stalled there ([`AwaitPoint::awaited_at_deadline`]). Polling a
/// `JoinHandle` notes it by itself. Does nothing outside a simulation.
pub fn note_join(task: TaskId) {
    world::try_with(|world| world.note_join_awaited(task));
}

/// Notes that a read of the current poll returned only part of what its
/// peer wrote in one call, the rest still to come (the chunk arrives in
/// pieces, as TCP and pipes may deliver it): a failure of this run with no
/// injection says so in its hint — a test or parser that expects one
/// `read` to return a whole message, or, when a `select!` of the task
/// drops a pending branch before [`note_partial_read_done`], a read
/// future dropped with the part it had. For a simulated library's streams
/// (`cancelsim-tokio`'s `io::duplex` and `net`). Does nothing outside a
/// simulation.
pub fn note_partial_read() {
    world::try_with(|world| world.note_partial_read());
}

/// Notes that a read of the current poll took the rest of a chunk that
/// an earlier read of the task got only part of ([`note_partial_read`]).
pub fn note_partial_read_done() {
    world::try_with(|world| world.note_partial_read_done());
}

/// Withdraws a [`note_wait`] of the current poll (when the future that
/// made it completed, or was dropped, in the same poll). A note of
/// another wait stays.
pub fn retract_wait(wait: trace::Wait) {
    world::try_with(|world| world.retract_wait(wait));
}

/// Runs `write` as a peer's delivery: the wakes it makes (a reader
/// woken by the bytes written to an in-memory pipe, a socket) come from
/// across a connection, not from the writing task acting on the woken one.
/// A task held by an injected expiry or a stall stays held through them
/// (the rest of a line a client sends can be late), where its owner's own
/// wake — a token cancelled, a stop sent — ends the hold. For a simulated
/// library's streams (`cancelsim-tokio`'s `io::duplex`); outside a
/// simulation it only calls `write`.
///
/// ```
/// # use cancelsim::{Config, Sim};
/// # Sim::new(Config::default()).block_on(async {
/// let written = cancelsim::wakes_from_peer(|| 3);
/// assert_eq!(written, 3);
/// # }).unwrap();
/// ```
pub fn wakes_from_peer<T>(write: impl FnOnce() -> T) -> T {
    let Some(world) = world::try_with(std::rc::Rc::clone) else {
        return write();
    };
    world.wakes_from_peer(write)
}

/// What `#[cancelsim::test]` expands to; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::test_attr::{build, build_at, finish, here, test, TestArgs, TestOutput};

    /// Has a task of the running simulation panicked with real tokio's
    /// "there is no reactor running" (code compiled against real tokio
    /// called its runtime)? `cancelsim-tokio` then stops the run at the
    /// root's next poll, and sweeps again with real tokio bridged in.
    pub fn real_tokio_panicked() -> bool {
        crate::world::try_with(|world| world.real_tokio_panicked()).unwrap_or(false)
    }
}
