//! Joins awaited under a deadline, and the expiries a stall causes.
//!
//! A `timeout` (or a `select!` against a timer) around the wait for a
//! task's end expires when that task is slow: the task is still running
//! at the deadline, and the program's own abort path (`abort_all`,
//! `JoinSet::shutdown`, a dropped set or handle) drops it where it waits.
//! So, in a baseline (collecting) run, every task whose end is awaited
//! inside a timeout scope — its `JoinHandle` polled there, a `JoinSet`'s
//! join (`join_next`, `shutdown`, `join_all`), a group's join — is noted,
//! and the sweep stalls it at each of its await points
//! ([`AwaitPoint::awaited_at_deadline`](crate::inject::AwaitPoint::awaited_at_deadline)).
//! A join polled directly in a plain `timeout` counts at once; one polled
//! in a race's branch (and in no `timeout` around it) counts once the race
//! settles as a timeout scope (it has a timer branch and another), which
//! is only known after all its branches were polled.
//!
//! In a run with a stall, a timeout (or a race's timer branch) that
//! expires while the stall holds a task expired because of it: as for an
//! injected expiry, the test's own timeout failing is the test's
//! assertion (`timeout(5s, handle).await.expect("worker hung")`), and the
//! scope counts as the one the injection forced, so that a failing run
//! gets that expiry's counterfactual (is the failure the result the
//! timeout decides, or state the stalled task left half-done?).
//!
//! Invariant: nothing here is kept outside a collecting run but the
//! expiry attribution, which only acts while a stall holds a task.

use std::collections::BTreeSet;

use super::race::RACE_PLACEHOLDER;
use super::{RaceBranches, World};
use crate::inject::AwaitPoint;
use crate::trace::SourceLocation;
use crate::vocab::TaskId;

/// What a collecting run noted of the joins its tasks awaited.
#[derive(Debug, Default)]
pub(crate) struct DeadlineJoins {
    /// Tasks whose end was awaited inside a timeout scope.
    awaited: BTreeSet<TaskId>,
    /// Joins polled in the current poll inside a race's branch and no
    /// timeout, with the length of the scope stack then: they count once
    /// a race they are in settles as a timeout scope.
    in_races: Vec<(TaskId, usize)>,
}

impl World {
    /// The current task awaits the end of `task` (a join polled and
    /// pending): notes it when inside a timeout scope (collecting only).
    #[inline]
    pub fn note_join_awaited(&self, task: TaskId) {
        if self.collecting.get() {
            self.note_join_collecting(task);
        }
        if self.watch_wakes.get() {
            self.join_watched(task);
        }
    }

    #[cold]
    fn note_join_collecting(&self, task: TaskId) {
        let Ok(scopes) = self.scopes.try_borrow() else {
            return;
        };
        if scopes.is_empty() {
            return;
        }
        let under_timeout = scopes.iter().any(|(scope, _)| *scope != RACE_PLACEHOLDER);
        let depth = scopes.len();
        drop(scopes);
        let Ok(mut joins) = self.deadline_joins.try_borrow_mut() else {
            return;
        };
        if under_timeout {
            joins.awaited.insert(task);
        } else {
            joins.in_races.push((task, depth));
        }
    }

    /// A race whose placeholder was at the top of a scope stack one
    /// longer than now settled its poll: with `acting`, it is a timeout
    /// scope, and the joins its branches polled count.
    pub(super) fn settle_race_joins(&self, acting: bool) {
        if !self.collecting.get() {
            return;
        }
        let depth = self.scopes.try_borrow().map_or(0, |scopes| scopes.len());
        let Ok(mut joins) = self.deadline_joins.try_borrow_mut() else {
            return;
        };
        let joins = &mut *joins;
        if acting {
            for (task, _) in joins.in_races.iter().filter(|(_, at)| *at > depth) {
                joins.awaited.insert(*task);
            }
        }
        // An enclosing race may still settle as a scope: joins deeper
        // than this race were judged by it.
        joins.in_races.retain(|(_, at)| *at <= depth);
    }

    /// A new poll starts: joins left unsettled by the last one are
    /// forgotten (collecting only).
    pub(super) fn forget_unsettled_joins(&self) {
        if let Ok(mut joins) = self.deadline_joins.try_borrow_mut() {
            joins.in_races.clear();
        }
    }

    /// Marks the await points of the tasks awaited under a deadline, and
    /// forgets them.
    pub(super) fn mark_awaited_at_deadline(&self, points: &mut [AwaitPoint]) {
        let joins = std::mem::take(&mut *self.deadline_joins.borrow_mut());
        for point in points {
            point.awaited_at_deadline = joins.awaited.contains(&point.task);
        }
    }

    /// The timeout at `at` (scope `scope`; a race's, with its branches)
    /// expired by itself: if a stall holds a task meanwhile, the stall
    /// made it expire, as an injected expiry does (see the module docs).
    /// True when it did.
    pub(crate) fn note_expiry_while_stalled(
        &self,
        scope: u32,
        at: SourceLocation,
        race: Option<RaceBranches>,
    ) -> bool {
        if self.stalled.borrow().is_empty() {
            return false;
        }
        self.note_forced_expiry(at);
        self.oracles.borrow_mut().stall_expired_timeout = true;
        if self.forced_by_injection.get().is_none() {
            self.forced_by_injection.set(Some((scope, at)));
            if let Some(race) = race {
                self.note_race_forced(race);
            }
        }
        true
    }

    /// Did a stall make a timeout expire, with the stalled task left
    /// running (the program went on without it rather than abort it)?
    pub(crate) fn stall_outran_a_timeout(&self) -> bool {
        let oracles = self.oracles.borrow();
        oracles.stall_expired_timeout && !oracles.stall_aborted
    }

    /// Did the program go on without a stalled task before any deadline
    /// came for it — no timeout expired for it, nothing of the program
    /// aborted it, its owner did not wake it (a quorum's `join_next`
    /// under a `timeout` answered by the others, the straggler left to
    /// finish)?
    pub(crate) fn stall_went_on(&self) -> bool {
        let oracles = self.oracles.borrow();
        !oracles.stall_expired_timeout && !oracles.stall_aborted && !oracles.stall_owner_released
    }
}
