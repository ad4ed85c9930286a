//! Tracked resources: things that must be released however a task ends.
//!
//! [`acquire`] returns a [`Guard`]; the resource is held until the guard is
//! dropped or [`Guard::release`]d. Any resource still held when the run ends
//! (after the world has drained) is a `leaked-resource` violation naming who
//! acquired it, where, and at which await point the holder was.

use std::fmt;
use std::panic::Location;

use crate::world;

/// Acquires a tracked resource called `name` (a lock, a connection, an
/// obligation) on behalf of the current task.
///
/// ```
/// # let mut sim = cancelsim::Sim::new(cancelsim::Config::default());
/// # sim.block_on(async {
/// let conn = cancelsim::resource::acquire("db");
/// cancelsim::time::sleep(std::time::Duration::from_millis(5)).await;
/// conn.release(); // or let it drop
/// # }).unwrap();
/// ```
///
/// # Panics
///
/// Outside a simulation.
#[track_caller]
pub fn acquire(name: &str) -> Guard {
    let at = Location::caller();
    world::with(|world| {
        let id = world.acquire_resource(name, at);
        Guard {
            world: world.id(),
            id,
            name: name.to_string(),
        }
    })
}

/// A held resource; released on drop or by [`Guard::release`].
#[must_use = "a guard releases its resource when dropped"]
pub struct Guard {
    world: u64,
    id: u64,
    name: String,
}

impl Guard {
    /// Releases the resource now.
    pub fn release(self) {
        drop(self);
    }

    /// The resource's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let (world_id, id) = (self.world, self.id);
        world::try_with(|world| {
            if world.id() == world_id {
                world.release_resource(id);
            }
        });
    }
}

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard").field("name", &self.name).finish()
    }
}
