//! The vocabulary every layer of a simulation speaks: task ids and keys,
//! virtual instants, source locations, what a suspended task waits on, await
//! points and injections, violations and their codes, the error a join
//! returns, and the end state of a run that the oracles judge.
//!
//! A leaf: it depends on nothing else in the crate, so the world, the
//! scheduler, the trace and the user-facing modules (`task`, `time`,
//! `cancel`, `oracle`, `inject`) can all use these types without depending
//! on one another. The public types are re-exported where users find them
//! (`task::TaskId`, `time::Instant`, `trace::Wait`, `oracle::Violation`,
//! `inject::Injection`, ...).

mod end_state;
mod injection;
mod instant;
mod join_error;
mod location;
mod outside;
pub(crate) mod real_tokio;
mod stall_hint;
mod task;
pub(crate) mod violation;
pub(crate) mod violation_hint;
mod wait;

pub(crate) use end_state::{
    CancelRequest, EndState, Held, InvariantCheck, LiveTask, Moment, Panicked,
};
pub(crate) use injection::InjectionPlan;
pub use injection::{AwaitPoint, CancelMode, InjectAt, Injection, InjectionKind};
pub(crate) use instant::nanos;
pub use instant::Instant;
pub use join_error::JoinError;
pub use location::{display_location, display_path, SourceLocation};
pub use outside::{Idle, OutsideTimers};
pub(crate) use stall_hint::{EarlierVerdict, StallEarlier};
pub use task::TaskId;
pub(crate) use task::{TaskKey, TaskKind};
pub(crate) use violation::{ExpiryVerdict, PartialRead};
pub use violation::{Violation, ViolationCode};
pub(crate) use wait::write_wait_joining;
pub use wait::{IoWait, Wait, WaitKind};
