//! Determinism: same seed, same trace; recorded schedules replay exactly;
//! divergence is reported, not crashed on; the seeded streams are pinned.

use cancelsim::ViolationCode;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use cancelsim::check::run_repro;
use cancelsim::schedule::SimRng;
use cancelsim::time::sleep;
use cancelsim::{
    random, random_range, spawn_named, yield_now, Check, Config, Decision, Repro, Schedule,
    SchedulerKind, Sim, SimError,
};

/// Four workers that race on a shared log, each step a yield or a sleep of a
/// random number of milliseconds.
async fn racy_program() -> Vec<String> {
    let log = Rc::new(RefCell::new(Vec::new()));
    let workers: Vec<_> = (0..4)
        .map(|worker| {
            let log = Rc::clone(&log);
            spawn_named(&format!("w{worker}"), async move {
                for round in 0..3 {
                    match random_range(0..4) {
                        0 => yield_now().await,
                        millis => sleep(Duration::from_millis(millis)).await,
                    }
                    log.borrow_mut().push(format!("w{worker}.{round}"));
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    let log = log.borrow().clone();
    log
}

/// Three workers that only yield: any difference between runs comes from the
/// scheduler alone.
async fn yielding_program() -> Vec<String> {
    let log = Rc::new(RefCell::new(Vec::new()));
    let workers: Vec<_> = (0..3)
        .map(|worker| {
            let log = Rc::clone(&log);
            spawn_named(&format!("y{worker}"), async move {
                for round in 0..3 {
                    log.borrow_mut().push(format!("y{worker}.{round}"));
                    yield_now().await;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    let log = log.borrow().clone();
    log
}

struct Run {
    trace: String,
    schedule: Schedule,
    log: Vec<String>,
}

fn run<F, Fut>(seed: u64, scheduler: SchedulerKind, program: F) -> Run
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Vec<String>>,
{
    let mut sim = Sim::new(Config::default().seed(seed).scheduler(scheduler));
    let log = sim.block_on(program()).unwrap();
    let trace = sim.trace().to_string();
    Run {
        trace,
        schedule: sim.schedule(),
        log,
    }
}

/// The trace text without its two header lines (format version, and seed and
/// scheduler, which name the replay differently).
fn event_lines(trace: &str) -> String {
    trace.lines().skip(2).collect::<Vec<_>>().join("\n")
}

fn exploring_schedulers() -> [SchedulerKind; 3] {
    [
        SchedulerKind::Fifo,
        SchedulerKind::Random,
        SchedulerKind::Pct { depth: 3 },
    ]
}

#[test]
fn the_same_seed_gives_a_byte_identical_trace_and_schedule() {
    for scheduler in exploring_schedulers() {
        for seed in 0..50 {
            let first = run(seed, scheduler.clone(), racy_program);
            let second = run(seed, scheduler.clone(), racy_program);
            assert_eq!(first.trace, second.trace, "{scheduler} seed {seed}");
            assert_eq!(first.schedule, second.schedule, "{scheduler} seed {seed}");
            assert_eq!(first.log, second.log, "{scheduler} seed {seed}");
            assert_eq!(first.log.len(), 12);
        }
    }
}

#[test]
fn random_and_pct_schedulers_explore_different_interleavings() {
    for scheduler in [SchedulerKind::Random, SchedulerKind::Pct { depth: 3 }] {
        let logs: BTreeSet<Vec<String>> = (0..20)
            .map(|seed| run(seed, scheduler.clone(), yielding_program).log)
            .collect();
        assert!(
            logs.len() >= 2,
            "{scheduler}: 20 seeds gave one interleaving"
        );
    }
}

#[test]
fn fifo_runs_a_program_without_randomness_the_same_way_for_every_seed() {
    let logs: BTreeSet<Vec<String>> = (0..20)
        .map(|seed| run(seed, SchedulerKind::Fifo, yielding_program).log)
        .collect();
    assert_eq!(logs.len(), 1);
}

#[test]
fn different_seeds_give_different_traces() {
    for scheduler in exploring_schedulers() {
        let traces: BTreeSet<String> = (0..10)
            .map(|seed| event_lines(&run(seed, scheduler.clone(), racy_program).trace))
            .collect();
        assert!(traces.len() >= 2, "{scheduler}");
    }
}

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
    match result {
        Err(error @ SimError::Nondeterminism { .. }) => {
            assert_eq!(error.code(), "nondeterminism");
            let text = error.to_string();
            assert!(
                text.starts_with(
                    "nondeterminism at step 1: decision 0: the recording holds a choice \
                     among 4 ready tasks, the run asked for a choice among 3 ready tasks"
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
            assert_eq!(divergence.decision, 0);
            assert_eq!(divergence.expected, "a choice among 4 ready tasks");
            assert_eq!(divergence.found, "a choice among 3 ready tasks");
        }
        other => panic!("expected Nondeterminism, got {other:?}"),
    }
}

#[test]
fn a_run_that_outgrows_its_recording_is_nondeterminism() {
    let mut sim =
        Sim::new(Config::default().scheduler(SchedulerKind::Replay(Arc::new(Schedule::new()))));
    let result = sim.block_on(racy_program());
    // Step 1 polls the root alone; the first question, which of the four
    // workers runs, is already past the (empty) recording.
    match result {
        Err(error @ SimError::Nondeterminism { .. }) => {
            let text = error.to_string();
            assert!(
                text.starts_with(
                    "nondeterminism at step 1: decision 0: the recording holds the end of \
                     the recording, the run asked for a choice among 4 ready tasks"
                ),
                "{text}"
            );
            let SimError::Nondeterminism { step, divergence } = error else {
                unreachable!()
            };
            assert_eq!(step, 1);
            assert_eq!(divergence.decision, 0);
            assert_eq!(divergence.expected, "the end of the recording");
        }
        other => panic!("expected Nondeterminism, got {other:?}"),
    }
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
    match result {
        Err(error @ SimError::Nondeterminism { .. }) => {
            let text = error.to_string();
            assert!(
                text.starts_with(
                    "nondeterminism at step 2: decision 0: the recording holds a choice \
                     among 2 ready tasks, the run asked for a random number"
                ),
                "{text}"
            );
            let SimError::Nondeterminism { step, divergence } = error else {
                unreachable!()
            };
            assert_eq!(step, 2);
            assert_eq!(divergence.decision, 0);
            assert_eq!(divergence.expected, "a choice among 2 ready tasks");
            assert_eq!(divergence.found, "a random number");
        }
        other => panic!("expected Nondeterminism, got {other:?}"),
    }
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

/// `count` random numbers drawn by the root alone: one poll, and exactly
/// `count` decisions, each a random number.
async fn draws(count: usize) -> Vec<u64> {
    (0..count).map(|_| random::<u64>()).collect()
}

fn replaying(schedule: Schedule) -> Sim {
    Sim::new(Config::default().scheduler(SchedulerKind::Replay(Arc::new(schedule))))
}

fn recorded_draws(count: usize) -> Schedule {
    let mut sim = Sim::new(Config::default().seed(5));
    sim.block_on(draws(count)).unwrap();
    sim.schedule()
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

#[test]
fn schedule_text_round_trips() {
    let recorded = run(9, SchedulerKind::Random, racy_program).schedule;
    let text = recorded.to_string();
    let parsed: Schedule = text.parse().unwrap();
    assert_eq!(parsed, recorded);
    assert_eq!(parsed.to_string(), text);

    let written = "t1/3 m0/2 r42";
    let parsed: Schedule = written.parse().unwrap();
    assert_eq!(
        parsed.decisions(),
        [
            Decision::Task {
                options: 3,
                chosen: 1
            },
            Decision::Timer {
                options: 2,
                chosen: 0
            },
            Decision::Random(42),
        ]
    );
    assert_eq!(parsed.to_string(), written);
    assert_eq!("".parse::<Schedule>().unwrap(), Schedule::new());

    // `|` marks where a root future ended: after the last decision of a
    // one-`block_on` recording, and anywhere for several.
    assert!(text.ends_with(" |"), "{text}");
    let roots: Schedule = "t0/2 | | r5 |".parse().unwrap();
    assert_eq!(roots.len(), 2);
    assert_eq!(roots.root_ends(), [1, 1, 2]);
    assert_eq!(roots.to_string(), "t0/2 | | r5 |");
    assert_eq!("|".parse::<Schedule>().unwrap().root_ends(), [0]);
}

#[test]
fn schedule_text_rejects_garbage_and_names_the_token() {
    for garbage in [
        "x1/2", "t3/3", "t1", "t1/2/3", "r-5", "r", "m/2", "tt1/2", "t1/x",
    ] {
        let text = format!("t0/2 {garbage} r1");
        let error = text.parse::<Schedule>().unwrap_err();
        assert_eq!(error.token, 1, "{garbage}");
        assert_eq!(error.text, garbage);
        let message = error.to_string();
        assert!(message.contains(&format!("`{garbage}`")), "{message}");
    }
}

#[test]
fn the_seeded_rng_stream_is_pinned() {
    let mut rng = SimRng::new(42);
    let values: Vec<u64> = (0..8).map(|_| rng.next_u64()).collect();
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_debug_snapshot!("determinism_sim_rng_seed_42", values);
    });
}

#[test]
fn the_random_values_of_a_seeded_world_are_pinned() {
    let mut sim = Sim::new(Config::default().seed(42));
    let values: Vec<u64> = sim
        .block_on(async { (0..8).map(|_| random::<u64>()).collect() })
        .unwrap();
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_debug_snapshot!("determinism_random_u64_seed_42", values);
    });
}

/// DESIGN's contract: `let trace: &cancelsim::Trace = sim.trace();`, and the
/// trace covers every `block_on` of the world.
#[test]
fn trace_is_a_plain_reference_covering_every_block_on() {
    let mut sim = cancelsim::Sim::new(cancelsim::Config::default());
    sim.block_on(async { cancelsim::yield_now().await })
        .unwrap();
    let first_len = sim.trace().len();
    sim.block_on(async { cancelsim::yield_now().await })
        .unwrap();
    let trace: &cancelsim::Trace = sim.trace();
    assert!(trace.len() > first_len);
    let text = trace.to_string();
    assert!(text.contains("main#0") && text.contains("main#1"), "{text}");
}

/// A world made right after another was dropped (reusing its emptied
/// storage) runs exactly like one made on a fresh thread: same trace, same
/// schedule, same result.
#[test]
fn a_world_made_after_a_busy_one_was_dropped_runs_like_a_fresh_one() {
    let fresh = std::thread::spawn(|| run(11, SchedulerKind::Random, racy_program))
        .join()
        .unwrap();
    let reused = std::thread::spawn(|| {
        // A busy world dropped mid-run: live tasks, armed timers, a long
        // schedule and ready queue.
        let mut busy = Sim::new(Config::default().seed(3).scheduler(SchedulerKind::Random));
        busy.block_on(async {
            for task in 0..50u64 {
                cancelsim::spawn(async move {
                    loop {
                        yield_now().await;
                        sleep(Duration::from_millis(task + 1)).await;
                    }
                })
                .detach();
            }
            sleep(Duration::from_millis(20)).await;
        })
        .unwrap();
        assert!(busy.live_tasks() > 0);
        drop(busy);
        run(11, SchedulerKind::Random, racy_program)
    })
    .join()
    .unwrap();
    assert_eq!(reused.trace, fresh.trace);
    assert_eq!(reused.schedule, fresh.schedule);
    assert_eq!(reused.log, fresh.log);
}
