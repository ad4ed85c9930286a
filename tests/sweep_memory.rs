//! Memory of a failing sweep does not grow with its failing runs: the
//! report keeps the first failing runs and the first of each group with
//! their traces, and counts the rest (`examples/failing_sweeps_rss.rs`
//! shows a million). The resident set size (Linux `/proc/self/statm`) is
//! compared after a small and after a large failing sweep, with a margin
//! far below what keeping each failing run would take.

use std::cell::Cell;
use std::rc::Rc;

use cancelsim::{yield_now, CancelMode, Check};

/// Marks its work done only at the end: a drop at any of its 50 await
/// points breaks the invariant (a failure that leaks nothing itself).
async fn unfinished() {
    let done = Rc::new(Cell::new(false));
    let seen = Rc::clone(&done);
    cancelsim::invariant("the work finished", move || seen.get());
    for _ in 0..50 {
        yield_now().await;
    }
    done.set(true);
}

fn rss_mib() -> Option<f64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: f64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096.0 / (1024.0 * 1024.0))
}

fn failing_sweep(seeds: u64) -> cancelsim::Report {
    Check::new(unfinished)
        .cancel_at_every_await(CancelMode::Drop)
        .inject_on_wake(false)
        .seeds(0..seeds)
        .threads(2)
        .run()
}

#[test]
fn a_large_failing_sweep_takes_no_more_memory_than_a_small_one() {
    let small = failing_sweep(40);
    assert_eq!(small.counts().failed_runs, 40 * 50);
    drop(small);
    let Some(before) = rss_mib() else {
        return; // not Linux: nothing to read
    };
    let large = failing_sweep(600);
    let after = rss_mib().expect("read before");
    let counts = large.counts();
    assert_eq!(counts.failed_runs, 600 * 50);
    assert!(large.failures().len() <= 101, "{}", large.failures().len());
    assert_eq!(large.failure_groups().len(), 1);
    assert_eq!(large.failure_groups()[0].runs, 30_000);
    // Keeping every failing run (with its ~7 KB trace) took ~200 MiB here.
    assert!(
        after - before < 24.0,
        "RSS grew from {before:.1} MiB to {after:.1} MiB over 30,000 failing runs"
    );
}
