//! Running part of a sweep: `max_runs` (every await point before any twice)
//! and `shard` (disjoint shards that add up to the full sweep).

use std::collections::BTreeSet;

use cancelsim::Report;

use crate::common::{named_injections, sweep};
use crate::leaky_program;

/// `(task name, await point)` of the injection of each failing run.
fn failing_points(report: &Report) -> Vec<(String, u32)> {
    report
        .failures()
        .iter()
        .flat_map(|failure| {
            named_injections(failure).map(|(name, injection)| (name.to_string(), injection.point))
        })
        .collect()
}

// ----- max_runs and shard ----------------------------------------------------

#[test]
fn max_runs_covers_every_await_point_before_repeating_one() {
    let every_point: BTreeSet<(String, u32)> = [
        ("main", 1),
        ("main", 2),
        ("main", 3),
        ("worker", 1),
        ("worker", 2),
    ]
    .into_iter()
    .map(|(name, point)| (name.to_string(), point))
    .collect();
    let full = sweep(leaky_program).run();
    // 5 points x (drop, cooperative) x (suspend, wake).
    let total = full.counts().per_kind.values().sum::<usize>();
    assert_eq!(total, 20);
    // Every drop leaks a resource; cooperative requests are ignored.
    assert_eq!(full.failures().len(), 10);

    // The first 5 runs are one per await point (the first kind: drop at
    // suspension), so all five fail, each at a different point.
    let five = sweep(leaky_program).max_runs(5).run();
    let points = failing_points(&five);
    assert_eq!(points.len(), 5, "{five}");
    assert_eq!(points.into_iter().collect::<BTreeSet<_>>(), every_point);
    assert_eq!(five.counts().sampled_out, total - 5);
    assert_eq!(five.counts().tuples_planned, 5);
    assert_eq!(five.counts().runs, 2 + 5);

    // Two more runs start the second round, the second kind at suspension
    // (every tuple runs once before any runs again), from the first
    // points: cooperative requests, which this program ignores.
    let seven = sweep(leaky_program).max_runs(7).run();
    let points = failing_points(&seven);
    assert_eq!(points.len(), 5);
    assert_eq!(seven.counts().per_kind["cancel-coop"], 2);
    assert_eq!(seven.counts().tuples_planned, 7);
    assert_eq!(seven.counts().tuples_total, 10);

    // Past every tuple comes the round of drops on wake; a budget that
    // covers only part of a round spreads evenly over its await points
    // (found in the order main 1, worker 1, main 2, main 3, worker 2).
    let twelve = sweep(leaky_program).max_runs(12).run();
    let points = failing_points(&twelve);
    assert_eq!(points.len(), 7);
    assert_eq!(twelve.counts().tuples_planned, 10);
    assert_eq!(
        &points[5..],
        [("main".to_string(), 2), ("worker".to_string(), 2)]
    );

    // The same sample every time.
    let again = sweep(leaky_program).max_runs(7).run();
    assert_eq!(seven.to_json(), again.to_json());
}

#[test]
fn shards_add_up_to_the_full_sweep() {
    let full = sweep(leaky_program).run();
    let full_failures: BTreeSet<String> = full
        .failures()
        .iter()
        .map(|f| f.repro().to_string())
        .collect();
    let mut per_kind = std::collections::BTreeMap::new();
    let mut failures = BTreeSet::new();
    let mut failing_runs = 0;
    for index in 0..3 {
        let shard = sweep(leaky_program).shard(index, 3).run();
        for (kind, runs) in &shard.counts().per_kind {
            *per_kind.entry(*kind).or_insert(0) += runs;
        }
        failing_runs += shard.failures().len();
        failures.extend(shard.failures().iter().map(|f| f.repro().to_string()));
        assert!(shard.to_string().contains(&format!("shard {index} of 3")));
    }
    assert_eq!(per_kind, full.counts().per_kind);
    assert_eq!(failures, full_failures);
    assert_eq!(
        failing_runs,
        full.failures().len(),
        "the shards are disjoint"
    );
}

#[test]
#[should_panic(expected = "Check::shard(3, 3): the index must be below the count")]
fn shard_index_must_be_below_the_count() {
    let _ = sweep(leaky_program).shard(3, 3);
}
