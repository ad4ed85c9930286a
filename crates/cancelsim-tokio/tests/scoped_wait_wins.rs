//! A task whose poll notes a wait outside any timeout first, then one
//! inside a `timeout`: hyper's connection task polls its keep-alive read
//! before the handler, whose per-request `timeout` is where the task
//! really waits. The await point is inside that timeout, and its expiry is
//! swept there. (Trial 11: a hyper handler's in-flight gauge, left up when
//! its `timeout` expired, was missed: the read's note won and no expiry
//! was planned.) (Only with `--cfg cancelsim`.)
#![cfg(cancelsim)]

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cancelsim::{Check, Config, Report};
use cancelsim_tokio::io::AsyncReadExt;
use cancelsim_tokio::time::{sleep, timeout};

/// The handler: counts itself in flight across the store's latency; the
/// fixed one with a guard, so that a drop counts it out too.
async fn handler(in_flight: Arc<AtomicU64>, fixed: bool) {
    struct Out(Arc<AtomicU64>);
    impl Drop for Out {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::SeqCst);
        }
    }
    in_flight.fetch_add(1, Ordering::SeqCst);
    let guard = fixed.then(|| Out(in_flight.clone()));
    sleep(Duration::from_millis(50)).await; // the store
    if guard.is_none() {
        in_flight.fetch_sub(1, Ordering::SeqCst);
    }
    drop(guard);
}

/// A connection task as hyper's dispatcher polls it: the connection's
/// read first (the client may send more, or hang up), then the request's
/// handler under its deadline; done when the handler is.
async fn connection(fixed: bool) {
    let in_flight = Arc::new(AtomicU64::new(0));
    let (_client, mut server) = cancelsim_tokio::io::duplex(64);
    let mut request = pin!(timeout(
        Duration::from_millis(500),
        handler(in_flight.clone(), fixed)
    ));
    let mut byte = [0u8; 1];
    std::future::poll_fn(|cx| {
        let read = pin!(server.read(&mut byte));
        let _ = read.poll(cx); // nothing comes: the client is idle
        request.as_mut().poll(cx).map(|_| ())
    })
    .await;
    assert_eq!(
        in_flight.load(Ordering::SeqCst),
        0,
        "in-flight gauge back to zero"
    );
}

fn sweep(fixed: bool) -> Report {
    Check::new(move || connection(fixed)).tokio_preset().run()
}

#[test]
fn the_handlers_timeout_is_expired_though_the_read_noted_first() {
    let report = sweep(false);
    assert!(!report.is_clean(), "{report}");
    let text = report.to_string();
    assert!(text.contains("injected: timeout@0:1"), "{text}");
    assert!(
        text.contains("first found at main#0 await point 1 on sleep (crates/cancelsim-tokio/tests/scoped_wait_wins.rs:"),
        "named where the handler waits: {text}"
    );
    sweep(true).assert_clean();
}

#[test]
fn same_seed_same_trace_and_the_read_still_names_a_wait_outside_timeouts() {
    // A poll whose only wait is the read is named by the read.
    let idle = || async {
        let (_client, mut server) = cancelsim_tokio::io::duplex(64);
        let mut byte = [0u8; 1];
        let _ = timeout(Duration::from_millis(10), async {
            let _ = sleep(Duration::from_millis(1)).await;
        })
        .await;
        let _ =
            cancelsim_tokio::time::timeout(Duration::from_millis(5), server.read(&mut byte)).await;
    };
    let mut sim = cancelsim::Sim::new(Config::default());
    sim.block_on(idle()).unwrap();
    let trace = sim.trace().to_string();
    assert!(trace.contains("on duplex read"), "{trace}");
    let run = || {
        let mut sim = cancelsim::Sim::new(Config::default().seed(3));
        sim.block_on(connection(true)).unwrap();
        sim.trace().to_string()
    };
    let first = run();
    assert_eq!(first, run());
    assert!(first.contains("on sleep"), "{first}");
}

/// The read noted first, then a `select!` without a timer (no scope after
/// all, none around it): the read names the await point again.
#[test]
fn a_race_that_is_no_timeout_gives_the_first_note_back() {
    let body = || async {
        let (_a, mut first) = cancelsim_tokio::io::duplex(64);
        let (_b, mut second) = cancelsim_tokio::io::duplex(64);
        let (tx, mut rx) = cancelsim_tokio::sync::mpsc::channel::<u8>(1);
        cancelsim_tokio::spawn(async move {
            sleep(Duration::from_millis(5)).await;
            let _ = tx.send(1).await;
        });
        let mut byte = [0u8; 1];
        let mut other = [0u8; 1];
        let mut race = pin!(async {
            cancelsim_tokio::select! {
                _ = second.read(&mut other) => {}
                _ = rx.recv() => {}
            }
        });
        std::future::poll_fn(|cx| {
            let read = pin!(first.read(&mut byte)); // marker: first read
            let _ = read.poll(cx);
            race.as_mut().poll(cx)
        })
        .await;
    };
    let mut sim = cancelsim::Sim::new(Config::default());
    sim.block_on(body()).unwrap();
    let trace = sim.trace().to_string();
    let line = include_str!("scoped_wait_wins.rs")
        .lines()
        .position(|l| l.contains("// marker: first read"))
        .unwrap()
        + 1;
    assert!(
        trace.contains(&format!(
            "on duplex read (crates/cancelsim-tokio/tests/scoped_wait_wins.rs:{line}:"
        )),
        "{line}\n{trace}"
    );
}
