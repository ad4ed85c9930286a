//! Oracles: what is checked after every run, and the [`Violation`]s they
//! report.
//!
//! Each violation has a stable code (the table in DESIGN.md), names the task
//! and the await point it concerns, the injection in force, and carries a
//! one-line hint at the usual fix. Checks run in two places: while the run
//! goes (a swallowed cancel when its task returns, an ignored cancel when its
//! grace budget runs out) and at the end of the run (leaks, panics,
//! invariants), after the world has drained. The checks are part of the
//! world (they read its end state); this module holds what users name:
//! [`invariant`], [`Violation`] and [`ViolationCode`].

mod invariant;

pub use invariant::invariant;

pub use crate::vocab::{Violation, ViolationCode};
