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
/// ([`Timeout::inner_first`] makes it tokio's fixed order instead.)
///
/// An injected expiry ([`InjectionKind::Timeout`](crate::InjectionKind::Timeout))
/// at an await point inside the timeout means "what waits here is not done
/// before the deadline": from then on the inner future is not polled, and
/// the caller gets `Err(Elapsed)` at the deadline, as it would from a real
/// timeout — never earlier.
#[track_caller]
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    let at = Location::caller();
    let deadline = Instant::now() + duration;
    Timeout {
        inner: Some(future),
        sleep: Sleep::new(deadline, true, at),
        at,
        scope: None,
        forced: false,
        inner_first: false,
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
        inner_first: bool,
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
    pub fn inner_first(mut self) -> Self {
        self.inner_first = true;
        self
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let at = *this.at;
        let scope = *this
            .scope
            .get_or_insert_with(|| world::with(|world| world.new_scope()));
        if this.inner.is_none() {
            return Poll::Ready(Err(Elapsed::new()));
        }
        if !*this.forced {
            *this.forced = world::with(|world| world.take_forced(scope));
        }
        let forced = *this.forced;
        if !forced {
            let inner = this.inner.as_mut().as_pin_mut().expect("checked above");
            // Poll the inner future outside the world's thread-local borrow:
            // user code may enter the world again (abort, cancel, spawn).
            let world = world::current();
            let polled = world.in_scope(scope, at, || inner.poll(cx));
            if let Poll::Ready(value) = polled {
                // Both due at this instant? The scheduler decides who wins.
                let timer_due = world::with(|world| world.now() >= this.sleep.deadline());
                if !timer_due || *this.inner_first || world::with(|world| world.choose_race(2)) == 0
                {
                    this.inner.set(None);
                    world::with(|world| world.end_scope(scope));
                    return Poll::Ready(Ok(value));
                }
            }
        }
        // The deadline's own timer is polled inside the scope too: when the
        // inner future waits on something that notes no wait (a channel, a
        // lock, any future from outside cancelsim), the await point is this
        // timer's, and it must still count as inside this timeout, so that
        // an injected expiry is planned there and acts.
        let expired = world::current()
            .in_scope(scope, at, || Pin::new(&mut *this.sleep).poll(cx))
            .is_ready();
        if expired && forced {
            world::with(|world| world.note_forced_expiry(at));
        }
        if expired {
            world::with(|world| {
                if let Some(task) = world.current_id() {
                    world.record(task, EventKind::TimeoutFired { scope, at });
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
