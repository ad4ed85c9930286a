//! tokio-util's idioms swept by the tokio preset: what the user trial's
//! `idioms.rs` could not run in the simulation build (`AbortOnDropHandle`
//! over `tokio::spawn`, `TaskTracker::spawn`, `DelayQueue`), each found
//! buggy or passed clean, named, and deterministic.
#![cfg(cancelsim)]

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use cancelsim::check::await_points;
use cancelsim::{Check, Config, Report, SchedulerKind, ViolationCode};
use cancelsim_tokio as tokio;
use cancelsim_tokio_util as tokio_util;
use futures::StreamExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::{AbortOnDropHandle, TaskTracker};

fn codes(report: &Report) -> Vec<ViolationCode> {
    report
        .failures()
        .iter()
        .flat_map(|failure| failure.violations().iter().map(|v| v.kind()))
        .collect()
}

/// A background job owned by a struct, aborted when the owner goes away
/// (the trial's `Heartbeat`, unchanged).
struct Heartbeat {
    _task: AbortOnDropHandle<()>,
}

impl Heartbeat {
    fn start(beats: mpsc::UnboundedSender<u32>) -> Self {
        let task = tokio::spawn(async move {
            let mut n = 0;
            loop {
                tokio::time::sleep(Duration::from_millis(10)).await;
                n += 1;
                if beats.send(n).is_err() {
                    break;
                }
            }
        }); // marker: heartbeat
        Heartbeat {
            _task: AbortOnDropHandle::new(task),
        }
    }
}

/// The trial's test, on one runtime (the baseline run): the first beat
/// comes, and none after the owner is dropped, as on real tokio.
#[test]
fn heartbeat_stops_when_dropped() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let heartbeat = Heartbeat::start(tx);
        assert_eq!(rx.recv().await, Some(1));
        drop(heartbeat);
        assert_eq!(rx.recv().await, None);
    });
}

/// As a sweep: the trial's test, unchanged. The heartbeat is stopped by
/// its handle's drop right after its first beat, which the test waited
/// for: the preset never drops it before that beat, so the first beat
/// always comes; nor at the wait the drop finds it at (that is the drop
/// itself, sooner), so it has no drop target here: the sweep runs the
/// test body's drops, its schedules and its expiries.
#[tokio::test(crate = "cancelsim_tokio")]
async fn heartbeat_stops_when_dropped_as_a_sweep() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let heartbeat = Heartbeat::start(tx);
    assert_eq!(rx.recv().await, Some(1));
    drop(heartbeat);
    assert_eq!(rx.recv().await, None);
}

/// A task behind an `AbortOnDropHandle` dropped while it runs (and the
/// test goes on) is one the program aborts: the preset drops it at each of
/// its await points after what the test waited for, as it does a
/// `JoinSet`'s after `abort_all` — up to the one the drop found it at (a
/// drop there is the program's own, sooner). Here the test drops it when
/// a stopper tells it to, at 35 ms, after three beats it did not read.
#[test]
fn a_task_behind_an_abort_on_drop_handle_is_a_drop_target() {
    let body = || async {
        let (tx, _rx) = mpsc::unbounded_channel();
        let heartbeat = Heartbeat::start(tx);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(35)).await;
            let _ = stop_tx.send(());
        });
        let _ = stop_rx.await;
        drop(heartbeat);
        // The test goes on (an abort in its last poll is its end's).
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    let points = await_points(&body, &Config::default(), 0, SchedulerKind::Fifo);
    let line = include_str!("sweeps.rs")
        .lines()
        .position(|l| l.ends_with("// marker: heartbeat"))
        .expect("marked line");
    // The task is named by the spawn's first line (`tokio::spawn(`).
    let spawn_line = include_str!("sweeps.rs").lines().collect::<Vec<_>>()[..=line]
        .iter()
        .rposition(|l| l.contains("tokio::spawn("))
        .expect("the spawn");
    let name = format!("tests/sweeps.rs:{}", spawn_line + 1);
    let heartbeat: Vec<(u32, bool)> = points
        .iter()
        .filter(|p| p.task_name.as_deref() == Some(name.as_str()))
        .map(|p| (p.ordinal, p.abortable))
        .collect();
    // At each of its waits but the one the drop found it at (its fourth,
    // until 40 ms).
    assert_eq!(
        heartbeat,
        [(1, true), (2, true), (3, true), (4, false)],
        "{name}: {points:#?}"
    );
}

/// The trial's graceful shutdown (tokio's own guide): `TaskTracker` and a
/// `CancellationToken`. The buggy twin's workers are deaf to the token
/// during a long job.
async fn run_workers(n: usize, token: CancellationToken, done: Rc<Cell<usize>>, deaf: bool) {
    let tracker = TaskTracker::new();
    for _ in 0..n {
        let token = token.clone();
        let done = Rc::clone(&done);
        tracker.spawn(async move {
            if deaf {
                tokio::time::sleep(Duration::from_secs(5)).await;
            } else {
                tokio::select! {
                    _ = token.cancelled() => {}
                    _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                }
            }
            done.set(done.get() + 1);
        });
    }
    tracker.close();
    tracker.wait().await;
}

async fn workers_test(deaf: bool) {
    let token = CancellationToken::new();
    tokio::cancelsim::register_signal({
        let token = token.clone();
        move || token.cancel()
    });
    let done = Rc::new(Cell::new(0));
    run_workers(3, token, Rc::clone(&done), deaf).await;
    assert_eq!(done.get(), 3);
}

#[test]
fn tracked_workers_deaf_to_the_token_are_cancel_ignored() {
    let report = Check::new(|| workers_test(true)).tokio_preset().run();
    assert!(
        codes(&report).contains(&ViolationCode::CancelIgnored),
        "{report}"
    );
    let text = report.to_string();
    assert!(
        text.contains("sweeps.rs:"),
        "named by the tracker's spawn site: {text}"
    );
}

#[test]
fn tracked_workers_that_listen_are_clean() {
    let report = Check::new(|| workers_test(false)).tokio_preset().run();
    report.assert_clean();
    assert!(
        report.counts().per_kind["signal"] > 0,
        "the signal was swept"
    );
}

/// Expiring entries (the trial's `first_expired`), inside a timeout the
/// sweep expires at every await point: the partial result the timeout
/// leaves is the caller's to handle.
async fn first_expired(items: Vec<(u32, Duration)>) -> Vec<u32> {
    let mut queue = tokio_util::time::DelayQueue::new();
    for (value, delay) in items {
        queue.insert(value, delay);
    }
    let mut out = Vec::new();
    while let Some(expired) = queue.next().await {
        out.push(expired.into_inner());
    }
    out
}

#[tokio::test(crate = "cancelsim_tokio", start_paused = true)]
async fn delay_queue_orders_by_deadline() {
    let out = first_expired(vec![
        (1, Duration::from_millis(30)),
        (2, Duration::from_millis(10)),
    ])
    .await;
    assert_eq!(out, vec![2, 1]);
}

/// A test that assumes the timeout never expires: it checks what the
/// timeout decides (`unwrap_or_default()` of its result).
async fn asserts_all_expired() {
    let items = vec![
        (1, Duration::from_millis(30)),
        (2, Duration::from_millis(10)),
    ];
    let out = tokio::time::timeout(Duration::from_secs(1), first_expired(items))
        .await
        .unwrap_or_default();
    assert_eq!(out, vec![2, 1], "all expired");
}

#[test]
fn a_delay_queue_under_an_expired_timeout_is_swept_and_found() {
    // The test fails the same way when the timeout expires before the
    // queue is polled: its expiries are excused, counted and shown ...
    let report = Check::new(asserts_all_expired).tokio_preset().run();
    report.assert_clean();
    assert!(report.counts().per_kind["timeout"] >= 2, "{report}");
    assert!(report.counts().timeout_results_excused >= 2, "{report}");
    assert!(report.to_string().contains("all expired"), "{report}");
    // ... and found when they are not excused.
    let report = Check::new(asserts_all_expired)
        .tokio_preset()
        .excuse_timeout_results(false)
        .run();
    assert!(codes(&report).contains(&ViolationCode::Panic), "{report}");
    assert!(report.to_string().contains("timeout@"), "{report}");
    assert!(report.counts().per_kind["timeout"] >= 2, "{report}");
}

/// Same seed, identical trace, with every simulated tokio-util part in it.
#[test]
fn same_seed_same_trace_with_tracker_delay_queue_and_abort_on_drop() {
    let program = || async {
        let token = CancellationToken::new();
        let done = Rc::new(Cell::new(0));
        let workers = tokio::spawn(run_workers(2, token.clone(), Rc::clone(&done), false));
        let guarded = AbortOnDropHandle::new(workers);
        let out = first_expired(vec![
            (1, Duration::from_millis(3)),
            (2, Duration::from_millis(1)),
            (3, Duration::from_millis(1)),
        ])
        .await;
        token.cancel();
        guarded.await.unwrap();
        (out, done.get())
    };
    let run = |seed| {
        let config = Config::default()
            .seed(seed)
            .scheduler(SchedulerKind::Random);
        let mut sim = cancelsim::Sim::new(config);
        let out = sim.block_on(program()).unwrap();
        (out, sim.trace().to_string())
    };
    let (out, trace) = run(9);
    assert_eq!(out, (vec![3, 2, 1], 2));
    assert_eq!(run(9).1, trace);
}
