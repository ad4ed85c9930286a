//! What a scenario's reader sees: traces and reports that point into the
//! `.kdl` file (never the interpreter's source), tasks named as the file
//! names them, task ends and log lines in asyncio's words, violations
//! explained with the scenario's fixes, the blocked-loop rule, cleanups
//! interrupted by a cancellation, and the tasks left to asyncio.run.
#![cfg(feature = "scenario")]

mod scenario_common;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use cancelsim::check::run_repro;
use cancelsim::scenario::{self, RunRecord, Scenario, SweepOptions};
use cancelsim::{Config, Repro};
use scenario_common::load_text;

const CLEANUP: &str = r#"
task main {
    spawn job
    sleep "1s"
    cancel job
    sleep "50ms"
    cancel job
    join job expect=any
}
task job {
    try {
        sleep "5s"
    }
    finally {
        sleep "100ms"
        log "rolled back"
    }
}
"#;

fn trace_of(scenario: &Arc<Scenario>) -> String {
    let baseline = scenario::baseline(scenario, 0);
    scenario::render_trace(scenario, &baseline.trace, &baseline.record)
}

#[test]
fn every_location_of_a_trace_is_the_scenario_files() {
    let scenario = load_text("cleanup.kdl", CLEANUP);
    let trace = trace_of(&scenario);
    assert!(!trace.contains("src/"), "{trace}");
    assert!(trace.contains("spawn job#1 at cleanup.kdl:3:5"), "{trace}");
    assert!(
        trace.contains("suspend at await point 1 on sleep (cleanup.kdl:12:9)"),
        "{trace}"
    );
    assert!(
        trace.contains("cancel requested by main#0 at cleanup.kdl:5:5"),
        "{trace}"
    );
}

#[test]
fn task_ends_and_log_lines_read_as_asyncio_says_them() {
    let scenario = load_text("cleanup.kdl", CLEANUP);
    let trace = trace_of(&scenario);
    assert!(
        trace.contains("job#1        completed: cancelled"),
        "{trace}"
    );
    assert!(
        trace.contains("main#0       completed: returned \"none\""),
        "{trace}"
    );
    assert!(
        trace.contains("CancelledError raised at cleanup.kdl:12:9"),
        "{trace}"
    );
    let text = load_text(
        "log.kdl",
        "task main {\n    sleep \"1s\"\n    log \"hello\"\n    sleep \"1s\"\n}\n",
    );
    let trace = trace_of(&text);
    let log = trace
        .lines()
        .position(|l| l.contains("log \"hello\""))
        .expect(&trace);
    let lines: Vec<&str> = trace.lines().collect();
    assert!(lines[log].contains("1.000s  main#0"), "{trace}");
    assert!(lines[log - 1].ends_with("poll"), "{trace}");
    assert!(
        lines[log + 1].contains("suspend at await point 2"),
        "{trace}"
    );
}

#[test]
fn the_interpreters_helpers_are_not_shown_and_the_shutdown_is_asyncio_run() {
    let scenario = load_text(
        "group.kdl",
        "task main {\n    group {\n        spawn a\n    }\n    spawn b\n}\ntask a {\n    sleep \"1s\"\n}\ntask b {\n    sleep \"1s\"\n}\n",
    );
    let trace = trace_of(&scenario);
    assert!(!trace.contains("call_soon"), "{trace}");
    assert!(trace.contains("asyncio.run  poll"), "{trace}");
    assert!(
        trace.contains("b#3          cancel requested by asyncio.run"),
        "{trace}"
    );
    assert_eq!(
        trace.matches("main#").count(),
        trace.matches("main#0").count(),
        "{trace}"
    );
}

#[test]
fn a_cleanup_a_cancel_interrupts_is_visible_without_a_tracked_resource() {
    let scenario = load_text("cleanup.kdl", CLEANUP);
    let trace = trace_of(&scenario);
    assert!(
        trace.contains(
            "CancelledError raised at cleanup.kdl:15:9, interrupting the finally of the try at cleanup.kdl:11:5"
        ),
        "{trace}"
    );
    let verdict = scenario::sweep(&scenario, &SweepOptions::default());
    assert_eq!(
        verdict.interrupted_cleanups,
        ["finally of the try at cleanup.kdl:11:5"]
    );
}

/// One run of `repro`, with its record.
fn replay(scenario: &Arc<Scenario>, repro: &str) -> (RunRecord, Vec<cancelsim::Violation>) {
    let latest: Rc<RefCell<Option<Rc<RefCell<RunRecord>>>>> = Rc::default();
    let model = Arc::clone(scenario);
    let keep = Rc::clone(&latest);
    let body = move || {
        let record = Rc::new(RefCell::new(RunRecord::default()));
        *keep.borrow_mut() = Some(Rc::clone(&record));
        scenario::run(Arc::clone(&model), record, false)
    };
    let repro: Repro = repro.parse().unwrap();
    let outcome = run_repro(&body, &Config::default().max_steps(1_000_000), &repro);
    let record = latest.borrow().as_ref().unwrap().borrow().clone();
    (record, outcome.violations)
}

#[test]
fn violations_are_explained_at_the_step_with_the_scenarios_fix() {
    let scenario = load_text(
        "leak.kdl",
        "task main {\n    spawn worker\n    sleep \"100ms\"\n    cancel worker\n    join worker expect=any\n}\ntask worker {\n    acquire lock\n    try {\n        sleep \"1s\"\n    }\n    on-cancel {\n        swallow\n    }\n}\n",
    );
    let (record, violations) = replay(&scenario, "cancelsim:v1 seed=0 scheduler=fifo");
    let explained: Vec<String> = violations
        .iter()
        .map(|v| scenario::explain(&scenario, &record, v))
        .collect();
    let text = explained.join("\n");
    assert!(!text.contains("src/"), "{text}");
    assert!(text.contains("at: leak.kdl:8:5 (acquire)"), "{text}");
    assert!(text.contains("finally { release NAME }"), "{text}");
    assert!(text.contains("at: leak.kdl:10:9 (sleep)"), "{text}");
    assert!(text.contains("`reraise`"), "{text}");
    let (record, violations) = replay(
        &scenario,
        "cancelsim:v1 seed=0 scheduler=fifo inject=cancel-coop@1:1",
    );
    let explained = scenario::explain(&scenario, &record, &violations[0]);
    assert!(
        explained.contains("(a cancel in worker#1 at its await point 1, sleep at leak.kdl:10:9)"),
        "{explained}"
    );
}

#[test]
fn a_cpu_bound_loop_past_a_due_deadline_is_cancel_ignored_and_yielding_is_clean() {
    let wrong = load_text(
        "loop.kdl",
        "task main {\n    spawn crunch\n    try {\n        timeout \"1s\" {\n            join crunch\n        }\n    }\n    on-error {\n        log \"gave up\"\n    }\n}\ntask crunch {\n    yield\n    repeat 10 {\n        work \"500ms\"\n    }\n}\n",
    );
    let verdict = scenario::sweep(&wrong, &SweepOptions::default());
    assert_eq!(verdict.found, ["cancel-ignored"], "{}", verdict.report);
    let violation = &verdict.report.failures()[0].violations()[0];
    assert!(
        violation.message().contains("(`work` at loop.kdl:15:9)")
            && violation
                .message()
                .contains("(`timeout` at loop.kdl:4:9) was due at 1.000s"),
        "{violation}"
    );
    let right = load_text(
        "loop.kdl",
        "task main {\n    spawn crunch\n    try {\n        timeout \"1s\" {\n            join crunch\n        }\n    }\n    on-error {\n        log \"gave up\"\n    }\n}\ntask crunch {\n    yield\n    repeat 10 {\n        work \"500ms\"\n        yield\n    }\n}\n",
    );
    let verdict = scenario::sweep(&right, &SweepOptions::default());
    assert!(verdict.found.is_empty(), "{}", verdict.report);
}

#[test]
fn cancelling_main_before_it_awaits_its_children_is_reported_once_as_what_it_is() {
    let scenario = load_text(
        "children.kdl",
        "task main {\n    spawn a\n    spawn b\n    sleep \"1s\"\n    join a expect=any\n    join b expect=any\n}\ntask a {\n    sleep \"2s\"\n}\ntask b {\n    sleep \"2s\"\n}\n",
    );
    let verdict = scenario::sweep(&scenario, &SweepOptions::default());
    assert!(verdict.found.is_empty(), "{}", verdict.report);
    assert_eq!(verdict.left_to_shutdown, ["a", "b"]);
}

#[test]
fn the_rendered_trace_is_the_same_for_the_same_seed() {
    let scenario = load_text("cleanup.kdl", CLEANUP);
    assert_eq!(trace_of(&scenario), trace_of(&scenario));
}
