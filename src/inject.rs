//! Await points and the injections that fire at them.
//!
//! An **await point** is one suspension of one task: the n-th time that
//! task's future returned `Pending` (its ordinal, from 1). Under a fixed seed
//! and scheduler a run is deterministic, so `(task, ordinal)` found in a
//! baseline run names the same moment in every re-run up to the first
//! injection.
//!
//! An [`Injection`] acts on the task at that moment, at one of two
//! [`Instant`](InjectAt)s: when the task suspends there, or after it has been
//! woken there but before it is polled again (the value it waited for has
//! arrived: dropping the future now loses it — Lincheck's "prompt
//! cancellation").
//!
//! The types are shared vocabulary (they live in the crate's `vocab`
//! module); the injector that fires them is part of the world.

pub(crate) use crate::vocab::InjectionPlan;
pub use crate::vocab::{AwaitPoint, CancelMode, InjectAt, Injection, InjectionKind};
