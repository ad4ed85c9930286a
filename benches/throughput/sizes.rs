//! Workload sizes (`--quick` divides them by ten) and the seed of the sleep
//! durations.

/// Seed of the sleep durations (W2, W5).
pub(crate) const DURATION_SEED: u64 = 0x5EED;

/// Workload sizes; `--quick` divides each by ten.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sizes {
    /// W0: worlds created per measurement.
    pub(crate) worlds: usize,
    /// W1: tasks and yields per task.
    pub(crate) yield_tasks: usize,
    pub(crate) yields_per_task: usize,
    /// W2: tasks and sleeps per task.
    pub(crate) sleep_tasks: usize,
    pub(crate) sleeps_per_task: usize,
    /// W3: spawn + join pairs.
    pub(crate) spawns: usize,
    /// W4: messages sent each way.
    pub(crate) messages: usize,
    /// W5: fresh-world runs of the small program.
    pub(crate) small_runs: usize,
}

impl Sizes {
    pub(crate) const FULL: Sizes = Sizes {
        worlds: 10_000,
        yield_tasks: 1_000,
        yields_per_task: 1_000,
        sleep_tasks: 10_000,
        sleeps_per_task: 100,
        spawns: 1_000_000,
        messages: 1_000_000,
        small_runs: 10_000,
    };

    pub(crate) fn quick() -> Sizes {
        let full = Sizes::FULL;
        Sizes {
            worlds: full.worlds / 10,
            yield_tasks: full.yield_tasks / 10,
            // 1/10 of the total work, keeping the per-task shape of W1 and W2.
            yields_per_task: full.yields_per_task,
            sleep_tasks: full.sleep_tasks / 10,
            sleeps_per_task: full.sleeps_per_task,
            spawns: full.spawns / 10,
            messages: full.messages / 10,
            small_runs: full.small_runs / 10,
        }
    }
}
