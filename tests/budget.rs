//! A sweep's budget: past its runs budget it samples deterministically
//! (every (task, await point, injection kind) tuple once first, then the
//! rest, a partly covered round spread over its await points), past its
//! time budget it starts no further run, and either way its report says
//! what it left out. Nothing is proportional to the number of runs.

use std::collections::BTreeSet;
use std::time::Duration;

use cancelsim::{yield_now, CancelMode, Check};

/// `points` await points in `main`, each a plain yield.
fn yields(
    points: u32,
) -> impl Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>> + Send + Sync {
    move || {
        Box::pin(async move {
            for _ in 0..points {
                yield_now().await;
            }
        })
    }
}

fn injected_points(report: &cancelsim::Report) -> BTreeSet<u32> {
    report
        .failures()
        .iter()
        .flat_map(|f| f.repro().injections.iter().map(|i| i.point))
        .collect()
}

#[test]
fn a_budget_smaller_than_the_await_points_spreads_over_all_of_them() {
    let report = Check::new(yields(2000))
        .cancel_at_every_await(CancelMode::Both)
        .max_runs(100)
        .run();
    assert!(report.is_clean());
    // The budget took drops only: assert_clean says why no cooperative
    // cancel was injected.
    let caught = std::panic::catch_unwind(|| report.assert_clean()).expect_err("must panic");
    let message = caught.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("injected no cancel-coop")
            && message.contains("the budget left those runs out"),
        "{message}"
    );
    let counts = report.counts();
    assert_eq!(counts.runs, 2 + 100);
    // 2000 points x 2 kinds x 2 instants.
    assert_eq!(counts.planned_runs, 8000);
    assert_eq!(counts.sampled_out, 7900);
    assert_eq!(counts.tuples_total, 4000);
    assert_eq!(counts.tuples_planned, 100);
    assert_eq!(counts.per_kind["cancel-drop"], 100, "the first round only");
    let text = report.to_string();
    assert!(
        text.contains("sampled: the runs budget (max_runs, CANCELSIM_MAX_RUNS) took 100 of 8000 planned runs, covering 100 of 4000"),
        "{text}"
    );
}

/// A body that fails at every await point where its task is dropped, so
/// the failing runs show which points the sample reached.
fn leaks_at_every_point(
    points: u32,
) -> impl Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>> + Send + Sync {
    move || {
        Box::pin(async move {
            let held = std::mem::ManuallyDrop::new(cancelsim::resource::acquire("r"));
            for _ in 0..points {
                yield_now().await;
            }
            std::mem::ManuallyDrop::into_inner(held).release();
        })
    }
}

#[test]
fn the_sample_is_spread_evenly_and_the_same_every_time() {
    let sweep = || {
        Check::new(leaks_at_every_point(1000))
            .cancel_at_every_await(CancelMode::Drop)
            .inject_on_wake(false)
            .max_runs(10)
            .run()
    };
    let report = sweep();
    assert_eq!(report.counts().failed_runs, 10);
    let points = injected_points(&report);
    assert_eq!(
        points.into_iter().collect::<Vec<_>>(),
        [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]
    );
    assert_eq!(sweep().to_json(), report.to_json());
}

#[test]
fn every_tuple_runs_once_before_any_runs_again() {
    // 50 points x (drop, cooperative) at suspension = 100 tuples, plus the
    // same on wake: a budget of 100 is exactly every tuple once.
    let report = Check::new(yields(50))
        .cancel_at_every_await(CancelMode::Both)
        .max_runs(100)
        .run();
    let counts = report.counts();
    assert_eq!(counts.planned_runs, 200);
    assert_eq!(counts.tuples_total, 100);
    assert_eq!(counts.tuples_planned, 100);
    assert_eq!(counts.tuples_covered, 100);
}

#[test]
fn past_its_time_budget_a_sweep_starts_no_further_run_and_says_so() {
    // 20,000 await points: a full sweep would take minutes.
    let report = Check::new(yields(20_000))
        .cancel_at_every_await(CancelMode::Both)
        .time_budget(Duration::from_millis(300))
        .threads(2)
        .run();
    let counts = report.counts();
    assert_eq!(counts.stopped, Some("the time budget ran out"));
    assert!(counts.not_run > 0);
    assert!(counts.runs < 2 + counts.planned_runs);
    assert!(
        report
            .to_string()
            .contains("stopped early: the time budget ran out;"),
        "{report}"
    );
}
