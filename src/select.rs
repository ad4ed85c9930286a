//! Races of futures (`select!`) as the simulation sees them: which branch is
//! polled first is a recorded scheduling decision, and which branch won,
//! and which pending branches were dropped with it, is a trace event.
//!
//! A `select!` written on these two calls explores every branch order under
//! `Random`/`Pct` schedules, replays the order a failing run took, and leaves
//! the line that explains a lost half-read frame in the trace:
//!
//! ```text
//! select! at src/reader.rs:40:9: branch 1 won; dropped pending branch 0 (waiting at await point 3)
//! ```
//!
//! ```
//! use std::future::Future;
//! use std::time::Duration;
//! use cancelsim::{select, time, Config, Sim};
//!
//! let mut sim = Sim::new(Config::default());
//! let winner = sim.block_on(async {
//!     let start = select::start(2); // 0 in the Fifo baseline
//!     let mut slow = std::pin::pin!(time::sleep(Duration::from_millis(20)));
//!     let mut fast = std::pin::pin!(time::sleep(Duration::from_millis(10)));
//!     std::future::poll_fn(|cx| {
//!         for offset in 0..2 {
//!             let branch = (start + offset) % 2;
//!             let ready = match branch {
//!                 0 => slow.as_mut().poll(cx).is_ready(),
//!                 _ => fast.as_mut().poll(cx).is_ready(),
//!             };
//!             if ready {
//!                 let other = 1 - branch;
//!                 select::won(branch, 1 << other);
//!                 return std::task::Poll::Ready(branch);
//!             }
//!         }
//!         std::task::Poll::Pending
//!     })
//!     .await
//! });
//! assert_eq!(winner.unwrap(), 1);
//! let trace = sim.trace().to_string();
//! assert!(trace.contains("branch 1 won; dropped pending branch 0 (waiting at await point 1)"), "{trace}");
//! ```

use std::task::Poll;

use crate::trace::{SourceLocation, Wait, WaitKind};

/// The branch a fair race of `branches` futures polls first: a recorded
/// choice ([`choose`](crate::choose)); 0 in the `Fifo` baseline, explored
/// under `Random`/`Pct`, replayed from a schedule. A race of one branch asks
/// nothing.
///
/// # Panics
///
/// Outside a simulation (with more than one branch).
#[track_caller]
pub fn start(branches: usize) -> usize {
    if branches <= 1 {
        return 0;
    }
    crate::choose_labelled(branches, std::panic::Location::caller(), |first| {
        format!("select! polls branch {first} first")
    })
}

/// Records that the current task's race at the caller's location was won by
/// `branch`; bit `i` of `dropped` is set for each other branch whose future
/// was pending and is dropped with the race (branches past 31 are not
/// shown). The trace names the task's last await point as where the dropped
/// futures waited; a race that knows it was decided in its first poll (its
/// losers never waited at an await point of the task) says so with
/// [`won_in_poll`]. Outside a simulation it does nothing.
#[track_caller]
pub fn won(branch: usize, dropped: u64) {
    let at = std::panic::Location::caller();
    let branch = u32::try_from(branch).unwrap_or(u32::MAX);
    crate::world::try_with(|world| world.select_won(branch, dropped as u32, false, at));
}

/// [`won`], for a race that counts its polls: `poll` is the poll of the
/// race that decided it, 1 for the first. The futures dropped by a race
/// decided in its first poll were created and dropped within that poll:
/// they never waited at an await point of the task, and the trace says so
/// (`point` 0, no "waiting at await point" in the text).
///
/// ```
/// use std::future::Future;
/// use std::time::Duration;
/// use cancelsim::{select, time, Config, Sim};
///
/// let mut sim = Sim::new(Config::default());
/// sim.block_on(async {
///     time::sleep(Duration::from_millis(1)).await; // await point 1
///     let mut slow = std::pin::pin!(time::sleep(Duration::from_millis(20)));
///     let mut polls = 0;
///     std::future::poll_fn(|cx| {
///         polls += 1;
///         if slow.as_mut().poll(cx).is_pending() {
///             // Branch 1 is ready at once: branch 0 is dropped.
///             select::won_in_poll(1, 0b1, polls);
///             return std::task::Poll::Ready(1);
///         }
///         std::task::Poll::Ready(0)
///     })
///     .await
/// })
/// .unwrap();
/// let trace = sim.trace().to_string();
/// assert!(trace.contains("branch 1 won; dropped pending branch 0\n"), "{trace}");
/// ```
#[track_caller]
pub fn won_in_poll(branch: usize, dropped: u64, poll: u32) {
    let at = std::panic::Location::caller();
    let branch = u32::try_from(branch).unwrap_or(u32::MAX);
    crate::world::try_with(|world| world.select_won(branch, dropped as u32, poll <= 1, at));
}

/// One race (a `select!`) as a timeout scope for its branches: a branch
/// that is a timer — a [`sleep`](crate::time::sleep), a reused
/// [`Sleep`](crate::time::Sleep), an interval's tick, a future that only
/// waits on one — is found while the race runs (the timer reports itself
/// to the branch poll it is in), and then the race acts as a
/// [`timeout`](crate::time::timeout) around its other branches: their
/// await points carry the race's scope
/// ([`AwaitPoint::timeout`](crate::AwaitPoint::timeout)), so a sweep
/// injects an expiry ([`InjectionKind::Timeout`](crate::InjectionKind::Timeout))
/// there. An injected expiry means "what the other branches wait on is not
/// done before the timer's deadline": from then on only the timer branches
/// are polled, the first of them wins at its own deadline (never earlier),
/// and the other branches are dropped where they wait, as the race drops
/// them. A race without a timer branch, or with nothing but timers, is no
/// scope and changes nothing.
///
/// A branch counts as a timer while every poll of it polls a timer
/// directly (not inside a `timeout` or a race of its own) and ends as
/// that timer did (pending while it is pending, ready when it fired); one
/// poll that does otherwise makes it a branch that waits on something else
/// for the rest of the race. A timer branch is *direct* when its timer was
/// made before the poll of the race that polls it (`sleep(d)` written as
/// the branch, a pinned `Sleep` raced by reference, an interval's tick),
/// *indirect* when the branch made it while the race runs (an `async`
/// block or `async fn` that sleeps: a slow backend's test double). In a
/// race with a direct timer branch, the indirect ones count as branches
/// that wait on something else (an expiry drops them where they wait);
/// in a race whose only timers are indirect (a deadline future of the
/// user's own), they are its timers.
///
/// The calls, in each poll of the race: [`begin_poll`](Race::begin_poll),
/// [`poll_branch`](Race::poll_branch) for each branch polled, [`won`](Race::won)
/// for the winner (in place of [`won_in_poll`]), [`end_poll`](Race::end_poll); after the race,
/// [`handler`](Race::handler) while the winner's handler runs.
///
/// ```
/// use std::future::Future;
/// use std::task::Poll;
/// use std::time::Duration;
/// use cancelsim::{select, time, Config, Sim};
///
/// let mut sim = Sim::new(Config::default());
/// let got = sim.block_on(async move {
///     let reply = cancelsim::spawn(async {
///         time::sleep(Duration::from_secs(2)).await;
///         7
///     });
///     let mut race = select::Race::new();
///     let mut reply = std::pin::pin!(reply);
///     let mut timer = std::pin::pin!(time::sleep(Duration::from_secs(1)));
///     std::future::poll_fn(|cx| {
///         race.begin_poll(0);
///         if let Poll::Ready(reply) = race.poll_branch(0, || reply.as_mut().poll(cx)) {
///             race.won(0, 0b10, 1);
///             race.end_poll();
///             return Poll::Ready(reply.ok());
///         }
///         if race.poll_branch(1, || timer.as_mut().poll(cx)).is_ready() {
///             race.won(1, 0b01, 1);
///             race.end_poll();
///             return Poll::Ready(None);
///         }
///         race.end_poll();
///         Poll::Pending
///     })
///     .await
/// });
/// assert_eq!(got.unwrap(), None);
/// ```
#[derive(Debug)]
pub struct Race {
    at: &'static std::panic::Location<'static>,
    /// The race's scope number, once it acted as a scope.
    scope: Option<u32>,
    /// Branches that are timers so far.
    timers: u64,
    /// Branches that waited on something else.
    others: u64,
    /// Timer branches whose timer was made while the race runs (in the
    /// branch's last poll): a `sleep` inside an `async` block or `async
    /// fn` of the branch, not one the race was given.
    indirect: u64,
    /// An injection expired the race: only its timers are polled.
    forced: bool,
    /// The task's await point where the expiry came.
    forced_at: Option<u32>,
    /// The wait the task noted in this poll came from a timer branch.
    noted_by_timer: bool,
    /// A timer branch won an expired race.
    expired: bool,
    /// The race's number in the run, once polled.
    number: Option<u64>,
    /// In this poll: the first pending branch that is not a timer and
    /// noted no located wait, at its expression ([`Race::poll_branch_at`]).
    branch_wait: Option<Wait>,
    /// What the task's poll had noted when this poll of the race began,
    /// and whether a branch won in it: then what the pending branches
    /// noted is dropped with them (see [`Race::end_poll`]).
    noted_before: Option<crate::world::NotedSoFar>,
    won_now: bool,
    /// When the race's timer is due (its earliest timer branch polled in
    /// the last poll): an expiry holds the task, and blocking work it
    /// waits on, until then.
    timer_deadline: Option<crate::vocab::Instant>,
}

impl Default for Race {
    #[track_caller]
    fn default() -> Self {
        Race::new()
    }
}

impl Race {
    /// The race at the caller's location.
    #[track_caller]
    pub fn new() -> Race {
        Race::located(std::panic::Location::caller())
    }

    /// The race at `at`: for a library whose race is made away from its
    /// user's call site (a stream adapter's timeout, one race per item,
    /// made while the stream is polled, named where the adapter was made).
    pub fn located(at: &'static std::panic::Location<'static>) -> Race {
        Race {
            at,
            scope: None,
            timers: 0,
            others: 0,
            indirect: 0,
            forced: false,
            forced_at: None,
            noted_by_timer: false,
            expired: false,
            number: None,
            branch_wait: None,
            noted_before: None,
            won_now: false,
            timer_deadline: None,
        }
    }

    /// The branches the race treats as its timers: the direct timer
    /// branches, or, when it has none, the indirect ones.
    fn timer_branches(&self) -> u64 {
        let direct = self.timers & !self.indirect;
        if direct != 0 {
            direct
        } else {
            self.timers
        }
    }

    /// The branches an expiry of the race drops: those that wait on
    /// something else, and indirect timer branches when the race has a
    /// direct timer (a slow backend's `sleep` is slower than the race's
    /// own timer).
    fn other_branches(&self) -> u64 {
        self.others | (self.timers & !self.timer_branches())
    }

    fn bit(branch: usize) -> u64 {
        1u64.checked_shl(u32::try_from(branch).unwrap_or(u32::MAX))
            .unwrap_or(0)
    }

    /// Starts a poll of the race; bit `i` of `disabled` is set for each
    /// branch that is no longer polled (a precondition, a finished branch).
    /// Takes an expiry injected at the race's last await point.
    pub fn begin_poll(&mut self, disabled: u64) {
        self.noted_by_timer = false;
        self.branch_wait = None;
        self.won_now = false;
        let deadline = self.timer_deadline.take();
        // One look-up of the world for the whole start of the poll.
        let Some(world) = crate::world::try_with(std::rc::Rc::clone) else {
            // Outside a simulation: nothing noted, never forced.
            self.noted_before = None;
            return;
        };
        self.noted_before = Some(world.noted_wait());
        if self.number.is_none() {
            let (number, from_start) = world.first_race_poll();
            self.number = Some(number);
            if let Some(branches) = from_start {
                // The counterfactual of an expiry of this race: its
                // other branches never start.
                self.timers = branches.timers;
                self.others = branches.others;
                self.indirect = 0;
                self.forced = true;
                self.forced_at = Some(world.current_point());
                world.hold_current_for_expiry();
            }
        }
        if let (Some(scope), false) = (self.scope, self.forced) {
            if world.take_forced(scope) {
                self.forced = true;
                self.forced_at = Some(world.current_point());
                world.note_race_forced(crate::world::RaceBranches {
                    race: self.number.unwrap_or(0),
                    timers: self.timer_branches(),
                    others: self.other_branches(),
                });
            }
        }
        if self.forced && world.take_expiry_release() {
            // The task's owner woke it (its token cancelled, a stop sent)
            // and awaits it under a deadline: the expiry held a slow
            // operation, not a task deaf to its owner; the race runs as it
            // would (`world/held_expiry.rs`).
            self.forced = false;
        }
        if self.forced && self.timer_branches() & !disabled == 0 {
            // No timer left to win: the race runs as it would.
            self.forced = false;
        }
        if let (true, Some(deadline)) = (self.forced, deadline) {
            // Woken while held: the trace says until when.
            world.poll_held(deadline, true);
        }
    }

    /// Polls branch `branch` with `poll`, inside the race's scope; an
    /// expired race does not poll a branch that is not a timer (it stays
    /// pending until the timer wins).
    pub fn poll_branch<T>(&mut self, branch: usize, poll: impl FnOnce() -> Poll<T>) -> Poll<T> {
        self.poll_located_branch(branch, None, poll)
    }

    /// [`poll_branch`](Race::poll_branch), for a branch whose future is
    /// written at `at` in the race (the first token of its expression;
    /// the tokio facade's `select!` passes it). When the race has a timer
    /// branch and this branch waits on something that notes no located
    /// wait (a channel's `recv()`, a lock, a `Notify`, any future of its
    /// own), the await point is named at the branch,
    /// `on select! branch 0 (src/lib.rs:12:17)`, rather than at the timer
    /// (which is not what an expiry there drops).
    ///
    /// ```
    /// use std::future::Future;
    /// use std::task::Poll;
    /// use std::time::Duration;
    /// use cancelsim::{select, time, Config, Sim};
    ///
    /// let mut sim = Sim::new(Config::default());
    /// sim.block_on(async move {
    ///     let mut race = select::Race::new();
    ///     // A future that waits on something cancelsim does not know.
    ///     let mut work = std::pin::pin!(std::future::pending::<()>());
    ///     let work_at = std::panic::Location::caller();
    ///     let mut timer = std::pin::pin!(time::sleep(Duration::from_secs(1)));
    ///     std::future::poll_fn(|cx| {
    ///         race.begin_poll(0);
    ///         if race.poll_branch_at(0, work_at, || work.as_mut().poll(cx)).is_ready() {
    ///             race.won(0, 0b10, 1);
    ///             race.end_poll();
    ///             return Poll::Ready(());
    ///         }
    ///         if race.poll_branch(1, || timer.as_mut().poll(cx)).is_ready() {
    ///             race.won(1, 0b01, 1);
    ///             race.end_poll();
    ///             return Poll::Ready(());
    ///         }
    ///         race.end_poll();
    ///         Poll::Pending
    ///     })
    ///     .await
    /// })
    /// .unwrap();
    /// let trace = sim.trace().to_string();
    /// assert!(trace.contains("on select! branch 0 ("), "{trace}");
    /// ```
    pub fn poll_branch_at<T>(
        &mut self,
        branch: usize,
        at: SourceLocation,
        poll: impl FnOnce() -> Poll<T>,
    ) -> Poll<T> {
        self.poll_located_branch(branch, Some(at), poll)
    }

    fn poll_located_branch<T>(
        &mut self,
        branch: usize,
        at: Option<SourceLocation>,
        poll: impl FnOnce() -> Poll<T>,
    ) -> Poll<T> {
        let bit = Race::bit(branch);
        if self.forced && self.timer_branches() & bit == 0 {
            return Poll::Pending;
        }
        let Some(world) = crate::world::try_with(std::rc::Rc::clone) else {
            return poll();
        };
        let (polled, seen) = world.poll_race_branch(
            self.at,
            self.number.unwrap_or(0),
            self.other_branches() & bit != 0,
            self.timers & !self.indirect & !bit != 0,
            poll,
        );
        if seen.timer == Some(polled.is_ready()) && self.others & bit == 0 {
            self.timers |= bit;
            if seen.indirect {
                self.indirect |= bit;
            } else {
                self.indirect &= !bit;
            }
        } else {
            self.timers &= !bit;
            self.indirect &= !bit;
            self.others |= bit;
        }
        let timer = self.timer_branches() & bit != 0;
        if let (true, Some(due)) = (timer, seen.deadline) {
            self.timer_deadline = Some(self.timer_deadline.map_or(due, |t| t.min(due)));
        }
        if seen.noted {
            self.noted_by_timer = timer && !seen.swapped;
        }
        if let (Some(at), None, true) = (at, self.branch_wait, polled.is_pending()) {
            if !timer && (!seen.noted || seen.unlocated) {
                self.branch_wait = Some(Wait {
                    kind: WaitKind::SelectBranch(u32::try_from(branch).unwrap_or(u32::MAX)),
                    at: Some(at),
                });
            }
        }
        polled
    }

    /// Branch `branch` won the race in poll `poll` of it (1: the first),
    /// dropping the pending branches whose bits are set in `dropped`: the
    /// trace says so as [`won_in_poll`] does (call before
    /// [`end_poll`](Race::end_poll)). When an injection expired the race,
    /// this is its timer's win: the trace says the timeout fired, and that
    /// the dropped branches wait where the expiry came (they were not
    /// polled since).
    pub fn won(&mut self, branch: usize, dropped: u64, poll: u32) {
        self.won_now = true;
        let at = self.at;
        let timer = self.is_timer(branch);
        let expired = self.forced && timer;
        crate::world::try_with(|world| {
            if let (true, Some(scope)) = (expired, self.scope) {
                self.expired = true;
                world.race_expired(scope, self.number.unwrap_or(0), at);
            } else if let (true, Some(scope)) = (timer && self.other_branches() != 0, self.scope) {
                // The timer won by itself: while a stall holds a task,
                // that is the stall's expiry.
                let branches = crate::world::RaceBranches {
                    race: self.number.unwrap_or(0),
                    timers: self.timer_branches(),
                    others: self.other_branches(),
                };
                self.expired = world.note_expiry_while_stalled(scope, at, Some(branches));
            }
            let branch = u32::try_from(branch).unwrap_or(u32::MAX);
            let waiting_at = if self.forced { self.forced_at } else { None };
            world.race_won(branch, dropped as u32, poll <= 1, waiting_at, at);
        });
    }

    /// Ends a poll of the race: the await point the task reached in it is
    /// inside the race's scope when the race has a timer branch and another
    /// to expire, else inside the scope around the race. When a branch won
    /// in this poll ([`Race::won`]), the task reached no await point in
    /// the race: what its pending branches noted is dropped with them, so
    /// the next wait of the task's poll (a `timeout` after the `select!`,
    /// in its handler) is noted where it is.
    pub fn end_poll(&mut self) {
        let at = self.at;
        let acting = self.timer_branches() != 0 && self.other_branches() != 0;
        let before = self.noted_before.take();
        crate::world::try_with(|world| {
            let scope = if acting {
                Some((*self.scope.get_or_insert_with(|| world.new_scope()), at))
            } else {
                None
            };
            if let (Some((scope, _)), Some(deadline)) = (scope, self.timer_deadline) {
                world.note_scope_deadline(scope, deadline);
            }
            if self.won_now {
                world.settle_race_poll(scope, at, false, None);
                if let Some(before) = before {
                    world.restore_noted_wait(before);
                }
            } else {
                world.settle_race_poll(scope, at, self.noted_by_timer, self.branch_wait);
            }
        });
    }

    /// Is `branch` a timer branch?
    pub fn is_timer(&self, branch: usize) -> bool {
        self.timer_branches() & Race::bit(branch) != 0
    }

    /// The race's scope number, once it acted as a scope (what
    /// [`EventKind::TimeoutFired`](crate::trace::EventKind::TimeoutFired)
    /// names).
    pub fn scope(&self) -> Option<u32> {
        self.scope
    }

    /// Hold this while the winner's handler runs: a panic in the handler
    /// of the timer that won the test's own race expired by an injection
    /// (`_ = sleep(5s) => panic!("timed out")`, in the test function) is
    /// the test's assertion on its timeout, not a bug of the code under
    /// test (as `timeout(..).await.expect(..)` is).
    pub fn handler(&self, branch: usize) -> RaceHandler {
        RaceHandler {
            expired_at: (self.expired && self.is_timer(branch)).then_some(self.at),
        }
    }
}

impl Drop for Race {
    fn drop(&mut self) {
        if let Some(scope) = self.scope {
            crate::world::try_with(|world| world.end_scope(scope));
        }
    }
}

/// Held while the winner of a [`Race`] runs its handler ([`Race::handler`]).
#[derive(Debug)]
#[must_use = "hold it while the handler runs"]
pub struct RaceHandler {
    expired_at: Option<&'static std::panic::Location<'static>>,
}

impl Drop for RaceHandler {
    fn drop(&mut self) {
        if let (Some(at), true) = (self.expired_at, std::thread::panicking()) {
            crate::world::try_with(|world| world.expired_race_handler_panicked(at));
        }
    }
}
