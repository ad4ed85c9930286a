//! Reading the virtual clock: [`Instant::now`] and [`Instant::elapsed`]
//! (the type itself is shared vocabulary, in `vocab`).

use std::time::Duration;

pub use crate::vocab::Instant;

impl Instant {
    /// The current virtual time of the world this is called in.
    ///
    /// # Panics
    ///
    /// Outside a simulation.
    #[inline]
    pub fn now() -> Instant {
        crate::world::with(|world| world.now())
    }

    /// Time elapsed since `self`, in the current world.
    pub fn elapsed(self) -> Duration {
        Instant::now().duration_since(self)
    }
}
