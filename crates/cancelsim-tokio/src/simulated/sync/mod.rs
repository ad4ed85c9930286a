//! `tokio::sync`: tokio's synchronisation primitives, unchanged (their
//! wakers are plain `Waker`s, so they work on the simulated executor),
//! except [`watch`], whose receivers tokio spreads over its waiter lists at
//! random.

pub use tokio::sync::*;

pub mod watch;
