//! The two worlds: a fresh cancelsim `Sim` (trace mode, step budget) and a
//! fresh paused current-thread tokio runtime, each built, run and dropped
//! inside the measurement.

use cancelsim::{Config, Sim, TraceMode};

/// Trace mode of the timed cancelsim runs: `Full` unless `--trace off` (a
/// diagnostic knob, to see what recording costs).
pub(crate) static TRACE_MODE: std::sync::OnceLock<TraceMode> = std::sync::OnceLock::new();

pub(crate) fn trace_mode() -> TraceMode {
    *TRACE_MODE.get().unwrap_or(&TraceMode::Full)
}

/// Step budget for cancelsim: far above what any workload needs, so the
/// budget never ends a run early.
pub(crate) const MAX_STEPS: u64 = 1_000_000_000;

pub(crate) fn sim_config() -> Config {
    Config::default().max_steps(MAX_STEPS).trace(trace_mode())
}

/// Runs `future` as the root of a fresh cancelsim world, then drops the world.
pub(crate) fn on_cancelsim<F: std::future::Future>(config: Config, future: F) -> F::Output {
    let mut sim = Sim::new(config);
    let out = sim
        .block_on(future)
        .unwrap_or_else(|error| panic!("cancelsim run failed: {error}"));
    drop(sim);
    out
}

pub(crate) fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a current-thread runtime builds")
}

/// Runs `future` on a fresh paused tokio runtime, then drops the runtime.
pub(crate) fn on_tokio<F: std::future::Future>(future: F) -> F::Output {
    let runtime = tokio_runtime();
    let out = runtime.block_on(future);
    drop(runtime);
    out
}
