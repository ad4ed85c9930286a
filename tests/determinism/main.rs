//! Determinism: same seed, same trace; recorded schedules replay exactly;
//! divergence is reported, not crashed on; the seeded streams are pinned.
//!
//! One module per concern; the programs and runners they share are here.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use cancelsim::time::sleep;
use cancelsim::{
    random, random_range, spawn_named, yield_now, Config, Schedule, SchedulerKind, Sim,
};

mod divergence;
mod pinned;
mod replay;
mod same_seed;
mod schedule_text;

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
