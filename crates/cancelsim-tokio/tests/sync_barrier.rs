//! `sync::Barrier`: the same program on real tokio and on the facade
//! (generations, one leader each, `n == 0`, a dropped `wait` that still
//! counts), and its wake order fixed: tokio's barrier waits on a `watch`
//! whose random waiter lists made a correct barrier test look
//! nondeterministic to the sweep (trial 6).
#![cfg(cancelsim)]

use std::sync::Arc;
use std::time::Duration;

use cancelsim::{Check, Config, SchedulerKind, Sim};

#[macro_use]
mod common;
use common::Log;

#[test]
fn generations_leaders_and_dropped_waits_agree_with_tokio() {
    let (mut real, mut sim) = both!(|rt, log, start| async move {
        let barrier = Arc::new(rt::sync::Barrier::new(3));
        let mut tasks = Vec::new();
        for i in 0..5u64 {
            let barrier = Arc::clone(&barrier);
            let log = Arc::clone(&log);
            tasks.push(rt::spawn(async move {
                rt::time::sleep(Duration::from_millis(10 * i)).await;
                let leader = barrier.wait().await.is_leader();
                note!(log, start, "task {i} passed, leader {leader}");
            }));
        }
        // A `wait` that times out had arrived, and still counts: tasks 3
        // and 4 complete the second generation with it.
        rt::time::sleep(Duration::from_millis(25)).await;
        let dropped = rt::time::timeout(Duration::from_millis(1), barrier.wait()).await;
        note!(log, start, "timed out {}", dropped.is_err());
        for task in tasks {
            task.await.unwrap();
        }
        let single = rt::sync::Barrier::new(0);
        note!(log, start, "n=0 leader {}", single.wait().await.is_leader());
        note!(log, start, "done");
    });
    real.sort();
    sim.sort();
    assert_eq!(real, sim);
    let leaders = sim
        .iter()
        .filter(|(_, l)| l.ends_with("passed, leader true"))
        .count();
    assert_eq!(leaders, 2, "{sim:?}");
    assert!(
        sim.contains(&(20, "task 2 passed, leader true".to_string())),
        "{sim:?}"
    );
    assert!(sim.contains(&(26, "timed out true".to_string())), "{sim:?}");
    assert!(
        sim.contains(&(40, "task 4 passed, leader true".to_string())),
        "{sim:?}"
    );
}

/// The trial's test: readers and the body meet at a barrier, then the
/// body changes the shared state; every reader sees one of the two.
async fn readers_meet_at_a_barrier() {
    let barrier = Arc::new(cancelsim_tokio::sync::Barrier::new(4));
    let state = Arc::new(cancelsim_tokio::sync::RwLock::new("old"));
    let mut readers = Vec::new();
    for _ in 0..3 {
        let barrier = Arc::clone(&barrier);
        let state = Arc::clone(&state);
        readers.push(cancelsim_tokio::spawn(async move {
            barrier.wait().await;
            let seen = *state.read().await;
            assert!(seen == "old" || seen == "new", "{seen}");
        }));
    }
    barrier.wait().await;
    *state.write().await = "new";
    for reader in readers {
        reader.await.unwrap();
    }
}

#[test]
fn a_barrier_with_several_waiters_is_deterministic() {
    Check::new(readers_meet_at_a_barrier)
        .tokio_preset()
        .run()
        .assert_clean();
}

#[test]
fn the_same_seed_wakes_the_waiters_in_the_same_order() {
    let trace = |seed| {
        let config = Config::default()
            .seed(seed)
            .scheduler(SchedulerKind::Random);
        let mut sim = Sim::new(config);
        sim.block_on(readers_meet_at_a_barrier()).unwrap();
        sim.trace().to_string()
    };
    let first = trace(1);
    for _ in 0..20 {
        assert_eq!(trace(1), first);
    }
    assert!((2..40).any(|seed| trace(seed) != first));
}
