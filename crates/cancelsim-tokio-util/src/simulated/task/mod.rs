//! `tokio_util::task`, simulated: tokio-util's task utilities over the
//! `cancelsim-tokio` facade's tasks (tokio-util's own spawn on real tokio,
//! which does not run inside a simulation). Tasks are named by the call
//! site that spawned them, as the facade names them.

mod abort_on_drop;
mod join_queue;
mod spawn_pinned;
pub mod task_tracker;
#[cfg(feature = "join-map")]
mod unsimulated;

pub use abort_on_drop::{AbortOnDrop, AbortOnDropHandle};
pub use join_queue::JoinQueue;
pub use spawn_pinned::LocalPoolHandle;
#[doc(inline)]
pub use task_tracker::TaskTracker;
#[cfg(feature = "join-map")]
pub use unsimulated::{JoinMap, JoinMapIsNotSimulated, JoinMapKeys};
