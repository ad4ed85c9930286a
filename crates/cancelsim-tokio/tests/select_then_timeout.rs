//! A `select!` that picks the next command beside a stop signal the
//! simulation cannot locate (a `Notify`, a token of another crate, a
//! channel's `recv`), then a `timeout` around the work, after the race or
//! in the winner's handler: the most common service loop. When the command
//! branch won, the race is over: what its pending stop branch noted is
//! dropped with it, so the work's wait is named where it is (the
//! `sleep` inside the `timeout`) and the sweep expires that `timeout`
//! there. (User trial 8: the stale `on select! branch 0` label made the
//! injected expiry do nothing, and a half-applied config went unfound.)
//! (Only with `--cfg cancelsim`.)
#![cfg(cancelsim)]

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use cancelsim::{Check, Config, Report, Sim};
use cancelsim_tokio::sync::{mpsc, Notify};
use cancelsim_tokio::time::{sleep, timeout};

fn sweep<F, Fut>(body: F) -> Report
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()>,
{
    Check::new(body).tokio_preset().run()
}

/// The live config: the version published and the version connected to.
#[derive(Default)]
struct Live {
    version: Cell<u32>,
    connected: Cell<u32>,
}

/// Applies version `v`: a 20 ms reconnect. The buggy one publishes the
/// version before the reconnect's await.
async fn apply(live: &Live, v: u32, atomic: bool) {
    if !atomic {
        live.version.set(v);
    }
    sleep(Duration::from_millis(20)).await; // the reconnect
    live.connected.set(v);
    live.version.set(v);
}

/// The worker: a `select!` picks the next version or the stop, then the
/// version is applied under a 500 ms budget — after the race, or (with
/// `in_handler`) in the winning branch's handler.
async fn worker(
    live: Rc<Live>,
    mut versions: mpsc::Receiver<u32>,
    stop: Arc<Notify>,
    atomic: bool,
    in_handler: bool,
) {
    loop {
        if in_handler {
            cancelsim_tokio::select! {
                _ = stop.notified() => break,
                v = versions.recv() => match v {
                    Some(v) => {
                        let _ = timeout(Duration::from_millis(500), apply(&live, v, atomic)).await;
                    }
                    None => break,
                },
            }
        } else {
            let v = cancelsim_tokio::select! {
                _ = stop.notified() => break,
                v = versions.recv() => match v {
                    Some(v) => v,
                    None => break,
                },
            };
            let _ = timeout(Duration::from_millis(500), apply(&live, v, atomic)).await;
        }
    }
}

async fn reload(atomic: bool, in_handler: bool) {
    let live = Rc::new(Live::default());
    let stop = Arc::new(Notify::new());
    let (tx, rx) = mpsc::channel(4);
    let task = cancelsim_tokio::task::spawn_local(worker(
        Rc::clone(&live),
        rx,
        Arc::clone(&stop),
        atomic,
        in_handler,
    ));
    for v in [2, 3] {
        tx.send(v).await.unwrap();
        sleep(Duration::from_millis(100)).await;
    }
    drop(tx);
    task.await.unwrap();
    assert_eq!(
        live.version.get(),
        live.connected.get(),
        "published a version it is not connected to"
    );
}

#[test]
fn a_timeout_after_a_select_is_expired_where_its_work_waits() {
    for in_handler in [false, true] {
        let report = sweep(move || reload(false, in_handler));
        assert!(!report.is_clean(), "in_handler {in_handler}: not found");
        let failure = &report.failures()[0];
        let violation = &failure.violations()[0];
        assert!(
            violation.message().contains("published a version"),
            "{report}"
        );
        let text = report.to_string();
        assert!(
            text.contains("injected: timeout@1:"),
            "the timeout's expiry found it: {text}"
        );
        assert!(
            text.contains(
                "await point 1 on sleep (crates/cancelsim-tokio/tests/select_then_timeout.rs:43:5)"
            ),
            "named at the reconnect's sleep, not at the select!'s branch: {text}"
        );
        let fixed = sweep(move || reload(true, in_handler));
        assert!(fixed.is_clean(), "in_handler {in_handler}: {fixed}");
    }
}

#[test]
fn the_waits_after_a_won_race_are_named_where_they_are() {
    let mut sim = Sim::new(Config::default().seed(3));
    sim.block_on(reload(true, false)).unwrap();
    let trace = sim.trace().to_string();
    // The worker waits in the race first (the stop branch names it), then
    // at the reconnect's sleep once the version branch won.
    assert!(trace.contains("on select! branch 0 ("), "{trace}");
    assert!(
        trace.contains("on sleep (crates/cancelsim-tokio/tests/select_then_timeout.rs:43:5)"),
        "{trace}"
    );
    // Same seed, same trace.
    let mut again = Sim::new(Config::default().seed(3));
    again.block_on(reload(true, false)).unwrap();
    assert_eq!(again.trace().to_string(), trace);
}

/// The same program on tokio's paused runtime: both versions applied, in
/// the same virtual time.
#[test]
fn the_loop_runs_as_on_tokio() {
    let on_tokio = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    let tokio_start = on_tokio.block_on(async { tokio::time::Instant::now() });
    let real = local.block_on(&on_tokio, async {
        let live = Rc::new(Live::default());
        let stop = Arc::new(tokio::sync::Notify::new());
        let (tx, mut rx) = tokio::sync::mpsc::channel::<u32>(4);
        let l = Rc::clone(&live);
        let task = tokio::task::spawn_local(async move {
            loop {
                let v = tokio::select! {
                    _ = stop.notified() => break,
                    v = rx.recv() => match v { Some(v) => v, None => break },
                };
                let _ = tokio::time::timeout(Duration::from_millis(500), async {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    l.connected.set(v);
                    l.version.set(v);
                })
                .await;
            }
        });
        for v in [2, 3] {
            tx.send(v).await.unwrap();
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        drop(tx);
        task.await.unwrap();
        (live.version.get(), tokio_start.elapsed())
    });
    let mut sim = Sim::new(Config::default());
    let simulated = sim
        .block_on(async {
            let start = cancelsim_tokio::time::Instant::now();
            let live = Rc::new(Live::default());
            let stop = Arc::new(Notify::new());
            let (tx, rx) = mpsc::channel(4);
            let task =
                cancelsim_tokio::task::spawn_local(worker(Rc::clone(&live), rx, stop, true, false));
            for v in [2, 3] {
                tx.send(v).await.unwrap();
                sleep(Duration::from_millis(100)).await;
            }
            drop(tx);
            task.await.unwrap();
            (live.version.get(), start.elapsed())
        })
        .unwrap();
    assert_eq!(real, (3, Duration::from_millis(200)));
    assert_eq!(simulated, real);
}
