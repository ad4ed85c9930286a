//! The interpreter follows Python asyncio (3.11+): edge-triggered cancel,
//! the timeout + swallow quirk, shield, wait-first, TaskGroup, blocking.
//! Every baseline here is also run as its exported asyncio program under
//! CPython, and must agree with it.

#![cfg(feature = "scenario")]

mod scenario_common;

use std::sync::Arc;

use cancelsim::scenario::{self, Baseline, SweepOptions, TaskOutcome};

fn run(text: &str) -> Baseline {
    scenario_common::baseline(text)
}

fn logs(baseline: &Baseline) -> Vec<String> {
    baseline
        .record
        .logs
        .iter()
        .map(|l| format!("{} {}", l.time, l.text))
        .collect()
}

#[test]
fn a_cancel_is_delivered_once_edge_triggered() {
    let baseline = run(r#"
task main {
    spawn worker
    sleep "1s"
    cancel worker
    join worker expect=any
}
task worker {
    try {
        sleep "5s"
    }
    on-cancel {
        swallow
    }
    sleep "1s"
    return second-sleep-not-interrupted
}
"#);
    assert_eq!(
        baseline.record.outcome("worker"),
        TaskOutcome::Value("second-sleep-not-interrupted".into())
    );
    assert_eq!(baseline.record.main_end.unwrap().to_string(), "2.000s");
}

#[test]
fn a_timeout_raises_a_timeout_error_when_the_cancellation_propagates() {
    let baseline = run(r#"
task main {
    timeout "1s" {
        sleep "5s"
    }
}
"#);
    assert_eq!(baseline.record.outcome("main"), TaskOutcome::Timeout);
    assert_eq!(baseline.record.main_end.unwrap().to_string(), "1.000s");
}

#[test]
fn a_timeout_whose_cancellation_is_swallowed_ends_normally() {
    let baseline = run(r#"
task main {
    timeout "1s" {
        try {
            sleep "5s"
        }
        on-cancel {
            swallow
        }
        sleep "2s"
    }
    return scope-ended-normally
}
"#);
    assert_eq!(
        baseline.record.outcome("main"),
        TaskOutcome::Value("scope-ended-normally".into())
    );
    assert_eq!(baseline.record.main_end.unwrap().to_string(), "3.000s");
}

#[test]
fn a_cancel_from_outside_a_timeout_stays_a_cancellation() {
    let baseline = run(r#"
task main {
    spawn worker
    sleep "500ms"
    cancel worker
    join worker expect=cancelled
}
task worker {
    timeout "1s" {
        sleep "5s"
    }
}
"#);
    assert_eq!(baseline.record.outcome("worker"), TaskOutcome::Cancelled);
}

#[test]
fn shielded_work_completes_while_its_awaiter_sees_the_cancellation() {
    let baseline = run(r#"
task main {
    spawn txn
    sleep "100ms"
    cancel txn
    join txn expect=cancelled
    log "txn cancelled"
    sleep "2s"
}
task txn {
    shield {
        sleep "1s"
        log "committed"
    }
    log "after the shield"
}
"#);
    assert_eq!(baseline.record.outcome("txn"), TaskOutcome::Cancelled);
    assert_eq!(
        logs(&baseline),
        ["0.100s txn cancelled", "1.000s committed"]
    );
    assert_eq!(baseline.record.main_end.unwrap().to_string(), "2.100s");
}

#[test]
fn asyncio_run_cancels_the_tasks_left_when_main_ends_even_shielded_work() {
    let baseline = run(r#"
task main {
    spawn txn
    spawn worker
    sleep "100ms"
    cancel txn
    join txn expect=cancelled
}
task txn {
    shield {
        try {
            sleep "1s"
            log "committed"
        }
        on-cancel {
            log "commit cancelled at shutdown"
            reraise
        }
    }
}
task worker {
    try {
        sleep "5s"
    }
    finally {
        log "worker cancelled at shutdown"
    }
}
"#);
    assert_eq!(baseline.record.main_end.unwrap().to_string(), "0.100s");
    assert_eq!(baseline.record.outcome("worker"), TaskOutcome::Cancelled);
    assert_eq!(
        logs(&baseline),
        [
            "0.100s worker cancelled at shutdown",
            "0.100s commit cancelled at shutdown"
        ]
    );
}

#[test]
fn wait_first_returns_with_the_first_and_leaves_the_others_running() {
    let baseline = run(r#"
task main {
    spawn fast
    spawn slow
    wait-first fast slow
    log "first done"
}
task fast {
    sleep "100ms"
}
task slow {
    sleep "1s"
}
"#);
    assert_eq!(logs(&baseline), ["0.100s first done"]);
    // Still running when main ended: asyncio.run's shutdown cancelled it.
    let (outcome, end) = &baseline.record.outcomes["slow"];
    assert_eq!(
        (outcome, end.to_string()),
        (&TaskOutcome::Cancelled, "0.100s".into())
    );
}

#[test]
fn a_group_cancels_the_siblings_on_the_first_failure_and_waits_for_them() {
    let baseline = run(r#"
task main {
    group {
        spawn bad
        spawn slow
        sleep "10s"
    }
}
task bad {
    sleep "100ms"
    fail "boom"
}
task slow {
    try {
        sleep "5s"
    }
    finally {
        sleep "50ms"
        log "slow cleaned up"
    }
}
"#);
    assert_eq!(baseline.record.outcome("slow"), TaskOutcome::Cancelled);
    assert_eq!(
        baseline.record.outcome("main"),
        TaskOutcome::Error(
            "ExceptionGroup: unhandled errors in a TaskGroup (1 sub-exception)".into()
        )
    );
    assert_eq!(logs(&baseline), ["0.150s slow cleaned up"]);
    assert_eq!(baseline.record.main_end.unwrap().to_string(), "0.150s");
}

#[test]
fn blocking_work_runs_on_after_its_awaiter_is_cancelled() {
    let baseline = run(r#"
task main {
    spawn saver
    sleep "1s"
    cancel saver
    join saver expect=cancelled
}
task saver {
    blocking "3s" "written"
}
"#);
    assert_eq!(baseline.record.main_end.unwrap().to_string(), "1.000s");
    assert_eq!(logs(&baseline), ["3.000s written"]);
}

#[test]
fn work_delays_delivery_until_the_next_await() {
    let baseline = run(r#"
task main {
    spawn crunch
    sleep "100ms"
    cancel crunch
    join crunch expect=cancelled
}
task crunch {
    sleep "50ms"
    work "2s"
    log "work done"
    sleep "1ms"
    log "never"
}
"#);
    assert_eq!(logs(&baseline), ["2.050s work done"]);
    assert_eq!(baseline.record.outcome("crunch"), TaskOutcome::Cancelled);
}

#[test]
fn the_same_scenario_gives_the_same_trace() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/taskgroup-sibling-failure-right.kdl"
    ))
    .unwrap();
    assert_eq!(run(&text).trace.to_string(), run(&text).trace.to_string());
}

#[test]
fn a_swallowed_cancel_is_found_by_the_sweep_and_the_fix_is_clean() {
    let sweep = |text: &str| {
        let scenario = Arc::new(scenario::load_str("t.kdl", text).unwrap());
        scenario::sweep(&scenario, &SweepOptions::default())
    };
    let wrong = sweep(
        r#"
task main {
    try {
        sleep "1s"
    }
    on-cancel {
        swallow
    }
}
"#,
    );
    assert_eq!(wrong.found, ["cancel-swallowed"]);
    let right = sweep(
        r#"
task main {
    try {
        sleep "1s"
    }
    on-cancel {
        reraise
    }
}
"#,
    );
    assert!(right.found.is_empty(), "{:?}", right.found);
}
