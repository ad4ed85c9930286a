//! Spawn-site names, `AbortHandle`, `task::current_id`, `in_simulation`,
//! `simulation_id` and `time::sleep_until_located`.

mod common;

use std::cell::RefCell;
use std::panic::Location;
use std::rc::Rc;

use cancelsim::task::{current_id, spawn_named_by_site, AbortHandle};
use cancelsim::time::{sleep, sleep_until_located, Instant};
use cancelsim::{
    in_simulation, simulation_id, CancelMode, Check, Config, SchedulerKind, Sim, TaskId,
    ViolationCode,
};
use common::{drop_flag, ms, sim};

const SOURCE: &str = include_str!("task_handles.rs");

/// `tests/task_handles.rs:LINE` of the first line holding `marker` (not
/// in a string): a test file's sites are named with their directory.
fn site(marker: &str) -> String {
    let line = SOURCE
        .lines()
        .position(|l| l.contains(marker) && !l.contains(&format!("\"{marker}")))
        .unwrap_or_else(|| panic!("`{marker}` is not in this file"))
        + 1;
    format!("tests/task_handles.rs:{line}")
}

// ----- spawn_named_by_site -----------------------------------------------------

#[test]
fn a_task_is_named_by_its_spawn_site_in_the_trace() {
    let mut sim = sim(0);
    let child_id = sim
        .block_on(async {
            let child = spawn_named_by_site(async { sleep(ms(1)).await }); // marker: site a
            let id = child.abort_handle().id();
            child.await.unwrap();
            id
        })
        .unwrap();
    let name = site("marker: site a");
    let trace = sim.trace().to_string();
    assert!(
        trace.contains(&format!("spawn {name}#1 at tests/")),
        "{trace}"
    );
    assert!(
        trace.contains(&format!("{name}#1 completed: returned")),
        "{trace}"
    );
    assert_eq!(child_id.as_u32(), 1);
    assert_eq!(sim.trace().task_name(child_id), Some(name.as_str()));
}

#[test]
fn one_site_names_every_task_it_spawns_and_two_sites_differ() {
    let mut sim = sim(0);
    let ids = sim
        .block_on(async {
            let mut handles = Vec::new();
            for _ in 0..3 {
                handles.push(spawn_named_by_site(async {})); // marker: site loop
            }
            handles.push(spawn_named_by_site(async {})); // marker: site other
            let mut ids = Vec::new();
            for handle in handles {
                ids.push(handle.abort_handle().id());
                handle.await.unwrap();
            }
            ids
        })
        .unwrap();
    let looped = site("marker: site loop");
    let other = site("marker: site other");
    let trace = sim.trace();
    for &id in &ids[..3] {
        assert_eq!(trace.task_name(id), Some(looped.as_str()));
    }
    assert_eq!(trace.task_name(ids[3]), Some(other.as_str()));
    let text = trace.to_string();
    for id in 1..=3 {
        assert!(text.contains(&format!("{looped}#{id}")), "{text}");
    }
}

#[test]
fn a_leaked_task_is_reported_by_its_spawn_site_and_the_joined_twin_is_clean() {
    let report = Check::new(|| async {
        let worker = spawn_named_by_site(async { sleep(ms(5)).await }); // marker: leaked
        sleep(ms(1)).await;
        drop(worker); // neither joined nor aborted
    })
    .run();
    let failure = report
        .failures()
        .first()
        .unwrap_or_else(|| panic!("{report}"));
    let violation = &failure.violations()[0];
    assert_eq!(violation.kind(), ViolationCode::LeakedTask);
    let name = site("marker: leaked");
    assert_eq!(violation.task_name(), Some(name.as_str()));
    assert_eq!(violation.task_id().map(TaskId::as_u32), Some(1));
    assert_eq!(violation.await_point(), Some(1));
    assert!(report.to_string().contains(&name), "{report}");

    Check::new(|| async {
        let worker = spawn_named_by_site(async { sleep(ms(5)).await }).abort_on_drop();
        sleep(ms(1)).await;
        let _ = worker.await;
    })
    .cancel_at_every_await(CancelMode::Drop)
    .run()
    .assert_clean();
}

#[test]
fn a_site_named_task_that_leaks_a_resource_under_an_injected_drop_is_named_by_its_site() {
    // Not RAII: the connection waits in a pool outside the task's future
    // and is handed back by code after the await, which a drop skips.
    let report = Check::new(|| async {
        let pool: Rc<RefCell<Option<cancelsim::resource::Guard>>> = Rc::default();
        let worker = {
            let pool = Rc::clone(&pool);
            spawn_named_by_site(async move {
                // marker: resource site
                *pool.borrow_mut() = Some(cancelsim::resource::acquire("db"));
                sleep(ms(5)).await;
                drop(pool.borrow_mut().take());
            })
            .abort_on_drop()
        };
        let _ = worker.await;
        std::mem::forget(pool); // the pool outlives the run
    })
    .cancel_at_every_await(CancelMode::Drop)
    .run();
    let violation = report
        .failures()
        .iter()
        .flat_map(|f| f.violations())
        .find(|v| v.kind() == ViolationCode::LeakedResource)
        .unwrap_or_else(|| panic!("{report}"));
    // The spawn call is on the line before the marker.
    let marker_line: usize = site("marker: resource site")
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let expected = format!("tests/task_handles.rs:{}", marker_line - 1);
    assert_eq!(violation.task_name(), Some(expected.as_str()));
    assert_eq!(violation.await_point(), Some(1));
}

// ----- AbortHandle ----------------------------------------------------------------

#[test]
fn an_abort_handle_aborts_the_task_where_it_waits() {
    let (flag, dropped) = drop_flag();
    let mut sim = sim(0);
    let (error, handle_id, join_id) = sim
        .block_on(async move {
            let task = cancelsim::spawn(async move {
                let _flag = flag;
                sleep(ms(1000)).await;
            });
            let abort: AbortHandle = task.abort_handle();
            let clone = abort.clone();
            sleep(ms(1)).await;
            assert!(!clone.is_finished());
            clone.abort();
            assert!(abort.is_finished(), "abort drops the future at once");
            let id = abort.id();
            let error = task.await.unwrap_err();
            (error, id, current_id())
        })
        .unwrap();
    assert!(error.is_cancelled());
    assert!(dropped.get());
    assert_eq!(handle_id.as_u32(), 1);
    assert_eq!(join_id.map(TaskId::as_u32), Some(0));
    assert_eq!(sim.now().as_nanos(), 1_000_000);
}

#[test]
fn request_abort_through_the_handle_is_deferred_to_the_next_run_of_the_task() {
    let mut sim = sim(0);
    let log = sim
        .block_on(async {
            let log = Rc::new(RefCell::new(Vec::new()));
            let task = cancelsim::spawn(sleep(ms(1000)));
            let abort = task.abort_handle();
            cancelsim::yield_now().await;
            abort.request_abort();
            log.borrow_mut().push(abort.is_finished());
            assert!(task.await.unwrap_err().is_cancelled());
            log.borrow_mut().push(abort.is_finished());
            let out = log.borrow().clone();
            out
        })
        .unwrap();
    assert_eq!(log, [false, true]);
}

#[test]
fn aborting_a_finished_task_or_after_the_world_is_gone_does_nothing() {
    let abort = {
        let mut sim = sim(0);
        sim.block_on(async {
            let task = cancelsim::spawn(async { 5 });
            let abort = task.abort_handle();
            assert_eq!(task.await.unwrap(), 5);
            abort.abort(); // finished: nothing to abort
            assert!(abort.is_finished());
            abort
        })
        .unwrap()
    };
    abort.abort();
    abort.request_abort();
    assert!(format!("{abort:?}").contains("AbortHandle"));
}

/// A task aborted through its handle. Not RAII: the connection is kept in
/// a pool outside the task's future and handed back by code after the
/// await, which an abort skips. RAII: the guard lives in the future.
async fn aborted_by_handle(raii: bool) {
    let pool: Rc<RefCell<Option<cancelsim::resource::Guard>>> = Rc::default();
    let worker = {
        let pool = Rc::clone(&pool);
        cancelsim::spawn_named("worker", async move {
            let conn = cancelsim::resource::acquire("db");
            let _held = if raii {
                Some(conn)
            } else {
                *pool.borrow_mut() = Some(conn);
                None
            };
            sleep(ms(10)).await;
            drop(pool.borrow_mut().take());
        })
    };
    let abort = worker.abort_handle();
    sleep(ms(1)).await;
    abort.abort();
    assert!(worker.await.unwrap_err().is_cancelled());
    // The pool outlives the run (a connection pool shared with the harness).
    std::mem::forget(pool);
}

#[test]
fn an_abort_through_the_handle_finds_cleanup_that_is_not_raii() {
    let report = Check::new(|| aborted_by_handle(false)).run();
    let violation = report
        .failures()
        .iter()
        .flat_map(|f| f.violations())
        .find(|v| v.kind() == ViolationCode::LeakedResource)
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(violation.task_name(), Some("worker"));
    assert_eq!(violation.task_id().map(TaskId::as_u32), Some(1));
    Check::new(|| aborted_by_handle(true)).run().assert_clean();
}

#[test]
fn same_seed_same_trace_with_abort_handles_and_site_names() {
    let run = |seed| {
        let mut sim = Sim::new(
            Config::default()
                .seed(seed)
                .scheduler(SchedulerKind::Random),
        );
        sim.block_on(async {
            let tasks: Vec<_> = (0..3)
                .map(|n| {
                    spawn_named_by_site(async move {
                        for _ in 0..n + 1 {
                            cancelsim::yield_now().await;
                        }
                    })
                })
                .collect();
            let aborts: Vec<AbortHandle> = tasks.iter().map(|t| t.abort_handle()).collect();
            cancelsim::yield_now().await;
            aborts[2].abort();
            for task in tasks {
                let _ = task.await;
            }
        })
        .unwrap();
        sim.trace().to_string()
    };
    assert_eq!(run(4), run(4));
    let differs = (0..32).any(|seed| run(seed) != run(4));
    assert!(differs, "random seeds reorder the tasks");
}

// ----- current_id, in_simulation, simulation_id -----------------------------------

#[test]
fn current_id_is_the_polled_task() {
    assert_eq!(current_id(), None);
    let mut sim = sim(0);
    let (root, child, handle) = sim
        .block_on(async {
            let task = cancelsim::spawn(async { current_id() });
            let handle = task.abort_handle().id();
            let child = task.await.unwrap();
            (current_id(), child, handle)
        })
        .unwrap();
    assert_eq!(root.map(TaskId::as_u32), Some(0));
    assert_eq!(child, Some(handle));
    assert_eq!(handle.as_u32(), 1);
}

#[test]
fn in_simulation_and_simulation_id_tell_worlds_apart() {
    assert!(!in_simulation());
    assert_eq!(simulation_id(), None);
    let mut first = sim(0);
    let mut second = sim(0);
    let a = first
        .block_on(async { (in_simulation(), simulation_id()) })
        .unwrap();
    let a_again = first.block_on(async { simulation_id() }).unwrap();
    let b = second.block_on(async { simulation_id() }).unwrap();
    assert!(a.0);
    let a = a.1.expect("an id inside a simulation");
    assert_eq!(Some(a), a_again, "one world, one id");
    assert_ne!(Some(a), b, "two worlds, two ids");
    // Inside a spawned task too.
    let inner = first
        .block_on(async { cancelsim::spawn(async { simulation_id() }).await.unwrap() })
        .unwrap();
    assert_eq!(inner, Some(a));
    assert!(!in_simulation());
}

#[test]
fn every_run_of_a_check_is_its_own_simulation() {
    // The body runs on worker threads, so it owns what it shares.
    let ids = std::sync::Arc::new(std::sync::Mutex::new(std::collections::BTreeSet::new()));
    Check::new({
        let ids = std::sync::Arc::clone(&ids);
        move || {
            let ids = std::sync::Arc::clone(&ids);
            async move {
                ids.lock().unwrap().insert(simulation_id().unwrap());
                sleep(ms(1)).await;
            }
        }
    })
    .cancel_at_every_await(CancelMode::Drop)
    .threads(1)
    .run()
    .assert_clean();
    assert!(ids.lock().unwrap().len() >= 3, "{ids:?}");
}

// ----- sleep_until_located --------------------------------------------------------

#[track_caller]
fn located_sleep(millis: u64) -> cancelsim::time::Sleep {
    let deadline = Instant::now() + ms(millis);
    sleep_until_located(deadline, Location::caller())
}

#[test]
fn sleep_until_located_waits_until_the_deadline_and_names_the_given_site() {
    let mut sim = sim(0);
    sim.block_on(async {
        located_sleep(25).await; // marker: located sleep
    })
    .unwrap();
    assert_eq!(sim.now().as_nanos(), 25_000_000);
    let line: usize = site("marker: located sleep")
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let trace = sim.trace().to_string();
    assert!(
        trace.contains(&format!("on sleep (tests/task_handles.rs:{line}:")),
        "{trace}"
    );
}

#[test]
fn a_leaked_ticker_waits_at_the_site_its_located_sleep_names() {
    let report = Check::new(|| async {
        let worker = cancelsim::spawn_named("ticker", async {
            loop {
                located_sleep(10).await; // marker: ticker sleep
            }
        });
        sleep(ms(25)).await;
        drop(worker);
    })
    .run();
    let violation = report
        .failures()
        .iter()
        .flat_map(|f| f.violations())
        .find(|v| v.kind() == ViolationCode::LeakedTask)
        .unwrap_or_else(|| panic!("{report}"));
    let line: usize = site("marker: ticker sleep")
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let wait_at = violation.wait().and_then(|w| w.at).expect("where it waits");
    assert_eq!(wait_at.line() as usize, line);
    assert!(wait_at.file().ends_with("task_handles.rs"));
}
