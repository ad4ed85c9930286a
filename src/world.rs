//! The world: all state of one simulation, and the thread-local that lets
//! free functions (`spawn`, `sleep`, `checkpoint`, ...) find it.
//!
//! Invariants:
//! * No `RefCell` of the world is borrowed while user code runs (a poll, a
//!   `Drop` of a task's future, a waker's `wake`), so user code may call back
//!   into the world at any time. Wakers only touch `ready` and `trace`, which
//!   are never held across anything else.
//! * Every choice goes through `scheduler` and, when it had more than one
//!   option, is appended to `schedule`.
//! * Virtual time only moves forward: when nothing is ready (to the next timer)
//!   and through `work`.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, VecDeque};
use std::future::Future;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::cancel::Cancelled;
use crate::config::Config;
use crate::error::{BlockedTask, SimError};
use crate::inject::{AwaitPoint, InjectAt, Injection, InjectionKind, InjectionPlan};
use crate::oracle::{OracleState, Violation, ViolationCode};
use crate::panic;
use crate::schedule::{Decision, Divergence, Schedule, Scheduler};
use crate::task::table::{
    Completion, TaskFuture, TaskKey, TaskKind, TaskMeta, TaskSlot, TaskTable,
};
use crate::task::waker::{self, TaskWaker};
use crate::task::{JoinError, TaskId};
use crate::time::timers::{TimerKey, Timers};
use crate::time::Instant;
use crate::trace::{CancelVia, Event, EventKind, Outcome, SourceLocation, Trace, Wait, WakeCause};

thread_local! {
    static CURRENT: RefCell<Option<Rc<World>>> = const { RefCell::new(None) };
}

static NEXT_WORLD_ID: AtomicU64 = AtomicU64::new(1);

/// Runs `f` with the world of the current simulation.
///
/// # Panics
///
/// Outside a simulation, with a message that says so.
#[track_caller]
pub(crate) fn with<R>(f: impl FnOnce(&Rc<World>) -> R) -> R {
    CURRENT.with(|current| {
        let current = current.borrow();
        match current.as_ref() {
            Some(world) => f(world),
            None => panic!(
                "cancelsim: this must be called inside a simulation (inside `Sim::block_on`, \
                 `Check::new` or `cancelsim::check`), not from a plain test or another runtime"
            ),
        }
    })
}

/// The current world (a clone of its handle, so no borrow is held).
///
/// # Panics
///
/// Outside a simulation.
#[track_caller]
pub(crate) fn current() -> Rc<World> {
    with(Rc::clone)
}

/// Runs `f` with the current world, if any.
pub(crate) fn try_with<R>(f: impl FnOnce(&Rc<World>) -> R) -> Option<R> {
    CURRENT.with(|current| current.try_borrow().ok()?.as_ref().map(f))
}

/// Queues `key` if `world` is the current world; false when it is not (the
/// caller then uses the remote inbox).
pub(crate) fn schedule_if_current(world: u64, key: TaskKey) -> bool {
    CURRENT.with(|current| match current.try_borrow() {
        Ok(current) => match current.as_ref() {
            Some(current) if current.id == world => current.enqueue(key),
            _ => false,
        },
        Err(_) => false,
    })
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
    pub id: u64,
    pub config: Config,
    now: Cell<u64>,
    step: Cell<u64>,
    current: Cell<Option<TaskKey>>,
    timer_waking: Cell<bool>,
    pending_wait: Cell<Option<Wait>>,
    pub core: RefCell<Core>,
    ready: RefCell<VecDeque<TaskKey>>,
    trace: RefCell<Trace>,
    trace_on: bool,
    scheduler: RefCell<Box<dyn Scheduler>>,
    schedule: RefCell<Schedule>,
    divergence: RefCell<Option<(u64, Divergence)>>,
    diverged_flag: Cell<bool>,
    due_wakers: RefCell<Vec<Waker>>,
    /// No armed timer is due before this instant (a lower bound, so that
    /// most steps skip the timer queue entirely).
    earliest_timer: Cell<u64>,
    /// Injections of this run; `has_plan` keeps the hot path to one load.
    pub plan: RefCell<InjectionPlan>,
    has_plan: Cell<bool>,
    /// Every await point of the run, when collecting (baseline runs).
    pub points: RefCell<Option<Vec<AwaitPoint>>>,
    collecting: Cell<bool>,
    /// `timeout` scopes being polled, innermost last.
    scopes: RefCell<Vec<(u32, SourceLocation)>>,
    next_scope: Cell<u32>,
    /// Task groups created so far (their ids in traces: `via group N`).
    next_group: Cell<u32>,
    pending_scope: Cell<Option<(u32, SourceLocation)>>,
    /// Timeout scopes forced to expire by an injection; their timers.
    forced: RefCell<BTreeSet<u32>>,
    scope_timers: RefCell<std::collections::BTreeMap<u32, TimerKey>>,
    /// The root's future must be dropped (a drop injection hit the root).
    pub root_drop_requested: Cell<bool>,
    pub oracles: RefCell<OracleState>,
}

impl World {
    pub fn new(config: Config) -> Rc<World> {
        let scheduler = config.scheduler.build(config.seed, config.pct_horizon);
        let trace = Trace::new(config.trace, config.seed, config.scheduler.to_string(), 0);
        Rc::new(World {
            id: NEXT_WORLD_ID.fetch_add(1, Ordering::Relaxed),
            now: Cell::new(0),
            step: Cell::new(0),
            current: Cell::new(None),
            timer_waking: Cell::new(false),
            pending_wait: Cell::new(None),
            core: RefCell::new(Core {
                tasks: TaskTable::default(),
                timers: Timers::default(),
            }),
            ready: RefCell::new(VecDeque::new()),
            trace_on: trace.is_enabled(),
            trace: RefCell::new(trace),
            scheduler: RefCell::new(scheduler),
            schedule: RefCell::new(Schedule::new()),
            divergence: RefCell::new(None),
            diverged_flag: Cell::new(false),
            due_wakers: RefCell::new(Vec::new()),
            earliest_timer: Cell::new(u64::MAX),
            plan: RefCell::new(InjectionPlan::default()),
            has_plan: Cell::new(false),
            points: RefCell::new(None),
            collecting: Cell::new(false),
            scopes: RefCell::new(Vec::new()),
            next_scope: Cell::new(0),
            next_group: Cell::new(0),
            pending_scope: Cell::new(None),
            forced: RefCell::new(BTreeSet::new()),
            scope_timers: RefCell::new(std::collections::BTreeMap::new()),
            root_drop_requested: Cell::new(false),
            oracles: RefCell::new(OracleState::default()),
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

    #[inline]
    pub fn record(&self, task: TaskId, kind: EventKind) {
        if self.trace_on {
            let event = Event {
                step: u32::try_from(self.step.get()).unwrap_or(u32::MAX),
                time: self.now(),
                task,
                kind,
            };
            if let Ok(mut trace) = self.trace.try_borrow_mut() {
                trace.push(event);
            }
        }
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
            self.config.scheduler.to_string(),
            u32::try_from(self.steps()).unwrap_or(u32::MAX),
        )
    }

    /// Exchanges the trace being recorded into with `other` (the `Sim` lends
    /// its trace to the world for the length of a run).
    pub fn swap_trace(&self, other: &mut Trace) {
        std::mem::swap(&mut *self.trace.borrow_mut(), other);
    }

    pub fn schedule(&self) -> Schedule {
        self.schedule.borrow().clone()
    }

    /// Spends `nanos` of CPU time inside the current poll.
    pub fn work(&self, nanos: u64) {
        self.now.set(self.now.get().saturating_add(nanos));
        if let Some(task) = self.current_id() {
            self.record(task, EventKind::Work { cost_nanos: nanos });
        }
    }

    // ----- the current task ---------------------------------------------------

    pub fn current_key(&self) -> Option<TaskKey> {
        self.current.get()
    }

    pub fn current_id(&self) -> Option<TaskId> {
        self.current.get().map(|key| key.id)
    }

    /// Notes what the current poll is about to wait on (the first note wins).
    pub fn note_wait(&self, wait: Wait) {
        if self.pending_wait.get().is_none() {
            self.pending_wait.set(Some(wait));
            self.pending_scope.set(
                self.scopes
                    .try_borrow()
                    .ok()
                    .and_then(|s| s.last().copied()),
            );
        }
    }

    /// Withdraws a note made by a primitive that completed or was dropped
    /// within the same poll (it is no longer what the task waits on).
    pub fn retract_wait(&self, wait: Wait) {
        if self.pending_wait.get() == Some(wait) {
            self.pending_wait.set(None);
            self.pending_scope.set(None);
        }
    }

    // ----- injections and await points ----------------------------------------

    /// Sets the injections of this run.
    pub fn set_plan(&self, injections: &[Injection]) {
        *self.plan.borrow_mut() = InjectionPlan::new(injections);
        self.has_plan.set(!injections.is_empty());
    }

    /// Starts recording every await point.
    pub fn collect_points(&self) {
        *self.points.borrow_mut() = Some(Vec::new());
        self.collecting.set(true);
    }

    /// A new timeout scope number.
    pub fn new_scope(&self) -> u32 {
        let scope = self.next_scope.get();
        self.next_scope.set(scope + 1);
        scope
    }

    /// A new task group number (per world, so traces are reproducible).
    pub fn new_group(&self) -> u32 {
        let group = self.next_group.get();
        self.next_group.set(group + 1);
        group
    }

    /// Marks `scope` as the innermost timeout while `f` polls its inner future.
    pub fn in_scope<R>(&self, scope: u32, at: SourceLocation, f: impl FnOnce() -> R) -> R {
        self.scopes.borrow_mut().push((scope, at));
        let result = f();
        self.scopes.borrow_mut().pop();
        result
    }

    /// The timer of a timeout scope, so that a forced expiry can fire it.
    pub fn bind_scope_timer(&self, scope: u32, timer: TimerKey) {
        self.scope_timers.borrow_mut().insert(scope, timer);
    }

    /// Forgets a finished timeout scope.
    pub fn end_scope(&self, scope: u32) {
        if let Ok(mut timers) = self.scope_timers.try_borrow_mut() {
            timers.remove(&scope);
        }
        if let Ok(mut forced) = self.forced.try_borrow_mut() {
            forced.remove(&scope);
        }
    }

    /// Was `scope` forced to expire by an injection?
    pub fn take_forced(&self, scope: u32) -> bool {
        self.forced.borrow_mut().remove(&scope)
    }

    /// The first injection of the plan, for violation reports.
    pub fn first_injection(&self) -> Option<Injection> {
        let plan = self.plan.borrow();
        plan.fired().first().or(plan.unfired().first()).copied()
    }

    /// Applies the injections due for `key` at its current await point and
    /// instant; true when the task's future was dropped.
    fn inject(self: &Rc<World>, key: TaskKey, at: InjectAt) -> bool {
        let (point, scope, is_root) = {
            let core = self.core.borrow();
            let Some(slot) = core.tasks.get(key) else {
                return false;
            };
            (
                slot.meta.suspends,
                slot.meta.last_scope,
                slot.meta.kind == TaskKind::Root,
            )
        };
        if point == 0 {
            return false;
        }
        let due = self.plan.borrow_mut().take(key.id, point, at);
        for injection in due {
            self.record(
                key.id,
                EventKind::Injected {
                    kind: injection.kind,
                    point,
                    at,
                },
            );
            match injection.kind {
                InjectionKind::CancelDrop => {
                    if is_root {
                        self.root_drop_requested.set(true);
                    } else {
                        self.abort(key);
                    }
                    return true;
                }
                InjectionKind::CancelCooperative => {
                    self.request_cancel(key, CancelVia::Injection);
                }
                InjectionKind::Timeout => {
                    if let Some((scope, _)) = scope {
                        self.forced.borrow_mut().insert(scope);
                        let timer = self.scope_timers.borrow().get(&scope).copied();
                        let waker =
                            timer.and_then(|timer| self.core.borrow_mut().timers.fire(timer));
                        let task_waker = self
                            .core
                            .borrow()
                            .tasks
                            .get(key)
                            .and_then(|slot| slot.waker.clone());
                        for waker in waker.into_iter().chain(task_waker) {
                            waker.wake();
                        }
                    }
                }
            }
        }
        false
    }

    /// Bookkeeping when a task (or the root) returned `Pending`; returns the
    /// await point's ordinal.
    fn suspended(&self, key: TaskKey, slot: &mut TaskSlot) -> (u32, Wait) {
        let wait = self.pending_wait.take().unwrap_or(Wait::EXTERNAL);
        let scope = self.pending_scope.take();
        slot.meta.suspends += 1;
        slot.meta.last_wait = wait;
        slot.meta.last_scope = scope;
        if !self.collecting.get() {
            return (slot.meta.suspends, wait);
        }
        if let Ok(mut points) = self.points.try_borrow_mut() {
            if let Some(points) = points.as_mut() {
                slot.meta.point_index = Some(points.len());
                points.push(AwaitPoint {
                    task: key.id,
                    task_name: slot.meta.name.as_deref().map(str::to_string),
                    ordinal: slot.meta.suspends,
                    wait,
                    timeout: scope,
                    resumed: false,
                    injectable: matches!(slot.meta.kind, TaskKind::Root | TaskKind::User),
                });
            }
        }
        (slot.meta.suspends, wait)
    }

    /// Bookkeeping when a task is about to be polled.
    fn polling(&self, slot: &mut TaskSlot) {
        slot.notify.notified.store(false, Ordering::Release);
        slot.meta.polls += 1;
        if let Some(index) = slot.meta.point_index.take() {
            if let Ok(mut points) = self.points.try_borrow_mut() {
                if let Some(point) = points.as_mut().and_then(|points| points.get_mut(index)) {
                    point.resumed = true;
                }
            }
        }
    }

    /// See `check_grace`.
    pub(crate) fn check_grace_public(&self, key: TaskKey, slot: &mut TaskSlot) {
        self.check_grace(key, slot);
    }

    /// Checks the grace budget of an outstanding cancel request.
    fn check_grace(&self, key: TaskKey, slot: &mut TaskSlot) {
        let Some((since, polls)) = slot.meta.cancel_since else {
            return;
        };
        if slot.meta.ignored_reported {
            return;
        }
        let over_polls = slot.meta.polls.saturating_sub(polls) > self.config.grace_polls;
        let over_time = self.now.get().saturating_sub(since)
            > crate::time::instant::nanos(self.config.grace_time);
        if over_polls || over_time {
            slot.meta.ignored_reported = true;
            let budget = if over_polls {
                format!("{} polls", self.config.grace_polls)
            } else {
                format!(
                    "{} of virtual time",
                    Instant(crate::time::instant::nanos(self.config.grace_time))
                )
            };
            let violation = Violation::new(
                ViolationCode::CancelIgnored,
                format!(
                    "cancel requested at {} still not honoured after {budget} (task still running)",
                    Instant(since)
                ),
            )
            .task(key.id, slot.meta.name.as_deref())
            .at_point(slot.meta.suspends, Some(slot.meta.last_wait));
            self.push_violation(key.id, violation);
        }
    }

    /// Records a violation found during the run.
    pub fn push_violation(&self, task: TaskId, mut violation: Violation) {
        if violation.injection.is_none() {
            violation.injection = self.first_injection();
        }
        self.record(
            task,
            EventKind::Violation {
                code: violation.code,
            },
        );
        self.oracles.borrow_mut().violations.push(violation);
    }

    // ----- wakes and the ready queue ------------------------------------------

    /// Queues a woken task. Called by its waker.
    pub fn enqueue(&self, key: TaskKey) -> bool {
        let Ok(mut ready) = self.ready.try_borrow_mut() else {
            return false;
        };
        ready.push_back(key);
        drop(ready);
        if self.trace_on {
            let by = if self.timer_waking.get() {
                Some(WakeCause::Timer)
            } else {
                match self.current.get() {
                    Some(current) if current == key => None,
                    Some(current) => Some(WakeCause::Task(current.id)),
                    None => Some(WakeCause::Outside),
                }
            };
            if let Some(by) = by {
                self.record(key.id, EventKind::Wake { by });
            }
        }
        true
    }

    /// Picks the next task to poll, firing due timers and moving the clock
    /// forward as needed.
    pub fn pick(&self) -> Pick {
        self.pick_until(u64::MAX)
    }

    /// Like `pick`, but treats timers past `horizon` as absent (idle).
    pub fn pick_until(&self, horizon: u64) -> Pick {
        loop {
            if self.diverged_flag.get() {
                if let Some(stop) = self.take_divergence() {
                    return Pick::Stop(stop);
                }
            }
            if self.earliest_timer.get() <= self.now.get() {
                if let Err(stop) = self.fire_due_timers() {
                    return Pick::Stop(stop);
                }
            }
            {
                let mut ready = self.ready.borrow_mut();
                if !ready.is_empty() {
                    let options = ready.len();
                    let choice = if options == 1 {
                        Ok(0)
                    } else {
                        self.scheduler
                            .borrow_mut()
                            .next_task(crate::schedule::ReadyTasks::new(&ready))
                    };
                    let index = match choice {
                        Ok(index) if index < options => index,
                        Ok(index) => {
                            return Pick::Stop(self.diverged(Divergence {
                                decision: self.schedule.borrow().len(),
                                expected: format!("an index below {options}"),
                                found: format!("index {index}"),
                            }))
                        }
                        Err(divergence) => return Pick::Stop(self.diverged(divergence)),
                    };
                    if options > 1 {
                        self.schedule.borrow_mut().push(Decision::Task {
                            options: options as u32,
                            chosen: index as u32,
                        });
                    }
                    let key = if index == 0 {
                        ready.pop_front()
                    } else {
                        ready.remove(index)
                    };
                    return Pick::Run(key.expect("index checked above"));
                }
            }
            let remote = waker::remote_take(self.id);
            if !remote.is_empty() {
                self.ready.borrow_mut().extend(remote);
                continue;
            }
            let next = self.core.borrow_mut().timers.next_deadline();
            match next {
                Some(deadline) if deadline > horizon => return Pick::Deadlock,
                Some(deadline) => {
                    let limit = crate::time::instant::nanos(self.config.max_time);
                    if deadline > limit {
                        return Pick::Stop(SimError::TimeLimit {
                            time: self.now(),
                            next_deadline: Instant(deadline),
                        });
                    }
                    self.now.set(self.now.get().max(deadline));
                    self.earliest_timer.set(deadline);
                }
                None => return Pick::Deadlock,
            }
        }
    }

    /// A divergence noted inside user code (a replayed `random()`), if any.
    pub fn take_divergence(&self) -> Option<SimError> {
        self.diverged_flag.set(false);
        self.divergence
            .borrow_mut()
            .take()
            .map(|(step, divergence)| SimError::Nondeterminism { step, divergence })
    }

    fn diverged(&self, divergence: Divergence) -> SimError {
        SimError::Nondeterminism {
            step: self.steps(),
            divergence,
        }
    }

    /// Fires every timer due by now, earliest first; the scheduler orders
    /// timers due at the same instant.
    fn fire_due_timers(&self) -> Result<(), SimError> {
        let now = self.now.get();
        let mut wakers = std::mem::take(&mut *self.due_wakers.borrow_mut());
        let result = loop {
            {
                let mut core = self.core.borrow_mut();
                match core.timers.next_deadline() {
                    Some(deadline) if deadline <= now => {
                        core.timers.take_due_at(deadline, &mut wakers)
                    }
                    next => {
                        self.earliest_timer.set(next.unwrap_or(u64::MAX));
                        break Ok(());
                    }
                }
            }
            // Timers due at the same instant: the scheduler orders them.
            let mut index = 0;
            while wakers.len() - index > 1 {
                let options = wakers.len() - index;
                let chosen = match self.scheduler.borrow_mut().next_timer(options) {
                    Ok(chosen) if chosen < options => Ok(chosen),
                    Ok(chosen) => Err(Divergence {
                        decision: self.schedule.borrow().len(),
                        expected: format!("an index below {options}"),
                        found: format!("index {chosen}"),
                    }),
                    Err(divergence) => Err(divergence),
                };
                let chosen = match chosen {
                    Ok(chosen) => chosen,
                    Err(divergence) => {
                        wakers.clear();
                        *self.due_wakers.borrow_mut() = wakers;
                        return Err(self.diverged(divergence));
                    }
                };
                self.schedule.borrow_mut().push(Decision::Timer {
                    options: options as u32,
                    chosen: chosen as u32,
                });
                let picked = wakers.remove(index + chosen);
                wakers.insert(index, picked);
                index += 1;
            }
            self.timer_waking.set(true);
            for waker in wakers.drain(..) {
                waker.wake();
            }
            self.timer_waking.set(false);
        };
        *self.due_wakers.borrow_mut() = wakers;
        result
    }

    /// Two things fell due at the same instant (a timeout and what it guards):
    /// the scheduler picks which happens first; 0 is the natural order.
    pub fn choose_race(&self, options: usize) -> usize {
        match self.scheduler.borrow_mut().next_timer(options) {
            Ok(index) if index < options => {
                self.schedule.borrow_mut().push(Decision::Timer {
                    options: options as u32,
                    chosen: index as u32,
                });
                index
            }
            Ok(_) => 0,
            Err(divergence) => {
                self.divergence
                    .borrow_mut()
                    .get_or_insert((self.steps(), divergence));
                self.diverged_flag.set(true);
                0
            }
        }
    }

    // ----- timers ---------------------------------------------------------------

    pub fn insert_timer(&self, deadline: Instant, waker: &Waker) -> TimerKey {
        if deadline.0 < self.earliest_timer.get() {
            self.earliest_timer.set(deadline.0);
        }
        self.core
            .borrow_mut()
            .timers
            .insert(deadline.0, waker.clone())
    }

    pub fn poll_timer(&self, key: TimerKey, waker: &Waker) -> bool {
        self.core.borrow_mut().timers.poll(key, waker)
    }

    pub fn remove_timer(&self, key: TimerKey) {
        if let Ok(mut core) = self.core.try_borrow_mut() {
            core.timers.remove(key);
        }
    }

    // ----- spawning -------------------------------------------------------------

    fn new_slot(
        self: &Rc<World>,
        kind: TaskKind,
        name: Option<Rc<str>>,
        at: SourceLocation,
        future: Option<TaskFuture>,
        completion: Option<Rc<dyn Completion>>,
    ) -> TaskKey {
        let parent = self.current_id();
        let mut core = self.core.borrow_mut();
        let key = TaskKey {
            index: core.tasks.next_index(),
            id: core.tasks.next_id(),
        };
        let notify = Arc::new(TaskWaker::new(self.id, key));
        let waker = Waker::from(Arc::clone(&notify));
        let inserted = core.tasks.insert(TaskSlot {
            id: key.id,
            future,
            waker: Some(waker),
            notify,
            completion,
            meta: TaskMeta {
                kind,
                name: name.clone(),
                parent,
                spawned_at: at,
                detached: matches!(kind, TaskKind::Shield | TaskKind::Blocking),
                suspends: 0,
                last_wait: Wait::EXTERNAL,
                cancel_requested: 0,
                cancel_delivered: 0,
                cancel_waiters: Vec::new(),
                abort_requested: false,
                polls: 0,
                cancel_since: None,
                ignored_reported: false,
                tokens_live: 0,
                tokens_dropped: 0,
                delivered_at: None,
                returning: false,
                last_scope: None,
                point_index: None,
            },
        });
        debug_assert_eq!(inserted, key);
        drop(core);
        if self.trace_on {
            if let Some(name) = &name {
                self.trace.borrow_mut().set_name(key.id, name);
            }
            if let Some(parent) = parent {
                self.record(parent, EventKind::Spawn { child: key.id, at });
            }
        }
        self.ready.borrow_mut().push_back(key);
        key
    }

    /// Spawns a task; returns its key and join slot.
    pub fn spawn<F>(
        self: &Rc<World>,
        future: F,
        kind: TaskKind,
        name: Option<Rc<str>>,
        at: SourceLocation,
    ) -> (TaskKey, Rc<crate::task::join::JoinSlot<F::Output>>)
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let slot = Rc::new(crate::task::join::JoinSlot::new());
        let writer = Rc::clone(&slot);
        let boxed: TaskFuture = Box::pin(async move {
            let value = future.await;
            with(|world| world.mark_returning());
            writer.complete(Ok(value));
        });
        let completion: Rc<dyn Completion> = slot.clone();
        let key = self.new_slot(kind, name, at, Some(boxed), Some(completion));
        (key, slot)
    }

    /// Registers the root future of `block_on` (polled by `block_on` itself).
    pub fn spawn_root(self: &Rc<World>, at: SourceLocation) -> TaskKey {
        let key = self.new_slot(TaskKind::Root, Some(Rc::from("main")), at, None, None);
        if self.trace_on {
            self.trace.borrow_mut().set_name(key.id, "main");
        }
        key
    }

    // ----- polling ----------------------------------------------------------------

    /// Polls a spawned task once and settles what followed.
    pub fn run_task(self: &Rc<World>, key: TaskKey) {
        if self.has_plan.get() && self.inject(key, InjectAt::Wake) {
            return;
        }
        let taken = {
            let mut core = self.core.borrow_mut();
            match core.tasks.get_mut(key) {
                Some(slot) => match slot.future.take() {
                    Some(future) => {
                        self.polling(slot);
                        Some((
                            future,
                            slot.waker.take().expect("a live task has its waker"),
                        ))
                    }
                    None => None,
                },
                None => None,
            }
        };
        let Some((mut future, waker)) = taken else {
            return;
        };
        self.step.set(self.step.get() + 1);
        self.current.set(Some(key));
        self.record(key.id, EventKind::Poll);
        let result = panic::catch(|| future.as_mut().poll(&mut Context::from_waker(&waker)));
        self.current.set(None);
        match result {
            Ok(Poll::Pending) => {
                let mut core = self.core.borrow_mut();
                let slot = core
                    .tasks
                    .get_mut(key)
                    .expect("a polled task stays in the table");
                let (ordinal, wait) = self.suspended(key, slot);
                self.check_grace(key, slot);
                if slot.meta.abort_requested {
                    drop(core);
                    self.finish(key, Some(future), Outcome::Aborted, None);
                    return;
                }
                slot.future = Some(future);
                slot.waker = Some(waker);
                drop(core);
                self.record(key.id, EventKind::Suspend { ordinal, wait });
                if self.has_plan.get() {
                    self.inject(key, InjectAt::Suspend);
                }
            }
            Ok(Poll::Ready(())) => {
                self.pending_wait.take();
                self.finish(key, Some(future), Outcome::Returned, None)
            }
            Err(caught) => {
                self.pending_wait.take();
                let index = self.trace.borrow_mut().add_message(caught.message.clone());
                self.finish(key, Some(future), Outcome::Panicked(index), Some(caught));
            }
        }
    }

    /// Polls the root future of `block_on` once. Injections due at the root
    /// that drop it set `root_drop_requested` instead (`block_on` owns it).
    pub fn poll_root<T>(
        self: &Rc<World>,
        key: TaskKey,
        poll: impl FnOnce(&mut Context<'_>) -> Poll<T>,
    ) -> Result<Poll<T>, panic::Caught> {
        if self.has_plan.get() && self.inject(key, InjectAt::Wake) {
            return Ok(Poll::Pending);
        }
        let waker = {
            let mut core = self.core.borrow_mut();
            let slot = core
                .tasks
                .get_mut(key)
                .expect("the root is alive while polled");
            self.polling(slot);
            slot.waker.take().expect("the root has its waker")
        };
        self.step.set(self.step.get() + 1);
        self.current.set(Some(key));
        self.record(key.id, EventKind::Poll);
        let result = panic::catch(|| poll(&mut Context::from_waker(&waker)));
        self.current.set(None);
        let mut core = self.core.borrow_mut();
        let slot = core
            .tasks
            .get_mut(key)
            .expect("the root is alive while polled");
        slot.waker = Some(waker);
        if let Ok(Poll::Pending) = result {
            let (ordinal, wait) = self.suspended(key, slot);
            self.check_grace(key, slot);
            drop(core);
            self.record(key.id, EventKind::Suspend { ordinal, wait });
            if self.has_plan.get() {
                self.inject(key, InjectAt::Suspend);
            }
        } else {
            slot.meta.returning = true;
            self.pending_wait.take();
        }
        result
    }

    /// Ends a task: removes it from the table, drops its future (with the task
    /// current, so its `Drop`s are attributed to it), tells its joiner.
    pub fn finish(
        self: &Rc<World>,
        key: TaskKey,
        future: Option<TaskFuture>,
        outcome: Outcome,
        panicked: Option<panic::Caught>,
    ) {
        let slot = self.core.borrow_mut().tasks.remove(key);
        let Some(mut slot) = slot else { return };
        slot.notify.notified.store(true, Ordering::Release);
        self.settle(key, &slot, outcome);
        let future = future.or_else(|| slot.future.take());
        if let Some(future) = future {
            let previous = self.current.replace(Some(key));
            let dropped = panic::catch(move || drop(future));
            self.current.set(previous);
            if let Err(caught) = dropped {
                // A panicking Drop during cleanup is recorded; the task is gone.
                let index = self.trace.borrow_mut().add_message(caught.message);
                self.record(
                    key.id,
                    EventKind::Complete {
                        outcome: Outcome::Panicked(index),
                    },
                );
            }
        }
        self.record(key.id, EventKind::Complete { outcome });
        if let Some(completion) = slot.completion.take() {
            match (outcome, panicked) {
                (Outcome::Returned, _) => {}
                (Outcome::Aborted, _) => completion.fail(JoinError::cancelled(key.id)),
                (Outcome::Panicked(_), Some(caught)) => {
                    completion.fail(JoinError::panic(key.id, caught.message, caught.payload))
                }
                (Outcome::Panicked(_), None) => completion.fail(JoinError::panic(
                    key.id,
                    "panicked".to_string(),
                    Box::new("panicked"),
                )),
            }
        }
        drop(slot);
    }

    /// Drops a task's future at its current await point (`JoinHandle::abort`).
    pub fn abort(self: &Rc<World>, key: TaskKey) {
        let by = self.current_id();
        let future = {
            let mut core = self.core.borrow_mut();
            let Some(slot) = core.tasks.get_mut(key) else {
                return;
            };
            match slot.future.take() {
                Some(future) => future,
                None => {
                    // Being polled right now (aborting itself) or the root:
                    // dropped when its poll returns.
                    slot.meta.abort_requested = true;
                    drop(core);
                    self.record(key.id, EventKind::Abort { by });
                    return;
                }
            }
        };
        self.ready.borrow_mut().retain(|queued| *queued != key);
        self.record(key.id, EventKind::Abort { by });
        self.finish(key, Some(future), Outcome::Aborted, None);
    }

    pub fn detach(&self, key: TaskKey) {
        if let Some(slot) = self.core.borrow_mut().tasks.get_mut(key) {
            slot.meta.detached = true;
        }
    }

    pub fn is_alive(&self, key: TaskKey) -> bool {
        self.core.borrow().tasks.get(key).is_some()
    }

    // ----- cooperative cancellation ---------------------------------------------

    /// Makes a cooperative cancel request for `key` and wakes it.
    pub fn request_cancel(&self, key: TaskKey, via: CancelVia) {
        let wakers = {
            let mut core = self.core.borrow_mut();
            let Some(slot) = core.tasks.get_mut(key) else {
                return;
            };
            slot.meta.cancel_requested += 1;
            if slot.meta.cancel_since.is_none() {
                slot.meta.cancel_since = Some((self.now.get(), slot.meta.polls));
            }
            let mut wakers = std::mem::take(&mut slot.meta.cancel_waiters);
            if let Some(waker) = &slot.waker {
                wakers.push(waker.clone());
            }
            wakers
        };
        self.record(
            key.id,
            EventKind::CancelRequested {
                by: self.current_id(),
                via,
            },
        );
        for waker in wakers {
            waker.wake();
        }
    }

    /// Delivers one pending cancel request of the current task, if there is
    /// one, as a tracked `Cancelled`.
    pub fn try_deliver_cancel(&self, at: SourceLocation) -> Option<Cancelled> {
        let key = self.current.get()?;
        {
            let mut core = self.core.borrow_mut();
            let slot = core.tasks.get_mut(key)?;
            if slot.meta.cancel_requested <= slot.meta.cancel_delivered {
                return None;
            }
            slot.meta.cancel_delivered += 1;
            slot.meta.tokens_live += 1;
            if slot.meta.delivered_at.is_none() {
                slot.meta.delivered_at = Some((slot.meta.suspends, at));
            }
        }
        self.record(key.id, EventKind::CancelDelivered { at });
        Some(Cancelled::delivered(self.id, key))
    }

    /// A delivered `Cancelled` of task `key` was cloned.
    pub fn cancel_token_cloned(&self, key: TaskKey) {
        if let Ok(mut core) = self.core.try_borrow_mut() {
            if let Some(slot) = core.tasks.get_mut(key) {
                slot.meta.tokens_live += 1;
            }
        }
    }

    /// A delivered `Cancelled` of task `key` was dropped.
    pub fn cancel_token_dropped(&self, key: TaskKey) {
        let by_owner = self.current.get() == Some(key);
        if let Ok(mut core) = self.core.try_borrow_mut() {
            if let Some(slot) = core.tasks.get_mut(key) {
                if !slot.meta.returning {
                    slot.meta.tokens_live -= 1;
                    if by_owner {
                        slot.meta.tokens_dropped += 1;
                    }
                }
            }
        }
    }

    /// The current task's future returned; what is dropped from now on is
    /// its output being handed over, not the task discarding it.
    pub fn mark_returning(&self) {
        let Some(key) = self.current.get() else {
            return;
        };
        if let Some(slot) = self.core.borrow_mut().tasks.get_mut(key) {
            slot.meta.returning = true;
        }
    }

    /// Has the current task ever been asked to cancel?
    pub fn is_cancelled(&self) -> bool {
        let Some(key) = self.current.get() else {
            return false;
        };
        self.core
            .borrow()
            .tasks
            .get(key)
            .is_some_and(|slot| slot.meta.cancel_requested > 0)
    }

    /// Wakes `waker` on the current task's next cancel request.
    pub fn register_cancel_waiter(&self, waker: &Waker) {
        let Some(key) = self.current.get() else {
            return;
        };
        let mut core = self.core.borrow_mut();
        if let Some(slot) = core.tasks.get_mut(key) {
            if !slot.meta.cancel_waiters.iter().any(|w| w.will_wake(waker)) {
                slot.meta.cancel_waiters.push(waker.clone());
            }
        }
    }

    // ----- randomness -------------------------------------------------------------

    pub fn next_random(&self) -> u64 {
        let value = match self.scheduler.borrow_mut().next_u64() {
            Ok(value) => value,
            Err(divergence) => {
                self.divergence
                    .borrow_mut()
                    .get_or_insert((self.steps(), divergence));
                self.diverged_flag.set(true);
                0
            }
        };
        self.schedule.borrow_mut().push(Decision::Random(value));
        if let Some(task) = self.current_id() {
            self.record(task, EventKind::Random { value });
        }
        value
    }

    // ----- end of a run -----------------------------------------------------------

    /// Every live task with where it waits, in id order.
    pub fn blocked_tasks(&self) -> Vec<BlockedTask> {
        let core = self.core.borrow();
        core.tasks
            .keys()
            .into_iter()
            .filter_map(|key| core.tasks.get(key))
            .map(|slot| BlockedTask {
                id: slot.id,
                name: slot.meta.name.as_deref().map(str::to_string),
                await_point: slot.meta.suspends,
                wait: slot.meta.last_wait,
            })
            .collect()
    }

    pub fn record_deadlock(&self, root: TaskKey) {
        self.record(root.id, EventKind::Deadlock);
    }

    /// Drops the root future (a drop injection): its `Drop`s run with the
    /// root current, then the root ends as aborted.
    pub fn drop_root(self: &Rc<World>, key: TaskKey, drop_future: impl FnOnce()) {
        self.record(key.id, EventKind::Abort { by: None });
        let previous = self.current.replace(Some(key));
        let dropped = panic::catch(drop_future);
        self.current.set(previous);
        if let Err(caught) = dropped {
            let index = self.add_message(caught.message);
            self.record(
                key.id,
                EventKind::Complete {
                    outcome: Outcome::Panicked(index),
                },
            );
        }
        self.finish_root(key, Outcome::Aborted);
    }

    /// Removes the root after `block_on` returns or gives up.
    pub fn finish_root(self: &Rc<World>, key: TaskKey, outcome: Outcome) {
        self.ready.borrow_mut().retain(|queued| *queued != key);
        self.finish(key, None, outcome, None);
    }

    /// Drops every task still alive, in id order (when the `Sim` is dropped).
    pub fn drop_all_tasks(self: &Rc<World>) {
        let keys = self.core.borrow().tasks.keys();
        for key in keys {
            let future = {
                let mut core = self.core.borrow_mut();
                core.tasks.get_mut(key).and_then(|slot| slot.future.take())
            };
            if let Some(future) = future {
                let previous = self.current.replace(Some(key));
                let _ = panic::catch(move || drop(future));
                self.current.set(previous);
            }
            let slot = self.core.borrow_mut().tasks.remove(key);
            drop(slot);
        }
        self.ready.borrow_mut().clear();
        waker::remote_forget(self.id);
    }

    /// Number of tasks ever spawned (the next task id).
    pub fn tasks_spawned(&self) -> u32 {
        self.core.borrow().tasks.next_id().0
    }

    pub fn live_tasks(&self) -> usize {
        self.core.borrow().tasks.len()
    }
}
