//! `tokio::time` on cancelsim's virtual clock. The clock is always
//! "paused" in tokio's sense: it jumps to the next timer when every task
//! waits, so `pause`, `resume` and `advance` only keep code compiling.

use std::future::Future;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::pin::Pin;
use std::task::{Context, Poll};

pub use std::time::Duration;

/// An instant on the virtual clock (tokio's `time::Instant`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(::cancelsim::time::Instant);

impl Instant {
    /// Now, on the virtual clock.
    ///
    /// # Panics
    ///
    /// Outside a simulated runtime.
    #[track_caller]
    pub fn now() -> Instant {
        crate::task::require_runtime();
        Instant(::cancelsim::time::Instant::now())
    }

    fn nanos(self) -> u64 {
        self.0.as_nanos()
    }

    fn from_nanos(nanos: u64) -> Instant {
        Instant(::cancelsim::time::Instant::ZERO.saturating_add(Duration::from_nanos(nanos)))
    }

    /// The instant `std` names the same moment, given that the simulation
    /// began when the process first asked.
    pub fn into_std(self) -> std::time::Instant {
        base() + self.0.since_start()
    }

    /// The virtual instant of a `std` instant (relative to [`Instant::into_std`]'s base).
    pub fn from_std(instant: std::time::Instant) -> Instant {
        Instant::from_nanos(
            instant
                .saturating_duration_since(base())
                .as_nanos()
                .min(u128::from(u64::MAX)) as u64,
        )
    }

    /// Time from `earlier` to `self` (zero if `earlier` is later).
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }

    /// Time from `earlier` to `self`, if `earlier` is not later.
    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.nanos()
            .checked_sub(earlier.nanos())
            .map(Duration::from_nanos)
    }

    /// Time from `earlier` to `self`, or zero.
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.nanos().saturating_sub(earlier.nanos()))
    }

    /// Virtual time since `self`.
    #[track_caller]
    pub fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(*self)
    }

    /// `self + duration`, if representable.
    pub fn checked_add(&self, duration: Duration) -> Option<Instant> {
        u64::try_from(duration.as_nanos())
            .ok()
            .and_then(|d| self.nanos().checked_add(d))
            .map(Instant::from_nanos)
    }

    /// `self - duration`, if representable.
    pub fn checked_sub(&self, duration: Duration) -> Option<Instant> {
        u64::try_from(duration.as_nanos())
            .ok()
            .and_then(|d| self.nanos().checked_sub(d))
            .map(Instant::from_nanos)
    }

    /// The cancelsim instant.
    pub fn into_cancelsim(self) -> ::cancelsim::time::Instant {
        self.0
    }
}

impl From<std::time::Instant> for Instant {
    fn from(instant: std::time::Instant) -> Instant {
        Instant::from_std(instant)
    }
}

impl From<Instant> for std::time::Instant {
    fn from(instant: Instant) -> std::time::Instant {
        instant.into_std()
    }
}

fn base() -> std::time::Instant {
    static BASE: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    *BASE.get_or_init(std::time::Instant::now)
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, rhs: Duration) -> Instant {
        self.checked_add(rhs)
            .expect("overflow when adding duration to instant")
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, rhs: Duration) {
        *self = *self + rhs;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;
    fn sub(self, rhs: Duration) -> Instant {
        self.checked_sub(rhs)
            .expect("overflow when subtracting duration from instant")
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, rhs: Duration) {
        *self = *self - rhs;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, rhs: Instant) -> Duration {
        self.saturating_duration_since(rhs)
    }
}

pub mod error;

/// The future of [`sleep`] / [`sleep_until`] (tokio's `Sleep`).
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Sleep {
    inner: ::cancelsim::time::Sleep,
    deadline: Instant,
}

/// Waits until `duration` of virtual time has passed.
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    let now = Instant::now();
    let deadline = now
        .checked_add(duration)
        .unwrap_or(Instant::from_nanos(u64::MAX / 2));
    sleep_until(deadline)
}

/// Waits until `deadline`.
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    sleep_until_located(deadline, std::panic::Location::caller())
}

/// `sleep_until`, waiting at `at` (a library's timer, made away from its
/// user's call site).
#[track_caller]
pub(crate) fn sleep_until_located(
    deadline: Instant,
    at: &'static std::panic::Location<'static>,
) -> Sleep {
    crate::task::require_runtime();
    Sleep {
        inner: ::cancelsim::time::sleep_until_located(deadline.0, at),
        deadline,
    }
}

impl Sleep {
    /// When it completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// The deadline has passed.
    pub fn is_elapsed(&self) -> bool {
        self.inner.is_elapsed()
    }

    /// Moves the deadline (the sleep may complete again).
    #[track_caller]
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        self.reset_located(deadline, std::panic::Location::caller());
    }

    pub(crate) fn reset_located(
        mut self: Pin<&mut Self>,
        deadline: Instant,
        at: &'static std::panic::Location<'static>,
    ) {
        *self = Sleep {
            inner: ::cancelsim::time::sleep_until_located(deadline.0, at),
            deadline,
        };
    }
}

impl Sleep {
    /// Polls as a library's own delay, not its user's timer: a `select!`
    /// branch that polls it is not made a timer branch by it.
    pub(crate) fn poll_delay(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.inner).poll_delay(cx)
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.inner).poll(cx)
    }
}

pin_project_lite::pin_project! {
    /// The future of [`timeout`] (tokio's `Timeout`).
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    #[derive(Debug)]
    pub struct Timeout<F> {
        #[pin]
        inner: ::cancelsim::time::Timeout<F>,
        // Where `timeout` was called: a read on a simulated stream inside
        // that no call of the facade's locates (tokio's `Lines`, a
        // `FramedRead`) is named here.
        at: &'static std::panic::Location<'static>,
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, error::Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        crate::io::call_site::polled_at(this.at, || this.inner.poll(cx))
    }
}

/// Runs `future` for at most `duration`: on expiry it is dropped where it
/// waits and the caller gets `Err(Elapsed)`. A sweep expires it at every
/// await point inside (the tokio preset's timeout injection).
#[track_caller]
pub fn timeout<F: std::future::IntoFuture>(
    duration: Duration,
    future: F,
) -> Timeout<F::IntoFuture> {
    crate::task::require_runtime();
    Timeout {
        // tokio polls the inner future before its deadline: a tie is the
        // inner future's, never a choice.
        inner: ::cancelsim::time::timeout(duration, future.into_future()).inner_wins_ties(),
        at: std::panic::Location::caller(),
    }
}

/// Runs `future` until `deadline` at most.
#[track_caller]
pub fn timeout_at<F: std::future::IntoFuture>(
    deadline: Instant,
    future: F,
) -> Timeout<F::IntoFuture> {
    let duration = deadline.saturating_duration_since(Instant::now());
    timeout(duration, future)
}

/// What an [`Interval`] does with ticks it missed (tokio's
/// `MissedTickBehavior`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks at once, then keep the original schedule.
    #[default]
    Burst,
    /// Start the schedule again from the late tick.
    Delay,
    /// Skip the missed ticks, keep to the original schedule.
    Skip,
}

impl MissedTickBehavior {
    fn next(self, scheduled: Instant, now: Instant, period: Duration) -> Instant {
        match self {
            MissedTickBehavior::Burst => scheduled + period,
            MissedTickBehavior::Delay => now + period,
            MissedTickBehavior::Skip => {
                let period_nanos = period.as_nanos().max(1);
                let behind = now.saturating_duration_since(scheduled).as_nanos();
                let ticks = behind / period_nanos + 1;
                scheduled
                    + Duration::from_nanos(
                        (ticks * period_nanos).min(u128::from(u64::MAX / 2)) as u64
                    )
            }
        }
    }
}

/// Ticks every `period` (tokio's `Interval`). Cancel-safe like tokio's: a
/// dropped `tick()` loses no tick.
#[derive(Debug)]
pub struct Interval {
    delay: Pin<Box<Sleep>>,
    period: Duration,
    missed: MissedTickBehavior,
}

/// An interval whose first tick completes at once.
///
/// # Panics
///
/// When `period` is zero (as tokio).
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// An interval whose first tick completes at `start`.
///
/// # Panics
///
/// When `period` is zero (as tokio).
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(period > Duration::ZERO, "`period` must be non-zero.");
    Interval {
        delay: Box::pin(sleep_until(start)),
        period,
        missed: MissedTickBehavior::default(),
    }
}

impl Interval {
    /// Waits for the next tick; returns the instant it was scheduled for.
    #[track_caller]
    pub fn tick(&mut self) -> impl Future<Output = Instant> + '_ {
        let at = std::panic::Location::caller();
        std::future::poll_fn(move |cx| self.poll_tick_at(cx, at))
    }

    /// Polls for the next tick.
    #[track_caller]
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        self.poll_tick_at(cx, std::panic::Location::caller())
    }

    pub(crate) fn poll_tick_at(
        &mut self,
        cx: &mut Context<'_>,
        at: &'static std::panic::Location<'static>,
    ) -> Poll<Instant> {
        if self.delay.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let scheduled = self.delay.deadline();
        let now = Instant::now();
        // tokio applies the missed-tick behaviour only to a tick more than
        // 5 ms late (`tokio/src/time/interval.rs`).
        let next = if now > scheduled + Duration::from_millis(5) {
            self.missed.next(scheduled, now, self.period)
        } else {
            scheduled + self.period
        };
        // The next tick waits where the caller ticks.
        self.delay.as_mut().reset_located(next, at);
        Poll::Ready(scheduled)
    }

    /// The next tick is one period from now.
    #[track_caller]
    pub fn reset(&mut self) {
        self.reset_located(std::panic::Location::caller());
    }

    pub(crate) fn reset_located(&mut self, at: &'static std::panic::Location<'static>) {
        let next = Instant::now() + self.period;
        self.delay.as_mut().reset_located(next, at);
    }

    /// The next tick completes at once.
    #[track_caller]
    pub fn reset_immediately(&mut self) {
        let now = Instant::now();
        self.delay.as_mut().reset(now);
    }

    /// The next tick is `after` from now.
    #[track_caller]
    pub fn reset_after(&mut self, after: Duration) {
        let next = Instant::now() + after;
        self.delay.as_mut().reset(next);
    }

    /// The next tick is at `deadline`.
    #[track_caller]
    pub fn reset_at(&mut self, deadline: Instant) {
        self.delay.as_mut().reset(deadline);
    }

    /// What missed ticks do.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed
    }

    /// Sets what missed ticks do.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed = behavior;
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }
}

/// tokio's `time::pause`: the virtual clock is always paused; no effect.
pub fn pause() {}

/// tokio's `time::resume`: the simulation has no real clock to resume to;
/// no effect (time still advances to each next timer).
pub fn resume() {}

/// tokio's `time::advance`: lets `duration` of virtual time pass (as a
/// sleep: timers due meanwhile fire, in order).
#[track_caller]
pub fn advance(duration: Duration) -> impl Future<Output = ()> {
    sleep(duration)
}
