//! Virtual instants.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};
use std::time::Duration;

/// A point in virtual time, counted in nanoseconds from the start of the world.
///
/// Virtual time starts at zero, never moves on its own, and jumps to the next
/// timer deadline when no task can run. It has nothing to do with the wall
/// clock, so it is the same on every machine.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(pub(crate) u64);

impl Instant {
    /// The start of every world.
    pub const ZERO: Instant = Instant(0);

    /// Time since the start of the world.
    pub fn since_start(self) -> Duration {
        Duration::from_nanos(self.0)
    }

    /// Nanoseconds since the start of the world.
    pub fn as_nanos(self) -> u64 {
        self.0
    }

    /// `self - earlier`, or zero if `earlier` is later.
    pub fn duration_since(self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }

    /// `self + d`, saturating at the end of representable time.
    pub fn saturating_add(self, d: Duration) -> Instant {
        Instant(self.0.saturating_add(nanos(d)))
    }
}

pub(crate) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        self.saturating_add(d)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, d: Duration) {
        *self = *self + d;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, earlier: Instant) -> Duration {
        self.duration_since(earlier)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Renders as seconds with millisecond precision (`1.250s`), adding digits
/// only when the instant is not a whole millisecond (`0.000000500s`).
impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0 / 1_000_000_000;
        let sub = self.0 % 1_000_000_000;
        let text = if sub % 1_000_000 == 0 {
            format!("{secs}.{:03}s", sub / 1_000_000)
        } else {
            format!("{secs}.{sub:09}s")
        };
        f.pad(&text)
    }
}
