//! `sleep` and `sleep_until`.

use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::timers::TimerKey;
use super::Instant;
use crate::trace::{Wait, WaitKind};
use crate::world;

/// Waits until `duration` of virtual time has passed (counted from this call).
///
/// # Panics
///
/// Outside a simulation.
#[track_caller]
#[inline]
pub fn sleep(duration: Duration) -> Sleep {
    let deadline = Instant::now() + duration;
    Sleep::new(deadline, WaitKind::Sleep, Location::caller())
}

/// Waits until virtual time reaches `deadline`.
#[track_caller]
#[inline]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(deadline, WaitKind::Sleep, Location::caller())
}

/// The future of [`sleep`] and [`sleep_until`]. Dropping it cancels the timer.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    deadline: Instant,
    timer: Option<TimerKey>,
    done: bool,
    kind: WaitKind,
    at: &'static Location<'static>,
}

impl Sleep {
    #[inline]
    pub(crate) fn new(deadline: Instant, kind: WaitKind, at: &'static Location<'static>) -> Self {
        Sleep {
            deadline,
            timer: None,
            done: false,
            kind,
            at,
        }
    }

    /// When it fires.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    pub(crate) fn timer_key(&self) -> Option<TimerKey> {
        self.timer
    }

    /// Has the deadline been reached (and the sleep returned)?
    pub fn is_elapsed(&self) -> bool {
        self.done
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.done {
            return Poll::Ready(());
        }
        let this = &mut *self;
        // One look-up of the world per poll: this is on every sleep's path.
        let fired = world::with(|world| {
            let fired = match this.timer {
                None if world.now() >= this.deadline => true,
                None => {
                    // Written in place: returning the key went through
                    // memory and stalled every sleep.
                    world.insert_timer(this.deadline, cx.waker(), &mut this.timer);
                    false
                }
                Some(key) => {
                    let fired = world.poll_timer(key, this.deadline, cx.waker());
                    if fired {
                        // A fired timer is done with: nothing to remove.
                        this.timer = None;
                    }
                    fired
                }
            };
            if !fired {
                world.note_wait(Wait {
                    kind: this.kind,
                    at: Some(this.at),
                });
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

impl Drop for Sleep {
    fn drop(&mut self) {
        if self.timer.is_none() {
            // Never registered, or already fired and returned: nothing to
            // cancel, and no wait of this poll to withdraw.
            return;
        }
        let wait = Wait {
            kind: self.kind,
            at: Some(self.at),
        };
        let timer = self.timer.take();
        world::try_with(|world| {
            if let Some(key) = timer {
                world.remove_timer(key);
            }
            world.retract_wait(wait);
        });
    }
}
