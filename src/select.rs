//! Races of futures (`select!`) as the simulation sees them: which branch is
//! polled first is a recorded scheduling decision, and which branch won,
//! and which pending branches were dropped with it, is a trace event.
//!
//! A `select!` written on these two calls explores every branch order under
//! `Random`/`Pct` schedules, replays the order a failing run took, and leaves
//! the line that explains a lost half-read frame in the trace:
//!
//! ```text
//! select! at src/reader.rs:40:9: branch 1 won; dropped pending branch 0 (waiting at await point 3)
//! ```
//!
//! ```
//! use std::future::Future;
//! use std::time::Duration;
//! use cancelsim::{select, time, Config, Sim};
//!
//! let mut sim = Sim::new(Config::default());
//! let winner = sim.block_on(async {
//!     let start = select::start(2); // 0 in the Fifo baseline
//!     let mut slow = std::pin::pin!(time::sleep(Duration::from_millis(20)));
//!     let mut fast = std::pin::pin!(time::sleep(Duration::from_millis(10)));
//!     std::future::poll_fn(|cx| {
//!         for offset in 0..2 {
//!             let branch = (start + offset) % 2;
//!             let ready = match branch {
//!                 0 => slow.as_mut().poll(cx).is_ready(),
//!                 _ => fast.as_mut().poll(cx).is_ready(),
//!             };
//!             if ready {
//!                 let other = 1 - branch;
//!                 select::won(branch, 1 << other);
//!                 return std::task::Poll::Ready(branch);
//!             }
//!         }
//!         std::task::Poll::Pending
//!     })
//!     .await
//! });
//! assert_eq!(winner.unwrap(), 1);
//! let trace = sim.trace().to_string();
//! assert!(trace.contains("branch 1 won; dropped pending branch 0 (waiting at await point 1)"), "{trace}");
//! ```

/// The branch a fair race of `branches` futures polls first: a recorded
/// choice ([`choose`](crate::choose)); 0 in the `Fifo` baseline, explored
/// under `Random`/`Pct`, replayed from a schedule. A race of one branch asks
/// nothing.
///
/// # Panics
///
/// Outside a simulation (with more than one branch).
#[track_caller]
pub fn start(branches: usize) -> usize {
    if branches <= 1 {
        return 0;
    }
    crate::choose(branches)
}

/// Records that the current task's race at the caller's location was won by
/// `branch`; bit `i` of `dropped` is set for each other branch whose future
/// was pending and is dropped with the race (branches past 31 are not
/// shown). The trace names the task's last await point as where the dropped
/// futures waited; a race that knows it was decided in its first poll (its
/// losers never waited at an await point of the task) says so with
/// [`won_in_poll`]. Outside a simulation it does nothing.
#[track_caller]
pub fn won(branch: usize, dropped: u64) {
    let at = std::panic::Location::caller();
    let branch = u32::try_from(branch).unwrap_or(u32::MAX);
    crate::world::try_with(|world| world.select_won(branch, dropped as u32, false, at));
}

/// [`won`], for a race that counts its polls: `poll` is the poll of the
/// race that decided it, 1 for the first. The futures dropped by a race
/// decided in its first poll were created and dropped within that poll:
/// they never waited at an await point of the task, and the trace says so
/// (`point` 0, no "waiting at await point" in the text).
///
/// ```
/// use std::future::Future;
/// use std::time::Duration;
/// use cancelsim::{select, time, Config, Sim};
///
/// let mut sim = Sim::new(Config::default());
/// sim.block_on(async {
///     time::sleep(Duration::from_millis(1)).await; // await point 1
///     let mut slow = std::pin::pin!(time::sleep(Duration::from_millis(20)));
///     let mut polls = 0;
///     std::future::poll_fn(|cx| {
///         polls += 1;
///         if slow.as_mut().poll(cx).is_pending() {
///             // Branch 1 is ready at once: branch 0 is dropped.
///             select::won_in_poll(1, 0b1, polls);
///             return std::task::Poll::Ready(1);
///         }
///         std::task::Poll::Ready(0)
///     })
///     .await
/// })
/// .unwrap();
/// let trace = sim.trace().to_string();
/// assert!(trace.contains("branch 1 won; dropped pending branch 0\n"), "{trace}");
/// ```
#[track_caller]
pub fn won_in_poll(branch: usize, dropped: u64, poll: u32) {
    let at = std::panic::Location::caller();
    let branch = u32::try_from(branch).unwrap_or(u32::MAX);
    crate::world::try_with(|world| world.select_won(branch, dropped as u32, poll <= 1, at));
}
