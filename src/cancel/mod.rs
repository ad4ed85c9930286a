//! Cooperative cancellation, as in asyncio, trio, Kotlin and tokio-util.
//!
//! A cancel request ([`JoinHandle::cancel`](crate::JoinHandle::cancel)) does
//! not stop a task by itself; the task sees it at its await points:
//!
//! * as an **error**, once per request, like asyncio's `CancelledError`: the
//!   next [`checkpoint`], [`or_cancel`](OrCancel::or_cancel) or [`shield`]
//!   that the task reaches returns `Err(Cancelled)`. A task that drops that
//!   error and carries on is not asked again (that is the bug the
//!   `cancel-swallowed` oracle flags);
//! * as a **signal**, like tokio-util's `CancellationToken`: [`is_cancelled`]
//!   is true and [`cancelled`] is ready from the first request on.
//!
//! A request is only seen at an await point: CPU work ([`work`](crate::work))
//! delays it. The task is not finished until it has handled the request and
//! returned (`JoinHandle::is_finished` stays false until then).

mod checkpoint;
mod or_cancel;
mod shield;
mod signal;

pub use checkpoint::{cancelled, checkpoint, CancelledSignal, Checkpoint};
pub use or_cancel::{OrCancel, OrCancelled};
pub use shield::{shield, Shield};
pub use signal::{register_signal, set_grace_time};

use crate::world;
pub use crate::world::Cancelled;

/// Has the current task been asked to cancel (at least one request)?
///
/// Stays true once set (a signal, not an event). Outside a task: false.
pub fn is_cancelled() -> bool {
    world::try_with(|world| world.is_cancelled()).unwrap_or(false)
}
