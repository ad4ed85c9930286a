//! What a test needs to talk to the simulation, in both builds: on real
//! tokio every call here does nothing, so a test that uses them still runs
//! unchanged without `--cfg cancelsim`.

/// Is this the simulation build (`--cfg cancelsim`)?
///
/// Code and doctests see the same build only if `rustdoc` gets the cfg
/// too: `RUSTDOCFLAGS="--cfg cancelsim"` beside `RUSTFLAGS` (`cargo test`
/// builds doctests with `rustdoc`, which ignores `RUSTFLAGS`). This
/// doctest checks it:
///
/// ```
/// use cancelsim_tokio as tokio;
///
/// assert_eq!(tokio::cancelsim::SIMULATED, cfg!(cancelsim));
///
/// #[cfg(not(cancelsim))]
/// fn build() -> &'static str {
///     "normal"
/// }
/// #[cfg(cancelsim)]
/// fn build() -> &'static str {
///     "simulation"
/// }
///
/// let runtime = tokio::runtime::Builder::new_current_thread()
///     .enable_all()
///     .build()
///     .unwrap();
/// let slept = runtime.block_on(async {
///     let start = tokio::time::Instant::now();
///     tokio::time::sleep(std::time::Duration::from_millis(1)).await;
///     start.elapsed()
/// });
/// assert!(slept >= std::time::Duration::from_millis(1), "{} build", build());
/// ```
pub const SIMULATED: bool = cfg!(cancelsim);

/// `future`, with real tokio bridged in for its run: code compiled
/// against real tokio (a dependency such as tower or backoff, which
/// depends on tokio itself, not on this facade) finds a runtime — a hidden
/// paused tokio runtime whose timers fire on the virtual clock and whose
/// tasks run whenever every simulated task waits. The simulated
/// `#[tokio::test]` does this by itself once its sweep saw real tokio's
/// "there is no reactor running" panic (and says so); wrap a body given to
/// `cancelsim::Check` or `Runtime::block_on` in it. A real `timeout` is
/// swept as any wait (drops), but no expiry is injected into it, and the
/// tasks real tokio runs are not swept. On real tokio: `future` itself.
///
/// ```
/// use cancelsim_tokio as tokio;
/// # mod tower { pub async fn call() -> u32 { ::tokio::time::sleep(std::time::Duration::from_millis(5)).await; 7 } }
///
/// let runtime = tokio::runtime::Builder::new_current_thread()
///     .enable_all()
///     .build()
///     .unwrap();
/// // `tower::call` sleeps on real tokio's clock.
/// let answer = runtime.block_on(tokio::cancelsim::bridge_real_tokio(tower::call()));
/// assert_eq!(answer, 7);
/// ```
pub fn bridge_real_tokio<F: std::future::Future>(
    future: F,
) -> impl std::future::Future<Output = F::Output> {
    #[cfg(cancelsim)]
    return crate::runtime::Bridged::new(true, future);
    #[cfg(not(cancelsim))]
    future
}

/// Registers the program's own cooperative shutdown — `move ||
/// token.cancel()` on a `CancellationToken`, a send on a shutdown channel —
/// for the sweep to fire at every await point of every task. After it
/// fires, every task alive at that moment must finish within the grace
/// budget; `cancel-ignored` names one that does not, also when the
/// program has to abort it, and when the test returns before the grace
/// time is over (its runtime's shutdown then runs the tasks on until it
/// is, reporting nothing else they do). On real tokio: does nothing.
pub fn register_signal(signal: impl FnOnce() + 'static) {
    #[cfg(cancelsim)]
    ::cancelsim::cancel::register_signal(signal);
    #[cfg(not(cancelsim))]
    drop(signal);
}

/// Sets this run's grace time: how long a task may take to end after the
/// registered signal before the sweep calls it `cancel-ignored` (default
/// 1 s). A service designed to drain in-flight work within 5 s says so,
/// next to its [`register_signal`]. On real tokio: does nothing.
pub fn set_grace_time(time: std::time::Duration) {
    #[cfg(cancelsim)]
    ::cancelsim::cancel::set_grace_time(time);
    #[cfg(not(cancelsim))]
    let _ = time;
}

/// Says that this test's assertions must hold whatever a timeout decides:
/// a failing injected timeout expiry is then a failure even when the test
/// fails the same way with the timed-out operation never started (which
/// the sweep otherwise excuses as a test checking the timeout's result —
/// `assert_eq!(lookup().await, 7)` around a `timeout(..).unwrap_or(0)`).
/// Call it first in a `#[tokio::test]` whose assertions are invariants
/// (nothing lost, every finished job recorded); for this test only, where
/// `CANCELSIM_TIMEOUT_RESULTS=fail` is for every test. On real tokio: does
/// nothing.
pub fn strict_timeout_results() {
    #[cfg(cancelsim)]
    ::cancelsim::time::strict_timeout_results();
}

/// Makes the pending and future `tokio::signal::ctrl_c()` of this
/// simulation complete, as if the user pressed Ctrl-C (on unix, it is also
/// a `SIGINT` for `signal::unix::signal(SignalKind::interrupt())`). Only
/// inside a simulation (a test body, a task, a closure given to
/// [`register_signal`]). On real tokio: does nothing.
pub fn fire_ctrl_c() {
    #[cfg(cancelsim)]
    crate::simulated::signal::fire();
}

/// Delivers the unix signal `kind` in this simulation, as if the process
/// received it: each `tokio::signal::unix::Signal` of that kind made before
/// now completes a `recv()` (deliveries made before its next `recv` come
/// as one, as OS signals do). `SignalKind::interrupt()` also fires
/// [`fire_ctrl_c`]. Only inside a simulation. To sweep a service's SIGTERM
/// shutdown at every await point, register it:
///
/// ```rust,ignore
/// tokio::cancelsim::register_signal(|| {
///     tokio::cancelsim::fire_signal(tokio::signal::unix::SignalKind::terminate())
/// });
/// ```
///
/// On real tokio: does nothing (no signal is sent to the process).
#[cfg(all(unix, any(cancelsim, feature = "signal")))]
pub fn fire_signal(kind: crate::signal::unix::SignalKind) {
    #[cfg(cancelsim)]
    crate::simulated::signal::unix::fire(kind);
    #[cfg(not(cancelsim))]
    let _ = kind;
}

/// The virtual cost of each `spawn_blocking` / `fs` call of this thread's
/// simulations (default 1 ms). On real tokio: does nothing.
pub fn set_blocking_cost(cost: std::time::Duration) {
    #[cfg(cancelsim)]
    crate::simulated::task::BLOCKING_COST.with(|c| c.set(cost));
    #[cfg(not(cancelsim))]
    let _ = cost;
}

/// The largest delivery delay of a simulated `io::duplex` or `io::simplex` chunk (default
/// 1 ms; zero turns delays off). Each chunk's delay is a recorded choice:
/// none in the `Fifo` baseline, explored under random schedules. On real
/// tokio: does nothing.
pub fn set_io_delay(max: std::time::Duration) {
    #[cfg(cancelsim)]
    crate::simulated::io::MAX_DELAY.with(|c| c.set(max));
    #[cfg(not(cancelsim))]
    let _ = max;
}
