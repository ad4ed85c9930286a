//! What the simulated macros expand to; not a public API.

use std::future::Future;

pub use ::cancelsim::__private::{here, TestOutput};
pub use ::cancelsim::select::Race;
pub use cancelsim_macros::branch_location;
pub use tokio;

pub use crate::io::call_site::polled_at;

/// A facade timer for a companion crate (`cancelsim-tokio-stream`'s
/// adapters): waits at `at`, its user's call site, not the crate's.
pub fn sleep_until_located(
    deadline: crate::time::Instant,
    at: &'static std::panic::Location<'static>,
) -> crate::time::Sleep {
    crate::time::sleep_until_located(deadline, at)
}

/// Moves `sleep`'s deadline; it then waits at `at`.
pub fn reset_sleep_located(
    sleep: std::pin::Pin<&mut crate::time::Sleep>,
    deadline: crate::time::Instant,
    at: &'static std::panic::Location<'static>,
) {
    sleep.reset_located(deadline, at);
}

/// Polls `sleep` as a library's own delay (a throttle's pause), not a
/// timer that makes a `select!` branch a timer branch.
pub fn poll_delay(
    sleep: std::pin::Pin<&mut crate::time::Sleep>,
    cx: &mut std::task::Context<'_>,
) -> std::task::Poll<()> {
    sleep.poll_delay(cx)
}

/// `interval.poll_tick(cx)`, its next tick waiting at `at`.
pub fn poll_tick_located(
    interval: &mut crate::time::Interval,
    cx: &mut std::task::Context<'_>,
    at: &'static std::panic::Location<'static>,
) -> std::task::Poll<crate::time::Instant> {
    interval.poll_tick_at(cx, at)
}

/// `interval.reset()`, its next tick waiting at `at`.
pub fn reset_interval_located(
    interval: &mut crate::time::Interval,
    at: &'static std::panic::Location<'static>,
) {
    interval.reset_located(at);
}

/// `join_set.poll_join_next(cx)`, waiting at `at`.
pub fn poll_join_next_located<T: 'static>(
    join_set: &mut crate::task::JoinSet<T>,
    cx: &mut std::task::Context<'_>,
    at: &'static std::panic::Location<'static>,
) -> std::task::Poll<Option<Result<T, crate::task::JoinError>>> {
    join_set.poll_join_next_at(cx, at)
}

/// `select!`'s start branch: a recorded choice at the `select!`'s location.
#[track_caller]
pub fn select_start(branches: u32) -> u32 {
    ::cancelsim::select::start(branches as usize) as u32
}

/// The arguments of the simulated `#[tokio::test(...)]`.
#[derive(Clone, Copy, Debug)]
pub struct TokioTestArgs {
    /// `current_thread` or `multi_thread`: either way one simulated
    /// thread. The schedules explored besides the baseline keep tasks in
    /// wake order for `current_thread` (the default, as tokio's runtime
    /// does, the test body polled first at each turn as tokio's
    /// `block_on` future: `Config::root_first`), and explore task orders
    /// too for `multi_thread`.
    pub flavor: Option<&'static str>,
    /// Accepted and ignored: the simulation has one thread.
    pub worker_threads: Option<usize>,
    /// Accepted: the virtual clock is always paused (it jumps to the next
    /// timer when every task waits).
    pub start_paused: Option<bool>,
    /// Seeds swept (`0..seeds`, default 1).
    pub seeds: Option<u64>,
    /// Random schedules explored (default 16).
    pub explore: Option<u64>,
    /// At most this many injected runs.
    pub max_runs: Option<usize>,
    /// Where the test function's body ends (see `cancelsim`'s
    /// `TestArgs::body_end`).
    pub body_end: Option<&'static std::panic::Location<'static>>,
}

impl TokioTestArgs {
    /// No argument given.
    pub const DEFAULT: TokioTestArgs = TokioTestArgs {
        flavor: None,
        worker_threads: None,
        start_paused: None,
        seeds: None,
        explore: None,
        max_runs: None,
        body_end: None,
    };
}

/// The simulated `#[tokio::test]`: a sweep with the tokio preset; a
/// failure fails the test with the report.
#[track_caller]
pub fn test<F, Fut>(module: &'static str, name: &'static str, args: TokioTestArgs, body: F)
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future + 'static,
    Fut::Output: TestOutput,
{
    let (args, report) = sweep_with_args(module, name, args, body);
    ::cancelsim::__private::finish(module, name, args, &report);
}

/// The sweep of the simulated `#[tokio::test]`, its report returned (what
/// `test` fails the test with).
#[track_caller]
pub fn sweep<F, Fut>(
    module: &'static str,
    name: &'static str,
    args: TokioTestArgs,
    body: F,
) -> ::cancelsim::Report
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future + 'static,
    Fut::Output: TestOutput,
{
    sweep_with_args(module, name, args, body).1
}

/// A run's body as the first sweep of a `#[tokio::test]` runs it (real
/// tokio not bridged in): a run in which a task hit real tokio's "no
/// reactor" panic stops at the body's next poll.
pub fn unbridged<F: Future>(future: F) -> impl Future<Output = F::Output> {
    crate::runtime::Bridged::new(false, future)
}

#[track_caller]
fn sweep_with_args<F, Fut>(
    module: &'static str,
    name: &'static str,
    args: TokioTestArgs,
    body: F,
) -> (::cancelsim::__private::TestArgs, ::cancelsim::Report)
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future + 'static,
    Fut::Output: TestOutput,
{
    let flavor = crate::runtime::Flavor::named(args.flavor);
    let test = std::panic::Location::caller();
    let body = std::sync::Arc::new(body);
    let args = ::cancelsim::__private::TestArgs {
        seeds: args.seeds,
        explore: args.explore,
        max_runs: args.max_runs,
        preset: Some("tokio"),
        flavor: args.flavor,
        body_end: args.body_end,
        ..::cancelsim::__private::TestArgs::DEFAULT
    };
    // Swept again with real tokio bridged in, when code compiled against
    // real tokio called it (see `runtime/real_tokio.rs`).
    let sweep = |bridged: bool| {
        let body = std::sync::Arc::clone(&body);
        let run = move || {
            crate::runtime::Bridged::new(bridged, crate::runtime::WithFlavor::new(flavor, body()))
        };
        ::cancelsim::__private::build_at(module, name, args, run, test).run()
    };
    let report = crate::runtime::sweep_bridged_if_needed(&format!("{module}::{name}"), sweep);
    (args, report)
}

/// The simulated `#[tokio::main]`: one run on a fresh simulated runtime,
/// of tokio's multi-thread flavor (`#[tokio::main]`'s default). The run
/// cannot be run again, so real tokio is bridged in from the start (see
/// `runtime/real_tokio.rs`): a dependency compiled against real tokio
/// finds a runtime on the virtual clock.
pub fn main<F, Fut>(body: F) -> Fut::Output
where
    F: FnOnce() -> Fut,
    Fut: Future,
{
    crate::runtime::Runtime::new()
        .expect("a simulated runtime always builds")
        .block_on(crate::runtime::Bridged::new(true, body()))
}

/// The simulated `#[tokio::main(flavor = "current_thread")]`: one run on
/// a fresh simulated current-thread runtime (the body polled first at each
/// turn, as tokio's `block_on` future; `Handle::runtime_flavor` says
/// `CurrentThread`), real tokio bridged in as for [`main`].
pub fn main_current_thread<F, Fut>(body: F) -> Fut::Output
where
    F: FnOnce() -> Fut,
    Fut: Future,
{
    crate::runtime::Runtime::of_flavor(crate::runtime::Flavor::CurrentThread)
        .block_on(crate::runtime::Bridged::new(true, body()))
}
