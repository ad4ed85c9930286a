//! The asyncio rules the interpreter once got wrong, each pinned and each
//! checked against CPython: a timeout tied with its body never crashes,
//! cancel requests coalesce until delivered, a cancel of a task awaiting
//! another task goes to that task, awaiting a cancelled task raises
//! `CancelledError`, a task cancelled before its first step never runs,
//! and timers due at once fire in the order they were armed.
#![cfg(feature = "scenario")]

mod scenario_common;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use cancelsim::scenario::{self, Baseline, RunRecord, SweepOptions, TaskOutcome};
use cancelsim::{Config, SchedulerKind, Sim};
use scenario_common::{baseline, load_text};

fn logs(baseline: &Baseline) -> Vec<String> {
    baseline
        .record
        .logs
        .iter()
        .map(|l| format!("{} {}: {}", l.time, l.task, l.text))
        .collect()
}

fn ended(baseline: &Baseline, task: &str) -> (TaskOutcome, String) {
    let (outcome, end) = &baseline.record.outcomes[task];
    (outcome.clone(), end.to_string())
}

const TIE: &str = r#"
task main {
    timeout "2s" {
        sleep "2s"
        return in-time
    }
}
"#;

#[test]
fn a_timeout_tied_with_its_body_is_never_a_crash_under_any_schedule() {
    let scenario = load_text("tie.kdl", TIE);
    let verdict = scenario::sweep(
        &scenario,
        &SweepOptions {
            seeds: 16,
            ..SweepOptions::default()
        },
    );
    assert!(verdict.found.is_empty(), "{}", verdict.report);
}

#[test]
fn the_deadline_armed_first_wins_the_tie_in_the_baseline_as_in_asyncio() {
    let run = baseline(TIE);
    assert_eq!(ended(&run, "main"), (TaskOutcome::Timeout, "2.000s".into()));
}

/// The tie is a recorded decision: random schedules take both orders, and
/// the same seed takes the same one.
#[test]
fn random_schedules_explore_both_orders_of_the_tie_and_replay_them() {
    let scenario = load_text("tie.kdl", TIE);
    let main_under = |seed: u64| {
        let record = Rc::new(RefCell::new(RunRecord::default()));
        let mut sim = Sim::new(
            Config::default()
                .seed(seed)
                .scheduler(SchedulerKind::Random),
        );
        sim.block_on(scenario::run(
            Arc::clone(&scenario),
            Rc::clone(&record),
            true,
        ))
        .unwrap();
        let trace = sim.trace().to_string();
        let outcome = record.borrow().outcome("main");
        (outcome, trace)
    };
    let outcomes: Vec<TaskOutcome> = (0..16)
        .map(|seed| {
            let (outcome, trace) = main_under(seed);
            assert_eq!((outcome.clone(), trace), main_under(seed), "seed {seed}");
            outcome
        })
        .collect();
    assert!(outcomes.contains(&TaskOutcome::Timeout), "{outcomes:?}");
    assert!(
        outcomes.contains(&TaskOutcome::Value("in-time".into())),
        "{outcomes:?}"
    );
}

#[test]
fn timers_due_at_once_fire_in_the_order_they_were_armed() {
    let run = baseline(
        r#"
task main {
    spawn a
    spawn b
    try {
        timeout "2s" {
            sleep "2s"
        }
    }
    on-error {
        log "timed out"
    }
}
task a {
    sleep "2s"
    log "a"
}
task b {
    sleep "2s"
    log "b"
}
"#,
    );
    assert_eq!(
        logs(&run),
        ["2.000s main: timed out", "2.000s a: a", "2.000s b: b"]
    );
}

#[test]
fn two_cancels_before_delivery_are_one_cancelled_error() {
    let run = baseline(
        r#"
task main {
    spawn worker
    sleep "1s"
    cancel worker
    cancel worker
    join worker expect=cancelled
}
task worker {
    try {
        sleep "5s"
    }
    finally {
        sleep "100ms"
        log "cleanup done"
    }
}
"#,
    );
    assert_eq!(logs(&run), ["1.100s worker: cleanup done"]);
    assert_eq!(
        ended(&run, "worker"),
        (TaskOutcome::Cancelled, "1.100s".into())
    );
}

#[test]
fn a_cancel_after_delivery_is_a_second_cancelled_error() {
    let run = baseline(
        r#"
task main {
    spawn worker
    sleep "1s"
    cancel worker
    sleep "50ms"
    cancel worker
    join worker expect=cancelled
}
task worker {
    try {
        sleep "5s"
    }
    finally {
        sleep "100ms"
        log "cleanup done"
    }
}
"#,
    );
    assert!(logs(&run).is_empty(), "{:?}", logs(&run));
    assert_eq!(
        ended(&run, "worker"),
        (TaskOutcome::Cancelled, "1.050s".into())
    );
}

#[test]
fn cancelling_a_task_that_awaits_another_cancels_the_awaited_one() {
    let run = baseline(
        r#"
task main {
    spawn outer
    sleep "1s"
    cancel outer
    join outer expect=any
}
task outer {
    spawn inner
    join inner
    log "outer carries on with the value"
    return outer-value
}
task inner {
    try {
        sleep "5s"
    }
    on-cancel {
        log "inner got the cancel"
        swallow
    }
    return inner-value
}
"#,
    );
    assert_eq!(
        logs(&run),
        [
            "1.000s inner: inner got the cancel",
            "1.000s outer: outer carries on with the value"
        ]
    );
    assert_eq!(
        ended(&run, "outer"),
        (TaskOutcome::Value("outer-value".into()), "1.000s".into())
    );
}

#[test]
fn a_timeout_around_an_awaited_task_that_swallows_returns_its_value() {
    let run = baseline(
        r#"
task main {
    spawn inner
    timeout "1s" {
        join inner
    }
    log "no timeout error"
}
task inner {
    try {
        sleep "5s"
    }
    on-cancel {
        swallow
    }
    sleep "1s"
    return late
}
"#,
    );
    assert_eq!(logs(&run), ["2.000s main: no timeout error"]);
    assert_eq!(
        ended(&run, "inner"),
        (TaskOutcome::Value("late".into()), "2.000s".into())
    );
}

#[test]
fn awaiting_a_cancelled_task_raises_cancelled_error_which_on_error_does_not_catch() {
    let run = baseline(
        r#"
task main {
    spawn worker
    spawn watchdog
    try {
        join worker
    }
    on-error {
        log "on-error saw it"
    }
    log "never reached"
}
task worker {
    sleep "5s"
}
task watchdog {
    sleep "1s"
    cancel worker
}
"#,
    );
    assert!(logs(&run).is_empty(), "{:?}", logs(&run));
    assert_eq!(
        ended(&run, "main"),
        (TaskOutcome::Cancelled, "1.000s".into())
    );
}

#[test]
fn awaiting_a_cancelled_task_through_a_shield_raises_cancelled_error_too() {
    let run = baseline(
        r#"
task main {
    spawn worker
    spawn watchdog
    try {
        shield worker
    }
    on-cancel {
        log "the shield raised CancelledError"
        reraise
    }
}
task worker {
    sleep "5s"
}
task watchdog {
    sleep "1s"
    cancel worker
}
"#,
    );
    assert_eq!(
        logs(&run),
        ["1.000s main: the shield raised CancelledError"]
    );
    assert_eq!(
        ended(&run, "main"),
        (TaskOutcome::Cancelled, "1.000s".into())
    );
}

#[test]
fn a_task_cancelled_before_its_first_step_never_runs_its_body() {
    let run = baseline(
        r#"
task main {
    spawn worker
    cancel worker
    join worker expect=cancelled
    log "done"
}
task worker {
    try {
        log "started"
        sleep "1s"
    }
    finally {
        log "cleanup"
    }
}
"#,
    );
    assert_eq!(logs(&run), ["0.000s main: done"]);
    assert_eq!(
        ended(&run, "worker"),
        (TaskOutcome::Cancelled, "0.000s".into())
    );
}

#[test]
fn the_same_seed_gives_the_same_trace_for_each_rule() {
    for text in [
        TIE,
        include_str!("../scenarios/cancel-during-cleanup-right.kdl"),
    ] {
        let scenario = load_text("t.kdl", text);
        let first = scenario::baseline(&scenario, 3).trace.to_string();
        assert_eq!(first, scenario::baseline(&scenario, 3).trace.to_string());
    }
}
