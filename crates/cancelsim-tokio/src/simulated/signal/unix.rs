//! `tokio::signal::unix`, simulated: a [`Signal`] receives the deliveries
//! of its kind that the test makes with
//! [`fire_signal`](crate::cancelsim::fire_signal) in the same simulation,
//! with tokio's semantics: a listener sees deliveries made after it was
//! created, and several deliveries before one `recv` complete that one
//! `recv` (they coalesce, as OS signals do). No OS signal handler is
//! installed.
//!
//! One difference: a signal delivered before the simulation made any
//! listener of its kind waits for the first one (which sees it at once).
//! In a process such a signal finds no handler: SIGTERM kills the process
//! before the program could shut down gracefully, which no program code
//! can change. A sweep fires the signal at every await point, including
//! those before the service installed its handler; waiting for it keeps
//! those runs about the program's shutdown.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::os::raw::c_int;
use std::task::{Context, Poll, Waker};

/// A kind of unix signal (tokio's `SignalKind`: the same constructors and
/// numbers).
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq)]
pub struct SignalKind(c_int);

impl SignalKind {
    /// The signal numbered `signum`.
    pub const fn from_raw(signum: c_int) -> Self {
        SignalKind(signum)
    }

    /// The signal's number.
    pub const fn as_raw_value(&self) -> c_int {
        self.0
    }

    /// `SIGALRM`.
    pub const fn alarm() -> Self {
        SignalKind(libc::SIGALRM)
    }

    /// `SIGCHLD`.
    pub const fn child() -> Self {
        SignalKind(libc::SIGCHLD)
    }

    /// `SIGHUP`.
    pub const fn hangup() -> Self {
        SignalKind(libc::SIGHUP)
    }

    /// `SIGINFO`.
    #[cfg(any(
        target_os = "dragonfly",
        target_os = "freebsd",
        target_os = "macos",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "illumos"
    ))]
    pub const fn info() -> Self {
        SignalKind(libc::SIGINFO)
    }

    /// `SIGINT` (Ctrl-C).
    pub const fn interrupt() -> Self {
        SignalKind(libc::SIGINT)
    }

    /// `SIGIO`.
    #[cfg(not(target_os = "haiku"))]
    pub const fn io() -> Self {
        SignalKind(libc::SIGIO)
    }

    /// `SIGPOLL`.
    #[cfg(target_os = "haiku")]
    pub const fn io() -> Self {
        SignalKind(libc::SIGPOLL)
    }

    /// `SIGPIPE`.
    pub const fn pipe() -> Self {
        SignalKind(libc::SIGPIPE)
    }

    /// `SIGQUIT`.
    pub const fn quit() -> Self {
        SignalKind(libc::SIGQUIT)
    }

    /// `SIGTERM` (what an orchestrator sends to stop a service).
    pub const fn terminate() -> Self {
        SignalKind(libc::SIGTERM)
    }

    /// `SIGUSR1`.
    pub const fn user_defined1() -> Self {
        SignalKind(libc::SIGUSR1)
    }

    /// `SIGUSR2`.
    pub const fn user_defined2() -> Self {
        SignalKind(libc::SIGUSR2)
    }

    /// `SIGWINCH`.
    pub const fn window_change() -> Self {
        SignalKind(libc::SIGWINCH)
    }
}

impl From<c_int> for SignalKind {
    fn from(signum: c_int) -> Self {
        SignalKind::from_raw(signum)
    }
}

impl From<SignalKind> for c_int {
    fn from(kind: SignalKind) -> Self {
        kind.as_raw_value()
    }
}

/// The signals of one simulation delivered so far, and who waits for them.
#[derive(Default)]
struct Deliveries {
    /// The simulation they belong to.
    simulation: Option<u64>,
    /// Deliveries of each signal number.
    counts: BTreeMap<c_int, u64>,
    /// Signal numbers a listener was made for.
    listened: BTreeSet<c_int>,
    /// Tasks waiting in `recv` (woken at every delivery).
    waiters: Vec<Waker>,
}

thread_local! {
    static DELIVERIES: RefCell<Deliveries> = RefCell::default();
}

/// Runs `f` on the deliveries of the caller's simulation (fresh ones for a
/// new simulation).
fn with_deliveries<R>(f: impl FnOnce(&mut Deliveries) -> R) -> R {
    let here = ::cancelsim::simulation_id();
    DELIVERIES.with(|deliveries| {
        let mut deliveries = deliveries.borrow_mut();
        if deliveries.simulation != here {
            *deliveries = Deliveries {
                simulation: here,
                ..Deliveries::default()
            };
        }
        f(&mut deliveries)
    })
}

/// The deliveries a new listener of `kind` counts as seen: all so far,
/// unless it is the simulation's first listener of `kind`.
fn seen_by_new_listener(kind: SignalKind) -> u64 {
    with_deliveries(|deliveries| {
        if deliveries.listened.insert(kind.0) {
            0
        } else {
            deliveries.counts.get(&kind.0).copied().unwrap_or(0)
        }
    })
}

/// Delivers `kind` in the caller's simulation (nothing outside one).
pub(crate) fn deliver(kind: SignalKind) {
    if !::cancelsim::in_simulation() {
        return;
    }
    let waiters = with_deliveries(|deliveries| {
        *deliveries.counts.entry(kind.0).or_insert(0) += 1;
        std::mem::take(&mut deliveries.waiters)
    });
    waiters.into_iter().for_each(Waker::wake);
}

/// Signals no process may handle (signal-hook's `FORBIDDEN`, which tokio
/// refuses too).
const FORBIDDEN: [c_int; 5] = [
    libc::SIGKILL,
    libc::SIGSTOP,
    libc::SIGILL,
    libc::SIGFPE,
    libc::SIGSEGV,
];

/// A listener for one kind of signal (tokio's `Signal`).
#[must_use = "streams do nothing unless polled"]
#[derive(Debug)]
pub struct Signal {
    kind: SignalKind,
    /// Deliveries of `kind` this listener has seen.
    seen: u64,
}

/// Listens for `kind` from now on (tokio's `signal`; the simulation's
/// first listener of `kind` also sees the deliveries made before it).
///
/// # Errors
///
/// For a signal no process may handle (`SIGKILL`, `SIGSTOP`, `SIGILL`,
/// `SIGFPE`, `SIGSEGV`) or a number that is not positive, with tokio's
/// message.
///
/// # Panics
///
/// Outside a simulated runtime, as tokio outside one.
#[track_caller]
pub fn signal(kind: SignalKind) -> std::io::Result<Signal> {
    crate::task::require_runtime();
    if kind.0 <= 0 || FORBIDDEN.contains(&kind.0) {
        return Err(std::io::Error::other(format!(
            "Refusing to register signal {}",
            kind.0
        )));
    }
    super::real::watch(kind.0);
    Ok(Signal {
        kind,
        seen: seen_by_new_listener(kind),
    })
}

impl Signal {
    /// Waits for the next delivery of the signal; several made since the
    /// last `recv` complete this one. Always `Some` (the simulation never
    /// shuts the signal driver down).
    pub async fn recv(&mut self) -> Option<()> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next delivery of the signal.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        let kind = self.kind;
        with_deliveries(|deliveries| {
            let count = deliveries.counts.get(&kind.0).copied().unwrap_or(0);
            if count > self.seen {
                self.seen = count;
                return Poll::Ready(Some(()));
            }
            if !deliveries.waiters.iter().any(|w| w.will_wake(cx.waker())) {
                deliveries.waiters.push(cx.waker().clone());
            }
            Poll::Pending
        })
    }
}

/// Delivers `kind` in the caller's simulation; SIGINT also fires Ctrl-C.
pub(crate) fn fire(kind: SignalKind) {
    if kind == SignalKind::interrupt() {
        super::fire();
    } else {
        deliver(kind);
    }
}
