//! The harness of the comparison tests: one program, written once as a
//! macro body over the crates it runs on, run on real tokio-stream over real
//! tokio's paused current-thread runtime, and on the drop-ins.
#![allow(dead_code, unused_macros)]

use std::sync::{Arc, Mutex};

/// What a program logged: (virtual milliseconds since its start, event).
pub type Log = Arc<Mutex<Vec<(u128, String)>>>;

/// Runs `$program` (an async block using `$rt` as the tokio crate, `$stream`
/// as the tokio-stream crate, and `note!(log, start, "…")`) on real tokio and
/// tokio-stream, and on cancelsim-tokio and cancelsim-tokio-stream; returns
/// both logs.
macro_rules! both {
    (|$rt:ident, $stream:ident, $log:ident, $start:ident| $program:expr) => {{
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
                    use tokio_stream as $stream;
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
                    use cancelsim_tokio_stream as $stream;
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

/// The text of a panic payload, or a description of its type.
pub fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        format!("&str {text:?}")
    } else if let Some(text) = payload.downcast_ref::<String>() {
        format!("String {text:?}")
    } else {
        "other".to_string()
    }
}
