//! A scheduler of the user's own, plugged in through
//! `SchedulerKind::custom`: it drives every choice of a run and of a
//! `Check`, is named in traces and repro lines, and a repro line that names
//! it replays through the check that defines it.

use std::cell::RefCell;
use std::process::Command;
use std::rc::Rc;

use cancelsim::schedule::{Divergence, ReadyTasks, Scheduler, SimRng};
use cancelsim::{Check, Config, Repro, SchedulerKind, Sim};

/// Runs the task woken last; the last of simultaneous timers.
#[derive(Debug)]
struct Lifo(SimRng);

impl Scheduler for Lifo {
    fn next_task(&mut self, ready: ReadyTasks<'_>) -> Result<usize, Divergence> {
        Ok(ready.len().saturating_sub(1))
    }

    fn next_timer(&mut self, due: usize) -> Result<usize, Divergence> {
        Ok(due - 1)
    }

    fn next_u64(&mut self) -> Result<u64, Divergence> {
        Ok(self.0.next_u64())
    }
}

fn lifo() -> SchedulerKind {
    SchedulerKind::custom("lifo", |seed| Box::new(Lifo(SimRng::new(seed))))
}

/// Three tasks logging their start; the order is the scheduler's.
async fn three_tasks() -> Vec<u32> {
    let log = Rc::new(RefCell::new(Vec::new()));
    let handles: Vec<_> = (1..=3)
        .map(|n| {
            let log = Rc::clone(&log);
            cancelsim::spawn(async move { log.borrow_mut().push(n) })
        })
        .collect();
    for handle in handles {
        handle.await.unwrap();
    }
    log.take()
}

#[test]
fn a_custom_scheduler_decides_every_choice_and_is_named_in_the_trace() {
    let mut sim = Sim::new(Config::default().scheduler(lifo()));
    assert_eq!(sim.block_on(three_tasks()).unwrap(), [3, 2, 1]);
    let trace = sim.trace().to_string();
    assert!(trace.contains("scheduler custom:lifo"), "{trace}");
    let mut fifo = Sim::new(Config::default());
    assert_eq!(fifo.block_on(three_tasks()).unwrap(), [1, 2, 3]);
}

#[test]
fn the_same_custom_scheduler_gives_the_same_trace() {
    let run = || {
        let mut sim = Sim::new(Config::default().seed(3).scheduler(lifo()));
        sim.block_on(three_tasks()).unwrap();
        sim.trace().to_string()
    };
    assert_eq!(run(), run());
}

/// A check that fails only when task 3 runs first: under the custom
/// scheduler its baseline does.
fn check(
) -> Check<impl Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>> + Send + Sync> {
    Check::new(
        || -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>> {
            Box::pin(async {
                let order = three_tasks().await;
                assert_ne!(order[0], 3, "task 3 ran first");
            })
        },
    )
    .name("custom_scheduler::child_replays")
    .scheduler(lifo())
}

#[test]
fn a_check_under_a_custom_scheduler_names_it_in_its_repro_lines() {
    let report = check().run();
    let failure = report
        .failures()
        .first()
        .unwrap_or_else(|| panic!("{report}"));
    let line = failure.repro().to_string();
    assert!(line.contains("scheduler=custom:lifo"), "{line}");
    let parsed: Repro = line.parse().unwrap();
    match &parsed.scheduler {
        SchedulerKind::Custom(named) => {
            assert_eq!(named.name(), "lifo");
            assert!(named.is_named_only());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
#[ignore = "run by the test below, in a child process"]
fn child_replays() {
    if std::env::var_os("CUSTOM_SCHEDULER_CHILD").is_none() {
        return;
    }
    let report = check().run();
    println!("RUNS={}", report.counts().runs);
    println!("FAILED={}", !report.is_clean());
}

#[test]
fn a_repro_line_naming_the_custom_scheduler_replays_through_its_check() {
    let line = check().run().failures()[0].repro().to_string();
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_replays",
            "--nocapture",
            "--include-ignored",
        ])
        .env("CANCELSIM_REPLAY", &line)
        .env("CUSTOM_SCHEDULER_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("RUNS=1\n"), "one replayed run: {stdout}");
    assert!(
        stdout.contains("FAILED=true\n"),
        "the replay fails again: {stdout}"
    );
    assert!(stdout.contains("replaying cancelsim:v1"), "{stdout}");
}
