//! `select!` races as timeout scopes: which branch polled a timer of its
//! own, and the scope an await point reached in a race belongs to (the
//! user-facing side: `select::Race`).
//!
//! While a race polls a branch, the world keeps a frame for that branch
//! poll: a `time::Sleep` polled directly in it (not inside
//! a `timeout` or a race nested in the branch) reports itself there, and
//! the first wait noted in the poll marks it; a `Sleep` made during a
//! branch poll keeps the race's tag, so that polled in a branch of the
//! same race it reports itself as an indirect timer (made by the branch
//! while the race runs, not given to it). A placeholder scope is on the
//! scope stack meanwhile, so a wait noted in any branch belongs to the race;
//! once every branch was polled, the race settles the placeholder: its own
//! scope when it has a timer branch and another branch to expire, else the
//! enclosing scope.

use crate::trace::{SourceLocation, Wait, WaitKind};
use crate::vocab::{Instant, TaskId};

use super::World;

/// The scope a wait noted while a race polls its branches belongs to until
/// the race settles it ([`World::settle_race_poll`]).
pub(super) const RACE_PLACEHOLDER: u32 = u32::MAX;

/// A scope on the stack: its number and where it was made.
type Scope = (u32, SourceLocation);

/// A race's number (races are numbered as they are first polled, the
/// same in every run of a plan up to its first injection) and its timer
/// and other branches, as bit sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RaceBranches {
    pub race: u64,
    pub timers: u64,
    pub others: u64,
}

/// The tag a `time::Sleep` made in a branch poll of race number `race`
/// keeps: 1 to `u16::MAX` (0: made outside races). Two races share a tag
/// only 65,535 races apart.
fn race_tag(race: u64) -> u16 {
    (race % u64::from(u16::MAX)) as u16 + 1
}

/// One branch poll of a race in progress.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BranchPoll {
    /// The length of the scope stack inside the branch: a timer polled at
    /// another depth is inside a `timeout` of the branch.
    depth: usize,
    /// Whether a timer was polled directly in the branch, and whether it
    /// was ready (the last one), and when it is due.
    timer: Option<bool>,
    deadline: Option<Instant>,
    /// The race's tag ([`race_tag`]).
    tag: u16,
    /// The last timer polled directly in the branch was made while the
    /// race runs (an indirect timer: a `sleep` inside an `async` block
    /// of the branch).
    indirect: bool,
    /// The race tag of the enclosing branch poll, put back when this one
    /// ends.
    outer_tag: u16,
    /// The poll noted what the task waits on (the first note of the task's
    /// poll), as a race nested in it says.
    noted: bool,
    /// The task's poll had noted its wait before this branch poll: the
    /// branch cannot make the first note (told by comparing the note
    /// before and after the branch, so that noting a wait costs nothing
    /// for races).
    noted_before: bool,
}

/// What a poll had noted when a race began: its wait, and the scope it was
/// noted in.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NotedSoFar(
    Option<Wait>,
    Option<(u32, SourceLocation)>,
    Option<(u32, SourceLocation)>,
    Option<(Wait, u64)>,
);

/// What a branch poll of a race saw.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct BranchSeen {
    /// A timer polled directly in the branch, whether it was ready, and
    /// when it is due.
    pub timer: Option<bool>,
    pub deadline: Option<Instant>,
    /// That timer was made while the race runs (indirect).
    pub indirect: bool,
    /// The branch noted what the task waits on.
    pub noted: bool,
    /// What it noted has no location (a wait outside cancelsim).
    pub unlocated: bool,
    /// Its note (a direct timer's) was held back in place of an indirect
    /// timer branch's, which names the await point again.
    pub swapped: bool,
}

/// Pops the frames of a branch poll, also when the branch panics.
struct BranchGuard<'a> {
    world: &'a World,
    popped: bool,
}

impl BranchGuard<'_> {
    fn pop(&mut self) -> BranchSeen {
        self.popped = true;
        let mut seen = BranchSeen::default();
        self.world
            .racing
            .set(self.world.racing.get().saturating_sub(1));
        if let Some(frame) = self.world.branch_polls.borrow_mut().pop() {
            let pending = self.world.pending_wait.get();
            let noted = frame.noted || (!frame.noted_before && pending.is_some());
            self.world.race_tag.set(frame.outer_tag);
            seen = BranchSeen {
                timer: frame.timer,
                deadline: frame.deadline,
                indirect: frame.indirect,
                noted,
                unlocated: noted && pending.is_some_and(|wait| wait.at.is_none()),
                swapped: false,
            };
        }
        self.world.scopes.borrow_mut().pop();
        if seen.noted {
            // A race nested in a branch: its note is the outer branch's too.
            if let Some(parent) = self.world.branch_polls.borrow_mut().last_mut() {
                parent.noted = true;
            }
        }
        seen
    }
}

impl Drop for BranchGuard<'_> {
    fn drop(&mut self) {
        if !self.popped {
            self.pop();
        }
    }
}

impl World {
    /// Polls one branch of race number `race`, at `at`, with `poll`,
    /// inside the race's placeholder scope; returns what the branch saw.
    /// `other`: the race knows the branch waits on something else than a
    /// timer (a sleep in it is its own, not the race's timer).
    /// `direct_timer`: the race has a direct timer branch (an indirect
    /// timer branch then counts as another branch too).
    pub(crate) fn poll_race_branch<R>(
        &self,
        at: SourceLocation,
        race: u64,
        other: bool,
        direct_timer: bool,
        poll: impl FnOnce() -> R,
    ) -> (R, BranchSeen) {
        let depth = {
            let mut scopes = self.scopes.borrow_mut();
            scopes.push((RACE_PLACEHOLDER, at));
            scopes.len()
        };
        let tag = race_tag(race);
        self.branch_polls.borrow_mut().push(BranchPoll {
            depth,
            timer: None,
            deadline: None,
            tag,
            indirect: false,
            outer_tag: self.race_tag.replace(tag),
            noted: false,
            noted_before: self.pending_wait.get().is_some(),
        });
        self.racing.set(self.racing.get() + 1);
        let mut guard = BranchGuard {
            world: self,
            popped: false,
        };
        let result = poll();
        let mut seen = guard.pop();
        let other = other || (seen.indirect && direct_timer);
        if seen.noted && seen.timer.is_some() && !other {
            let held = self.race_timer_note.get();
            if held.is_none() {
                // The timer branch noted the task's wait: another branch's
                // wait, if one notes it, names the await point instead
                // (what an expiry there drops is that branch, not the
                // timer).
                if let Some(wait) = self.pending_wait.take() {
                    self.pending_outer.set(None);
                    self.race_timer_note
                        .set(Some((wait, self.pending_scope.take())));
                    self.race_timer_note_indirect.set(seen.indirect);
                }
            } else if self.race_timer_note_indirect.get() && !seen.indirect {
                // The held note is an indirect timer branch's, taken for
                // the race's timer before this direct one was polled: the
                // indirect one is what an expiry drops, its note names
                // the await point.
                if let (Some(wait), Some(indirect)) = (self.pending_wait.take(), held) {
                    let scope = self.pending_scope.take();
                    self.race_timer_note.set(Some((wait, scope)));
                    self.race_timer_note_indirect.set(false);
                    self.pending_wait.set(Some(indirect.0));
                    self.pending_scope.set(indirect.1);
                    self.pending_outer.set(None);
                    seen.swapped = true;
                }
            }
        }
        (result, seen)
    }

    /// A timer due at `deadline` was polled (ready or not): a branch poll
    /// of a race it is directly in notes it. `born`: the race tag the
    /// timer was made under ([`World::race_tag`]). Outside a race, one
    /// load.
    #[inline(always)]
    pub(crate) fn note_timer_polled(&self, ready: bool, born: u16, deadline: Instant) {
        if self.racing.get() != 0 {
            self.note_timer_in_race(ready, born, deadline);
        }
    }

    /// The tag of the race whose branch poll is in progress (innermost),
    /// 0 outside races: what a `time::Sleep` made now keeps.
    #[inline(always)]
    pub(crate) fn race_tag(&self) -> u16 {
        self.race_tag.get()
    }

    #[inline(never)]
    fn note_timer_in_race(&self, ready: bool, born: u16, deadline: Instant) {
        let Ok(mut polls) = self.branch_polls.try_borrow_mut() else {
            return;
        };
        let Some(top) = polls.last_mut() else {
            return;
        };
        if self.scopes.try_borrow().is_ok_and(|s| s.len() == top.depth) {
            top.timer = Some(ready);
            top.deadline = Some(deadline);
            top.indirect = born != 0 && born == top.tag;
        }
    }

    /// What the current poll noted so far: its wait and the scope it was
    /// noted in (see [`World::restore_noted_wait`]).
    pub(crate) fn noted_wait(&self) -> NotedSoFar {
        NotedSoFar(
            self.pending_wait.get(),
            self.pending_scope.get(),
            self.pending_outer.get(),
            self.unscoped_note.get(),
        )
    }

    /// Puts back what the poll had noted before a race that was won in
    /// it: what its pending branches noted is dropped with them, and the
    /// task's next wait (after the race, in the same poll) is noted afresh.
    pub(crate) fn restore_noted_wait(&self, noted: NotedSoFar) {
        self.pending_wait.set(noted.0);
        self.pending_scope.set(noted.1);
        self.pending_outer.set(noted.2);
        self.unscoped_note.set(noted.3);
        self.race_timer_note.set(None);
        self.race_timer_note_indirect.set(false);
    }

    /// After a race polled its branches: a wait noted in them belongs to
    /// `scope` (the race acts as a timeout), or, with `None`, to the scope
    /// enclosing the race. `by_timer`: the race's timer noted it: with a
    /// scope, the task waits on the race's deadline, as on a `timeout`'s
    /// own timer. `branch_wait`: a pending branch that is not a timer and
    /// noted no located wait, at its expression in the race: where the
    /// task waits in place of the timer's note (what an expiry of the race
    /// drops is that branch, not the timer).
    ///
    /// The scope enclosing that one (`pending_outer`, what a
    /// `timeout-outer` injection expires) is settled the same way: a race
    /// at `race_at` that acts as a timeout is the outer scope of a wait
    /// noted inside a timeout or race in its branch.
    pub fn settle_race_poll(
        &self,
        scope: Option<(u32, SourceLocation)>,
        race_at: SourceLocation,
        by_timer: bool,
        branch_wait: Option<Wait>,
    ) {
        // A wait no branch located (none, or a channel's, a `Notify`'s, a
        // token's of another crate) is named by the first pending branch
        // that noted nothing better, else by the timer branch's held-back
        // note; a wait newly set belongs to the race (settled just below).
        self.settle_race_joins(scope.is_some());
        let timer_note = self.race_timer_note.take();
        self.race_timer_note_indirect.set(false);
        let pending = self.pending_wait.get();
        if pending.is_none_or(|p| p.at.is_none()) {
            let named = match (branch_wait, timer_note) {
                (Some(wait), Some((_, noted_in))) => Some((wait, noted_in)),
                (Some(wait), None) => wait.at.map(|at| (wait, Some((RACE_PLACEHOLDER, at)))),
                (None, Some(note)) if pending.is_none() => Some(note),
                _ => None,
            };
            if let Some((wait, noted_in)) = named {
                self.pending_wait.set(Some(wait));
                if pending.is_none() {
                    self.pending_scope.set(noted_in);
                    self.pending_outer.set(None);
                }
            }
        }
        let Some((RACE_PLACEHOLDER, _)) = self.pending_scope.get() else {
            // Settled already (a timeout or race inside this race's
            // branch): this race may be the scope around it.
            if self.pending_outer.get() == Some((RACE_PLACEHOLDER, race_at)) {
                let outer = scope.or_else(|| self.enclosing_scopes().0);
                self.pending_outer.set(outer);
            }
            return;
        };
        // The wait is in this race: the scope it gets and the one around
        // that are found on the stack of scopes around the race.
        let (enclosing, below) = self.enclosing_scopes();
        self.pending_outer
            .set(if scope.is_some() { enclosing } else { below });
        match scope {
            Some(scope) => {
                self.pending_scope.set(Some(scope));
                if by_timer {
                    if let Some(mut wait) = self.pending_wait.get() {
                        if wait.kind == WaitKind::Sleep {
                            // Named at the `select!`, not where its timer
                            // was made or last reset (`interval.reset()`
                            // in a helper).
                            wait.kind = WaitKind::Select;
                            wait.at = Some(race_at);
                            self.pending_wait.set(Some(wait));
                        }
                    }
                }
            }
            None => {
                self.pending_scope.set(enclosing);
                if enclosing.is_none() {
                    // No scope after all: a note it displaced names the
                    // wait again.
                    if let Some(unscoped) = self.take_unscoped() {
                        self.pending_wait.set(Some(unscoped));
                    }
                }
            }
        }
    }

    /// The innermost scope enclosing the code polled now, and the one
    /// below it on the stack.
    fn enclosing_scopes(&self) -> (Option<Scope>, Option<Scope>) {
        let Ok(scopes) = self.scopes.try_borrow() else {
            return (None, None);
        };
        let n = scopes.len();
        let at = |depth: usize| n.checked_sub(depth + 1).map(|index| scopes[index]);
        (at(0), at(1))
    }

    /// The number of a race polled for the first time; with the branches
    /// to expire it with when this run is the counterfactual of an
    /// expiry of that race (it then expires from this first poll: only
    /// its timer branches are polled).
    pub(crate) fn first_race_poll(&self) -> (u64, Option<RaceBranches>) {
        let race = self.races.get();
        self.races.set(race + 1);
        let from_start = self
            .race_from_start
            .get()
            .filter(|branches| branches.race == race);
        (race, from_start)
    }

    /// An injection expired race `branches.race`: what its counterfactual
    /// expires from the start.
    pub(crate) fn note_race_forced(&self, branches: RaceBranches) {
        if self.forced_race.get().is_none() {
            self.forced_race.set(Some(branches));
        }
    }

    /// The race an injection of this run expired, if it was a race.
    pub(crate) fn forced_race(&self) -> Option<RaceBranches> {
        self.forced_race.get()
    }

    /// The current task's await point count (the point it resumed from).
    pub(crate) fn current_point(&self) -> u32 {
        let Some(key) = self.current_key() else {
            return 0;
        };
        self.core
            .borrow()
            .tasks
            .get(key)
            .map_or(0, |slot| slot.meta.suspends)
    }

    /// [`World::select_won`], naming `waiting_at` as where the dropped
    /// branches waited when it is known (an expired race stopped polling
    /// them there).
    pub(crate) fn race_won(
        &self,
        branch: u32,
        dropped: u32,
        first_poll: bool,
        waiting_at: Option<u32>,
        at: SourceLocation,
    ) {
        match (waiting_at, self.current_id()) {
            (Some(point), Some(task)) if dropped != 0 => self.record(
                task,
                crate::trace::EventKind::SelectWon {
                    branch,
                    dropped,
                    point,
                    at,
                },
            ),
            _ => self.select_won(branch, dropped, first_poll, at),
        }
    }

    /// A race at `at` expired by an injection ended with its timer branch:
    /// the trace says so, and a race in the test's own code counts as the
    /// test's own timeout (see [`World::note_forced_expiry`]).
    pub fn race_expired(&self, scope: u32, race: u64, at: SourceLocation) {
        if let Some(task) = self.current_id() {
            let race = Some(u32::try_from(race).unwrap_or(u32::MAX));
            self.record(
                task,
                crate::trace::EventKind::TimeoutFired { scope, race, at },
            );
        }
        self.note_forced_expiry(at);
        self.end_scope(scope);
    }

    /// The handler of the timer branch of the test's own race at `at`,
    /// expired by an injection, panicked (`_ = sleep(5s) => panic!("timed
    /// out")`): the test's assertion, not a bug of the code under test.
    pub fn expired_race_handler_panicked(&self, at: SourceLocation) {
        let own = self.config.is_test_code(at) && self.current_id() == Some(TaskId(0));
        if own {
            if let Ok(mut oracles) = self.oracles.try_borrow_mut() {
                oracles.race_handler_panicked = true;
            }
        }
    }

    /// Did the root fail in the timer handler of the test's own race,
    /// expired by an injection? Records it as an assertion on a timeout.
    pub(crate) fn root_failed_in_expired_race_handler(&self) -> bool {
        let mut oracles = self.oracles.borrow_mut();
        let own = oracles.race_handler_panicked;
        oracles.assertion_timeout |= own;
        own
    }
}
