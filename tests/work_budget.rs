//! `work` counts against the budgets: a loop of `work` calls inside one poll
//! (which never hands control back to the executor) stops at
//! `Config::max_steps`, at `Config::max_time`, and at the drain's budget,
//! instead of running on unbounded.

use cancelsim::ViolationCode;
use std::time::Duration;

use cancelsim::{spawn_named, work, Check, Config, SchedulerKind, Sim, SimError};

mod common;
use common::ms;

/// A million `work` calls in one poll.
fn busy() {
    for _ in 0..1_000_000 {
        work(Duration::from_micros(1));
    }
}

#[test]
fn a_work_loop_in_the_roots_poll_hits_the_step_limit() {
    let mut sim = Sim::new(Config::default().max_steps(1000));
    let result = sim.block_on(async { busy() });
    match result {
        Err(SimError::StepLimit { steps, .. }) => assert_eq!(steps, 1000),
        other => panic!("expected StepLimit, got {other:?}"),
    }
    assert!(
        sim.now() < cancelsim::time::Instant::ZERO + ms(2),
        "{:?}",
        sim.now()
    );
}

#[test]
fn a_work_loop_in_a_task_hits_the_step_limit_and_the_task_stays_visible() {
    let mut sim = Sim::new(Config::default().max_steps(1000));
    let result = sim.block_on(async {
        spawn_named("spinner", async { busy() }).await.unwrap();
    });
    let error = result.unwrap_err();
    assert_eq!(error.code(), "step-limit");
    assert!(
        error.to_string().contains("polls and `work` calls"),
        "{error}"
    );
    // The spinner is still there (stopped mid-poll), not silently gone.
    assert_eq!(sim.live_tasks(), 1);
}

#[test]
fn a_work_loop_hits_the_time_limit() {
    let mut sim = Sim::new(Config::default().max_time(Duration::from_secs(10)));
    let result = sim.block_on(async {
        for _ in 0..1000 {
            work(Duration::from_secs(1));
        }
    });
    match result {
        Err(error @ SimError::TimeLimit { .. }) => {
            assert!(error.to_string().contains("inside a poll"), "{error}");
            assert!(sim.now().as_nanos() <= 11_000_000_000);
        }
        other => panic!("expected TimeLimit, got {other:?}"),
    }
}

#[test]
fn a_work_loop_in_detached_work_is_stopped_by_the_drain_budget_and_reported() {
    let report = Check::new(|| async {
        // Runs only after the root ended, in the drain.
        spawn_named("background", async { busy() }).detach();
    })
    .config(Config::default().drain_budget(1000, Duration::from_secs(3600)))
    .run();
    // Without the budget the drain lets the work go on for a million
    // calls; with it the drain stops after 1000 steps and the task is still
    // alive: a leak.
    let failure = &report.failures()[0];
    assert!(failure.has(ViolationCode::LeakedTask), "{report}");
}

#[test]
fn a_sweep_reports_a_step_limit_with_a_repro_and_the_same_trace_twice() {
    let body = || async {
        let spinner = spawn_named("spinner", async {
            cancelsim::yield_now().await;
            busy();
        });
        let _ = spinner.await;
    };
    let report = Check::new(body)
        .config(Config::default().max_steps(5000))
        .seeds(0..2)
        .scheduler(SchedulerKind::Random)
        .run();
    assert!(!report.is_clean());
    let failure = &report.failures()[0];
    assert!(failure.has(ViolationCode::StepLimit), "{report}");
    let one =
        cancelsim::check::run_repro(&body, &Config::default().max_steps(5000), failure.repro());
    let two =
        cancelsim::check::run_repro(&body, &Config::default().max_steps(5000), failure.repro());
    assert!(one.has(ViolationCode::StepLimit));
    assert_eq!(one.trace.to_string(), two.trace.to_string());
}
