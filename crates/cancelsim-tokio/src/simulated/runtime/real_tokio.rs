//! Real tokio inside a sweep: a dependency compiled against real tokio
//! (tower's `Timeout` and `RateLimit`, backoff's `tokio` feature, tokio's
//! own `mpsc::Sender::send_timeout`) makes its timers on tokio's runtime,
//! which a simulated run does not have: its first one panics with "there
//! is no reactor running".
//!
//! When a sweep's report shows that panic, `#[tokio::test]` sweeps again
//! with a *bridge* in every run: a hidden tokio current-thread runtime,
//! its clock paused, its context entered for the run (so real
//! `tokio::time::sleep` and `tokio::spawn` find a runtime), installed as
//! the run's [`OutsideTimers`]. Whenever every simulated task waits, the
//! hidden runtime runs up to the simulation's next own timer: its clock
//! jumps as tokio's paused clock does, its timers fire and wake the
//! simulated tasks that armed them, at their instant on the virtual clock;
//! the tasks a dependency spawned on it run then too. Each run has a fresh
//! runtime, so nothing of one run reaches the next.
//!
//! What the bridge does not do: a real timer's wait is an await point like
//! any other (drops are injected there), but the sweep injects no expiry
//! into a real `timeout` (only into the facade's); a task spawned on the
//! hidden runtime runs only while every simulated task waits, and is not
//! swept; tokio's clock counts whole milliseconds, so a real timer fires
//! on the millisecond after its deadline, as on tokio's own paused clock.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use ::cancelsim::outside::{Idle, OutsideTimers};

/// The hidden runtime's guard, borrowing the handle kept beside it.
type Guard<'a> = ::tokio::runtime::EnterGuard<'a>;

self_cell::self_cell!(
    /// A handle to the hidden runtime and its entered context.
    struct Entered {
        owner: ::tokio::runtime::Handle,
        #[covariant]
        dependent: Guard,
    }
);

/// How far the hidden clock may run when the simulation has no timer of
/// its own: past it, the run is idle (a deadlock, as without the bridge).
const NO_OWN_TIMER: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// The bridge of one run (see the [module](self)).
struct Bridge {
    /// Dropped first: leaves the context before the runtime goes.
    _entered: Entered,
    runtime: ::tokio::runtime::Runtime,
    /// The hidden clock when the bridge was made, and the simulation's.
    base: ::tokio::time::Instant,
    start: Duration,
}

impl Bridge {
    /// A bridge made at `start` on the virtual clock: the hidden runtime,
    /// entered.
    fn new(start: Duration) -> std::io::Result<Bridge> {
        let runtime = ::tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()?;
        let entered = Entered::new(runtime.handle().clone(), |handle| handle.enter());
        let base = ::tokio::time::Instant::now();
        Ok(Bridge {
            _entered: entered,
            runtime,
            base,
            start,
        })
    }
}

impl OutsideTimers for Bridge {
    fn idle(&mut self, idle: &Idle<'_>) -> Option<Duration> {
        let until = idle.until().unwrap_or(idle.now() + NO_OWN_TIMER);
        let target = self.base + until.saturating_sub(self.start);
        let woken = self.runtime.block_on(async {
            let mut sleep = std::pin::pin!(::tokio::time::sleep_until(target));
            std::future::poll_fn(|cx| {
                if idle.woken() {
                    return Poll::Ready(true);
                }
                if sleep.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(idle.woken());
                }
                idle.wake_on_wake(cx.waker());
                Poll::Pending
            })
            .await
        });
        woken.then(|| self.start + (::tokio::time::Instant::now() - self.base))
    }
}

/// Runs `sweep` without the bridge (`sweep(false)`) and, when its report
/// shows real tokio's "no reactor" panic, again with it; the second
/// sweep then says so on stderr (`test` names the test).
pub(crate) fn sweep_bridged_if_needed(
    test: &str,
    sweep: impl Fn(bool) -> ::cancelsim::Report,
) -> ::cancelsim::Report {
    let report = sweep(false);
    if report.real_tokio_called().is_none() {
        return report;
    }
    // Real tokio's own panic (not the stop of a run after it), whose
    // message is followed by where it was called.
    let call = report
        .failures()
        .iter()
        .flat_map(|failure| failure.violations())
        .find(|violation| {
            violation.message().contains("there is no reactor running")
                && !violation.message().contains(STOPPED)
        });
    let at = call
        .map_or("", |call| call.message())
        .split_once("there is no reactor running")
        .and_then(|(_, rest)| rest.split_once(" at "))
        .and_then(|(_, at)| at.split([';', ' ', '\n']).next())
        .map_or(String::new(), |at| format!(" (first at {at})"));
    use std::io::Write;
    if report.replayed().is_some() {
        // The replay printed its run already: say what follows.
        let _ = writeln!(
            std::io::stderr(),
            "cancelsim: {test}: the replay above hit real tokio's \"no reactor\" panic{at}; \
             replaying again with real tokio bridged in, as the sweep ran it:"
        );
    }
    let report = sweep(true);
    // Past the harness's capture: a sweep that changed how it runs says
    // so in a plain `cargo test` too.
    let _ = writeln!(
        std::io::stderr(),
        "cancelsim: {test}: code compiled against real tokio made a timer or spawned a task \
         inside the simulation{at}; swept again with real tokio's timers and tasks on a hidden \
         paused tokio runtime that follows the virtual clock: their waits are swept like any \
         other, but no expiry is injected into a real tokio `timeout` and the tasks it runs are \
         not swept (depend on the cancelsim-tokio* facades where one exists)"
    );
    report
}

/// The root's panic that stops a run in which a task hit real tokio's
/// "no reactor" panic (it is recognised as that panic).
const STOPPED: &str = "cancelsim-tokio stopped this run: a task hit real tokio's \"there is no \
     reactor running\" panic (code compiled against real tokio called its runtime)";

pin_project_lite::pin_project! {
    /// A run's body: installs the bridge as it is first polled, when its
    /// sweep wants it.
    pub(crate) struct Bridged<F> {
        wanted: bool,
        installed: bool,
        #[pin]
        future: F,
    }
}

impl<F> Bridged<F> {
    /// `future`, with the bridge when `wanted`.
    pub(crate) fn new(wanted: bool, future: F) -> Self {
        Bridged {
            wanted,
            installed: false,
            future,
        }
    }
}

impl<F: Future> Future for Bridged<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        if !*this.wanted && ::cancelsim::__private::real_tokio_panicked() {
            // The run is lost: it does not show what the code does on
            // tokio, and the body may wait for the dead task forever (a
            // polling loop): it stops here, and the sweep runs again with
            // the bridge.
            panic!("{STOPPED}");
        }
        if !*this.installed {
            *this.installed = true;
            if *this.wanted && !::cancelsim::outside::installed() {
                let start = ::cancelsim::time::Instant::now().since_start();
                let bridge = Bridge::new(start).unwrap_or_else(|error| {
                    panic!("cancelsim-tokio: cannot build the hidden tokio runtime: {error}")
                });
                ::cancelsim::outside::install(Box::new(bridge));
            }
        }
        this.future.poll(cx)
    }
}
