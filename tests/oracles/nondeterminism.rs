//! `nondeterminism`: state read from outside the simulation makes two runs
//! of one seed differ.

use std::sync::atomic::{AtomicU64, Ordering};

use cancelsim::{yield_now, Check};

use crate::common::sweep;
use crate::found;

// ----- nondeterminism --------------------------------------------------------

static CALLS: AtomicU64 = AtomicU64::new(0);

/// Bug: how many yields it does depends on a process-global counter.
async fn reads_a_global_counter() {
    let yields = CALLS.fetch_add(1, Ordering::Relaxed) % 3;
    for _ in 0..yields {
        yield_now().await;
    }
}

/// Fixed: the choice comes from the world's seeded, recorded stream.
async fn draws_from_the_simulation() {
    let yields = cancelsim::random::<u64>() % 3;
    for _ in 0..yields {
        yield_now().await;
    }
}

#[test]
fn reading_state_outside_the_simulation_is_nondeterminism() {
    let report = Check::new(reads_a_global_counter).run();
    let (failure, violation) = found(&report, "nondeterminism")[0];
    assert!(failure.repro().injections.is_empty());
    assert!(violation.message().contains("differ"), "{violation}");
}

#[test]
fn seeded_randomness_is_deterministic() {
    sweep(draws_from_the_simulation)
        .seeds(0..8)
        .run()
        .assert_clean();
}
