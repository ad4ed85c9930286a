//! The world: all state of one simulation, and the thread-local that lets
//! free functions (`spawn`, `sleep`, `checkpoint`, ...) find it.
//!
//! Invariants:
//! * No `RefCell` of the world is borrowed while user code runs (a poll, a
//!   `Drop` of a task's future, a waker's `wake`), so user code may call back
//!   into the world at any time. A waker touches `ready`, `trace` and its
//!   task's slot (the `queued` flag), each only with `try_borrow`: when one is
//!   busy, the wake goes to the world's inbox, drained before the clock moves.
//! * Every choice goes through the `decider` (the only caller of the
//!   scheduler) and, when it had more than one option, is recorded; so is
//!   the end of every root future (a replay checks its recording agrees).
//! * Virtual time only moves forward: when nothing is ready (to the next timer)
//!   and through `work`.
//!
//! The world is the runtime layer: the user-facing modules (`task`, `time`,
//! `cancel`, `oracle`, ...) call into it, and it depends only on the layers
//! below (`vocab`, `schedule`, `trace`, `config`, `error`), never on them.
//! This file holds the `World` itself, the thread-local that makes one
//! current, and time and trace access. Its components: `task_table` (the
//! live tasks), `task_body`, `join_slot` and `waker` (what a task is made
//! of), `timer_queue`, `decider` (every scheduling decision), `record`
//! (how events reach the trace),
//! `oracle_state` (what the oracles accumulate), `cancelled` (the tracked
//! `Cancelled` value) and `kept_containers` (storage handed on to the next
//! world of the thread). The rest of `impl World` lives in one child module
//! per concept: `spawn` (new tasks), `pick` (the ready queue and the next
//! task), `timers`, `run_loop` (the executor's one loop, `run_until`,
//! serving `block_on` and the drain), `run` (polling and ending tasks: one
//! poll path, the root's included), `poll_body` (what a poll polls: a
//! task's future or the root's), `cancel` (cooperative cancellation),
//! `inject` (injections, await points and violations), `race` (`select!`
//! races with a timer branch as timeout scopes), `grace` (the signal, and
//! the grace budget checked as each poll ends: the injector's mid-run hook
//! `on_poll_end`) and `end` (the runtime's shutdown, the drain
//! and the end state the oracles judge).

mod budget;
mod cancel;
mod cancelled;
mod causal;
mod deadline_joins;
mod decider;
mod end;
mod grace;
mod held_expiry;
mod inject;
mod join_slot;
mod kept_containers;
mod noted_wait;
mod oracle_state;
mod outside;
mod pick;
mod poll_body;
mod race;
mod record;
mod root_first;
mod run;
mod run_api;
mod run_loop;
mod run_view;
mod spawn;
mod stall;
mod task_body;
mod task_table;
mod timer_queue;
mod timers;
mod waker;

pub(crate) use budget::{is_budget_stop, Budget};
pub use cancelled::Cancelled;
pub(crate) use join_slot::{Finished, JoinSlot};
pub(crate) use oracle_state::OracleState;
pub(crate) use race::{NotedSoFar, RaceBranches};

/// A noted wait and the timeout scope it was noted in.
type NotedWait = (Wait, Option<(u32, SourceLocation)>);
pub(crate) use run_loop::{Halt, Limits, RootEnd, RootTask, Until};
pub(crate) use task_body::TaskBody;
pub(crate) use task_table::{Completion, NewTask, TaskFuture, TaskSlot, TaskTable, NO_POINT};
pub(crate) use timer_queue::{Target, TimerKey, Timers};

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Waker;

use crate::config::Config;
use crate::error::SimError;
use crate::inject::{AwaitPoint, InjectionPlan};
use crate::schedule::ReadyQueue;
use crate::schedule::Schedule;
use crate::trace::{EventKind, SourceLocation, Trace, Wait};
use crate::vocab::{Instant, TaskId, TaskKey};
use decider::Decider;

thread_local! {
    /// The world of the simulation running on this thread. `ManuallyDrop`
    /// (docs/performance.md, "Inlining") leaks nothing: `Enter` puts back
    /// what was there before, so a thread never ends with a world here.
    static CURRENT: std::mem::ManuallyDrop<RefCell<Option<Rc<World>>>> =
        const { std::mem::ManuallyDrop::new(RefCell::new(None)) };
}

static NEXT_WORLD_ID: AtomicU64 = AtomicU64::new(1);

/// Runs `f` with the world of the current simulation.
///
/// # Panics
///
/// Outside a simulation, with a message that says so.
#[track_caller]
#[inline(always)]
pub(crate) fn with<R>(f: impl FnOnce(&Rc<World>) -> R) -> R {
    match try_current() {
        Some(world) => f(&world),
        None => outside_a_simulation(),
    }
}

#[cold]
#[track_caller]
fn outside_a_simulation() -> ! {
    panic!(
        "cancelsim: this must be called inside a simulation (inside `Sim::block_on`, \
         `Check::new` or `cancelsim::check`), not from a plain test or another runtime"
    )
}

/// The current world (a clone of its handle, so no borrow is held).
///
/// # Panics
///
/// Outside a simulation.
#[track_caller]
pub(crate) fn current() -> Rc<World> {
    try_current().unwrap_or_else(|| outside_a_simulation())
}

/// The current world's handle, if any. The thread-local is only read here,
/// with the smallest closure (docs/performance.md, "Inlining"), and no
/// borrow of it is held while the caller works.
#[inline(always)]
fn try_current() -> Option<Rc<World>> {
    CURRENT.with(|current| match current.try_borrow() {
        Ok(current) => current.clone(),
        Err(_) => None,
    })
}

/// Runs `f` with the current world, if any.
#[inline(always)]
pub(crate) fn try_with<R>(f: impl FnOnce(&Rc<World>) -> R) -> Option<R> {
    try_current().map(|world| f(&world))
}

/// Queues `key` if `world` is the current world; false when it is not (the
/// caller then uses the remote inbox).
#[inline]
pub(crate) fn schedule_if_current(world: u64, key: TaskKey) -> bool {
    match try_current() {
        Some(current) if current.id == world => current.enqueue(key),
        _ => false,
    }
}

/// Makes a world current until dropped.
pub(crate) struct Enter {
    previous: Option<Option<Rc<World>>>,
}

impl Enter {
    /// # Panics
    ///
    /// When another world is already current on this thread.
    pub fn new(world: &Rc<World>) -> Enter {
        CURRENT.with(|current| {
            // Already current (e.g. `abort` called from a task): nothing to
            // do, and no mutable borrow that an outer `with` could be holding.
            if let Ok(existing) = current.try_borrow() {
                if existing
                    .as_ref()
                    .is_some_and(|existing| existing.id == world.id)
                {
                    return Enter { previous: None };
                }
            }
            let mut current = current.borrow_mut();
            match current.as_ref() {
                Some(existing) if existing.id == world.id => Enter { previous: None },
                Some(_) => panic!(
                    "cancelsim: a simulation cannot run inside another one on the same thread \
                     (Sim::block_on called from inside a simulated task)"
                ),
                None => Enter {
                    previous: Some(current.replace(Rc::clone(world))),
                },
            }
        })
    }
}

impl Enter {
    /// Like `new`, but gives up (no panic) when another world is current.
    pub fn try_new(world: &Rc<World>) -> Option<Enter> {
        CURRENT.with(|current| {
            let mut current = current.try_borrow_mut().ok()?;
            match current.as_ref() {
                Some(existing) if existing.id == world.id => Some(Enter { previous: None }),
                Some(_) => None,
                None => Some(Enter {
                    previous: Some(current.replace(Rc::clone(world))),
                }),
            }
        })
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        if let Some(previous) = self.previous.take() {
            let world =
                CURRENT.with(|current| std::mem::replace(&mut *current.borrow_mut(), previous));
            drop(world);
        }
    }
}

/// The task table and the timer queue.
pub(crate) struct Core {
    pub tasks: TaskTable,
    pub timers: Timers,
}

/// What the executor should do next.
pub(crate) enum Pick {
    Run(TaskKey),
    Deadlock,
    Stop(SimError),
}

/// All state of one simulation.
pub(crate) struct World {
    id: u64,
    config: Config,
    /// `config.max_time` in nanoseconds.
    max_time: u64,
    /// The grace time of a cancel request, in nanoseconds:
    /// `config.grace_time` unless the program set its own
    /// (`cancel::set_grace_time`).
    grace_time: Cell<u64>,
    /// The body asked that timeout results not be excused
    /// (`time::strict_timeout_results`).
    strict_timeout_results: Cell<bool>,
    now: Cell<u64>,
    step: Cell<u64>,
    /// `work` calls so far: with `step`, what the step budgets count.
    work_calls: Cell<u64>,
    /// The budget `work` calls are held to (see `budget`).
    budget: Cell<Budget>,
    /// A `work` call exceeded it: `Some(true)` the steps, `Some(false)` the time.
    budget_stop: Cell<Option<bool>>,
    current: Cell<Option<TaskKey>>,
    timer_waking: Cell<bool>,
    pending_wait: Cell<Option<Wait>>,
    /// What the trace has not had yet: the poll `record_poll` noted, and
    /// the first task that poll woke (see [`noted`]; [`NO_TASK`] halves
    /// when none). They reach the trace with the next record, most often
    /// as one record with the polled task's suspension.
    unrecorded: Cell<u64>,
    core: RefCell<Core>,
    ready: RefCell<ReadyQueue>,
    /// [`Config::root_first`]: the root of this `block_on` (else a key no
    /// task has), kept out of the ready queue; see `root_first.rs`.
    root_first: Cell<TaskKey>,
    root_first_state: Cell<root_first::RootTurn>,
    /// With `root_first`: tasks that yielded (`yield_now`), woken at the
    /// top of the next turn as tokio's deferred wakes.
    deferred: RefCell<Vec<TaskKey>>,
    trace: RefCell<Trace>,
    trace_on: bool,
    /// Asks the scheduler, records the decisions, keeps a divergence.
    decider: Decider,
    due_targets: RefCell<Vec<Target>>,
    /// The waker of the task being polled, as (data, vtable) addresses
    /// (compared, never followed): lets a timer armed with a task's own
    /// waker name the task instead of cloning the waker.
    current_waker: Cell<(*const (), *const std::task::RawWakerVTable)>,
    /// No armed timer is due before this instant (a lower bound, so that
    /// most steps skip the timer queue entirely).
    earliest_timer: Cell<u64>,
    /// Injections of this run; `has_plan` keeps the hot path to one load.
    plan: RefCell<InjectionPlan>,
    has_plan: Cell<bool>,
    /// Every await point of the run, when collecting (baseline runs).
    points: RefCell<Option<Vec<AwaitPoint>>>,
    /// At most this many are recorded.
    points_cap: Cell<usize>,
    collecting: Cell<bool>,
    /// The program's aborts of running tasks, when collecting (see
    /// [`AwaitPoint::abortable`]).
    abortable: RefCell<Vec<inject::Abort>>,
    /// The current task's future is being dropped (aborted, cancelled).
    dropping_future: Cell<bool>,
    /// The names tasks were spawned with, in id order, when collecting:
    /// an await point's join names its task by them.
    spawned_names: RefCell<Vec<(TaskId, Rc<str>)>>,
    /// What each task's polls may have observed, when collecting (see
    /// `causal.rs`).
    causal: RefCell<causal::Causal>,
    /// A spawned task outlived the root: alive when it ended, or stopped
    /// by the root's own locals as it ended (see
    /// [`World::outlived_root`]).
    outlived_root: Cell<bool>,
    /// Tasks an injected stall holds where they wait (see
    /// [`InjectionKind::Stall`](crate::inject::InjectionKind::Stall)).
    /// Each with when its stall began (virtual nanoseconds).
    stalled: RefCell<Vec<(TaskKey, u64)>>,
    /// Stalls hold against the owner's wakes too (a counterfactual run's,
    /// `World::hold_stalls_against_owner`).
    stalls_hold_owner: Cell<bool>,
    /// The joins awaited inside a timeout scope, when collecting (see
    /// `deadline_joins.rs`).
    deadline_joins: RefCell<deadline_joins::DeadlineJoins>,
    /// Tasks whose current poll a timer started, when collecting: an abort
    /// they make comes at a time the program fixed.
    timer_woken: RefCell<std::collections::BTreeSet<TaskId>>,
    /// `timeout` scopes being polled, innermost last.
    scopes: RefCell<Vec<(u32, SourceLocation)>>,
    /// Branch polls of `select!` races in progress, innermost last (see
    /// `race.rs`).
    branch_polls: RefCell<Vec<race::BranchPoll>>,
    /// How many branch polls are in progress (`branch_polls`' length,
    /// read without a borrow on every wait and timer poll).
    racing: Cell<u32>,
    /// The tag of the race whose branch poll is innermost, 0 outside
    /// races: a `time::Sleep` made now keeps it, and is then the
    /// *indirect* timer of that race (made while the race runs, by an
    /// `async` block or `async fn` of a branch).
    race_tag: Cell<u16>,
    /// A wait a race's timer branch noted, held back so that a wait of
    /// another branch names the await point (restored when none does).
    race_timer_note: Cell<Option<NotedWait>>,
    /// The held-back note is an indirect timer branch's (a slow backend's
    /// `sleep`): a direct timer branch's note takes its place.
    race_timer_note_indirect: Cell<bool>,
    next_scope: Cell<u32>,
    /// Task groups created so far (their ids in traces: `via group N`).
    next_group: Cell<u32>,
    pending_scope: Cell<Option<(u32, SourceLocation)>>,
    /// The scope around that one, if the wait is inside two (a batch's
    /// own deadline `select!` polled in a loop's `select!` against a
    /// ticker): noted with the wait, settled by the races around it
    /// (`World::settle_race_poll`), kept with the await point
    /// (`TaskMeta::last_outer`); what `timeout-outer` expires.
    pending_outer: Cell<Option<(u32, SourceLocation)>>,
    /// A note made outside every scope that a later one inside a scope
    /// displaced (`World::note_wait`), with the step of its poll.
    unscoped_note: Cell<Option<(Wait, u64)>>,
    /// Timeout scopes forced to expire by an injection; their timers.
    forced: RefCell<BTreeSet<u32>>,
    /// The scope the last timeout injection forced, and where its
    /// `timeout` was called (what a counterfactual run expires instead).
    forced_by_injection: Cell<Option<(u32, SourceLocation)>>,
    /// Races (`select!`) first polled so far, and the one an injection
    /// expired (its number, timer and other branches); the counterfactual
    /// of that injection expires that race from its first poll instead.
    races: Cell<u64>,
    forced_race: Cell<Option<RaceBranches>>,
    race_from_start: Cell<Option<RaceBranches>>,
    /// The root's future must be dropped (a drop injection hit the root).
    root_drop_requested: Cell<bool>,
    oracles: RefCell<OracleState>,
    /// The box this world's containers came in, kept to hand them on in.
    kept: Cell<Option<Box<kept_containers::KeptContainers>>>,
    /// The run's outside timers (`OutsideTimers`), and whether it has
    /// them (read without a borrow each time the world is idle).
    outside: RefCell<outside::Outside>,
    has_outside: Cell<bool>,
    /// An `idle` call of the outside timers is in progress: a task queued
    /// now ends it (`outside_woke`).
    outside_waiting: Cell<bool>,
    outside_woke: Cell<bool>,
    /// The task held by an injected expiry, and what ends the hold.
    held: held_expiry::HeldState,
    watch_wakes: Cell<bool>,
    watch_queued_wakes: Cell<bool>,
    /// The thread's heartbeat, once a run armed the watchdog.
    heartbeat: std::cell::OnceCell<std::sync::Arc<crate::watchdog::Heartbeat>>,
}

impl World {
    pub fn new(config: Config) -> Rc<World> {
        let id = NEXT_WORLD_ID.fetch_add(1, Ordering::Relaxed);
        let mut scheduler = config.scheduler.build(config.seed, config.pct_horizon);
        // The built-in `Fifo` answers 0 without being asked, unless the
        // determinism check wraps it: the check must see every question.
        let mut answers_first = matches!(config.scheduler, crate::schedule::SchedulerKind::Fifo);
        if let Some(role) = &config.determinism {
            scheduler = Box::new(crate::schedule::DeterminismCheck::new(
                scheduler,
                role.clone(),
                Box::new(run_view::CurrentRun),
            ));
            answers_first = false;
        }
        let trace = Trace::new(config.trace, config.seed, config.scheduler.name(), 0);
        let mut kept = kept_containers::KeptContainers::take(id);
        Rc::new(World {
            id,
            now: Cell::new(0),
            step: Cell::new(0),
            work_calls: Cell::new(0),
            budget: Cell::new(Budget::NONE),
            budget_stop: Cell::new(None),
            current: Cell::new(None),
            timer_waking: Cell::new(false),
            pending_wait: Cell::new(None),
            unrecorded: Cell::new(record::NOTHING_UNRECORDED),
            core: RefCell::new(Core {
                tasks: std::mem::take(&mut kept.tasks),
                timers: std::mem::take(&mut kept.timers),
            }),
            ready: RefCell::new(std::mem::take(&mut kept.ready)),
            root_first: Cell::new(root_first::NO_ROOT),
            root_first_state: Cell::new(root_first::RootTurn::default()),
            deferred: RefCell::new(Vec::new()),
            trace_on: trace.is_enabled(),
            trace: RefCell::new(trace),
            decider: Decider::new(scheduler, answers_first, std::mem::take(&mut kept.schedule)),
            due_targets: RefCell::new(std::mem::take(&mut kept.due_targets)),
            kept: Cell::new(Some(kept)),
            current_waker: Cell::new((std::ptr::null(), std::ptr::null())),
            earliest_timer: Cell::new(u64::MAX),
            plan: RefCell::new(InjectionPlan::default()),
            has_plan: Cell::new(false),
            points: RefCell::new(None),
            points_cap: Cell::new(usize::MAX),
            collecting: Cell::new(false),
            abortable: RefCell::new(Vec::new()),
            dropping_future: Cell::new(false),
            spawned_names: RefCell::new(Vec::new()),
            causal: RefCell::new(causal::Causal::default()),
            timer_woken: RefCell::new(std::collections::BTreeSet::new()),
            stalled: RefCell::new(Vec::new()),
            stalls_hold_owner: Cell::new(false),
            deadline_joins: RefCell::new(deadline_joins::DeadlineJoins::default()),
            outlived_root: Cell::new(false),
            scopes: RefCell::new(Vec::new()),
            branch_polls: RefCell::new(Vec::new()),
            racing: Cell::new(0),
            race_tag: Cell::new(0),
            race_timer_note: Cell::new(None),
            race_timer_note_indirect: Cell::new(false),
            next_scope: Cell::new(0),
            next_group: Cell::new(0),
            pending_scope: Cell::new(None),
            pending_outer: Cell::new(None),
            unscoped_note: Cell::new(None),
            forced: RefCell::new(BTreeSet::new()),
            forced_by_injection: Cell::new(None),
            races: Cell::new(0),
            forced_race: Cell::new(None),
            race_from_start: Cell::new(None),
            max_time: crate::vocab::nanos(config.max_time),
            grace_time: Cell::new(crate::vocab::nanos(config.grace_time)),
            strict_timeout_results: Cell::new(false),
            root_drop_requested: Cell::new(false),
            oracles: RefCell::new(OracleState::default()),
            outside: RefCell::new(outside::Outside::default()),
            has_outside: Cell::new(false),
            outside_waiting: Cell::new(false),
            outside_woke: Cell::new(false),
            held: Default::default(),
            watch_wakes: Cell::new(false),
            watch_queued_wakes: Cell::new(false),
            heartbeat: std::cell::OnceCell::new(),
            config,
        })
    }

    // ----- time, steps, trace -------------------------------------------------

    pub fn now(&self) -> Instant {
        Instant(self.now.get())
    }

    pub fn steps(&self) -> u64 {
        self.step.get()
    }

    /// The grace time of a cancel request or signal, in nanoseconds.
    pub fn grace_nanos(&self) -> u64 {
        self.grace_time.get()
    }

    /// Sets this run's grace time.
    pub fn set_grace_time(&self, nanos: u64) {
        self.grace_time.set(nanos);
    }

    /// The body asks that its failing timeout expiries not be excused.
    pub fn set_strict_timeout_results(&self) {
        self.strict_timeout_results.set(true);
    }

    /// Did the body ask that its failing timeout expiries not be excused?
    pub(crate) fn strict_timeout_results(&self) -> bool {
        self.strict_timeout_results.get()
    }

    fn step32(&self) -> u32 {
        u32::try_from(self.step.get()).unwrap_or(u32::MAX)
    }

    pub fn add_message(&self, message: String) -> u32 {
        self.trace.borrow_mut().add_message(message)
    }

    pub fn trace(&self) -> std::cell::Ref<'_, Trace> {
        self.trace.borrow()
    }

    pub fn take_trace(&self) -> Trace {
        std::mem::replace(&mut *self.trace.borrow_mut(), self.fresh_trace())
    }

    /// An empty trace of this world's configuration, starting at its
    /// current step.
    pub fn fresh_trace(&self) -> Trace {
        Trace::new(
            self.config.trace,
            self.config.seed,
            self.config.scheduler.name(),
            u32::try_from(self.steps()).unwrap_or(u32::MAX),
        )
    }

    /// Exchanges the trace being recorded into with `other` (the `Sim` lends
    /// its trace to the world for the length of a run).
    pub fn swap_trace(&self, other: &mut Trace) {
        std::mem::swap(&mut *self.trace.borrow_mut(), other);
    }

    pub fn schedule(&self) -> Schedule {
        self.decider.schedule()
    }

    /// Spends `nanos` of CPU time inside the current poll (`work` called
    /// at `at`); counted against the step and time budgets.
    pub fn work(&self, nanos: u64, at: SourceLocation) {
        self.flush_unrecorded();
        self.now.set(self.now.get().saturating_add(nanos));
        if let Some(task) = self.current_id() {
            self.record(
                task,
                EventKind::Work {
                    cost_nanos: nanos,
                    at,
                },
            );
        }
        self.charge_work();
    }

    // ----- the current task ---------------------------------------------------

    pub fn current_key(&self) -> Option<TaskKey> {
        self.current.get()
    }

    pub fn current_id(&self) -> Option<TaskId> {
        self.current.get().map(|key| key.id)
    }

    /// The task being polled, if `waker` is its own waker.
    #[inline]
    pub fn own_task(&self, waker: &Waker) -> Option<TaskKey> {
        let (data, vtable) = self.current_waker.get();
        if std::ptr::eq(waker.data(), data) && std::ptr::eq(waker.vtable(), vtable) {
            self.current.get()
        } else {
            None
        }
    }

    /// Notes (or, with `None`, forgets) the waker of the task being polled.
    #[inline]
    pub(super) fn set_current_waker(&self, waker: Option<&Waker>) {
        self.current_waker.set(match waker {
            Some(waker) => (waker.data(), waker.vtable() as *const _),
            None => (std::ptr::null(), std::ptr::null()),
        });
    }
}
