//! The scenario language beyond the basics, each construct run both ways
//! (the interpreter and its exported program under CPython, which must
//! agree): exceptions by type, handlers that re-raise, `except*`, task
//! probes and values, `cancel msg=`, `uncancel`, `cancelling`, Queue,
//! Event, Condition, Semaphore, gather, wait, wait_for, asyncio.run's
//! shutdown. Each program's baseline (outcomes, log) is pinned by a
//! snapshot, and a few facts are spelled out below.
#![cfg(feature = "scenario")]

mod scenario_common;

use std::path::PathBuf;

use cancelsim::scenario::{self, Baseline, TaskOutcome};
use scenario_common::{differences_from_cpython, load_file};

fn programs() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios_lang");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/scenarios_lang/ exists")
        .map(|entry| entry.expect("readable").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "kdl"))
        .collect();
    files.sort();
    files
}

fn run(name: &str) -> Baseline {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenarios_lang")
        .join(format!("{name}.kdl"));
    let scenario = load_file(&path);
    let baseline = scenario::baseline(&scenario, 0);
    let differ = differences_from_cpython(&scenario, &baseline);
    assert!(
        differ.is_empty(),
        "{name} differs from CPython:\n{}",
        differ.join("\n")
    );
    baseline
}

fn logs(baseline: &Baseline) -> Vec<String> {
    baseline
        .record
        .logs
        .iter()
        .map(|l| format!("{} {}: {}", l.time, l.task, l.text))
        .collect()
}

#[test]
fn every_program_agrees_with_cpython_and_its_baseline_is_pinned() {
    for path in programs() {
        let scenario = load_file(&path);
        let first = scenario::baseline(&scenario, 0);
        let again = scenario::baseline(&scenario, 0);
        assert_eq!(
            first.trace.to_string(),
            again.trace.to_string(),
            "same seed, same trace"
        );
        let differ = differences_from_cpython(&scenario, &first);
        assert!(
            differ.is_empty(),
            "{} differs from CPython:\n{}",
            scenario.name,
            differ.join("\n")
        );
        let mut pinned = String::from("outcomes:\n");
        for task in scenario.instance_names() {
            match first.record.outcomes.get(&task) {
                Some((outcome, end)) => pinned.push_str(&format!("  {task}: {outcome} at {end}\n")),
                None => pinned.push_str(&format!("  {task}: running\n")),
            }
        }
        pinned.push_str("log:\n");
        for line in logs(&first) {
            pinned.push_str(&format!("  {line}\n"));
        }
        insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(format!("scenario_lang_{}", scenario.name), pinned);
        });
    }
}

#[test]
fn handlers_match_by_type_and_a_bare_raise_re_raises() {
    let run = run("exceptions");
    let logs = logs(&run);
    assert!(
        logs.contains(&"0.000s main: caught bad 1".to_string()),
        "{logs:?}"
    );
    assert!(
        logs.contains(&"1.000s main: outer caught an OSError: ".to_string()),
        "TimeoutError is an OSError: {logs:?}"
    );
    assert_eq!(
        run.record.outcome("main"),
        TaskOutcome::Error("AppError: the end 1".into())
    );
}

#[test]
fn except_star_splits_a_task_groups_exception_group() {
    let run = run("except_star");
    assert_eq!(
        logs(&run),
        [
            "0.010s main: values: unhandled errors in a TaskGroup (1 sub-exception)",
            "0.010s main: keys"
        ]
    );
    assert_eq!(
        run.record.outcome("main"),
        TaskOutcome::Error(
            "ExceptionGroup: unhandled errors in a TaskGroup (1 sub-exception)".into()
        )
    );
}

#[test]
fn tasks_take_parameters_and_pass_values_out_of_joins_results_and_shields() {
    let run = run("probes_and_values");
    assert_eq!(
        run.record.outcome("main"),
        TaskOutcome::Value("alpha-done+from the shield alpha-done".into())
    );
    assert!(logs(&run).contains(&"0.050s w2: beta cancelled".to_string()));
}

#[test]
fn a_cancel_message_reaches_the_task_and_is_handed_out_once() {
    let run = run("cancel_message_and_result");
    assert_eq!(
        logs(&run),
        [
            "0.010s worker: worker got: shutting down",
            "0.010s main: result raised CancelledError: ",
            "0.010s main: not done: Result is not set."
        ]
    );
}

#[test]
fn uncancel_and_cancelling_count_requests() {
    let run = run("uncancel");
    assert_eq!(
        logs(&run)[..2],
        [
            "0.010s worker: cancelling 1".to_string(),
            "0.010s worker: after uncancel 0".to_string()
        ]
    );
}

#[test]
fn queue_event_condition_and_semaphore_behave_as_asyncio_s() {
    let queue = run("queue_and_event");
    assert!(logs(&queue).ends_with(&[
        "0.050s main: all done".to_string(),
        "0.050s main: queue joined".to_string()
    ]));
    let locks = run("condition_and_semaphore");
    assert_eq!(
        logs(&locks),
        [
            "0.000s u1: in",
            "0.000s u2: in",
            "0.010s w1: notified",
            "0.010s w2: notified",
            "0.100s u3: in"
        ]
    );
    run("primitives_cancelled");
}

#[test]
fn gather_wait_and_wait_for_return_what_asyncio_returns() {
    let run = run("gather_wait_wait_for");
    assert_eq!(
        logs(&run),
        [
            "0.200s main: [fine, ValueError: nope, slowly]",
            "0.220s main: gather raised nope",
            "0.370s main: done: ; pending: f, g",
            "0.420s main: wait-for timed out",
            "0.430s main: wait-for fine"
        ]
    );
}

#[test]
fn cancelling_a_gather_cancels_its_children_and_raises_even_if_one_swallows() {
    let run = run("cancel_through_gather_and_wait_for");
    assert!(logs(&run).contains(&"0.010s g: gather raised CancelledError".to_string()));
    assert_eq!(
        run.record.outcome("b"),
        TaskOutcome::Value("b-value".into())
    );
}

#[test]
fn asyncio_run_cancels_leftovers_once_and_waits_for_blocking_work() {
    let run = run("self_cancel_shutdown_blocking");
    assert_eq!(run.record.outcome("self-canceller"), TaskOutcome::Cancelled);
    let (outcome, end) = &run.record.outcomes["stubborn"];
    assert_eq!(
        (outcome, end.to_string()),
        (&TaskOutcome::Value("none".into()), "2.030s".into())
    );
    assert!(logs(&run).contains(&"0.030s blocker: blocking done !".to_string()));
}
