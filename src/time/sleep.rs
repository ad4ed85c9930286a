//! `sleep` and `sleep_until`.

use std::future::Future;
use std::num::NonZeroU32;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::Instant;
use crate::trace::{Wait, WaitKind};
use crate::world;
use crate::world::TimerKey;

/// Waits until `duration` of virtual time has passed (counted from this call).
///
/// # Panics
///
/// Outside a simulation.
#[track_caller]
#[inline]
pub fn sleep(duration: Duration) -> Sleep {
    // One look-up of the world: the clock, and the race this is made in.
    let (now, born) = world::with(|world| (world.now(), world.race_tag()));
    Sleep::new(now + duration, false, Location::caller()).born(born)
}

/// Waits until virtual time reaches `deadline`.
#[track_caller]
#[inline]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(deadline, false, Location::caller()).born(born_now())
}

/// `sleep_until`, reported as waiting at `at` (for a library whose own
/// timer type is created away from its user's call site, as an interval's
/// next tick is).
pub fn sleep_until_located(deadline: Instant, at: &'static Location<'static>) -> Sleep {
    Sleep::new(deadline, false, at).born(born_now())
}

/// The race tag a `Sleep` made now keeps (0 outside a simulation).
#[inline]
fn born_now() -> u16 {
    world::try_with(|world| world.race_tag()).unwrap_or(0)
}

/// The future of [`sleep`] and [`sleep_until`]. Dropping it cancels the timer.
///
/// 32 bytes, inside the task's future (docs/performance.md, "Cache
/// lines"): the timer's key is kept as its parts, without a second copy of
/// the deadline, and the wait kind as a flag.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    deadline: Instant,
    /// The armed timer's sequence number (see [`TimerKey::parts`]).
    seq: u64,
    /// The armed timer's place in its instant's list, counted from 1; `None`
    /// while no timer is armed (never registered, or fired).
    place: Option<NonZeroU32>,
    done: bool,
    /// The timer of a `timeout` rather than a `sleep` (what a trace and a
    /// deadlock report say the task waits on).
    timeout: bool,
    /// The race it was made in, while a branch of that race was polled
    /// (`World::race_tag`; 0: made outside races): polled in a branch of
    /// the same race, it is an indirect timer (a `sleep` inside an `async`
    /// block of the branch), not one the race was given.
    born: u16,
    at: &'static Location<'static>,
}

impl Sleep {
    #[inline]
    pub(crate) fn new(deadline: Instant, timeout: bool, at: &'static Location<'static>) -> Self {
        Sleep {
            deadline,
            seq: 0,
            place: None,
            done: false,
            timeout,
            born: 0,
            at,
        }
    }

    /// Made in the race tagged `born`.
    #[inline(always)]
    fn born(mut self, born: u16) -> Self {
        self.born = born;
        self
    }

    /// What a task waiting on this waits on.
    #[inline(always)]
    fn wait(&self) -> Wait {
        Wait {
            kind: if self.timeout {
                WaitKind::Timeout
            } else {
                WaitKind::Sleep
            },
            at: Some(self.at),
        }
    }

    /// When it fires.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    pub(crate) fn timer_key(&self) -> Option<TimerKey> {
        self.place
            .map(|place| TimerKey::new(self.deadline.0, self.seq, place))
    }

    /// Has the deadline been reached (and the sleep returned)?
    pub fn is_elapsed(&self) -> bool {
        self.done
    }
}

impl Sleep {
    /// Polls as [`Future::poll`] does, but as a library's own delay, not
    /// its user's timer: a `select!` branch that polls it is not made a
    /// timer branch by it (the tokio facade's streams wait out a chunk's
    /// delivery delay with it, inside the user's read).
    pub fn poll_delay(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.poll_timer(cx, false)
    }

    #[inline(always)]
    fn poll_timer(mut self: Pin<&mut Self>, cx: &mut Context<'_>, race_timer: bool) -> Poll<()> {
        if self.done {
            if race_timer {
                polled_again(self.born, self.deadline);
            }
            return Poll::Ready(());
        }
        let this = &mut *self;
        // One look-up of the world per poll: this is on every sleep's path.
        let fired = world::with(|world| {
            let fired = match this.place {
                None if world.now() >= this.deadline => true,
                None => {
                    // Written in place (docs/performance.md, "Moving
                    // through memory").
                    world.insert_timer(this.deadline, cx.waker(), &mut this.seq, &mut this.place);
                    false
                }
                Some(place) => {
                    let key = TimerKey::new(this.deadline.0, this.seq, place);
                    let fired = world.poll_timer(key, this.deadline, cx.waker());
                    if fired {
                        // A fired timer is done with: nothing to remove.
                        this.place = None;
                    }
                    fired
                }
            };
            if !fired {
                world.note_wait(this.wait());
            }
            // A `select!` polling a branch learns that it is a timer.
            if race_timer {
                world.note_timer_polled(fired, this.born, this.deadline);
            }
            fired
        });
        if fired {
            this.done = true;
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Future for Sleep {
    type Output = ();

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.poll_timer(cx, true)
    }
}

/// A `Sleep` polled after it returned: a `select!` branch that is this
/// timer is ready again. Out of line: the first polls stay lean.
#[cold]
#[inline(never)]
fn polled_again(born: u16, deadline: Instant) {
    world::try_with(|world| world.note_timer_polled(true, born, deadline));
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if self.place.is_none() {
            // Never registered, or already fired and returned: nothing to
            // cancel, and no wait of this poll to withdraw.
            return;
        }
        let wait = self.wait();
        let timer = self.timer_key();
        self.place = None;
        world::try_with(|world| {
            if let Some(key) = timer {
                world.remove_timer(key);
            }
            world.retract_wait(wait);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::Sleep;

    /// A `Sleep` lives in every sleeping task's future: it stays at half a
    /// cache line.
    #[test]
    fn a_sleep_is_half_a_cache_line() {
        assert!(
            std::mem::size_of::<Sleep>() <= 32,
            "{}",
            std::mem::size_of::<Sleep>()
        );
    }
}
