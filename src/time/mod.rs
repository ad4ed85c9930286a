//! Virtual time: [`Instant`], [`sleep`], [`sleep_until`], [`timeout`], and
//! [`work`](crate::work).
//!
//! Invariants: time starts at zero and moves only forward, in two ways: when
//! no task is ready the clock jumps to the earliest timer deadline; and
//! `work(cost)` spends `cost` inside a poll. Sleeping a simulated day takes
//! microseconds of real time.

pub(crate) mod instant;
mod sleep;
mod timeout;

mod work;

pub use instant::Instant;
pub use sleep::{sleep, sleep_until, sleep_until_located, Sleep};
pub use timeout::{timeout, Elapsed, Timeout};
pub use work::work;
