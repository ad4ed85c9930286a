//! Memory over a million failing runs: sweeps of a body that fails at every
//! injection, repeated, with the resident set size (RSS) printed as they
//! go. A sweep keeps the first failing runs and the first of each group
//! with their traces and counts the rest, and nothing leaks from one sweep
//! to the next, so RSS stays flat.
//!
//! The body fails through an invariant, not by leaking: a body that leaks
//! memory on its cancelled path (a `ManuallyDrop` guard, `mem::forget`)
//! grows by what it leaks in every failing run, as it would anywhere.
//!
//! ```sh
//! cargo run --release --example failing_sweeps_rss            # 1,000,000 failing runs
//! cargo run --release --example failing_sweeps_rss -- 200000  # fewer
//! ```
//!
//! (Linux: RSS is read from `/proc/self/statm`.)

use std::cell::Cell;
use std::rc::Rc;

use cancelsim::{yield_now, CancelMode, Check};

/// Await points of the body: every drop at one of them leaks a resource.
const POINTS: u32 = 50;

/// Marks its work done only at the end: a drop at any await point breaks
/// the invariant that the work finished.
async fn unfinished() {
    let done = Rc::new(Cell::new(false));
    let seen = Rc::clone(&done);
    cancelsim::invariant("the work finished", move || seen.get());
    for _ in 0..POINTS {
        yield_now().await;
    }
    done.set(true);
}

/// The resident set size, in MiB.
fn rss_mib() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|pages| pages.parse().ok())
        .unwrap_or(0.0);
    pages * 4096.0 / (1024.0 * 1024.0)
}

fn main() {
    let target: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    // One sweep: 1,000 seeds x 50 drops at suspension = 50,000 failing runs.
    let per_sweep_seeds: u64 = std::env::args()
        .nth(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    let mut failed = 0usize;
    let mut sweep = 0u64;
    let start = std::time::Instant::now();
    println!("{:>10}  {:>9}  {:>8}", "failing", "RSS MiB", "seconds");
    while failed < target {
        let first = sweep * per_sweep_seeds;
        let report = Check::new(unfinished)
            .cancel_at_every_await(CancelMode::Drop)
            .inject_on_wake(false)
            .seeds(first..first + per_sweep_seeds)
            .run();
        failed += report.counts().failed_runs;
        assert!(
            report.failures().len() <= 101,
            "kept: {}",
            report.failures().len()
        );
        sweep += 1;
        println!(
            "{failed:>10}  {:>9.1}  {:>8.1}",
            rss_mib(),
            start.elapsed().as_secs_f64()
        );
    }
}
