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

use std::fmt;

pub use checkpoint::{cancelled, checkpoint, CancelledSignal, Checkpoint};
pub use or_cancel::{OrCancel, OrCancelled};
pub use shield::{shield, Shield};
pub use signal::{register_signal, set_grace_time};

use crate::task::table::TaskKey;
use crate::world;

/// A cancel request delivered to the task as an error.
///
/// Propagate it (`?`, or keep it inside your own error type) so that whoever
/// awaits the task learns it was cancelled. Dropping a `Cancelled` that was
/// delivered to your task and then returning normally is the bug asyncio
/// calls swallowing a `CancelledError`; the `cancel-swallowed` oracle flags
/// it. Delivered values are tracked (the task they were delivered to), so
/// the oracle can tell "dropped and carried on" from "returned in the
/// output". All `Cancelled` values compare equal; the constant [`Cancelled`](const@Cancelled)
/// (value namespace) builds an untracked one, so `Err(Cancelled)` reads as
/// usual in expressions and `assert_eq!`; to match in a pattern, use
/// `Err(Cancelled { .. })` or `Err(_)`.
pub struct Cancelled {
    token: Option<Token>,
}

#[derive(Clone, Copy)]
struct Token {
    world: u64,
    key: TaskKey,
}

/// An untracked [`Cancelled`](struct@Cancelled) value, so that `Err(Cancelled)` works as an
/// expression.
#[allow(non_upper_case_globals)]
pub const Cancelled: Cancelled = Cancelled { token: None };

impl Cancelled {
    /// An untracked `Cancelled` (same as the constant).
    pub const fn new() -> Self {
        Cancelled { token: None }
    }

    /// A value delivered to the current task (tracked for `cancel-swallowed`).
    pub(crate) fn delivered(world: u64, key: TaskKey) -> Self {
        Cancelled {
            token: Some(Token { world, key }),
        }
    }

    fn on_token(&self, f: impl FnOnce(&crate::world::World, TaskKey)) {
        if let Some(token) = self.token {
            world::try_with(|world| {
                if world.id == token.world {
                    f(world, token.key);
                }
            });
        }
    }
}

impl Default for Cancelled {
    fn default() -> Self {
        Cancelled::new()
    }
}

impl Clone for Cancelled {
    fn clone(&self) -> Self {
        self.on_token(|world, key| world.cancel_token_cloned(key));
        Cancelled { token: self.token }
    }
}

impl Drop for Cancelled {
    fn drop(&mut self) {
        self.on_token(|world, key| world.cancel_token_dropped(key));
    }
}

impl PartialEq for Cancelled {
    fn eq(&self, _: &Cancelled) -> bool {
        true
    }
}

impl Eq for Cancelled {}

impl std::hash::Hash for Cancelled {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

impl fmt::Debug for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cancelled")
    }
}

impl fmt::Display for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("cancelled")
    }
}

impl std::error::Error for Cancelled {}

/// Has the current task been asked to cancel (at least one request)?
///
/// Stays true once set (a signal, not an event). Outside a task: false.
pub fn is_cancelled() -> bool {
    world::try_with(|world| world.is_cancelled()).unwrap_or(false)
}
