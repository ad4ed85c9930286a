//! What the oracles accumulate during a run.

use std::collections::BTreeMap;

use crate::vocab::TaskId;
use crate::vocab::Violation;
pub(crate) use crate::vocab::{Held, InvariantCheck, Panicked};

#[derive(Default)]
pub(crate) struct OracleState {
    pub violations: Vec<Violation>,
    pub resources: BTreeMap<u64, Held>,
    pub next_resource: u64,
    pub panics: BTreeMap<TaskId, Panicked>,
    pub invariants: Vec<InvariantCheck>,
    /// Tasks that panicked in this plan's baseline: their observed panics
    /// are not news in an injected run.
    pub baseline_panics: std::collections::BTreeSet<TaskId>,
    /// Every task that panicked in this run.
    pub panicked_tasks: Vec<TaskId>,
    /// Tasks the harness aborted (drop injections).
    pub injected_aborts: std::collections::BTreeSet<TaskId>,
    /// The root panicked while a task the program aborted was still to be
    /// dropped (tokio's `abort` drops it when the runtime next runs it).
    pub abort_pending_at_root_panic: bool,
    /// Tasks that awaited the `JoinError` of an injected abort (or the panic
    /// of such a task): a panic of theirs on that error follows from the
    /// injection.
    pub saw_injected_abort: std::collections::BTreeSet<TaskId>,
    /// Panics that followed only from an injected abort (not reported).
    pub consequences: u32,
    /// The tasks whose panic was such a consequence: awaiting their
    /// `JoinError` is awaiting the injection's fallout too.
    pub consequence_panics: std::collections::BTreeSet<TaskId>,
    /// The program's cancellation signal, and whether one was registered.
    pub signal: Option<Box<dyn FnOnce()>>,
    pub signal_registered: bool,
    /// When the signal fired (virtual nanoseconds).
    pub signal_fired_at: Option<u64>,
    /// An injection expired the test's own timeout (`Config::test_file`,
    /// `Config::test_lines`).
    pub test_timeout_expired: bool,
    /// The test's own timeout expired by itself (its deadline passed).
    pub own_timeout_expired_naturally: bool,
    /// The root then failed in that poll: its assertion, not a bug.
    pub assertion_timeout: bool,
    /// The timer handler of the test's own `select!`, expired by an
    /// injection, panicked: the test's assertion, not a bug.
    pub race_handler_panicked: bool,
    /// A timeout (or a race's timer) expired while a stall held a task:
    /// the stall made it expire.
    pub stall_expired_timeout: bool,
    /// The program aborted a stalled task (at its own deadline).
    pub stall_aborted: bool,
    /// A stalled task's owner woke it, which ended the stall.
    pub stall_owner_released: bool,
    /// Tasks reported `cancel-ignored` in this run, or excused as only
    /// waiting for such a task: one that overran its grace time only
    /// waiting for one of them is not a second culprit.
    pub ignoring: std::collections::BTreeSet<TaskId>,
    /// The spawners of the tasks in `ignoring`: one waiting on something
    /// that is not a plain join (a `JoinSet`, `join_all`) is taken to wait
    /// for its children.
    pub ignoring_parents: std::collections::BTreeSet<TaskId>,
    /// The tasks a read of which returned part of what its peer wrote in
    /// one call (the chunk arrived in pieces): `crate::note_partial_read`.
    pub partial_reads: std::collections::BTreeSet<TaskId>,
    /// The tasks whose partial read's chunk is not all read yet.
    pub partial_outstanding: std::collections::BTreeSet<TaskId>,
    /// A `select!` of such a task dropped a pending branch before the
    /// rest came: the bytes a dropped read future had may have gone with
    /// it.
    pub partial_read_dropped: bool,
}

impl super::World {
    /// A read of the current task returned part of a chunk
    /// ([`crate::note_partial_read`]).
    pub(crate) fn note_partial_read(&self) {
        if let Some(task) = self.current_id() {
            let mut oracles = self.oracles.borrow_mut();
            oracles.partial_reads.insert(task);
            oracles.partial_outstanding.insert(task);
        }
    }

    /// The current task read the rest of its partly read chunk
    /// ([`crate::note_partial_read_done`]).
    pub(crate) fn note_partial_read_done(&self) {
        if let Some(task) = self.current_id() {
            self.oracles.borrow_mut().partial_outstanding.remove(&task);
        }
    }

    /// A `select!` of the current task dropped pending branches: while the
    /// rest of a chunk the task got part of is still to come, what a
    /// dropped read had may be lost.
    pub(super) fn note_branches_dropped(&self) {
        if let Some(task) = self.current_id() {
            let mut oracles = self.oracles.borrow_mut();
            if oracles.partial_outstanding.contains(&task) {
                oracles.partial_read_dropped = true;
            }
        }
    }

    /// What this run's partial reads say of its failures.
    pub(crate) fn partial_read(&self) -> Option<crate::vocab::PartialRead> {
        let oracles = self.oracles.borrow();
        if oracles.partial_read_dropped {
            Some(crate::vocab::PartialRead::ThenDropped)
        } else if !oracles.partial_reads.is_empty() {
            Some(crate::vocab::PartialRead::Read)
        } else {
            None
        }
    }
}
