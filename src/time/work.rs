//! CPU work inside a poll.

use std::time::Duration;

use crate::vocab::nanos;
use crate::world;

/// Spends `cost` of CPU time inside the current poll, without yielding: the
/// clock moves forward by `cost` and no other task runs meanwhile. Models a
/// CPU-bound stretch (parsing, hashing, a busy loop) that delays every other
/// task and any cancel request until the next await point.
///
/// # Panics
///
/// Outside a simulation.
#[track_caller]
pub fn work(cost: Duration) {
    let at = std::panic::Location::caller();
    world::with(|world| world.work(nanos(cost), at));
}
