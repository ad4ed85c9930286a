//! Task groups: values in spawn order, first failure cancels the siblings,
//! the group waits for every child, a cancelled joiner cancels and drains the
//! group, a dropped group aborts its children; clean under every injection;
//! deterministic.

use cancelsim::ViolationCode;
use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use cancelsim::cancel::{checkpoint, Cancelled};
use cancelsim::time::{sleep, Instant};
use cancelsim::{
    spawn, spawn_named, yield_now, CancelMode, Check, Config, GroupError, SchedulerKind, Sim,
    TaskGroup,
};

mod common;
use common::{drop_flag, ms, sim, sweep};

/// Seed of the simulations of this file.
const SEED: u64 = 3;

/// A child's error: a failure of its own, or the cancellation it honoured.
#[derive(Debug)]
enum AppError {
    Refused(&'static str),
    Cancelled(Cancelled),
}

impl From<Cancelled> for AppError {
    fn from(cancelled: Cancelled) -> Self {
        AppError::Cancelled(cancelled)
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Refused(why) => write!(f, "refused: {why}"),
            AppError::Cancelled(_) => f.write_str("cancelled"),
        }
    }
}

/// Works in steps until cancelled; every step is an await point that
/// observes cancellation.
async fn until_cancelled(step: Duration) -> Result<u32, AppError> {
    loop {
        sleep(step).await;
        checkpoint().await?;
    }
}

#[test]
fn all_children_succeed_values_come_back_in_spawn_order() {
    let mut sim = sim(SEED);
    let values = sim
        .block_on(async {
            let mut group = TaskGroup::<u64, AppError>::new();
            assert!(group.is_empty());
            for millis in [40, 10, 30, 20] {
                group.spawn_named("fetch", async move {
                    sleep(ms(millis)).await;
                    Ok(millis)
                });
            }
            assert_eq!(group.len(), 4);
            group.join().await
        })
        .unwrap()
        .unwrap();
    assert_eq!(values, [40, 10, 30, 20]);
    assert_eq!(sim.live_tasks(), 0);
    assert!(!sim.trace().to_string().contains("cancel requested"));
}

#[test]
fn an_empty_group_joins_at_once() {
    let values = sim(SEED)
        .block_on(async { TaskGroup::<(), AppError>::new().join().await })
        .unwrap()
        .unwrap();
    assert!(values.is_empty());
}

#[test]
fn the_first_failure_cancels_the_siblings_and_the_group_waits_for_them() {
    let mut sim = sim(SEED);
    let error = sim
        .block_on(async {
            let mut group = TaskGroup::<u32, AppError>::new();
            group.spawn_named("quick", async { Ok(1) });
            let failing = group.spawn_named("failing", async {
                sleep(ms(10)).await;
                Err(AppError::Refused("no route"))
            });
            let looping = group.spawn_named("looping", until_cancelled(ms(3)));
            let error = group.join().await.unwrap_err();
            (error, failing, looping)
        })
        .unwrap();
    let (error, failing, looping) = error;
    assert!(!error.is_cancelled());
    let first = error.first().unwrap();
    assert_eq!(first.task(), failing);
    assert_eq!(first.index(), 1);
    assert!(first.is_error());
    assert!(matches!(first.error(), Some(AppError::Refused("no route"))));
    assert_eq!(error.errors().len(), 1, "{error}");
    assert_eq!(error.failures().len(), 2);
    let second = &error.failures()[1];
    assert_eq!(second.task(), looping);
    assert!(second.is_cancelled_by_group());
    assert!(matches!(
        second.error(),
        Some(AppError::Cancelled(Cancelled { .. }))
    ));
    assert_eq!(
        error.to_string(),
        format!(
            "task {failing} (child 1) failed: refused: no route; then 1 more: \
             task {looping} (child 2) was cancelled by the group: cancelled"
        )
    );
    assert_eq!(sim.live_tasks(), 0);
    let text = sim.trace().to_string();
    assert!(
        text.contains("cancel requested by failing#2 via group 0"),
        "{text}"
    );
    assert_eq!(text.matches("via group").count(), 1, "{text}");
}

#[test]
fn join_waits_for_a_sibling_cleaning_up_after_the_cancel() {
    let cleaned = Rc::new(Cell::new(None::<Instant>));
    let observed = Rc::clone(&cleaned);
    let mut sim = sim(SEED);
    let (joined_at, cleaned_when_joined) = sim
        .block_on(async move {
            let mut group = TaskGroup::<(), AppError>::new();
            group.spawn(async {
                sleep(ms(5)).await;
                Err(AppError::Refused("bad input"))
            });
            let cleaned = Rc::clone(&observed);
            group.spawn(async move {
                let outcome = until_cancelled(ms(1)).await;
                // Async clean-up after the cancel: flush, then report.
                sleep(ms(50)).await;
                cleaned.set(Some(Instant::now()));
                outcome.map(drop)
            });
            let result = group.join().await;
            assert!(result.is_err());
            (Instant::now(), observed.get())
        })
        .unwrap();
    let cleaned_at = cleaned_when_joined.expect("clean-up ran before join returned");
    assert!(cleaned_at <= joined_at);
    assert!(cleaned_at.since_start() >= ms(55));
    assert_eq!(cleaned.get(), Some(cleaned_at));
}

#[test]
fn a_panicking_child_fails_the_group_with_its_panic() {
    let mut sim = sim(SEED);
    let error = sim
        .block_on(async {
            let mut group = TaskGroup::<u32, AppError>::new();
            group.spawn(until_cancelled(ms(2)));
            group.spawn(async {
                sleep(ms(7)).await;
                panic!("checksum mismatch");
            });
            group.join().await.unwrap_err()
        })
        .unwrap();
    let first = error.first().unwrap();
    assert!(first.is_panic());
    assert!(
        first
            .panic_message()
            .unwrap()
            .starts_with("checksum mismatch at tests/group.rs:"),
        "{error}"
    );
    assert_eq!(error.panics().len(), 1);
    assert!(error.errors().is_empty());
    assert!(error.failures()[1].is_cancelled_by_group());
    assert!(error.to_string().contains("panicked: checksum mismatch"));
    let text = sim.trace().to_string();
    assert!(text.contains("via group 0"), "{text}");
}

#[test]
fn a_panic_joined_through_the_group_is_observed() {
    let report = Check::new(|| async {
        let mut group = TaskGroup::<(), AppError>::new();
        group.spawn(async { panic!("boom") });
        let error = group.join().await.unwrap_err();
        assert_eq!(error.panics().len(), 1);
    })
    .run();
    report.assert_clean();
}

#[test]
fn a_cancelled_joiner_cancels_and_drains_the_children() {
    let cleaned = Rc::new(Cell::new(0));
    let counter = Rc::clone(&cleaned);
    let mut sim = sim(SEED);
    let (result, cleaned_when_joined) = sim
        .block_on(async move {
            let parent = spawn_named("parent", async move {
                let mut group = TaskGroup::<u32, AppError>::new();
                for _ in 0..3 {
                    let cleaned = Rc::clone(&counter);
                    group.spawn_named("child", async move {
                        let outcome = until_cancelled(ms(4)).await;
                        sleep(ms(10)).await;
                        cleaned.set(cleaned.get() + 1);
                        outcome
                    });
                }
                let result = group.join().await;
                (result, counter.get())
            });
            sleep(ms(9)).await;
            parent.cancel();
            parent.await.unwrap()
        })
        .unwrap();
    assert!(matches!(
        result,
        Err(GroupError::Cancelled(Cancelled { .. }))
    ));
    let error = result.unwrap_err();
    assert!(error.is_cancelled());
    assert!(error.cancelled().is_some());
    assert!(error.first().is_none());
    assert_eq!(
        cleaned_when_joined, 3,
        "every child drained before join returned"
    );
    assert_eq!(sim.live_tasks(), 0);
    let text = sim.trace().to_string();
    assert_eq!(text.matches("via group 0").count(), 3, "{text}");
}

#[test]
fn dropping_the_group_aborts_the_children() {
    let flags: Rc<RefCell<Vec<Rc<Cell<bool>>>>> = Rc::default();
    let seen = Rc::clone(&flags);
    let mut sim = sim(SEED);
    sim.block_on(async move {
        let mut group = TaskGroup::<(), AppError>::new();
        for _ in 0..3 {
            let (guard, flag) = drop_flag();
            seen.borrow_mut().push(flag);
            group.spawn(async move {
                let _guard = guard;
                sleep(ms(1000)).await;
                Ok(())
            });
        }
        yield_now().await;
        assert!(seen.borrow().iter().all(|flag| !flag.get()));
        drop(group);
        assert!(seen.borrow().iter().all(|flag| flag.get()));
    })
    .unwrap();
    assert_eq!(flags.borrow().len(), 3);
    assert_eq!(sim.live_tasks(), 0);
    assert!(sim.trace().to_string().contains("aborted"));
}

#[test]
fn a_drop_cancelled_parent_leaves_no_orphans() {
    let (guard, dropped) = drop_flag();
    let mut sim = sim(SEED);
    sim.block_on(async move {
        let parent = spawn(async move {
            let mut group = TaskGroup::<(), AppError>::new();
            group.spawn(async move {
                let _guard = guard;
                sleep(ms(1000)).await;
                Ok(())
            });
            group.join().await
        });
        sleep(ms(5)).await;
        parent.abort();
        assert!(parent.await.unwrap_err().is_cancelled());
    })
    .unwrap();
    assert!(dropped.get());
    assert_eq!(sim.live_tasks(), 0);
}

#[test]
fn a_child_spawned_into_a_cancelling_group_is_asked_to_cancel_at_once() {
    let mut sim = sim(SEED);
    let error = sim
        .block_on(async {
            let mut group = TaskGroup::<u32, AppError>::new();
            group.spawn(async { Err(AppError::Refused("first")) });
            yield_now().await;
            let late = group.spawn(until_cancelled(ms(1)));
            (group.join().await.unwrap_err(), late)
        })
        .unwrap();
    let (error, late) = error;
    assert_eq!(error.failures().len(), 2);
    assert_eq!(error.failures()[1].task(), late);
    assert!(error.failures()[1].is_cancelled_by_group());
}

/// A well-behaved group program: children propagate cancellation, the parent
/// propagates the group's failure (including its own cancellation).
async fn well_behaved() -> Result<Vec<u32>, GroupError<AppError>> {
    let mut group = TaskGroup::<u32, AppError>::new();
    group.spawn_named("a", async {
        sleep(ms(3)).await;
        checkpoint().await?;
        Ok(1)
    });
    group.spawn_named("b", async {
        let _db = cancelsim::resource::acquire("db");
        sleep(ms(5)).await;
        yield_now().await;
        checkpoint().await?;
        Ok(2)
    });
    group.spawn_named("c", async {
        for _ in 0..3 {
            checkpoint().await?;
        }
        Ok(3)
    });
    match group.join().await {
        Ok(values) => Ok(values),
        Err(error) => Err(error),
    }
}

#[test]
fn a_group_is_clean_under_every_injection() {
    let report = sweep(well_behaved)
        .seeds(0..4)
        .scheduler(SchedulerKind::Random)
        .run();
    report.assert_clean();
    assert!(report.counts().runs > 4, "{report}");
}

#[test]
fn a_nested_joiner_propagating_the_groups_cancel_is_not_flagged() {
    let report = Check::new(|| async {
        let parent = spawn_named("parent", async {
            match well_behaved().await {
                Ok(values) => Ok(values.len()),
                Err(error) => Err(error),
            }
        });
        let _ = parent.await;
    })
    .cancel_at_every_await(CancelMode::Cooperative)
    .run();
    report.assert_clean();
}

#[test]
fn a_joiner_swallowing_the_groups_cancel_is_flagged() {
    let report = Check::new(|| async {
        let parent = spawn_named("parent", async {
            match well_behaved().await {
                Ok(values) => values.len(),
                Err(GroupError::Cancelled(_)) => 0, // the bug: dropped and carried on
                Err(GroupError::Failed(failures)) => failures.len(),
            }
        });
        let _ = parent.await;
    })
    .cancel_at_every_await(CancelMode::Cooperative)
    .run();
    assert!(!report.is_clean());
    assert!(report
        .failures()
        .iter()
        .any(|failure| failure.has(ViolationCode::CancelSwallowed)));
}

/// Workers that race through a group, each step a yield or a random sleep.
async fn racy_group(log: Rc<RefCell<Vec<String>>>) {
    let mut group = TaskGroup::<(), AppError>::new();
    for worker in 0..4 {
        let log = Rc::clone(&log);
        group.spawn_named(&format!("w{worker}"), async move {
            for round in 0..3 {
                match cancelsim::random_range(0..3) {
                    0 => yield_now().await,
                    millis => sleep(ms(millis)).await,
                }
                log.borrow_mut().push(format!("w{worker}.{round}"));
            }
            if worker == 3 {
                return Err(AppError::Refused("w3"));
            }
            Ok(())
        });
    }
    let _ = group.join().await;
}

fn run_racy(seed: u64) -> (String, Vec<String>) {
    let mut sim = Sim::new(
        Config::default()
            .seed(seed)
            .scheduler(SchedulerKind::Random),
    );
    let log = Rc::new(RefCell::new(Vec::new()));
    sim.block_on(racy_group(Rc::clone(&log))).unwrap();
    let trace = sim.trace().to_string();
    let log = log.borrow().clone();
    (trace, log)
}

#[test]
fn the_same_seed_gives_an_identical_group_trace() {
    for seed in 0..10 {
        let first = run_racy(seed);
        let second = run_racy(seed);
        assert_eq!(first, second, "seed {seed}");
    }
}

#[test]
fn different_seeds_give_different_group_orders() {
    let orders: BTreeSet<Vec<String>> = (0..10).map(|seed| run_racy(seed).1).collect();
    assert!(orders.len() >= 2, "10 seeds gave one order");
    let (_, one) = run_racy(1);
    let (_, two) = run_racy(2);
    assert_ne!(one, two, "seeds 1 and 2 ran the group the same way");
}
