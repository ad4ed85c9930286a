//! [`Cancelled`]: the error a cancel request is delivered as. A delivered
//! value is tracked by the world it came from (clones and drops), so that
//! the `cancel-swallowed` oracle can tell a dropped request from one
//! returned; that tracking is why the type lives with the world.

use std::fmt;

use crate::vocab::TaskKey;

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

    fn on_token(&self, f: impl FnOnce(&super::World, TaskKey)) {
        if let Some(token) = self.token {
            super::try_with(|world| {
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
