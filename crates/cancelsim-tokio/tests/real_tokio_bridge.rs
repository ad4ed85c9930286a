//! Code compiled against real tokio inside a sweep (tower's timeouts,
//! backoff's sleeps, a library's own `tokio::spawn`): the `#[tokio::test]`
//! sweep finds real tokio's "no reactor" panic and sweeps again with real
//! tokio bridged in — a hidden paused tokio runtime whose clock follows the
//! virtual one. The dependency's timers then fire when they would on
//! tokio's paused runtime (compared), its tasks run, its waits are swept
//! like any other (a bug behind one is found), and a run is deterministic.
#![cfg(cancelsim)]

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use cancelsim::{Check, Config, SchedulerKind, Sim};
use cancelsim_tokio::__private::{sweep, unbridged, TokioTestArgs};
use cancelsim_tokio::cancelsim::bridge_real_tokio as bridged;

/// A library compiled against real tokio (as tower and backoff are): its
/// timers and tasks are real tokio's, whatever the crate that calls it
/// depends on.
mod dependency {
    use std::future::Future;
    use std::time::Duration;

    /// backoff's `tokio` feature: a real tokio sleep between attempts,
    /// doubling from 100 ms.
    pub async fn retry<T, E, Fut>(attempts: u32, mut op: impl FnMut() -> Fut) -> Result<T, E>
    where
        Fut: Future<Output = Result<T, E>>,
    {
        let mut delay = Duration::from_millis(100);
        let mut attempt = 1;
        loop {
            match op().await {
                Err(_) if attempt < attempts => {
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                    attempt += 1;
                }
                done => return done,
            }
        }
    }

    /// tower's `Timeout`: real tokio's timer around the inner future.
    pub async fn deadline<F: Future>(limit: Duration, inner: F) -> Option<F::Output> {
        tokio::time::timeout(limit, inner).await.ok()
    }

    /// tower's `Buffer`: a worker spawned on real tokio, answering
    /// requests after 5 ms each.
    pub type Request = (u32, tokio::sync::oneshot::Sender<u32>);

    pub fn spawn_doubler() -> tokio::sync::mpsc::Sender<Request> {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Request>(4);
        tokio::spawn(async move {
            while let Some((n, reply)) = rx.recv().await {
                tokio::time::sleep(Duration::from_millis(5)).await;
                let _ = reply.send(n * 2);
            }
        });
        tx
    }
}

/// A backend that fails its first two calls, 10 ms each on `$rt`'s clock,
/// called through the dependency's retry: the virtual time it took.
macro_rules! retry_program {
    ($rt:ident) => {
        async {
            let calls = Rc::new(Cell::new(0));
            let start = $rt::time::Instant::now();
            let result = dependency::retry(3, || {
                let calls = Rc::clone(&calls);
                async move {
                    $rt::time::sleep(Duration::from_millis(10)).await;
                    calls.set(calls.get() + 1);
                    if calls.get() < 3 {
                        Err("busy")
                    } else {
                        Ok(calls.get())
                    }
                }
            })
            .await;
            (result, start.elapsed())
        }
    };
}

fn real_tokio<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
        .block_on(future)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn a_dependencys_timers_fire_on_the_virtual_clock_as_on_tokios_paused_runtime() {
    let on_tokio = real_tokio(retry_program!(tokio));
    let mut sim = Sim::new(Config::default());
    let simulated = sim
        .block_on(bridged(retry_program!(cancelsim_tokio)))
        .unwrap();
    // 10 + 100 + 10 + 200 + 10.
    assert_eq!(on_tokio, (Ok(3), ms(330)));
    assert_eq!(simulated, on_tokio);
    assert_eq!(sim.now().since_start(), ms(330));
}

/// The dependency's real timeout around a 100 ms backend call, given
/// `limit`: what came back, and when.
macro_rules! deadline_program {
    ($rt:ident, $limit:expr) => {
        async {
            let start = $rt::time::Instant::now();
            let answer = dependency::deadline($limit, async {
                $rt::time::sleep(Duration::from_millis(100)).await;
                7
            })
            .await;
            (answer, start.elapsed())
        }
    };
}

#[test]
fn a_dependencys_timeout_expires_on_the_virtual_clock_as_on_tokios() {
    for (limit, expected) in [(ms(50), (None, ms(50))), (ms(150), (Some(7), ms(100)))] {
        let on_tokio = real_tokio(deadline_program!(tokio, limit));
        let mut sim = Sim::new(Config::default());
        let simulated = sim
            .block_on(bridged(deadline_program!(cancelsim_tokio, limit)))
            .unwrap();
        assert_eq!(on_tokio, expected);
        assert_eq!(simulated, on_tokio, "limit {limit:?}");
    }
}

#[test]
fn without_the_bridge_the_dependency_finds_no_runtime() {
    let report = Check::new(|| async {
        let _ = retry_program!(cancelsim_tokio).await;
    })
    .tokio_preset()
    .run();
    let call = report.real_tokio_called().expect("real tokio's panic");
    assert!(call.message().contains("there is no reactor running"));
}

#[test]
fn the_tokio_test_sweep_bridges_real_tokio_in_and_sweeps_its_waits() {
    let report = sweep(module_path!(), "retry", TokioTestArgs::DEFAULT, || async {
        let (result, took) = retry_program!(cancelsim_tokio).await;
        assert_eq!(result, Ok(3));
        assert_eq!(took, Duration::from_millis(330));
    });
    assert!(report.is_clean(), "{report}");
    assert!(report.real_tokio_called().is_none());
    let counts = report.counts();
    // The backend's three sleeps and the two real ones between them.
    assert!(counts.await_points >= 5, "{counts:?}");
    assert!(counts.runs > counts.baselines, "{counts:?}");
}

#[test]
fn a_task_spawned_on_real_tokio_runs_and_answers_simulated_tasks() {
    let program = || async {
        let doubler = dependency::spawn_doubler();
        let start = cancelsim_tokio::time::Instant::now();
        let mut answers = Vec::new();
        for n in 1..=3 {
            let (reply, answer) = tokio::sync::oneshot::channel();
            doubler.send((n, reply)).await.unwrap();
            answers.push(answer.await.unwrap());
        }
        assert_eq!(answers, [2, 4, 6]);
        assert_eq!(start.elapsed(), Duration::from_millis(15));
    };
    let report = sweep(module_path!(), "doubler", TokioTestArgs::DEFAULT, program);
    assert!(report.is_clean(), "{report}");
}

/// A job that marks a record dirty, calls the backend through the
/// dependency's retry, and marks it clean: not atomic across the retry's
/// real sleeps. Its owner waits a second for the jobs, then shuts the
/// `JoinSet` down.
async fn jobs(atomic: bool) {
    let dirty = Rc::new(RefCell::new(Vec::new()));
    let mut set = cancelsim_tokio::task::JoinSet::new();
    for id in 0..2u32 {
        let dirty = Rc::clone(&dirty);
        set.spawn_local(async move {
            let calls = Cell::new(0);
            let work = dependency::retry(2, || {
                calls.set(calls.get() + 1);
                let fail = calls.get() == 1;
                async move {
                    cancelsim_tokio::time::sleep(Duration::from_millis(10)).await;
                    if fail {
                        Err(())
                    } else {
                        Ok(())
                    }
                }
            });
            if atomic {
                work.await.unwrap();
                dirty.borrow_mut().retain(|d| *d != id);
            } else {
                dirty.borrow_mut().push(id);
                work.await.unwrap();
                dirty.borrow_mut().retain(|d| *d != id);
            }
        });
    }
    // Jobs that take longer than a second are given up.
    let all = async { while set.join_next().await.is_some() {} };
    let _ = cancelsim_tokio::time::timeout(Duration::from_secs(1), all).await;
    set.shutdown().await;
    assert!(
        dirty.borrow().is_empty(),
        "left dirty: {:?}",
        dirty.borrow()
    );
}

#[test]
fn a_bug_behind_a_real_tokio_wait_is_found_and_its_fixed_twin_is_clean() {
    let buggy = sweep(module_path!(), "jobs", TokioTestArgs::DEFAULT, || {
        jobs(false)
    });
    assert!(!buggy.is_clean(), "the non-atomic job is not found");
    assert!(buggy.real_tokio_called().is_none(), "{buggy}");
    let text = buggy.to_string();
    assert!(text.contains("left dirty"), "{text}");
    // A stall at the real sleep (each job's await point 2) is found too.
    let repros: Vec<String> = buggy
        .failures()
        .iter()
        .map(|f| f.repro().to_string())
        .collect();
    assert!(
        repros
            .iter()
            .any(|repro| repro.contains("inject=stall@1:2")),
        "{repros:?}"
    );
    let fixed = sweep(module_path!(), "jobs", TokioTestArgs::DEFAULT, || {
        jobs(true)
    });
    assert!(fixed.is_clean(), "{fixed}");
}

/// Four tasks woken by real timers at one instant log their order.
fn together(seed: u64) -> (Vec<u32>, String) {
    let mut sim = Sim::new(
        Config::default()
            .seed(seed)
            .scheduler(SchedulerKind::Random),
    );
    let order = sim
        .block_on(bridged(async {
            let log = Rc::new(RefCell::new(Vec::new()));
            let handles: Vec<_> = (0..4)
                .map(|n| {
                    let log = Rc::clone(&log);
                    cancelsim_tokio::task::spawn_local(async move {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        log.borrow_mut().push(n);
                    })
                })
                .collect();
            for handle in handles {
                handle.await.unwrap();
            }
            log.take()
        }))
        .unwrap();
    (order, sim.trace().to_string())
}

#[test]
fn same_seed_same_trace_and_seeds_order_what_real_timers_wake_together() {
    assert_eq!(together(5), together(5));
    let orders: std::collections::BTreeSet<Vec<u32>> =
        (0..16).map(|seed| together(seed).0).collect();
    assert!(orders.len() > 1, "every seed ran {orders:?}");
}

#[test]
fn the_replay_of_a_bridged_failure_runs_bridged_too() {
    // A name of its own: the replay line scopes `CANCELSIM_REPLAY` to it.
    let name = "jobs_replayed";
    let report = sweep(module_path!(), name, TokioTestArgs::DEFAULT, || jobs(false));
    let repro = report.failures()[0].repro().to_string();
    std::env::set_var("CANCELSIM_REPLAY", &repro);
    let replay = sweep(module_path!(), name, TokioTestArgs::DEFAULT, || jobs(false));
    std::env::remove_var("CANCELSIM_REPLAY");
    assert_eq!(replay.replayed().map(|r| r.to_string()), Some(repro));
    assert!(replay.real_tokio_called().is_none(), "{replay}");
    assert!(replay.to_string().contains("left dirty"), "{replay}");
}

/// `#[tokio::main]` is one run, which cannot be run again: real tokio is
/// bridged in from the start.
#[cancelsim_tokio::main(crate = "cancelsim_tokio", flavor = "current_thread")]
async fn a_main_that_calls_a_dependency() -> (Result<u32, &'static str>, Duration) {
    retry_program!(cancelsim_tokio).await
}

#[test]
fn a_tokio_main_bridges_real_tokio_in() {
    assert_eq!(a_main_that_calls_a_dependency(), (Ok(3), ms(330)));
}

/// A body that polls for what a worker does, the worker on a dependency's
/// real timer (trial 9: backoff's retry in a refresher, the test waiting
/// for its first config).
async fn polling_for_a_worker() {
    let done = Rc::new(Cell::new(false));
    let flag = Rc::clone(&done);
    let _worker = cancelsim_tokio::task::spawn_local(async move {
        tokio::time::sleep(ms(10)).await; // the dependency's real timer
        flag.set(true);
    });
    while !done.get() {
        cancelsim_tokio::time::sleep(ms(50)).await;
    }
}

#[test]
fn a_run_whose_task_hit_real_tokio_stops_at_the_bodys_next_poll() {
    // Unbridged, the worker dies on real tokio's panic and the body would
    // poll until the time limit, in every run of the sweep: it stops at
    // its next poll instead.
    let mut sim = Sim::new(Config::default());
    let error = sim.block_on(unbridged(polling_for_a_worker())).unwrap_err();
    let text = error.to_string();
    assert!(text.contains("stopped this run"), "{text}");
    assert!(text.contains("there is no reactor running"), "{text}");
    assert_eq!(sim.now().since_start(), ms(50));
    // The sweep then runs bridged, and the program is correct.
    let report = sweep(
        module_path!(),
        "polling",
        TokioTestArgs::DEFAULT,
        polling_for_a_worker,
    );
    assert!(report.is_clean(), "{report}");
}
