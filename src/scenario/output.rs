//! The CLI's `--json` and `--junit` reports of scenario verdicts, written
//! by the library's one JSON and one JUnit writer (those of
//! [`Report`](crate::Report)).

use serde_json::json;

use super::Verdict;
use crate::check::junit;

/// Every verdict as JSON: per scenario whether it matches its `expect`,
/// its counts, the codes found, the problems, and every failure group of
/// its sweep (with the first failing run of each).
pub fn verdicts_json(verdicts: &[Verdict]) -> String {
    let items: Vec<_> = verdicts
        .iter()
        .map(|verdict| {
            let report = &verdict.report;
            let counts = report.counts();
            json!({
                "scenario": verdict.scenario,
                "path": verdict.path,
                "matches": verdict.matches(),
                "await_points": counts.await_points,
                "runs": counts.runs,
                "failed_runs": counts.failed_runs,
                "found": verdict.found,
                "left_to_shutdown": verdict.left_to_shutdown,
                "interrupted_cleanups": verdict.interrupted_cleanups,
                "problems": verdict.problems,
                "seconds": verdict.elapsed.as_secs_f64(),
                "groups": report.groups_json(),
                "failures": report.failure_groups().iter().map(|group| {
                    let failure = &report.failures()[group.first];
                    json!({
                        "repro": failure.repro().to_string(),
                        "codes": failure.violations().iter().map(|v| v.code()).collect::<Vec<_>>(),
                    })
                }).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::to_string_pretty(&json!({
        "matches": verdicts.iter().all(Verdict::matches),
        "scenarios": items,
    }))
    .expect("JSON of plain values")
}

/// Every verdict as a JUnit testcase, failed when it differs from its
/// `expect` block.
pub fn verdicts_junit(verdicts: &[Verdict]) -> String {
    let cases: Vec<junit::Case> = verdicts
        .iter()
        .map(|verdict| junit::Case {
            name: verdict.scenario.clone(),
            classname: "cancelsim.scenarios",
            time: Some(verdict.elapsed.as_secs_f64()),
            failure: (!verdict.matches()).then(|| {
                (
                    "differs from its expectation".to_string(),
                    verdict.problems.join("\n"),
                )
            }),
        })
        .collect();
    junit::suite("cancelsim scenarios", &cases)
}
