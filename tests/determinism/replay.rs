//! Replaying a recorded schedule reproduces the run exactly, whatever the
//! seed of the replaying world.

use std::sync::Arc;

use cancelsim::{Config, Schedule, SchedulerKind, Sim};

use crate::{
    draws, event_lines, exploring_schedulers, racy_program, recorded_draws, replaying, run,
};

#[test]
fn replaying_a_recorded_schedule_reproduces_the_trace() {
    for scheduler in exploring_schedulers() {
        for seed in 0..20 {
            let original = run(seed, scheduler.clone(), racy_program);
            assert!(!original.schedule.is_empty());
            let recorded = Arc::new(original.schedule.clone());
            let replay = run(seed, SchedulerKind::Replay(recorded), racy_program);
            assert_eq!(
                event_lines(&replay.trace),
                event_lines(&original.trace),
                "{scheduler} seed {seed}"
            );
            assert_eq!(replay.log, original.log);
            assert_eq!(replay.schedule, original.schedule);
            assert!(replay.trace.lines().nth(1).unwrap().contains(&format!(
                "scheduler replay({} decisions)",
                original.schedule.len()
            )));
        }
    }
}

#[test]
fn a_replay_does_not_depend_on_the_seed_of_the_replaying_run() {
    let original = run(7, SchedulerKind::Random, racy_program);
    let replay = run(
        1234,
        SchedulerKind::Replay(Arc::new(original.schedule.clone())),
        racy_program,
    );
    assert_eq!(event_lines(&replay.trace), event_lines(&original.trace));
}

#[test]
fn an_exact_replay_takes_every_recorded_decision_and_passes() {
    let recorded = recorded_draws(3);
    let replayed = replaying(recorded.clone()).block_on(draws(3)).unwrap();
    let mut original = Sim::new(Config::default().seed(5));
    assert_eq!(replayed, original.block_on(draws(3)).unwrap());
    // A schedule without root ends (`|`: built from a list of decisions,
    // or older text) does not say which `block_on` takes what: its
    // decisions run on into the next root, so a root that takes fewer is
    // not an error, and the next `block_on` takes the rest.
    let bare: Schedule = recorded.to_string().replace(" |", "").parse().unwrap();
    assert!(bare.root_ends().is_empty());
    assert!(replaying(bare.clone()).block_on(draws(3)).is_ok());
    let mut sim = replaying(bare);
    let first = sim.block_on(draws(2)).unwrap();
    let rest = sim.block_on(draws(1)).unwrap();
    assert_eq!([first, rest].concat(), replayed);
    // A question past the end of the recording is still caught.
    assert_eq!(sim.block_on(draws(1)).unwrap_err().code(), "nondeterminism");
}
