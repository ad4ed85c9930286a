//! The built-in scheduling strategies of `cancelsim::schedule`, seen from
//! outside: their public names, and what each explores.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

use cancelsim::schedule::{Random, Scheduler};
use cancelsim::{spawn_named, yield_now, Check, Config, SchedulerKind, Sim};

fn ms(millis: u64) -> std::time::Duration {
    std::time::Duration::from_millis(millis)
}

/// DESIGN names the strategy `Random` (its one name: the former alias
/// `RandomScheduler` is gone); the same seed gives the same stream.
#[test]
fn random_is_the_random_strategy() {
    let mut by_name: Random = Random::new(5);
    let mut again = Random::new(5);
    let new_stream: Vec<u64> = (0..8).map(|_| by_name.next_u64().unwrap()).collect();
    let again_stream: Vec<u64> = (0..8).map(|_| again.next_u64().unwrap()).collect();
    assert_eq!(new_stream, again_stream);
    assert!(format!("{by_name:?}").starts_with("Random"));

    // `SchedulerKind::Random` is this strategy: a world under it hands out
    // the strategy's stream from the same seed.
    let mut sim = Sim::new(Config::default().seed(5).scheduler(SchedulerKind::Random));
    let from_world: Vec<u64> = sim
        .block_on(async { (0..8).map(|_| cancelsim::random::<u64>()).collect() })
        .unwrap();
    assert_eq!(from_world, new_stream);
}

/// Two tasks of three rounds each, logging every round and yielding after
/// it (so both stay ready until they end).
async fn two_yielding_tasks() -> Vec<String> {
    let log = Rc::new(RefCell::new(Vec::new()));
    let tasks: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|name| {
            let log = Rc::clone(&log);
            spawn_named(name, async move {
                for round in 0..3 {
                    log.borrow_mut().push(format!("{name}{round}"));
                    yield_now().await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let log = log.borrow().clone();
    log
}

/// The depth-2 bug: the task that started first is overtaken by the other
/// one, which finishes first. It takes exactly one preemption of a task
/// that could have run on.
fn overtaken(log: &[String]) -> bool {
    let first = &log[0][..1];
    log.last().is_some_and(|last| last.starts_with(first))
}

fn log_under_pct(depth: u32, seed: u64) -> Vec<String> {
    let config = Config::default()
        .seed(seed)
        .scheduler(SchedulerKind::Pct { depth })
        // About the number of real choices of the program.
        .pct_horizon(8);
    Sim::new(config).block_on(two_yielding_tasks()).unwrap()
}

#[test]
fn pct_depth_1_is_a_priority_order_and_depth_2_finds_the_one_preemption_bug() {
    let sequential = |first: &str, second: &str| -> Vec<String> {
        [first, second]
            .into_iter()
            .flat_map(|name| (0..3).map(move |round| format!("{name}{round}")))
            .collect()
    };
    let mut orders = BTreeSet::new();
    for seed in 0..100 {
        // Depth 1: whichever task has the higher priority runs all its
        // rounds, then the other: a plain priority order, never a switch.
        let log = log_under_pct(1, seed);
        assert!(
            log == sequential("a", "b") || log == sequential("b", "a"),
            "seed {seed}: {log:?}"
        );
        assert!(!overtaken(&log));
        orders.insert(log);
    }
    // The priorities come from the seed: both orders show up.
    assert_eq!(orders.len(), 2);

    let found: Vec<u64> = (0..100)
        .filter(|&seed| overtaken(&log_under_pct(2, seed)))
        .collect();
    // PCT's bound for n = 3 tasks, k = 8 steps: at least 1/(n·k) = 1/24 of
    // the runs; 100 seeds find it several times.
    assert!(
        found.len() >= 3,
        "depth 2 found the bug for seeds {found:?}"
    );
}

/// `CurrentThread` keeps tasks in wake order, as tokio's current-thread
/// runtime, and explores what that runtime leaves to chance: the
/// alternatives of `choose` (`select!`'s start branch, I/O delays).
#[test]
fn current_thread_keeps_task_order_and_explores_choices() {
    let run = |seed: u64| {
        let config = Config::default()
            .seed(seed)
            .scheduler(SchedulerKind::CurrentThread);
        let mut sim = Sim::new(config);
        let log = sim.block_on(two_yielding_tasks()).unwrap();
        let choice = sim.block_on(async { cancelsim::choose(4) }).unwrap();
        (log, choice, sim.trace().to_string())
    };
    let fifo = Sim::new(Config::default())
        .block_on(two_yielding_tasks())
        .unwrap();
    let mut choices = BTreeSet::new();
    for seed in 0..32 {
        let (log, choice, trace) = run(seed);
        assert_eq!(log, fifo, "seed {seed}: tasks in wake order");
        assert_eq!(run(seed).2, trace, "seed {seed}: same seed, same trace");
        choices.insert(choice);
    }
    assert_eq!(choices.len(), 4, "every alternative explored: {choices:?}");
    assert_eq!(
        "current-thread".parse::<SchedulerKind>().unwrap(),
        SchedulerKind::CurrentThread
    );
}

// ----- PCT and programs that loop until told to stop -------------------------

/// A correct program: a worker that does a little work and yields until
/// told to stop, and a root that tells it after 10 ms and joins it.
async fn stop_after_10ms() {
    let stop = std::rc::Rc::new(std::cell::Cell::new(false));
    let worker = cancelsim::spawn_named("worker", {
        let stop = std::rc::Rc::clone(&stop);
        async move {
            while !stop.get() {
                cancelsim::work(ms(1));
                cancelsim::yield_now().await;
            }
        }
    });
    cancelsim::time::sleep(ms(10)).await;
    stop.set(true);
    worker.await.unwrap();
}

#[test]
fn pct_does_not_starve_a_root_behind_a_task_that_yields_forever() {
    // Whenever the worker drew the higher priority, plain PCT ran it at
    // every step and the root never got to say stop: a step limit, for a
    // correct program.
    for depth in [1, 2, 3] {
        Check::new(stop_after_10ms)
            .scheduler(SchedulerKind::Pct { depth })
            .seeds(0..16)
            .run()
            .assert_clean();
    }
}

#[test]
fn pct_fairness_is_deterministic() {
    let run = || {
        let mut sim = Sim::new(
            Config::default()
                .seed(3)
                .scheduler(SchedulerKind::Pct { depth: 2 }),
        );
        sim.block_on(stop_after_10ms()).unwrap();
        sim.trace().to_string()
    };
    assert_eq!(run(), run());
}
