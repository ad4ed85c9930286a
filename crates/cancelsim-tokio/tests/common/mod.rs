//! The harness of the comparison tests: one program, written once as a
//! macro body over the crate it runs on, run on real tokio's paused
//! current-thread runtime and on the facade.
#![allow(dead_code, unused_macros)]

use std::sync::{Arc, Mutex};
#[cfg(cancelsim)]
use std::time::Duration;

/// What a program logged: (virtual milliseconds since its start, event).
pub type Log = Arc<Mutex<Vec<(u128, String)>>>;

/// Runs `$program` (an async block using `$rt` as the tokio crate, and
/// `note!(log, start, "…")`) on real tokio and on the facade; returns both
/// logs.
macro_rules! both {
    (|$rt:ident, $log:ident, $start:ident| $program:expr) => {{
        let real: Log = Arc::default();
        {
            let $log = Arc::clone(&real);
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .start_paused(true)
                .build()
                .unwrap()
                .block_on(async move {
                    use tokio as $rt;
                    let $start = $rt::time::Instant::now();
                    let _ = &$start;
                    $program.await
                });
        }
        let sim: Log = Arc::default();
        {
            let $log = Arc::clone(&sim);
            cancelsim_tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .start_paused(true)
                .build()
                .unwrap()
                .block_on(async move {
                    use cancelsim_tokio as $rt;
                    let $start = $rt::time::Instant::now();
                    let _ = &$start;
                    $program.await
                });
        }
        let real = std::mem::take(&mut *real.lock().unwrap());
        let sim = std::mem::take(&mut *sim.lock().unwrap());
        (real, sim)
    }};
}

macro_rules! note {
    ($log:ident, $start:ident, $($arg:tt)*) => {
        {
            let line = ($start.elapsed().as_millis(), format!($($arg)*));
            $log.lock().unwrap().push(line);
        }
    };
}

/// `text` with every run of digits replaced by `#`: task ids differ
/// between the two runtimes (tokio's are process-wide).
pub fn without_numbers(text: &str) -> String {
    let mut out = String::new();
    let mut in_number = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            if !in_number {
                out.push('#');
            }
            in_number = true;
        } else {
            out.push(c);
            in_number = false;
        }
    }
    out
}

/// The text of a panic payload, or a description of its type.
pub fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        format!("&str {text:?}")
    } else if let Some(text) = payload.downcast_ref::<String>() {
        format!("String {text:?}")
    } else if let Some(n) = payload.downcast_ref::<u32>() {
        format!("u32 {n}")
    } else {
        "other".to_string()
    }
}

/// Runs `f` with the facade's `spawn_blocking` cost set to `cost`, then
/// restores the default (1 ms).
#[cfg(cancelsim)]
pub fn with_blocking_cost<R>(cost: Duration, f: impl FnOnce() -> R) -> R {
    cancelsim_tokio::cancelsim::set_blocking_cost(cost);
    let out = f();
    cancelsim_tokio::cancelsim::set_blocking_cost(Duration::from_millis(1));
    out
}

/// `lines` as an owned log.
pub fn log_of(lines: &[(u128, &str)]) -> Vec<(u128, String)> {
    lines.iter().map(|(t, s)| (*t, s.to_string())).collect()
}

/// The tokio preset's sweep of `body`, as `#[tokio::test]` runs it.
#[cfg(cancelsim)]
pub fn tokio_sweep<F, Fut>(body: F) -> cancelsim::Report
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()>,
{
    cancelsim::Check::new(body).tokio_preset().run()
}

/// The repro lines of a report's failing runs.
#[cfg(cancelsim)]
pub fn failing_repros(report: &cancelsim::Report) -> Vec<String> {
    report
        .failures()
        .iter()
        .map(|failure| failure.repro().to_string())
        .collect()
}
