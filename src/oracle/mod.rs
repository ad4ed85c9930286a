//! Oracles: what is checked after every run, and the [`Violation`]s they
//! report.
//!
//! Each violation has a stable code (the table in DESIGN.md), names the task
//! and the await point it concerns, the injection in force, and carries a
//! one-line hint at the usual fix.
//!
//! DESIGN's "Trace + end state → Oracles" is this module: each oracle is a
//! function of the end state of a run (`EndState`, plain data the world
//! builds; see `crate::vocab`), one file each — `leak` (`leaked-task`),
//! `grace` (`cancel-ignored` left at the end), `resource`
//! (`leaked-resource`), `panic` (`unobserved-panic`, `panic`) and
//! `invariant` (user invariants). None of them reads or changes the
//! world. Two checks cannot wait for the end and run while the run goes:
//! a swallowed cancel when its task returns, and the grace budget of a
//! cancel request as each poll ends (the injector's hook,
//! `World::on_poll_end`).
//!
//! The end of a run (DESIGN.md) takes two snapshots: when the root has
//! ended (`at_root_end`: leaks of tasks that were not detached), and
//! after the drain (`after_drain`: everything else).

mod grace;
mod invariant;
mod leak;
mod panic;
mod resource;

pub use invariant::invariant;

use crate::vocab::EndState;
pub use crate::vocab::{Violation, ViolationCode};

/// The violations of the state at the moment the root ended.
pub(crate) fn at_root_end(state: &EndState) -> Vec<Violation> {
    leak::check(state)
}

/// The violations of the state after the drain, in the order they are
/// reported: per live task (in id order) its leak, then its ignored
/// request; then the resources held, the panics, the invariants.
pub(crate) fn after_drain(state: &EndState) -> Vec<Violation> {
    let mut violations = leak::check(state);
    violations.extend(grace::check(state));
    // Stable: a task's leak stays before its ignored request.
    violations.sort_by_key(|violation| violation.task);
    violations.extend(resource::check(state));
    violations.extend(panic::check(state));
    violations.extend(invariant::check(state));
    violations
}
