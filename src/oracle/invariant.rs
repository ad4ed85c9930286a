//! `invariant`: user invariants, registered while the run goes and
//! checked at its end (after the drain).

use std::panic::Location;

use crate::vocab::EndState;
use crate::vocab::{Violation, ViolationCode};
use crate::world;

/// Registers a named invariant of the current run, checked when the run ends
/// (after the world has drained). A `false` result, or a panic inside `check`,
/// is an `invariant` violation.
///
/// ```
/// use std::{cell::Cell, rc::Rc};
/// # let mut sim = cancelsim::Sim::new(cancelsim::Config::default());
/// # sim.block_on(async {
/// let sent = Rc::new(Cell::new(0));
/// let received = Rc::new(Cell::new(0));
/// let (s, r) = (sent.clone(), received.clone());
/// cancelsim::invariant("no message lost", move || s.get() == r.get());
/// # }).unwrap();
/// ```
///
/// # Panics
///
/// Outside a simulation.
#[track_caller]
pub fn invariant(name: &str, check: impl Fn() -> bool + 'static) {
    let at = Location::caller();
    world::with(|world| world.add_invariant(name.to_string(), Box::new(check), at));
}

/// Evaluates each invariant of `state`, in the order registered: a
/// `false` or a panic is a violation.
pub(crate) fn check(state: &EndState) -> Vec<Violation> {
    let mut violations = Vec::new();
    for (name, check, at) in &state.invariants {
        let failure = match crate::panic::catch(check) {
            Ok(true) => continue,
            Ok(false) => format!("invariant `{name}` does not hold at the end of the run"),
            Err(caught) => format!("invariant `{name}` panicked: {}", caught.message),
        };
        violations.push(Violation::new(ViolationCode::Invariant, failure).located(at));
    }
    violations
}
