//! `Config::root_first`: the root polled as tokio's current-thread runtime
//! polls its `block_on` future — first when woken with other tasks, and,
//! woken by a task, after the queue runs dry. Off, the root keeps its
//! place in wake order. Same seed, same trace; a recorded schedule replays.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use cancelsim::time::sleep;
use cancelsim::{spawn, yield_now, Config, SchedulerKind, Sim};

/// A task and the root wake at 20 ms (the task's timer registered first);
/// two tasks contend for the root's attention meanwhile.
async fn program() -> Vec<&'static str> {
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = Rc::clone(&log);
    let x = spawn(async move {
        sleep(Duration::from_millis(20)).await;
        l.borrow_mut().push("x");
    });
    let l = Rc::clone(&log);
    let y = spawn(async move {
        sleep(Duration::from_millis(20)).await;
        l.borrow_mut().push("y");
        yield_now().await;
        l.borrow_mut().push("y again");
    });
    yield_now().await; // the tasks register their timers first
    sleep(Duration::from_millis(20)).await;
    log.borrow_mut().push("main");
    let _ = (x.await, y.await);
    log.take()
}

fn run(config: Config) -> (Vec<&'static str>, String, cancelsim::schedule::Schedule) {
    let mut sim = Sim::new(config);
    let log = sim.block_on(program()).unwrap();
    (log, sim.trace().to_string(), sim.schedule())
}

#[test]
fn off_the_root_keeps_its_place_in_wake_order() {
    let (log, _, _) = run(Config::default());
    assert_eq!(log, ["x", "y", "main", "y again"]);
}

#[test]
fn on_the_root_runs_first_at_the_top_of_a_turn() {
    let (log, trace, _) = run(Config::default().root_first(true));
    assert_eq!(log, ["main", "x", "y", "y again"]);
    assert!(trace.contains("main#0"), "{trace}");
}

#[test]
fn same_seed_same_trace_and_the_schedule_replays() {
    let config = || {
        Config::default()
            .seed(7)
            .scheduler(SchedulerKind::CurrentThread)
            .root_first(true)
    };
    let (log, trace, schedule) = run(config());
    let (again, again_trace, _) = run(config());
    assert_eq!(log, again);
    assert_eq!(trace, again_trace);
    assert_eq!(log[0], "main", "the root first, whatever the timer ties");
    let replay = SchedulerKind::Replay(std::sync::Arc::new(schedule));
    let (replayed, _, _) = run(config().scheduler(replay));
    assert_eq!(replayed, log);
}
