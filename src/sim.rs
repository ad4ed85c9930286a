//! `Sim`: one world, and `block_on`, which runs it.
//!
//! `block_on` makes its future the root task (`main#0`) and runs the
//! world's loop (`World::run_until`) until that task ends. Each step the
//! loop fires due timers, asks the scheduler which ready task runs, polls
//! it once, and records what happened. When nothing is ready the clock
//! jumps to the next timer; when there is no timer either, the world is
//! deadlocked. `block_on` returns as soon as its root future finishes.

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::config::Config;
use crate::error::SimError;
use crate::schedule::Schedule;
use crate::time::Instant;
use crate::trace::{Outcome, Trace};
use crate::world::{Budget, Enter, Halt, Limits, RootEnd, RootTask, Until, World};

/// The future given to `block_on` as the root task's body: polls it and
/// keeps its output for `block_on` to return.
struct RootBody<'a, F: Future> {
    future: Pin<&'a mut Option<F>>,
    output: &'a mut Option<F::Output>,
}

impl<F: Future> Future for RootBody<'_, F> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let future = this
            .future
            .as_mut()
            .as_pin_mut()
            .expect("the root future is present until it ends");
        match future.poll(cx) {
            Poll::Ready(value) => {
                *this.output = Some(value);
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// How a root future ended.
pub(crate) enum RootRun<T> {
    Returned(T),
    /// A drop injection dropped it.
    Dropped,
    Panicked(String),
    Stopped(SimError),
}

/// One simulated world: a single-threaded executor with a virtual clock and a
/// seeded, recorded schedule.
///
/// ```
/// use std::time::Duration;
/// use cancelsim::{Config, Sim, time};
///
/// let mut sim = Sim::new(Config::default().seed(7));
/// let elapsed = sim.block_on(async {
///     let start = time::Instant::now();
///     time::sleep(Duration::from_secs(24 * 3600)).await; // takes microseconds
///     start.elapsed()
/// }).unwrap();
/// assert_eq!(elapsed, Duration::from_secs(24 * 3600));
/// println!("{}", sim.trace());
/// ```
pub struct Sim {
    world: Rc<World>,
    /// The trace, lent to the world while a run records into it.
    trace: Trace,
}

impl Sim {
    /// A new world at virtual time zero.
    pub fn new(config: Config) -> Sim {
        let world = World::new(config);
        // The world records only while `block_on` lends it the trace; the
        // rest of the time it holds a trace that keeps nothing.
        let mut idle = Trace::new(crate::config::TraceMode::Off, 0, "".into(), 0);
        world.swap_trace(&mut idle);
        Sim { world, trace: idle }
    }

    /// Runs `future` as the root task (`main#0` in the trace) until it
    /// finishes, with other tasks interleaved by the scheduler.
    ///
    /// Returns `Err` instead of hanging or unwinding: on deadlock (no task can
    /// run, no timer pending; the error lists every task and where it waits),
    /// on the step or virtual-time budget, when the root panics, and when a
    /// replayed schedule diverges (including a root that finishes before
    /// taking every decision its recording holds for this `block_on`). Tasks
    /// still alive when the root finishes stay in the world (a later
    /// `block_on` runs them on).
    #[track_caller]
    pub fn block_on<F: Future>(&mut self, future: F) -> Result<F::Output, SimError> {
        self.world.swap_trace(&mut self.trace);
        let outcome = self.run_root(future, Location::caller());
        self.world.swap_trace(&mut self.trace);
        match outcome {
            RootRun::Returned(value) => Ok(value),
            RootRun::Dropped => Err(SimError::RootDropped),
            RootRun::Panicked(message) => Err(SimError::RootPanicked { message }),
            RootRun::Stopped(error) => Err(error),
        }
    }

    /// Runs `future` as the root; the core of `block_on`, which also handles a
    /// drop injection aimed at the root.
    pub(crate) fn run_root<F: Future>(
        &mut self,
        future: F,
        at: &'static Location<'static>,
    ) -> RootRun<F::Output> {
        let world = Rc::clone(&self.world);
        let _enter = Enter::new(&world);
        world.arm_watchdog();
        let _done = world.polls_done();
        let key = world.spawn_root(world.config().root_location.unwrap_or(at));
        let mut future = std::pin::pin!(Some(future));
        let mut output = None;
        // Polls and `work` calls count against the step budget.
        let start = world.budget_used();
        let max_time = crate::vocab::nanos(world.config().max_time);
        world.set_budget(Budget {
            steps_until: start.saturating_add(world.config().max_steps),
            time_until: max_time,
        });
        drop(world.take_divergence());
        let limits = Limits {
            start,
            max_steps: world.config().max_steps,
            time_until: max_time,
            horizon: u64::MAX,
        };
        let (halt, end) = {
            let mut body = RootBody {
                future: future.as_mut(),
                output: &mut output,
            };
            let body: Pin<&mut RootBody<'_, F>> = Pin::new(&mut body);
            let mut root = RootTask::new(key, body);
            let halt = world.run_until(Until::RootEnds(&mut root), limits);
            (halt, root.take_end())
        };
        match (halt, end) {
            // A replay that went off its recording first explains the
            // root's end (a panic, most likely): the divergence is the news.
            (Halt::Reached, end) => match (world.take_divergence(), end) {
                (Some(error), _) => RootRun::Stopped(error),
                (None, Some(RootEnd::Panicked(message))) => RootRun::Panicked(message),
                (None, _) => RootRun::Returned(output.expect("a returned root left its output")),
            },
            (Halt::RootDropRequested, _) => {
                world.drop_root(key, || future.set(None));
                match world.take_divergence() {
                    Some(error) => RootRun::Stopped(error),
                    None => RootRun::Dropped,
                }
            }
            (Halt::Deadlock, _) => {
                world.record_deadlock(key);
                let blocked = world.blocked_tasks();
                world.finish_root(key, Outcome::Aborted);
                RootRun::Stopped(SimError::Deadlock {
                    time: world.now(),
                    blocked,
                })
            }
            (Halt::Limit(error) | Halt::Stop(error), _) => {
                world.finish_root(key, Outcome::Aborted);
                RootRun::Stopped(error)
            }
        }
    }

    pub(crate) fn world(&self) -> &Rc<World> {
        &self.world
    }

    /// The trace of every `block_on` so far. `Display` renders the stable
    /// text form.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Takes the trace out, leaving an empty one.
    pub fn take_trace(&mut self) -> Trace {
        std::mem::replace(&mut self.trace, self.world.fresh_trace())
    }

    /// Lends the trace to the world for a run that continues past the root
    /// (the `Check` runner's drain and oracles); take it back from the world.
    pub(crate) fn lend_trace(&mut self) {
        self.world.swap_trace(&mut self.trace);
    }

    /// The decisions taken so far, with where each `block_on`'s root ended;
    /// `SchedulerKind::Replay` follows them, and a replaying world's
    /// `block_on` calls must end where these did.
    pub fn schedule(&self) -> Schedule {
        self.world.schedule()
    }

    /// Current virtual time.
    pub fn now(&self) -> Instant {
        self.world.now()
    }

    /// Polls made so far.
    pub fn steps(&self) -> u64 {
        self.world.steps()
    }

    /// Tasks alive (spawned, not finished).
    pub fn live_tasks(&self) -> usize {
        self.world.live_tasks()
    }

    /// Slots of the task table, occupied or free. A finished task's slot is
    /// reused by the next spawn, so this is the most tasks ever alive at
    /// once (the root included), not the number of spawns. Not part of the
    /// API: it lets tests check that memory stays flat.
    #[doc(hidden)]
    pub fn task_slots(&self) -> usize {
        self.world.task_slots()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        self.world.config()
    }
}

/// Dropping a `Sim` drops every task still alive in it. A `Drop` that
/// panics then is not swallowed: once every task is dropped, the `Sim`'s
/// drop panics with the violation (the task, the await point it was left
/// at, the panic's message), unless the thread is already unwinding. (A
/// `Check` run tears its world down before its oracles report, so there the
/// panic is a `panic` violation of the run.)
impl Drop for Sim {
    fn drop(&mut self) {
        let panicked = {
            let _enter = Enter::try_new(&self.world);
            self.world.drop_all_tasks()
        };
        let first =
            (panicked > 0).then(|| self.world.take_last_violations(panicked).into_iter().next());
        self.world.keep_containers();
        if let Some(Some(violation)) = first {
            if !std::thread::panicking() {
                panic!(
                    "cancelsim: a Drop panicked when the Sim was dropped with tasks still alive \
                     ({panicked} in all):\n{violation}"
                );
            }
        }
    }
}

impl fmt::Debug for Sim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sim")
            .field("now", &self.now())
            .field("steps", &self.steps())
            .field("live_tasks", &self.live_tasks())
            .field("config", self.world.config())
            .finish()
    }
}
