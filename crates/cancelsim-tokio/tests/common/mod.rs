//! The harness of the comparison tests: one program, written once as a
//! macro body over the crate it runs on, run on real tokio's paused
//! current-thread runtime and on the facade.
#![allow(dead_code, unused_macros)]

use std::sync::{Arc, Mutex};

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
