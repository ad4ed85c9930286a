//! `timeout`: run a future with a deadline.

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::sleep::Sleep;
use super::Instant;
use crate::trace::{EventKind, SourceLocation};
use crate::world;

/// The deadline of a [`timeout`] passed before its future finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elapsed(());

impl Elapsed {
    pub(crate) fn new() -> Self {
        Elapsed(())
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

/// As tokio's: an expired deadline is an I/O `TimedOut`.
impl From<Elapsed> for std::io::Error {
    fn from(_: Elapsed) -> std::io::Error {
        std::io::ErrorKind::TimedOut.into()
    }
}

/// The deadline of the test's own `timeout` in a run that lifts it: past
/// any run's time limit.
const UNBOUNDED: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// Runs `future` for at most `duration` of virtual time. On expiry the inner
/// future is dropped at its current await point and the caller gets
/// `Err(Elapsed)`.
///
/// An inner future that completes at the deadline's very instant races the
/// timeout, and the run's [`Scheduler`](crate::Scheduler) decides who wins
/// (asked as a choice between two timers due at once, see
/// [`Decision::Timer`](crate::Decision::Timer)): option 0, the natural order,
/// lets the inner future win (its value is returned); option 1 lets the
/// timeout win (the value is dropped and the caller gets `Err(Elapsed)`).
/// [`Fifo`](crate::schedule::Fifo) always takes option 0; `Random` and `Pct`
/// may take either. The choice is recorded in the run's
/// [`Schedule`](crate::Schedule), so a replay takes it again.
/// ([`Timeout::inner_wins_ties`] makes it tokio's fixed order instead.)
///
/// An injected expiry ([`InjectionKind::Timeout`](crate::InjectionKind::Timeout))
/// at an await point inside the timeout means "what waits here is not done
/// before the deadline": from then on the inner future is not polled, and
/// the caller gets `Err(Elapsed)` at the deadline, as it would from a real
/// timeout — never earlier.
#[track_caller]
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    let at = Location::caller();
    let unbounded = world::try_with(|world| world.own_deadline_unbounded(at)).unwrap_or(false);
    let deadline = if unbounded {
        Instant::now() + UNBOUNDED
    } else {
        Instant::now() + duration
    };
    Timeout {
        inner: Some(future),
        sleep: Sleep::new(deadline, true, at),
        at,
        scope: None,
        forced: false,
        expiry_first: false,
        inner_first: false,
        inner_wins_ties: false,
    }
}

pin_project_lite::pin_project! {
    /// The future of [`timeout`].
    #[must_use = "futures do nothing unless awaited"]
    pub struct Timeout<F> {
        #[pin]
        inner: Option<F>,
        sleep: Sleep,
        at: &'static Location<'static>,
        scope: Option<u32>,
        // An injection expired it: the inner future is stuck until the
        // deadline.
        forced: bool,
        expiry_first: bool,
        // Poll the inner future before a due deadline, once (the deadline
        // passed during the last poll, by CPU work in it, or the caller
        // knows the task resumes from a wake-up asyncio would run first).
        inner_first: bool,
        // tokio's order: an inner future done at the deadline wins.
        inner_wins_ties: bool,
    }

    impl<F> PinnedDrop for Timeout<F> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(scope) = this.scope {
                world::try_with(|world| world.end_scope(scope));
            }
        }
    }
}

impl<F> Timeout<F> {
    /// When it expires.
    pub fn deadline(&self) -> Instant {
        self.sleep.deadline()
    }

    /// Its scope number, once polled (what [`EventKind::TimeoutFired`] and
    /// a cancel request through it name).
    #[cfg_attr(not(feature = "scenario"), allow(dead_code))]
    pub(crate) fn scope(&self) -> Option<u32> {
        self.scope
    }

    /// Where `timeout` was called.
    #[cfg_attr(not(feature = "scenario"), allow(dead_code))]
    pub(crate) fn at(&self) -> SourceLocation {
        self.at
    }

    /// tokio's order for a tie: an inner future that completes at the
    /// deadline's instant always wins (tokio's `Timeout` polls it before
    /// its deadline), so the tie is no choice and nothing is recorded.
    /// The simulated `tokio::time::timeout` is made this way.
    pub fn inner_wins_ties(mut self) -> Self {
        self.inner_wins_ties = true;
        self
    }

    /// asyncio's order for a tie: when the task resumes (a poll after the
    /// first) at or after the deadline, the expiry (whose timer was armed before anything the
    /// inner future waits on) happens first and the inner future is not
    /// polled; the natural order, the one [`Fifo`](crate::schedule::Fifo)
    /// takes, is the expiry's. `Random` and `Pct` may still let the inner
    /// future go first (a recorded [`Decision::Timer`](crate::Decision::Timer)).
    /// An inner future that completes in the very poll in which the
    /// deadline passes (CPU work, no await) wins, as in asyncio, where the
    /// loop never got to run the deadline's callback; one still pending
    /// then is polled once more first (asyncio runs a step the task
    /// scheduled during that poll, a `sleep(0)`, before the callback),
    /// and the expiry follows if it is still pending.
    #[cfg_attr(not(feature = "scenario"), allow(dead_code))]
    pub(crate) fn expiry_first(mut self) -> Self {
        self.expiry_first = true;
        self
    }

    /// With [`expiry_first`](Self::expiry_first): at its next poll, the
    /// inner future goes first even if the deadline is due (the task woke
    /// itself before the deadline, and asyncio runs that step before the
    /// deadline's callback).
    #[cfg_attr(not(feature = "scenario"), allow(dead_code))]
    pub(crate) fn inner_first_once(self: Pin<&mut Self>) {
        *self.project().inner_first = true;
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let at = *this.at;
        let resumed = this.scope.is_some();
        let scope = *this
            .scope
            .get_or_insert_with(|| world::with(|world| world.new_scope()));
        if this.inner.is_none() {
            return Poll::Ready(Err(Elapsed::new()));
        }
        if !*this.forced {
            let deadline = this.sleep.deadline();
            *this.forced = world::with(|world| {
                world.note_scope_deadline(scope, deadline);
                let forced = world.take_forced(scope);
                if forced {
                    world.hold_current_for_expiry();
                }
                forced
            });
        }
        if *this.forced && world::with(|world| world.take_expiry_release()) {
            // The task's owner woke it and awaits it under a deadline: the
            // expiry held a slow operation, not a task deaf to its owner
            // (`world/held_expiry.rs`).
            *this.forced = false;
        }
        let forced = *this.forced;
        if forced {
            world::with(|world| world.poll_held(this.sleep.deadline(), resumed));
        }
        let started = world::with(|world| world.now());
        let crossed = std::mem::take(this.inner_first);
        // asyncio's order: a deadline already due when the task resumes is
        // handled before the inner future runs (unless the scheduler picks
        // the other order), but after a step scheduled in the poll that
        // ran past it.
        let expire_now = !forced
            && resumed
            && !crossed
            && *this.expiry_first
            && world::with(|world| started >= this.sleep.deadline() && world.choose_race(2) == 0);
        if !forced && !expire_now {
            let inner = this.inner.as_mut().as_pin_mut().expect("checked above");
            // Poll the inner future outside the world's thread-local borrow:
            // user code may enter the world again (abort, cancel, spawn).
            let world = world::current();
            let polled = world.in_scope(scope, at, || inner.poll(cx));
            if let Poll::Ready(value) = polled {
                // Both due at this instant? The scheduler decides who wins.
                let timer_due = world::with(|world| world.now() >= this.sleep.deadline());
                if !timer_due
                    || *this.inner_wins_ties
                    || *this.expiry_first
                    || world::with(|world| world.choose_race(2)) == 0
                {
                    this.inner.set(None);
                    world::with(|world| world.end_scope(scope));
                    return Poll::Ready(Ok(value));
                }
            }
        }
        // The deadline passed during this poll: its callback comes after
        // what the task scheduled meanwhile, so the task runs once more.
        let deadline = this.sleep.deadline();
        if !forced
            && !expire_now
            && *this.expiry_first
            && started < deadline
            && world::with(|world| world.now() >= deadline)
        {
            *this.inner_first = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        // The deadline's own timer is polled inside the scope too: when the
        // inner future waits on something that notes no wait (a channel, a
        // lock, any future from outside cancelsim), the await point is this
        // timer's, and it must still count as inside this timeout, so that
        // an injected expiry is planned there and acts.
        let expired = expire_now
            || world::current()
                .in_scope(scope, at, || Pin::new(&mut *this.sleep).poll(cx))
                .is_ready();
        if expired && forced {
            world::with(|world| world.note_forced_expiry(at));
        } else if expired {
            world::with(|world| {
                world.note_natural_expiry();
                world.note_natural_expiry_at(at);
                world.note_expiry_while_stalled(scope, at, None)
            });
        }
        if expired {
            world::with(|world| {
                if let Some(task) = world.current_id() {
                    world.record(
                        task,
                        EventKind::TimeoutFired {
                            scope,
                            race: None,
                            at,
                        },
                    );
                }
                world.end_scope(scope);
            });
            this.inner.set(None);
            return Poll::Ready(Err(Elapsed::new()));
        }
        Poll::Pending
    }
}

impl<F> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("deadline", &self.sleep.deadline())
            .field("at", &self.at)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::timeout;
    use crate::time::sleep;
    use crate::{Config, Decision, SchedulerKind, Sim};

    /// `timeout(2s, sleep(2s))` with asyncio's tie order, under `config`:
    /// did the expiry win, and which decisions were recorded.
    fn tie(config: Config) -> (bool, Vec<Decision>) {
        let mut sim = Sim::new(config);
        let expired = sim
            .block_on(async {
                timeout(Duration::from_secs(2), sleep(Duration::from_secs(2)))
                    .expiry_first()
                    .await
                    .is_err()
            })
            .unwrap();
        let timers = sim
            .schedule()
            .decisions()
            .into_iter()
            .filter(|d| matches!(d, Decision::Timer { .. }))
            .collect();
        (expired, timers)
    }

    #[test]
    fn with_expiry_first_fifo_lets_the_deadline_armed_first_win_a_tie() {
        let (expired, decisions) = tie(Config::default());
        assert!(expired, "asyncio: the deadline armed first fires first");
        assert!(!decisions.is_empty(), "the tie is a recorded decision");
        // Without the flag the natural order is tokio's: the inner future.
        let mut sim = Sim::new(Config::default());
        let inner_won = sim
            .block_on(async {
                timeout(Duration::from_secs(2), sleep(Duration::from_secs(2)))
                    .await
                    .is_ok()
            })
            .unwrap();
        assert!(inner_won);
    }

    #[test]
    fn with_expiry_first_random_schedules_explore_both_orders_the_same_way_twice() {
        let outcomes: Vec<bool> = (0..16)
            .map(|seed| {
                let config = Config::default()
                    .seed(seed)
                    .scheduler(SchedulerKind::Random);
                let first = tie(config.clone());
                assert_eq!(first, tie(config), "same seed, same run");
                first.0
            })
            .collect();
        assert!(
            outcomes.contains(&true) && outcomes.contains(&false),
            "{outcomes:?}"
        );
    }

    #[test]
    fn with_expiry_first_an_inner_future_done_in_the_poll_the_deadline_passes_wins() {
        let mut sim = Sim::new(Config::default());
        let value = sim
            .block_on(async {
                timeout(Duration::from_secs(1), async {
                    crate::work(Duration::from_secs(2));
                    7
                })
                .expiry_first()
                .await
            })
            .unwrap();
        assert_eq!(value, Ok(7));
    }

    /// With asyncio's order, a deadline that CPU work passes in a poll
    /// where the inner future then yields lets that future run once more
    /// (asyncio ran the step it scheduled before the deadline's callback).
    #[test]
    fn a_deadline_passed_by_work_lets_a_yielding_inner_future_finish() {
        let mut sim = Sim::new(Config::default());
        let value = sim
            .block_on(async {
                timeout(Duration::from_millis(2), async {
                    crate::work(Duration::from_millis(10));
                    crate::yield_now().await;
                    7
                })
                .expiry_first()
                .await
            })
            .unwrap();
        assert_eq!(value, Ok(7));
    }

    /// ... but one still waiting on a timer then expires.
    #[test]
    fn a_deadline_passed_by_work_expires_an_inner_future_still_waiting() {
        let mut sim = Sim::new(Config::default());
        let value = sim
            .block_on(async {
                timeout(Duration::from_millis(2), async {
                    crate::work(Duration::from_millis(10));
                    crate::time::sleep(Duration::from_millis(1)).await;
                    7
                })
                .expiry_first()
                .await
            })
            .unwrap();
        assert!(value.is_err());
        assert_eq!(sim.now().to_string(), "0.010s");
    }
}
