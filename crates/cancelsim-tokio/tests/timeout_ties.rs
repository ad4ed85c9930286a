//! tokio's `Timeout` polls its inner future before its deadline: an inner
//! future done at the deadline's instant always wins, under every schedule
//! (real tokio: `Ok` every time). The simulated one does the same.
#![cfg(cancelsim)]

use std::time::Duration;

use cancelsim::{Config, SchedulerKind, Sim};

#[test]
fn an_inner_future_done_at_the_deadline_always_wins() {
    for seed in 0..32 {
        let config = Config::default()
            .seed(seed)
            .scheduler(SchedulerKind::Random);
        let mut sim = Sim::new(config);
        let outcome = sim
            .block_on(async {
                let ms = Duration::from_millis(10);
                cancelsim_tokio::time::timeout(ms, cancelsim_tokio::time::sleep(ms)).await
            })
            .unwrap();
        assert!(outcome.is_ok(), "seed {seed}: {}", sim.trace());
    }
}

#[test]
fn the_same_on_real_tokio() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    for _ in 0..32 {
        let ms = Duration::from_millis(10);
        let outcome =
            runtime.block_on(async { tokio::time::timeout(ms, tokio::time::sleep(ms)).await });
        assert!(outcome.is_ok());
    }
}
