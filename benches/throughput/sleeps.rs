//! Timers: W2, many tasks sleeping seeded random durations.

use std::sync::Arc;
use std::time::Duration;

use cancelsim::schedule::SimRng;

use crate::sizes::{Sizes, DURATION_SEED};
use crate::worlds::{on_cancelsim, on_tokio, sim_config};

/// The sleep durations of W2 (milliseconds, 1..=1000), task after task.
pub(crate) fn w2_durations(sizes: Sizes) -> Arc<[u64]> {
    let mut rng = SimRng::new(DURATION_SEED);
    (0..sizes.sleep_tasks * sizes.sleeps_per_task)
        .map(|_| rng.below(1000) + 1)
        .collect()
}

/// The virtual time W2 must end at: the longest task's total sleep.
pub(crate) fn w2_expected_end(sizes: Sizes, durations: &[u64]) -> Duration {
    let longest = durations
        .chunks(sizes.sleeps_per_task)
        .map(|task| task.iter().sum::<u64>())
        .max()
        .unwrap_or(0);
    Duration::from_millis(longest)
}

/// W2: task `i` sleeps the durations `i*per..(i+1)*per`; returns the virtual
/// time at the end.
pub(crate) fn w2_cancelsim(sizes: Sizes, durations: &Arc<[u64]>) -> Duration {
    let durations = Arc::clone(durations);
    on_cancelsim(sim_config(), async move {
        let start = cancelsim::time::Instant::now();
        let handles: Vec<_> = (0..sizes.sleep_tasks)
            .map(|task| {
                let durations = Arc::clone(&durations);
                cancelsim::spawn(async move {
                    let mine = task * sizes.sleeps_per_task..(task + 1) * sizes.sleeps_per_task;
                    for &ms in &durations[mine] {
                        cancelsim::time::sleep(Duration::from_millis(ms)).await;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await.expect("W2 task ends");
        }
        start.elapsed()
    })
}

pub(crate) fn w2_tokio(sizes: Sizes, durations: &Arc<[u64]>) -> Duration {
    let durations = Arc::clone(durations);
    on_tokio(async move {
        let start = tokio::time::Instant::now();
        let handles: Vec<_> = (0..sizes.sleep_tasks)
            .map(|task| {
                let durations = Arc::clone(&durations);
                tokio::spawn(async move {
                    let mine = task * sizes.sleeps_per_task..(task + 1) * sizes.sleeps_per_task;
                    for &ms in &durations[mine] {
                        tokio::time::sleep(Duration::from_millis(ms)).await;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await.expect("W2 task ends");
        }
        start.elapsed()
    })
}
