//! The order of wakes: timers due at one instant fire in the order the
//! scheduler picks, and hundreds of sleepers wake at their deadlines,
//! reproducibly.

use std::rc::Rc;

use cancelsim::time::{sleep, Instant};
use cancelsim::{spawn, Config, Sim};

use crate::common::ms;
use crate::SEED;

/// Four sleepers due at the same instant, and the order they woke in.
async fn same_instant_sleepers() -> Vec<&'static str> {
    let log = Rc::new(std::cell::RefCell::new(Vec::new()));
    for name in ["a", "b", "c", "d"] {
        let log = Rc::clone(&log);
        spawn(async move {
            sleep(ms(5)).await;
            log.borrow_mut().push(name);
        })
        .detach();
    }
    sleep(ms(10)).await;
    let order = log.borrow().clone();
    order
}

#[test]
fn timers_due_at_the_same_instant_fire_in_the_order_the_scheduler_picks() {
    // Fifo: registration order, each choice recorded as the first.
    let mut fifo = Sim::new(Config::default().seed(SEED));
    assert_eq!(
        fifo.block_on(same_instant_sleepers()).unwrap(),
        ["a", "b", "c", "d"]
    );
    let recorded = fifo.schedule().to_string();
    let timer_choices: Vec<&str> = recorded
        .split_whitespace()
        .filter(|token| token.starts_with('m'))
        .collect();
    assert_eq!(timer_choices, ["m0/4", "m0/3", "m0/2"]);

    // The same run with other timer choices: the third of four first, then
    // the first of the rest, then the second of the last two.
    let mut picks = ["m2/4", "m0/3", "m1/2"].into_iter();
    let edited: Vec<&str> = recorded
        .split_whitespace()
        .map(|token| {
            if token.starts_with('m') {
                picks.next().unwrap()
            } else {
                token
            }
        })
        .collect();
    let schedule: cancelsim::Schedule = edited.join(" ").parse().unwrap();
    let mut replay = Sim::new(Config::default().seed(SEED).scheduler(
        cancelsim::SchedulerKind::Replay(std::sync::Arc::new(schedule)),
    ));
    assert_eq!(
        replay.block_on(same_instant_sleepers()).unwrap(),
        ["c", "a", "d", "b"]
    );
}

/// 400 tasks with random sleeps (a world past the cache-hint threshold,
/// with many instants in the timer queue): every sleeper wakes at its own
/// deadline, in deadline order; the same seed gives the same trace, and two
/// seeds of the random scheduler order the same-instant wakes differently.
async fn many_sleepers(log: Rc<std::cell::RefCell<Vec<(u64, u32)>>>) -> u64 {
    let handles: Vec<_> = (0..400u32)
        .map(|task| {
            let log = Rc::clone(&log);
            spawn(async move {
                for round in 0..5u64 {
                    // Few distinct durations: many tasks share an instant.
                    let ms_left = u64::from(task % 7 + 1) * 10 + round;
                    sleep(ms(ms_left)).await;
                    let now = Instant::now().as_nanos();
                    log.borrow_mut().push((now, task));
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await.unwrap();
    }
    Instant::now().as_nanos()
}

fn run_many_sleepers(config: Config) -> (u64, Vec<(u64, u32)>, String) {
    let log = Rc::new(std::cell::RefCell::new(Vec::new()));
    let mut sim = Sim::new(config);
    let end = sim.block_on(many_sleepers(Rc::clone(&log))).unwrap();
    let trace = sim.trace().to_string();
    let log = log.borrow().clone();
    (end, log, trace)
}

#[test]
fn hundreds_of_sleepers_wake_at_their_deadlines_deterministically() {
    let (end, log, trace) = run_many_sleepers(Config::default().seed(SEED));
    assert_eq!(log.len(), 2000);
    // Each task's deadlines, summed: the wakes happen exactly then.
    for task in 0..400u32 {
        let mut due = 0;
        let times: Vec<u64> = log
            .iter()
            .filter(|(_, t)| *t == task)
            .map(|(now, _)| *now)
            .collect();
        for (round, now) in times.into_iter().enumerate() {
            due += (u64::from(task % 7 + 1) * 10 + round as u64) * 1_000_000;
            assert_eq!(now, due, "task {task} round {round}");
        }
    }
    assert!(log.windows(2).all(|pair| pair[0].0 <= pair[1].0));
    assert_eq!(end, log.last().unwrap().0);
    // Same seed, same trace.
    assert_eq!(run_many_sleepers(Config::default().seed(SEED)).2, trace);
    // The random scheduler: two seeds order the same-instant wakes
    // differently, each reproducibly.
    let random = |seed| {
        run_many_sleepers(
            Config::default()
                .seed(seed)
                .scheduler(cancelsim::SchedulerKind::Random),
        )
    };
    let (one, two) = (random(1), random(2));
    assert_ne!(one.1, two.1);
    assert_eq!(random(1).2, one.2);
}
