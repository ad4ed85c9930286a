//! The determinism check of a sweep's baselines: each baseline runs twice,
//! and the second run is checked question by question against the first.
//! A program that reads something outside the simulation is named at the
//! first decision where the runs parted; a program whose runs agree but
//! whose assertions do not is named by the differing violation, with the
//! shared-state hint. Each bug has its deterministic twin.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use cancelsim::{spawn_named, yield_now, Check, Report, Violation};

/// The `nondeterminism` violations of a report.
fn nondeterminism(report: &Report) -> Vec<&Violation> {
    report
        .failures()
        .iter()
        .flat_map(|failure| failure.violations())
        .filter(|violation| violation.code() == "nondeterminism")
        .collect()
}

/// Every violation of a report, as text (code, message, task, hint).
fn violation_texts(report: &Report) -> Vec<String> {
    report
        .failures()
        .iter()
        .flat_map(|failure| {
            let repro = failure.repro().to_string();
            failure
                .violations()
                .iter()
                .map(move |violation| format!("{repro}\n{violation}"))
        })
        .collect()
}

// ----- a source of choice outside the simulation -------------------------------

/// Bug: how many workers it starts depends on a process-global counter
/// that every run increments (one worker, then two), so the same plan
/// offers the scheduler other tasks the second time.
async fn starts_workers_by_a_global_count(runs: &'static AtomicU64) {
    let workers = 1 + runs.fetch_add(1, Ordering::Relaxed) % 2;
    let handles: Vec<_> = (0..workers)
        .map(|n| spawn_named("worker", async move { n }))
        .collect();
    yield_now().await; // the workers and the root are ready
    for handle in handles {
        handle.await.unwrap();
    }
}

/// Fixed: the number of workers is the program's own.
async fn starts_a_fixed_number_of_workers() {
    let handles: Vec<_> = (0..2)
        .map(|n| spawn_named("worker", async move { n }))
        .collect();
    yield_now().await;
    for handle in handles {
        handle.await.unwrap();
    }
}

#[test]
fn a_global_count_deciding_what_runs_is_named_at_the_first_differing_decision() {
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let report = Check::new(|| starts_workers_by_a_global_count(&RUNS)).run();
    let found = nondeterminism(&report);
    assert_eq!(found.len(), 1, "{report}");
    let message = found[0].message();
    assert!(
        message.starts_with(
            "two runs of the same plan differ at step 1: at decision 0 the first run could run \
             [#1 worker (tests/determinism_check.rs:"
        ),
        "{message}"
    );
    assert!(
        message.contains("#0 main (tests/determinism_check.rs:")
            && message.contains("(step 1, at 0.000s) and this run could run [#1 worker"),
        "{message}"
    );
    // This run had a second worker ready.
    let this_run = &message[message.find("and this run").unwrap()..];
    assert!(this_run.contains("#2 worker"), "{message}");
    assert!(
        found[0].hint().contains("an unseeded RNG"),
        "{}",
        found[0].hint()
    );
    assert!(
        found[0].hint().contains("a `static`"),
        "{}",
        found[0].hint()
    );
}

/// `futures::select!` shuffles its branches with a generator of its own:
/// which of two ready branches wins (and so how long the run waits)
/// differs between two runs of one seed. Its twin, `futures::select_biased!`,
/// always takes the first.
async fn waits_as_a_select_picks(biased: bool) {
    use futures::FutureExt;
    let mut first = std::future::ready(1).fuse();
    let mut second = std::future::ready(2).fuse();
    let millis = if biased {
        futures::select_biased! { a = first => a, b = second => b }
    } else {
        futures::select! { a = first => a, b = second => b }
    };
    cancelsim::time::sleep(Duration::from_millis(millis)).await;
}

#[test]
fn a_futures_select_is_found_and_named_in_the_hint() {
    // Its shuffle differs between the two runs of a seed in half the
    // cases: over 32 seeds, one differs for sure (the chance that none
    // does is 2^-32).
    let report = Check::new(|| waits_as_a_select_picks(false))
        .seeds(0..32)
        .run();
    let found = nondeterminism(&report);
    assert!(!found.is_empty(), "{report}");
    assert!(
        found[0].hint().contains("`futures::select!`"),
        "{}",
        found[0].hint()
    );
}

#[test]
fn a_futures_select_biased_is_deterministic() {
    Check::new(|| waits_as_a_select_picks(true))
        .seeds(0..32)
        .run()
        .assert_clean();
}

#[test]
fn a_fixed_number_of_workers_is_deterministic() {
    Check::new(starts_a_fixed_number_of_workers)
        .seeds(0..4)
        .run()
        .assert_clean();
}

#[test]
fn the_same_seed_gives_the_same_report_of_a_differing_decision() {
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let reports: Vec<Vec<String>> = (0..2)
        .map(|_| {
            RUNS.store(0, Ordering::Relaxed);
            violation_texts(&Check::new(|| starts_workers_by_a_global_count(&RUNS)).run())
        })
        .collect();
    assert!(!reports[0].is_empty());
    assert_eq!(reports[0], reports[1]);
}

// ----- state shared between the sweep's runs ------------------------------------

/// Bug: it counts its runs in a `static` and asserts it is the first; the
/// schedule does not depend on it, only the assertion does.
async fn asserts_on_a_static_run_count(runs: &'static AtomicU64) {
    let run = runs.fetch_add(1, Ordering::Relaxed) + 1;
    let worker = spawn_named("worker", async {});
    yield_now().await;
    worker.await.unwrap();
    assert_eq!(run % 2, 1, "an even run");
}

/// Fixed: the count is the run's own.
async fn asserts_on_its_own_count() {
    let run = 1u64;
    let worker = spawn_named("worker", async {});
    yield_now().await;
    worker.await.unwrap();
    assert_eq!(run % 2, 1, "an even run");
}

#[test]
fn a_static_that_only_changes_an_assertion_is_named_by_the_differing_violation() {
    static RUNS: AtomicU64 = AtomicU64::new(0);
    RUNS.store(0, Ordering::Relaxed);
    let report = Check::new(|| asserts_on_a_static_run_count(&RUNS)).run();
    let found = nondeterminism(&report);
    assert_eq!(found.len(), 1, "{report}");
    let message = found[0].message();
    assert!(
        message.starts_with(
            "two runs of the same plan took the same decisions (1 decision, 3 steps, ending at \
             0.000s), not the same violations: only this run had `panic: the root panicked: \
             assertion `left == right` failed: an even run"
        ),
        "{message}"
    );
    assert!(
        message.contains("left: 0") && message.contains("right: 1"),
        "{message}"
    );
    let hint = found[0].hint();
    assert!(hint.contains("Reset it at the start of the test"), "{hint}");
    assert!(hint.contains("CANCELSIM_THREADS=1 does not help"), "{hint}");
}

#[test]
fn a_count_of_its_own_is_deterministic() {
    Check::new(asserts_on_its_own_count)
        .seeds(0..4)
        .run()
        .assert_clean();
}

#[test]
fn the_same_seed_gives_the_same_report_of_a_differing_assertion() {
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let reports: Vec<Vec<String>> = (0..2)
        .map(|_| {
            RUNS.store(0, Ordering::Relaxed);
            violation_texts(&Check::new(|| asserts_on_a_static_run_count(&RUNS)).run())
        })
        .collect();
    assert!(!reports[0].is_empty());
    assert_eq!(reports[0], reports[1]);
}

// ----- the other groups of a sweep whose runs share state -------------------------

/// Bug (trial m4b): a connection count in a `static` that every run of the
/// sweep increments; the assertion holds in the first run only.
async fn counts_connections_in_a_static(connections: &'static AtomicUsize) {
    connections.fetch_add(1, Ordering::SeqCst);
    cancelsim::time::sleep(Duration::from_millis(1)).await;
    assert_eq!(connections.load(Ordering::SeqCst), 1, "one connection");
}

/// The panics of later runs (a baseline of another seed, which injected
/// nothing) are the `static`'s doing too: their hint says it may be state
/// kept from an earlier run, not only the program's own panic.
#[test]
fn a_panic_without_injection_after_state_kept_points_at_that_state() {
    static CONNECTIONS: AtomicUsize = AtomicUsize::new(0);
    CONNECTIONS.store(0, Ordering::SeqCst);
    let report = Check::new(|| counts_connections_in_a_static(&CONNECTIONS))
        .seeds(0..4)
        .threads(1)
        .run();
    assert!(!nondeterminism(&report).is_empty(), "{report}");
    let uninjected: Vec<&Violation> = report
        .failures()
        .iter()
        .flat_map(|failure| failure.violations())
        .filter(|v| v.code() == "panic" && v.injection().is_none())
        .collect();
    assert!(!uninjected.is_empty(), "{report}");
    for violation in uninjected {
        let hint = violation.hint();
        assert!(
            hint.contains("the panic is the program's (or the test's) own — or state kept from an earlier run of the sweep"),
            "{hint}"
        );
        assert!(
            hint.contains("see the nondeterminism in this report"),
            "{hint}"
        );
    }
}

/// The twin: a panic without injection in a sweep whose runs share
/// nothing keeps the plain hint.
#[test]
fn a_panic_without_injection_and_no_state_kept_keeps_the_plain_hint() {
    let report = Check::new(|| async {
        cancelsim::time::sleep(Duration::from_millis(1)).await;
        panic!("the program's own");
    })
    .run();
    assert!(nondeterminism(&report).is_empty(), "{report}");
    let violation = &report.failures()[0].violations()[0];
    assert!(violation.injection().is_none(), "{report}");
    let hint = violation.hint();
    assert!(
        hint.contains("the panic is the program's (or the test's) own, under this schedule"),
        "{hint}"
    );
    assert!(!hint.contains("state kept"), "{hint}");
}
