//! Same seed, same run: byte-identical traces and schedules, seeds and
//! schedulers that explore different interleavings, and a world that runs
//! alike however its thread was used before.

use std::collections::BTreeSet;
use std::time::Duration;

use cancelsim::time::sleep;
use cancelsim::{yield_now, Config, SchedulerKind, Sim};

use crate::{event_lines, exploring_schedulers, racy_program, run, yielding_program};

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
