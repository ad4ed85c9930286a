//! `tokio::sync`: tokio's synchronisation primitives, unchanged (their
//! wakers are plain `Waker`s, so they work on the simulated executor),
//! except [`watch`], whose receivers tokio spreads over its waiter lists at
//! random, and [`Barrier`], which waits on such a `watch`.

pub use tokio::sync::*;

mod barrier;
pub mod watch;

pub use barrier::{Barrier, BarrierWaitResult};
