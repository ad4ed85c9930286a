//! The interface of timers kept outside the simulation (see
//! the public `outside` module): below the world, which asks them.

use std::task::Waker;
use std::time::Duration;

/// Timers of another runtime, asked each time the simulation is idle (see
/// the `outside` module).
pub trait OutsideTimers: 'static {
    /// The simulation is idle at `idle.now()`: no task can run, and its own
    /// next timer is due at `idle.until()` (`None`: it has none). Run the
    /// outside timers due up to then and return the instant at which one
    /// woke a simulated task (`idle.woken()` is then true; the simulation's
    /// clock moves there, at most `until`), or `None` when none did (the
    /// simulation then moves to its own timer, or finds itself deadlocked).
    ///
    /// To wait without overshooting, a runtime that parks can register its
    /// waker with [`Idle::wake_on_wake`]: it is woken as soon as a
    /// simulated task is.
    fn idle(&mut self, idle: &Idle<'_>) -> Option<Duration>;
}

/// What an [`OutsideTimers`] is told when the simulation is idle.
pub struct Idle<'a> {
    pub(crate) now: u64,
    pub(crate) until: Option<u64>,
    /// Whether a task was woken since the idle call began.
    pub(crate) woken: &'a dyn Fn() -> bool,
    /// Registers a waker woken when a task is.
    pub(crate) wake_on_wake: &'a dyn Fn(&Waker),
}

impl Idle<'_> {
    /// The simulation's time (since its start).
    pub fn now(&self) -> Duration {
        Duration::from_nanos(self.now)
    }

    /// When the simulation's next timer is due (since its start), or
    /// `None` when it has none.
    pub fn until(&self) -> Option<Duration> {
        self.until.map(Duration::from_nanos)
    }

    /// Has a simulated task been woken since the simulation went idle?
    pub fn woken(&self) -> bool {
        (self.woken)()
    }

    /// Wakes `waker` as soon as a simulated task is woken (once; register
    /// again after each wake).
    pub fn wake_on_wake(&self, waker: &Waker) {
        (self.wake_on_wake)(waker);
    }
}

impl std::fmt::Debug for Idle<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Idle")
            .field("now", &self.now())
            .field("until", &self.until())
            .field("woken", &self.woken())
            .finish()
    }
}
