//! The harness of the comparison tests: one program, written once as a
//! macro body over the crates it runs on, run on real tokio-util over real
//! tokio's paused current-thread runtime, and on the drop-ins.
#![allow(dead_code, unused_macros)]

use std::sync::{Arc, Mutex};

/// What a program logged: (virtual milliseconds since its start, event).
pub type Log = Arc<Mutex<Vec<(u128, String)>>>;

/// Runs `$program` (an async block using `$rt` as the tokio crate, `$util`
/// as the tokio-util crate, and `note!(log, start, "…")`) on real tokio and
/// tokio-util, and on cancelsim-tokio and cancelsim-tokio-util; returns
/// both logs.
macro_rules! both {
    (|$rt:ident, $util:ident, $log:ident, $start:ident| $program:expr) => {{
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
                    use tokio_util as $util;
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
                    use cancelsim_tokio_util as $util;
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
