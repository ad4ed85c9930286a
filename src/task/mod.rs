//! Tasks: spawning, joining, aborting, detaching.
//!
//! Semantics follow tokio so that tests see what production code would do:
//! dropping a [`JoinHandle`] neither cancels nor detaches its task (it runs
//! on, and is reported as leaked if still alive when the root ends);
//! [`JoinHandle::abort`] drops the task's future at its current await point,
//! running its `Drop`s at once; [`JoinHandle::cancel`] makes a cooperative
//! request instead (see [`cancel`](super::cancel)).

mod group;
mod group_error;
pub(crate) mod join;
mod spawn;

pub use crate::vocab::{JoinError, TaskId};
pub use group::{GroupJoin, TaskGroup};
pub use group_error::{ChildFailure, GroupError};

/// The id of the task being polled, inside a simulation.
pub fn current_id() -> Option<TaskId> {
    crate::world::try_with(|world| world.current_id()).flatten()
}
pub use join::{AbortHandle, AbortOnDropHandle, JoinHandle};
pub use spawn::{
    spawn, spawn_named, spawn_named_by_site, spawn_named_by_site_located, spawn_named_located,
    yield_now, YieldNow,
};
