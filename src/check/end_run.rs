//! The end of a run (DESIGN.md): the oracles over the world's end state.
//!
//! When the root has ended, a tokio runtime shuts down (if the run is
//! one); the oracles judge the state at that moment (leaks of tasks that
//! were not detached); the world drains, so detached work can finish; then
//! the oracles judge the state after the drain (detached leaks, requests
//! never honoured, resources held, panics, invariants). A drain that went
//! off its recording leaves no end state worth judging: the run reports
//! the divergence instead.

use std::rc::Rc;

use crate::oracle::{self, Violation};
use crate::vocab::Moment;
use crate::world::World;

/// Ends the run of `world`, whose root has ended: every violation of the
/// run, in the order found.
pub(crate) fn end_run(world: &Rc<World>) -> Vec<Violation> {
    world.note_tasks_outliving_root();
    world.shut_down_if_configured();
    let root_end = world.now();
    world.report_end(oracle::at_root_end(&world.end_state(Moment::RootEnded)));
    world.drain(root_end);
    if world.has_diverged() {
        // The drain went off its recording: what is left is not the end
        // state of the recorded run. The run reports the divergence.
        return world.take_violations();
    }
    // Seen before the end state takes the run's panics.
    let real_tokio = world.real_tokio_panic();
    world.report_end(oracle::after_drain(&world.end_state(Moment::Drained)));
    let mut violations = world.take_violations();
    let shown = violations
        .iter()
        .any(crate::vocab::real_tokio::shows_real_tokio);
    violations.extend(real_tokio.filter(|_| !shown));
    violations
}
