//! Virtual time: sleeps, deadlines, timeouts, CPU work and blocking work.
//! No test here looks at the wall clock: virtual time is the only clock.
//!
//! One module per concern: sleeps, the order of their wakes, timeouts, and
//! CPU and blocking work.

#[path = "../common/mod.rs"]
mod common;

mod sleep;
mod timeout;
mod timer_order;
mod work;

/// Seed of the simulations of this file.
const SEED: u64 = 3;
