//! The stable text form of a trace (for people and insta snapshots).
//!
//! ```text
//! cancelsim trace v2
//! seed 0, scheduler fifo
//!   step       time  task         event
//!      0     0.000s  main#0       poll
//!      0     0.000s  main#0       spawn fetch#1 at tests/executor.rs:10:5
//! ```
//!
//! The first line is [`TEXT_FORMAT_VERSION`](super::TEXT_FORMAT_VERSION); any
//! change to this format bumps it and is a reviewed snapshot update.

use std::fmt;

use super::{
    display_location, CancelVia, Event, EventKind, Outcome, SourceLocation, Trace, WaitKind,
    WakeCause,
};
use crate::vocab::write_wait_joining;
use crate::vocab::Instant;

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_text(f, None)
    }
}

/// The text form of a trace with only its first and last events, the ones
/// between replaced by one `… N events omitted` line: see
/// [`Trace::excerpt`].
#[derive(Clone, Copy, Debug)]
pub struct Excerpt<'a> {
    trace: &'a Trace,
    head: usize,
    tail: usize,
    note: &'a str,
}

impl fmt::Display for Excerpt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.trace.write_text(f, Some(*self))
    }
}

impl Trace {
    /// The text form with the first `head` and the last `tail` events only
    /// (all of them when there are no more than `head + tail`); the events
    /// between are one line, `… N events omitted (note)` (no parenthesis
    /// when `note` is empty). For a report that must stay readable however
    /// long the run was (a livelock's million steps).
    pub fn excerpt<'a>(&'a self, head: usize, tail: usize, note: &'a str) -> Excerpt<'a> {
        Excerpt {
            trace: self,
            head,
            tail,
            note,
        }
    }

    /// Writes the text form: every event, or an excerpt's.
    fn write_text(&self, f: &mut fmt::Formatter<'_>, excerpt: Option<Excerpt<'_>>) -> fmt::Result {
        writeln!(f, "{}", super::TEXT_FORMAT_VERSION)?;
        writeln!(f, "seed {}, scheduler {}", self.seed(), self.scheduler())?;
        if !self.enabled {
            return writeln!(f, "(trace off)");
        }
        if self.dropped() > 0 {
            writeln!(
                f,
                "({} earlier events dropped: trace capped at the last {})",
                self.dropped(),
                self.cap.unwrap_or(0)
            )?;
        }
        writeln!(f, "{:>6} {:>10}  {:<12} event", "step", "time", "task")?;
        let len = self.len();
        let (head, omitted) = match excerpt {
            Some(excerpt) if len > excerpt.head.saturating_add(excerpt.tail) => {
                (excerpt.head, len - excerpt.head - excerpt.tail)
            }
            _ => (len, 0),
        };
        for event in self.events().take(head) {
            writeln!(f, "{}", self.line(&event))?;
        }
        if omitted == 0 {
            return Ok(());
        }
        match excerpt.map_or("", |excerpt| excerpt.note) {
            "" => writeln!(f, "     … {omitted} events omitted")?,
            note => writeln!(f, "     … {omitted} events omitted ({note})")?,
        }
        for event in self.events().skip(head + omitted) {
            writeln!(f, "{}", self.line(&event))?;
        }
        Ok(())
    }
}

struct Describe<'a>(&'a Trace, &'a Event);

impl Trace {
    /// What one event says in its line of the text form, without the
    /// step, time and task columns.
    pub fn describe(&self, event: &Event) -> String {
        Describe(self, event).to_string()
    }

    /// One event as its line of the text form.
    pub fn line(&self, event: &Event) -> String {
        format!(
            "{:>6} {:>10}  {:<12} {}",
            event.step,
            event.time.to_string(),
            self.task_label(event.task),
            Describe(self, event)
        )
    }
}

fn duration(nanos: u64) -> Instant {
    Instant(nanos)
}

impl fmt::Display for Describe<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Describe(trace, event) = *self;
        match event.kind {
            EventKind::Spawn { child, at } => write!(
                f,
                "spawn {} at {}",
                trace.task_label(child),
                display_location(at)
            ),
            EventKind::Poll => f.write_str("poll"),
            EventKind::Suspend { ordinal, wait } => {
                write!(f, "suspend at await point {ordinal} on ")?;
                // The task joined, by its name: `join fs::write#3`.
                let joined = match wait.kind {
                    WaitKind::Join(task) if trace.task_name(task).is_some() => {
                        Some(trace.task_label(task))
                    }
                    _ => None,
                };
                write_wait_joining(f, &wait, joined.as_deref())
            }
            EventKind::Wake { by } => match by {
                WakeCause::Task(task) => write!(f, "woken by {}", trace.task_label(task)),
                WakeCause::Timer => f.write_str("woken by timer"),
                WakeCause::Outside => f.write_str("woken from outside"),
            },
            EventKind::CancelRequested { by, via, at } => {
                f.write_str("cancel requested")?;
                if let Some(by) = by {
                    write!(f, " by {}", trace.task_label(by))?;
                }
                match via {
                    CancelVia::Handle => {}
                    CancelVia::Group(group) => write!(f, " via group {group}")?,
                    CancelVia::Injection => f.write_str(" by injection")?,
                    CancelVia::Timeout(scope) => write!(f, " via timeout #{scope}")?,
                }
                write_at(f, at)
            }
            EventKind::CancelDelivered { at } => {
                write!(
                    f,
                    "cancel delivered as Err(Cancelled) at {}",
                    display_location(at)
                )
            }
            EventKind::Abort { by, at } => {
                f.write_str("aborted")?;
                if let Some(by) = by {
                    write!(f, " by {}", trace.task_label(by))?;
                }
                write_at(f, at)?;
                f.write_str(": future dropped")
            }
            EventKind::Work { cost_nanos, at } => write!(
                f,
                "work {} at {}",
                duration(cost_nanos),
                display_location(at)
            ),
            EventKind::BlockingStart { cost_nanos, at } => write!(
                f,
                "blocking work started for {} at {}",
                duration(cost_nanos),
                display_location(at)
            ),
            EventKind::BlockingEnd => f.write_str("blocking work finished"),
            EventKind::HeldForExpiry {
                until,
                blocking: true,
            } => write!(
                f,
                "blocking work held until after {until}: the injected expiry makes it the slow \
                 backend its timeout waits on, done only after that timeout fires"
            ),
            EventKind::HeldForExpiry {
                until,
                blocking: false,
            } => write!(
                f,
                "wake held until {until} by the injected expiry: what the task waits on is slow, \
                 its timeout fires first"
            ),
            EventKind::TimeoutFired {
                race: Some(race),
                at,
                ..
            } => write!(
                f,
                "select! #{race}'s timer branch won ({})",
                display_location(at)
            ),
            EventKind::TimeoutFired { scope, at, .. } => {
                write!(f, "timeout #{scope} fired ({})", display_location(at))
            }
            EventKind::Random { value, at } => {
                write!(f, "random {value} at {}", display_location(at))
            }
            EventKind::Choice {
                chosen,
                options,
                at,
                label,
            } => {
                write!(
                    f,
                    "choice {chosen} of {options} at {}",
                    display_location(at)
                )?;
                match label.and_then(|label| trace.message(label)) {
                    Some(label) => write!(f, ": {label}"),
                    None => Ok(()),
                }
            }
            EventKind::SelectWon {
                branch,
                dropped,
                point,
                at,
            } => {
                write!(
                    f,
                    "select! at {}: branch {branch} won",
                    display_location(at)
                )?;
                let losers: Vec<String> = (0..32)
                    .filter(|bit| dropped & (1 << bit) != 0)
                    .map(|bit| bit.to_string())
                    .collect();
                match losers.len() {
                    0 => Ok(()),
                    1 => write!(f, "; dropped pending branch {}", losers[0]),
                    _ => write!(f, "; dropped pending branches {}", losers.join(", ")),
                }?;
                if !losers.is_empty() && point > 0 {
                    write!(f, " (waiting at await point {point})")?;
                }
                Ok(())
            }
            EventKind::SignalFired => {
                f.write_str("cancellation signal fired: every live task must finish")
            }
            EventKind::Complete { outcome } => match outcome {
                Outcome::Returned => f.write_str("completed: returned"),
                Outcome::Aborted => f.write_str("completed: aborted"),
                Outcome::Panicked(message) => write!(
                    f,
                    "completed: panicked: {}",
                    trace.message(message).unwrap_or("?")
                ),
            },
            EventKind::Deadlock => f.write_str("deadlock: no task can run, no timer pending"),
            EventKind::Injected { kind, point, at } => {
                write!(f, "injected {} at await point {point}", kind.name())?;
                if at == crate::vocab::InjectAt::Wake {
                    f.write_str(" (woken, before its poll)")?;
                }
                // What the injection means, where it takes effect later.
                match kind {
                    crate::InjectionKind::Timeout => {
                        f.write_str(": what it waits on is not done before the deadline, where the timeout fires")
                    }
                    crate::InjectionKind::TimeoutOuter => f.write_str(
                        ": what it waits on is not done before the deadline of the timeout around its own, where that one fires",
                    ),
                    crate::InjectionKind::Stall => f.write_str(": this wait does not end"),
                    _ => Ok(()),
                }
            }
            EventKind::Acquire { name, at } => write!(
                f,
                "acquire `{}` at {}",
                trace.message(name).unwrap_or("?"),
                display_location(at)
            ),
            EventKind::Release { name } => {
                write!(f, "release `{}`", trace.message(name).unwrap_or("?"))
            }
            EventKind::Violation { code } => write!(f, "violation {code}"),
            EventKind::Drain => f.write_str("root finished: draining detached work"),
            EventKind::GraceRun { until } => write!(
                f,
                "root finished within the signal's grace time: the tasks run on until {until}, \
                 as if the test had waited (nothing else they do is reported)"
            ),
        }
    }
}

/// ` at file:line:column` when a call site is known.
fn write_at(f: &mut fmt::Formatter<'_>, at: Option<SourceLocation>) -> fmt::Result {
    match at {
        Some(at) => write!(f, " at {}", display_location(at)),
        None => Ok(()),
    }
}
