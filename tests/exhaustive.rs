//! Bounded-exhaustive exploration (`schedule::Dfs`, `DfsExplorer`): every
//! schedule of a small program, each once, and a clear end.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::Arc;

use cancelsim::schedule::{DfsExplorer, DfsPath};
use cancelsim::{Config, SchedulerKind, Sim};
use futures::channel::oneshot;

/// `n` tasks, all ready at once, each logging its number and ending in one
/// poll; the last one to run wakes the root. Its schedules are the `n!`
/// orders of the tasks.
async fn n_tasks(n: u32) -> Vec<u32> {
    let log = Rc::new(RefCell::new(Vec::new()));
    let (done, all_ran) = oneshot::channel::<()>();
    let done = Rc::new(RefCell::new(Some(done)));
    for task in 1..=n {
        let (log, done) = (Rc::clone(&log), Rc::clone(&done));
        cancelsim::spawn(async move {
            log.borrow_mut().push(task);
            if log.borrow().len() == n as usize {
                let _ = done.borrow_mut().take().unwrap().send(());
            }
        })
        .detach();
    }
    all_ran.await.unwrap();
    log.take()
}

/// Explores `n_tasks(n)` with the bound; returns the schedules' orders.
fn explore(n: u32, bound: Option<u32>) -> (Vec<Vec<u32>>, DfsExplorer) {
    let mut explorer = DfsExplorer::new(bound);
    let mut orders = Vec::new();
    while let Some(path) = explorer.next_path() {
        let config = Config::default().scheduler(SchedulerKind::Dfs(Arc::new(path)));
        let mut sim = Sim::new(config);
        orders.push(sim.block_on(n_tasks(n)).unwrap());
        explorer.explored(&sim.schedule());
        assert!(orders.len() <= 10_000, "runaway exploration");
    }
    (orders, explorer)
}

#[test]
fn every_order_of_four_tasks_is_run_once_and_the_exploration_ends() {
    let (orders, explorer) = explore(4, None);
    assert!(explorer.is_exhausted());
    assert_eq!(explorer.schedules(), 24);
    let distinct: BTreeSet<_> = orders.iter().cloned().collect();
    assert_eq!(distinct.len(), 24, "4! distinct orders, none twice");
    assert_eq!(
        orders[0],
        [1, 2, 3, 4],
        "the first schedule is the Fifo one"
    );
}

#[test]
fn a_deviation_bound_explores_the_orders_within_it() {
    // Choices among 4, 3 and 2 ready tasks: with at most k of them not
    // the first in line, 1, 1+3+2+1, 7+3·2+3·1+2·1, 4! schedules.
    for (bound, count) in [(0, 1), (1, 7), (2, 18), (3, 24)] {
        let (orders, explorer) = explore(4, Some(bound));
        assert!(explorer.is_exhausted());
        assert_eq!(orders.len(), count, "bound {bound}");
    }
}

#[test]
fn exhaustive_exploration_finds_the_one_order_out_of_120_that_breaks() {
    let (orders, explorer) = explore(5, None);
    assert!(explorer.is_exhausted());
    assert_eq!(orders.len(), 120);
    assert!(orders.contains(&vec![5, 4, 3, 2, 1]));
}

#[test]
fn a_dfs_path_replays_its_schedule_exactly() {
    let run = |path: &str| {
        let path: DfsPath = path.parse().unwrap();
        let config = Config::default().scheduler(SchedulerKind::Dfs(Arc::new(path)));
        let mut sim = Sim::new(config);
        let order = sim.block_on(n_tasks(4)).unwrap();
        (order, sim.trace().to_string())
    };
    let (order, trace) = run("3.1");
    assert_eq!(order, [4, 2, 1, 3]);
    assert_eq!(run("3.1"), (order, trace.clone()));
    assert!(trace.contains("scheduler dfs:3.1"), "{trace}");
}

#[test]
fn a_dfs_path_the_program_does_not_offer_is_nondeterminism() {
    let path: DfsPath = "7".parse().unwrap();
    let config = Config::default().scheduler(SchedulerKind::Dfs(Arc::new(path)));
    let error = Sim::new(config).block_on(n_tasks(3)).unwrap_err();
    let text = error.to_string();
    assert!(text.contains("option 7 (the DFS path 7)"), "{text}");
    assert!(text.contains("a choice among 3 ready tasks"), "{text}");
}

#[test]
fn the_scheduler_text_form_carries_the_path() {
    let kind: SchedulerKind = "dfs:2.0.1".parse().unwrap();
    assert_eq!(kind.to_string(), "dfs:2.0.1");
    assert!("dfs:x".parse::<SchedulerKind>().is_err());
}
