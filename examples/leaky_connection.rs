//! A connection handed back to its pool only on the success path: cancelled
//! at the await point in between, it leaks. Run it to see a failure report:
//!
//! ```sh
//! cargo run --example leaky_connection
//! ```
//!
//! and replay the failing run it names with
//! `CANCELSIM_REPLAY='<repro>' cargo run --example leaky_connection`.

use std::mem::ManuallyDrop;
use std::time::Duration;

use cancelsim::{CancelMode, Check};

/// Borrows a connection, uses it, gives it back — but only if nothing
/// interrupts the query.
async fn query() {
    // A raw handle that must be returned by hand (no Drop guard).
    let conn = ManuallyDrop::new(cancelsim::resource::acquire("db connection"));
    cancelsim::time::sleep(Duration::from_millis(10)).await; // the query
    ManuallyDrop::into_inner(conn).release();
}

fn main() {
    let report = Check::new(|| async {
        let worker = cancelsim::spawn_named("worker", query());
        let _ = worker.await;
    })
    .cancel_at_every_await(CancelMode::Both)
    .run();
    println!("{report}");
    std::process::exit(if report.is_clean() { 0 } else { 1 });
}
