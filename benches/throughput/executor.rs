//! The executor on its own: W0 (create and drop an empty world), W1 (tasks
//! that yield), W3 (sequential spawn + join).

use std::hint::black_box;

use cancelsim::{Config, Sim, TraceMode};

use crate::sizes::Sizes;
use crate::worlds::{on_cancelsim, on_tokio, sim_config, tokio_runtime};

/// W0: one empty world, created and dropped, `count` times.
pub(crate) fn w0_cancelsim(sizes: Sizes) {
    for _ in 0..sizes.worlds {
        black_box(Sim::new(Config::default()));
    }
}

pub(crate) fn w0_tokio(sizes: Sizes) {
    for _ in 0..sizes.worlds {
        black_box(tokio_runtime());
    }
}

/// W1: every task yields `yields_per_task` times; returns the yields done.
pub(crate) fn w1_cancelsim(sizes: Sizes) -> usize {
    on_cancelsim(sim_config(), async move {
        let handles: Vec<_> = (0..sizes.yield_tasks)
            .map(|_| {
                cancelsim::spawn(async move {
                    for _ in 0..sizes.yields_per_task {
                        cancelsim::yield_now().await;
                    }
                    sizes.yields_per_task
                })
            })
            .collect();
        let mut total = 0;
        for handle in handles {
            total += handle.await.expect("W1 task ends");
        }
        total
    })
}

pub(crate) fn w1_tokio(sizes: Sizes) -> usize {
    on_tokio(async move {
        let handles: Vec<_> = (0..sizes.yield_tasks)
            .map(|_| {
                tokio::spawn(async move {
                    for _ in 0..sizes.yields_per_task {
                        tokio::task::yield_now().await;
                    }
                    sizes.yields_per_task
                })
            })
            .collect();
        let mut total = 0;
        for handle in handles {
            total += handle.await.expect("W1 task ends");
        }
        total
    })
}

/// W3: spawn an empty task and join it, `spawns` times in a row.
pub(crate) fn w3_cancelsim(sizes: Sizes, trace: TraceMode) -> usize {
    on_cancelsim(sim_config().trace(trace), async move {
        let mut joined = 0;
        for _ in 0..sizes.spawns {
            cancelsim::spawn(async {}).await.expect("W3 task ends");
            joined += 1;
        }
        joined
    })
}

pub(crate) fn w3_tokio(sizes: Sizes) -> usize {
    on_tokio(async move {
        let mut joined = 0;
        for _ in 0..sizes.spawns {
            tokio::spawn(async {}).await.expect("W3 task ends");
            joined += 1;
        }
        joined
    })
}
