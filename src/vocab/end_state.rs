//! The end state of a run: plain data the world hands the oracles
//! (DESIGN.md: "Trace + end-of-run state → Oracles"). The world builds it
//! (`World::end_state`); each oracle in the `oracle` module is a function of
//! it. Nothing here refers to the world, so the oracles cannot either.

use std::collections::BTreeSet;

use super::{Injection, SourceLocation, TaskId, TaskKind, Wait};

/// When the snapshot was taken.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Moment {
    /// The root task has just ended (before the drain).
    RootEnded,
    /// The drain is over: the run's end.
    Drained,
}

/// What the oracles see of a run that is over.
pub(crate) struct EndState {
    pub moment: Moment,
    /// Virtual time, in nanoseconds.
    pub now: u64,
    /// The grace budget of a cancel request: polls, and virtual
    /// nanoseconds.
    pub grace_polls: u32,
    pub grace_nanos: u64,
    /// The tasks still alive, in id order.
    pub tasks: Vec<LiveTask>,
    /// Tracked resources still held, in the order they were acquired.
    pub resources: Vec<Held>,
    /// Tasks that panicked and whose panic the run has not reported yet,
    /// in id order.
    pub panics: Vec<(TaskId, Panicked)>,
    /// The user invariants to evaluate, in the order registered.
    pub invariants: Vec<InvariantCheck>,
    /// The first injection of the run's plan, fired or not.
    pub first_injection: Option<Injection>,
    /// Tasks that panicked in this plan's baseline.
    pub baseline_panics: BTreeSet<TaskId>,
    /// Tasks reported `cancel-ignored` (or excused as waiting for one),
    /// and their spawners (see `World::waits_for_an_ignorer`).
    pub ignoring: BTreeSet<TaskId>,
    pub ignoring_parents: BTreeSet<TaskId>,
}

/// A task alive in the end state.
pub(crate) struct LiveTask {
    pub id: TaskId,
    pub name: Option<String>,
    pub kind: TaskKind,
    pub detached: bool,
    pub parent: Option<TaskId>,
    /// How the trace names its spawner (`"the harness"` when none).
    pub spawner: String,
    pub spawned_at: SourceLocation,
    /// The await point it waits at (its suspensions so far), and on what.
    pub point: u32,
    pub wait: Wait,
    /// An outstanding cancel request (or fired signal), if any.
    pub cancel: Option<CancelRequest>,
}

/// A cancel request a task has not honoured yet.
pub(crate) struct CancelRequest {
    /// When it was made (virtual nanoseconds).
    pub since: u64,
    /// The task's polls since it was made.
    pub polls: u32,
    /// The program's cancellation signal, not a cooperative request.
    pub signalled: bool,
    /// Still waiting to be honoured (not delivered, or a signal).
    pub pending: bool,
    /// A `cancel-ignored` violation was already reported for it.
    pub reported: bool,
}

/// A tracked resource currently held.
pub(crate) struct Held {
    pub name: String,
    pub holder: Option<TaskId>,
    pub holder_name: Option<String>,
    pub at: SourceLocation,
    pub point: u32,
}

/// A task that panicked.
pub(crate) struct Panicked {
    pub name: Option<String>,
    pub message: String,
    pub observed: bool,
    pub point: u32,
    /// Blocking work's task (`blocking(cost, f)`): its awaiter resumes
    /// the panic as its own.
    pub blocking: bool,
}

/// A user invariant: its name, the check, where it was registered.
pub(crate) type InvariantCheck = (String, Box<dyn Fn() -> bool>, SourceLocation);
