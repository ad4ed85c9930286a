//! A replay that diverges from its recording is reported as
//! `nondeterminism` at the step and decision where it did, not crashed on:
//! a different program, a run that outgrows or stops short of its recording,
//! each `block_on` and a check's drain judged on their own share.

use std::sync::Arc;

use cancelsim::check::run_repro;
use cancelsim::schedule::Divergence;
use cancelsim::{
    random, spawn_named, yield_now, Check, Config, Repro, Schedule, SchedulerKind, Sim, SimError,
    ViolationCode,
};

use crate::{draws, racy_program, recorded_draws, replaying, run, yielding_program};

/// The divergence a run stopped at, which must be `nondeterminism` at step
/// `step` with a message starting with `start`; with the message.
fn diverged<T: std::fmt::Debug>(
    result: Result<T, SimError>,
    step: u64,
    start: &str,
) -> (String, Divergence) {
    let error = match result {
        Err(error @ SimError::Nondeterminism { .. }) => error,
        other => panic!("expected Nondeterminism, got {other:?}"),
    };
    let text = error.to_string();
    assert!(text.starts_with(start), "{text}");
    let SimError::Nondeterminism {
        step: at,
        divergence,
    } = error
    else {
        unreachable!()
    };
    assert_eq!(at, step);
    (text, divergence)
}

#[test]
fn replaying_a_schedule_against_a_different_program_is_nondeterminism() {
    let recorded = run(3, SchedulerKind::Random, racy_program).schedule;
    let mut sim = Sim::new(
        Config::default()
            .seed(3)
            .scheduler(SchedulerKind::Replay(Arc::new(recorded))),
    );
    let result = sim.block_on(yielding_program());
    // Step 1 polls the root alone (no choice): it spawns three workers and
    // waits. The first choice, decision 0, is then among those three, where
    // the racy program's root had spawned four. The run stops before step 2.
    assert!(matches!(&result, Err(error) if error.code() == "nondeterminism"));
    let (text, divergence) = diverged(
        result,
        1,
        "nondeterminism at step 1: decision 0: the recording holds a choice among 4 ready \
         tasks, the run asked for a choice among 3 ready tasks",
    );
    assert!(
        text.contains("is the code under test fully deterministic?"),
        "{text}"
    );
    assert_eq!(divergence.decision, 0);
    assert_eq!(divergence.expected, "a choice among 4 ready tasks");
    assert_eq!(divergence.found, "a choice among 3 ready tasks");
}

#[test]
fn a_run_that_outgrows_its_recording_is_nondeterminism() {
    let mut sim =
        Sim::new(Config::default().scheduler(SchedulerKind::Replay(Arc::new(Schedule::new()))));
    let result = sim.block_on(racy_program());
    // Step 1 polls the root alone; the first question, which of the four
    // workers runs, is already past the (empty) recording.
    let (_, divergence) = diverged(
        result,
        1,
        "nondeterminism at step 1: decision 0: the recording holds the end of the recording, \
         the run asked for a choice among 4 ready tasks",
    );
    assert_eq!(divergence.decision, 0);
    assert_eq!(divergence.expected, "the end of the recording");
}

#[test]
fn a_random_number_where_a_task_choice_was_recorded_is_nondeterminism() {
    let recorded: Schedule = "t0/2".parse().unwrap();
    let mut sim = Sim::new(Config::default().scheduler(SchedulerKind::Replay(Arc::new(recorded))));
    let result = sim.block_on(async { cancelsim::spawn(async { random::<u64>() }).await });
    // Step 1 polls the root, which spawns the child and waits on it; the
    // child is then the only ready task (no choice) and step 2 polls it. Its
    // `random()` is the first question, decision 0, noted inside step 2 and
    // reported before step 3.
    let (_, divergence) = diverged(
        result,
        2,
        "nondeterminism at step 2: decision 0: the recording holds a choice among 2 ready \
         tasks, the run asked for a random number",
    );
    assert_eq!(divergence.decision, 0);
    assert_eq!(divergence.expected, "a choice among 2 ready tasks");
    assert_eq!(divergence.found, "a random number");
}

/// A replay that diverges and then panics (the wrong answer broke the
/// program) is reported as the divergence, which explains the panic.
#[test]
fn a_root_that_panics_after_its_replay_diverged_reports_the_divergence() {
    let recorded: Schedule = "t0/2".parse().unwrap();
    let mut sim = Sim::new(Config::default().scheduler(SchedulerKind::Replay(Arc::new(recorded))));
    let result = sim.block_on(async {
        let drawn = random::<u64>();
        assert_ne!(drawn, 0, "the program relies on the recorded number");
    });
    match result {
        Err(SimError::Nondeterminism { divergence, .. }) => {
            assert_eq!(divergence.found, "a random number");
        }
        other => panic!("expected Nondeterminism, got {other:?}"),
    }
}

#[test]
fn a_replay_whose_root_ends_with_recorded_decisions_left_is_nondeterminism() {
    let recorded = recorded_draws(3);
    assert_eq!(recorded.len(), 3);
    assert_eq!(recorded.root_ends(), [3]);
    // The same first two decisions, then the root ends: the third recorded
    // decision (index 2) was never asked for. The root is polled once, so
    // the run stops at step 1.
    let error = replaying(recorded).block_on(draws(2)).unwrap_err();
    assert_eq!(error.code(), "nondeterminism");
    let text = error.to_string();
    assert!(
        text.starts_with(
            "nondeterminism at step 1: decision 2: the recording holds a random number, \
             the run asked for the end of its root future, with 1 recorded decision of \
             this `block_on` not taken"
        ),
        "{text}"
    );
    assert!(
        text.contains("is the code under test fully deterministic?"),
        "{text}"
    );
    let SimError::Nondeterminism { step, divergence } = error else {
        unreachable!()
    };
    assert_eq!(step, 1);
    assert_eq!(divergence.decision, 2);
    assert_eq!(divergence.expected, "a random number");
}

/// Task choices, not only random numbers: the racy program, then the
/// yielding one, recorded in one `block_on`; a replay of the racy program
/// alone takes exactly the racy program's decisions and ends there.
#[test]
fn a_replay_that_stops_after_the_same_first_task_choices_is_nondeterminism() {
    let mut both = Sim::new(Config::default().seed(3).scheduler(SchedulerKind::Random));
    both.block_on(async {
        racy_program().await;
        yielding_program().await
    })
    .unwrap();
    let recorded = both.schedule();
    let mut alone = Sim::new(Config::default().seed(3).scheduler(SchedulerKind::Random));
    alone.block_on(racy_program()).unwrap();
    let (taken, steps) = (alone.schedule().len(), alone.steps());
    assert!(recorded.len() > taken);
    assert_eq!(
        recorded.decisions()[..taken],
        alone.schedule().decisions()[..]
    );

    let error = replaying(recorded.clone())
        .block_on(racy_program())
        .unwrap_err();
    let text = error.to_string();
    let SimError::Nondeterminism { step, divergence } = error else {
        panic!("expected Nondeterminism, got {text}")
    };
    assert_eq!(divergence.decision, taken);
    assert_eq!(step, steps);
    assert!(
        text.starts_with(&format!(
            "nondeterminism at step {steps}: decision {taken}: the recording holds a choice \
             among 3 ready tasks, the run asked for the end of its root future, with {} \
             recorded decisions of this `block_on` not taken",
            recorded.len() - taken
        )),
        "{text}"
    );
}

/// One world, two `block_on` calls: each root must end where its recording
/// did, and a root that goes on past that point is caught at its next
/// question, not silently fed the next root's decisions.
#[test]
fn a_replay_checks_each_block_on_of_a_world_separately() {
    let mut original = Sim::new(Config::default().seed(5));
    original.block_on(draws(2)).unwrap();
    original.block_on(draws(1)).unwrap();
    let recorded = original.schedule();
    assert_eq!(recorded.root_ends(), [2, 3]);

    // Exact: both calls pass.
    let mut exact = replaying(recorded.clone());
    exact.block_on(draws(2)).unwrap();
    exact.block_on(draws(1)).unwrap();

    // The first root ends early: decision 1 is left. The second call then
    // starts at its own share of the recording, and passes.
    let mut short = replaying(recorded.clone());
    let SimError::Nondeterminism { divergence, .. } = short.block_on(draws(1)).unwrap_err() else {
        panic!("expected Nondeterminism")
    };
    assert_eq!(divergence.decision, 1);
    assert!(divergence
        .found
        .contains("1 recorded decision of this `block_on`"));
    short.block_on(draws(1)).unwrap();

    // The first root goes on: its third draw meets the end of its share.
    let SimError::Nondeterminism { divergence, .. } =
        replaying(recorded).block_on(draws(3)).unwrap_err()
    else {
        panic!("expected Nondeterminism")
    };
    assert_eq!(divergence.decision, 2);
    assert_eq!(
        divergence.expected,
        "the end of the root future of `block_on` number 1"
    );
    assert_eq!(divergence.found, "a random number");
}

/// A `Check` run ends after the drain: decisions the drain's detached work
/// took are checked too. `run_repro` is the `Repro` path; its outcome hands
/// out the schedule to replay.
#[test]
fn a_repro_replay_whose_drain_ends_with_recorded_decisions_left_is_nondeterminism() {
    let detached_draws = |count: usize| {
        move || async move {
            spawn_named("background", async move {
                for _ in 0..count {
                    random::<u64>();
                    yield_now().await;
                }
            })
            .detach();
        }
    };
    let recorded = run_repro(
        &detached_draws(3),
        &Config::default(),
        &Repro::baseline(5, SchedulerKind::Fifo),
    );
    assert!(recorded.is_clean(), "{:?}", recorded.violations);
    // The root ended before any decision; the drain drew three numbers.
    assert_eq!(recorded.schedule.root_ends(), [0]);
    assert_eq!(recorded.schedule.len(), 3);
    let replay = Repro::baseline(0, SchedulerKind::Replay(Arc::new(recorded.schedule)));

    let exact = run_repro(&detached_draws(3), &Config::default(), &replay);
    assert!(exact.is_clean(), "{:?}", exact.violations);

    // Two draws: the root (1 poll) and `background` (2 polls that draw and
    // yield, a third that ends) make 4 steps, and decision 2 is left.
    let short = run_repro(&detached_draws(2), &Config::default(), &replay);
    assert!(
        short.has(ViolationCode::Nondeterminism),
        "{:?}",
        short.violations
    );
    let message = short
        .violations
        .iter()
        .find(|v| v.code() == "nondeterminism")
        .map(|v| v.message().to_string())
        .unwrap_or_default();
    assert!(
        message.starts_with(
            "nondeterminism at step 4: decision 2: the recording holds a random number, \
             the run asked for the end of the run, with 1 recorded decision not taken"
        ),
        "{message}"
    );

    // Four draws: the drain asks past the recording and stops there. The
    // world it leaves is not the recorded run's end, so it is not judged:
    // the divergence is all that is reported (not the background task as
    // detached work still running).
    let long = run_repro(&detached_draws(4), &Config::default(), &replay);
    let codes: Vec<&str> = long.violations.iter().map(|v| v.code()).collect();
    assert_eq!(codes, ["nondeterminism"], "{:?}", long.violations);

    // The sweep runs its baselines the same way.
    let report = Check::new(detached_draws(2))
        .scheduler(replay.scheduler.clone())
        .run();
    assert!(
        report
            .failures()
            .iter()
            .any(|f| f.violations().iter().any(|v| v.code() == "nondeterminism")),
        "{report}"
    );
    Check::new(detached_draws(3))
        .scheduler(replay.scheduler)
        .run()
        .assert_clean();
}
