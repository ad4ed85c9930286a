//! What a stall's report says: the hints of a stall the program's deadline
//! ended (aborted the task, or a `timeout` waiting for it expired), read
//! with what the counterfactual runs found — the stall's `timeout`
//! expired from its first poll, and the same stall one wait earlier
//! ([`StallEarlier`]) — and of a stall no deadline met ([`STALL_WENT_ON`]).

use std::fmt;

use super::Injection;

/// The same run with the stalled task held one wait earlier (at await
/// point P−1 instead of P), and what it gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StallEarlier {
    /// The counterfactual's stall.
    pub injection: Injection,
    pub verdict: EarlierVerdict,
}

/// How the stall one wait earlier ended, against the run it judges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EarlierVerdict {
    /// It failed the same way (the same code, task, message and place for
    /// each violation).
    Same,
    /// It did not fail.
    Passes,
    /// It failed another way.
    Differs,
}

impl fmt::Display for StallEarlier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (the task held at its previous await point instead, against every wake too: a \
             counterfactual run, not a repro line) {}",
            self.injection,
            match self.verdict {
                EarlierVerdict::Same => "fails the same way",
                EarlierVerdict::Passes => "passes",
                EarlierVerdict::Differs => "fails another way",
            }
        )
    }
}

/// The hint of a stall: `outran` — a timeout waiting for the task expired
/// and the program went on without it (else the program's deadline
/// aborted it); `expiry_half_done` — that timeout expired from its first
/// poll does not fail this way; `earlier` — the stall one wait earlier.
pub(crate) fn stall_hint(
    outran: bool,
    expiry_half_done: bool,
    earlier: Option<EarlierVerdict>,
) -> &'static str {
    match (earlier, outran) {
        (Some(EarlierVerdict::Same), _) => STALL_SAME_EARLIER,
        (Some(EarlierVerdict::Passes), false) => STALL_ABORTED_CUT,
        (Some(EarlierVerdict::Passes), true) => STALL_OUTRAN_CUT,
        (Some(EarlierVerdict::Differs), false) => STALL_ABORTED_DIFFERS,
        (Some(EarlierVerdict::Differs), true) => STALL_OUTRAN_DIFFERS,
        (None, _) => match (outran, expiry_half_done) {
            (true, false) => STALL_OUTRAN,
            (true, true) => STALL_OUTRAN_OR_RESULT,
            (false, false) => STALL_ABORTED,
            (false, true) => STALL_ABORTED_OR_RESULT,
        },
    }
}

/// The hint of a stall the program's own deadline aborted.
macro_rules! stall_aborted {
    () => {
        "a stall: the sweep made the operation at this await point much slower than usual (its \
         wakes held back, as a slow peer, disk or lock would) and held this task's wait here \
         until your own deadline aborted it (a watchdog, `abort_all` or a `JoinSet` dropped at a \
         deadline) — had nothing aborted it, the wait would have ended after a minute of virtual \
         time, or once nothing else could run. The abort dropped the task at this await point \
         and left what the check sees half-done: make the change atomic across the await (a \
         guard whose Drop restores it, or commit only after the last await), or let the \
         deadline signal the task and wait for it to stop instead of aborting it"
    };
}

/// The hint of a stall that expired a timeout waiting for the task, the
/// program going on without it.
macro_rules! stall_outran {
    () => {
        "a stall: the sweep made the operation at this await point much slower than usual (its \
         wakes held back, as a slow peer, disk or lock would), so that a `timeout` (or a \
         `select!` against a timer) waiting for this task expired with the task still running, \
         and the code went on without it. What the check sees was left half-done: by the code \
         the expiry dropped mid-way — make the change atomic across the await (a guard whose \
         Drop restores it) or commit it only after the last await — or by the task, not \
         finished at the deadline: do not rely on what it does until it is done (await it, or \
         abort it and undo what it did)"
    };
}

/// The other reading of a stall's expiry, when that timeout expired before
/// its operation started does not fail the same way.
macro_rules! stall_result_reading {
    () => {
        ". (If the assertion checks a result that depends on how far the wait got — the jobs a \
         drain still had to abort, the items gathered before the deadline — the test assumes \
         the deadline never comes while a job is slow: assert what holds either way.)"
    };
}

const STALL_ABORTED: &str = stall_aborted!();
const STALL_ABORTED_OR_RESULT: &str = concat!(stall_aborted!(), stall_result_reading!());
const STALL_OUTRAN: &str = stall_outran!();
const STALL_OUTRAN_OR_RESULT: &str = concat!(stall_outran!(), stall_result_reading!());

/// A stall no deadline met: the program went on without the task before
/// any came, and nothing aborted it.
pub(crate) const STALL_WENT_ON: &str =
    "a stall: the sweep made the operation at this await point much slower than usual (its wakes \
     held back, as a slow peer, disk or lock would), and no deadline of your program met this \
     task: nothing aborted it, no timeout waiting for it expired. Your program went on without \
     it (another task answered first: a `JoinSet`'s `join_next` under a `timeout`, a quorum), \
     and the check ran while the task was still running (or after its wait ended late, by \
     itself). If the check expects what the task does when it ends (a gauge back to 0, its \
     result stored), it counts on a straggler finishing within the test's own wait — on real \
     tokio a straggler that slow is still running then too: wait for it before checking (drain \
     the `JoinSet`, await the handle, under a deadline), or assert what holds while it runs. If \
     the code itself relies on the straggler having finished, that is the bug";

/// What the stall one wait earlier passing adds.
macro_rules! stall_cut {
    () => {
        ". The same run with the task held one wait earlier, before it began that work, does \
         not fail this way (the `counterfactual:` line): the cut at this await point is what \
         left it half-done"
    };
}

/// What the stall one wait earlier failing another way adds.
macro_rules! stall_differs {
    () => {
        ". The same run with the task held one wait earlier, before it began that work, fails \
         another way (the `counterfactual:` line): what the check sees depends on where the work \
         was cut — most likely state the cut at this await point left half-done"
    };
}

const STALL_ABORTED_CUT: &str = concat!(stall_aborted!(), stall_cut!());
const STALL_OUTRAN_CUT: &str = concat!(stall_outran!(), stall_cut!());
const STALL_ABORTED_DIFFERS: &str = concat!(stall_aborted!(), stall_differs!());
const STALL_OUTRAN_DIFFERS: &str = concat!(stall_outran!(), stall_differs!());

/// A stall that fails the same way one wait earlier.
const STALL_SAME_EARLIER: &str =
    "a stall: the sweep made the operation at this await point much slower than usual (its wakes \
     held back, as a slow peer, disk or lock would), until your own deadline gave up on the task \
     (aborted it, or a `timeout` waiting for it expired). The same run with the task held one \
     wait earlier fails the same way (the `counterfactual:` line): what the check sees does not \
     depend on how far the task got between those two waits. Two readings: the check counts on \
     the work finishing before your deadline (a count of what was handled, a result) — on real \
     tokio, work that slow meets your deadline the same way: assert what holds either way \
     (nothing half-done; at most that many handled), or give the deadline room if the work must \
     finish; or the state was already half-done one wait earlier (a change made before both \
     waits and undone only after them): make it atomic across the awaits (a guard whose Drop \
     restores it)";
