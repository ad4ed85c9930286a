//! The report of a sweep: its counts (await points, runs per kind,
//! coverage), seeds, the same report on any number of threads, the text
//! `assert_clean` panics with and the locations it names.

use cancelsim::Check;

use crate::common::sweep;
use crate::{leaky_program, small_program};

// ----- Report counts ---------------------------------------------------------

#[test]
fn report_counts_of_a_known_program() {
    let report = sweep(small_program).run();
    report.assert_clean();
    let counts = report.counts();
    assert_eq!(counts.baselines, 1);
    assert_eq!(counts.await_points, 4);
    assert_eq!(counts.injectable_points, 4);
    // Each of the 4 points was resumed, so each kind lands at two instants
    // (suspend, wake): drop 4 x 2, cooperative 4 x 2, and the timeout only at
    // main's first await point (the only one inside a timeout): 1 x 2.
    let per_kind: Vec<(&str, usize)> = counts.per_kind.iter().map(|(k, n)| (*k, *n)).collect();
    assert_eq!(
        per_kind,
        [("cancel-coop", 8), ("cancel-drop", 8), ("timeout", 2)]
    );
    // The baseline runs twice (the determinism check), then 18 injected runs.
    assert_eq!(counts.runs, 2 + 18);
    assert_eq!(counts.random_plans, 0);
    assert_eq!(counts.sampled_out, 0);
    // (task, point, kind): 4 drop + 4 cooperative + 1 timeout, all fired.
    assert_eq!(counts.tuples_planned, 9);
    assert_eq!(counts.tuples_covered, 9);
    let text = report.to_string();
    assert!(
        text.contains("4 await points (4 injectable) in 1 baseline runs")
            && text.contains("cancel-drop 8, cancel-coop 8, timeout 2")
            && text.contains("coverage: 9/9 (task, await point, injection) tuples"),
        "{text}"
    );
}

#[test]
fn seeds_multiply_the_baselines_and_the_sweep() {
    let report = sweep(small_program).seeds(0..3).run();
    report.assert_clean();
    let counts = report.counts();
    assert_eq!(counts.baselines, 3);
    assert_eq!(counts.await_points, 12);
    assert_eq!(counts.runs, 3 * 2 + 3 * 18);
    // Fifo with any seed runs the same way: same (task, point, kind) tuples.
    assert_eq!(counts.tuples_planned, 9);
}

#[test]
fn report_is_the_same_whatever_the_thread_count() {
    let one = sweep(leaky_program).random_plans(8).threads(1).run();
    let four = sweep(leaky_program).random_plans(8).threads(4).run();
    assert!(!one.is_clean());
    assert_eq!(one.to_json(), four.to_json());
    assert_eq!(one.to_string(), four.to_string());
    assert_eq!(one.to_junit(), four.to_junit());
}

#[test]
fn a_range_of_every_seed_is_taken_lazily_as_far_as_the_budget_goes() {
    let report = Check::new(small_program)
        .seeds(0..u64::MAX)
        .max_runs(3)
        .run();
    report.assert_clean();
    assert_eq!(report.counts().baselines, 3);
    assert_eq!(report.counts().seeds_left_out, u64::MAX - 3);
    let text = report.to_string();
    assert!(text.contains("seeds 0..3"), "{text}");
    assert!(text.contains("more of the range left out"), "{text}");
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["seeds"], serde_json::json!([0, 1, 2]));
}

// ----- assert_clean ----------------------------------------------------------

#[test]
fn assert_clean_panics_with_the_report_text() {
    let report = sweep(leaky_program).run();
    let caught = std::panic::catch_unwind(|| report.assert_clean()).expect_err("must panic");
    let message = caught
        .downcast_ref::<String>()
        .expect("a formatted message");
    assert_eq!(message, &report.to_string());
    assert!(
        message.contains("cancelsim check: FAILED (10 of 22 runs failed)"),
        "{message}"
    );
    // One group per bug (the leaking task and where it acquired), however
    // many injection points found it.
    assert!(message.contains("leaked-resource in worker at tests/check/main.rs:"));
    assert!(message.contains("first found at worker#1 await point 1 on sleep"));
    assert!(
        message.contains("replay: CANCELSIM_REPLAY='cancelsim:v1 seed=0 scheduler=fifo inject=")
    );
    assert!(message.contains("trace of the first failing run"));
    sweep(small_program).run().assert_clean();
}

/// A deadlock report names where each task started; the root started
/// where the check is written (the test), not inside cancelsim.
#[test]
fn a_deadlock_names_the_tests_own_location_for_the_root() {
    let report = Check::new(|| async {
        let (_keep, never) = futures::channel::oneshot::channel::<()>();
        let _ = never.await;
    })
    .run();
    let text = report.to_string();
    assert!(text.contains("deadlock"), "{text}");
    assert!(text.contains("tests/check/report.rs:"), "{text}");
    assert!(!text.contains("src/check/run.rs"), "{text}");
}
