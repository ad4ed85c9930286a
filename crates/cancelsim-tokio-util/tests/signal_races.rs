//! After the program's shutdown signal, the report's `then` lines name the
//! `select!` that dropped the work the check finds lost — not merely the
//! first `select!` to complete after the signal (trial 14):
//! - a forwarder whose `out.send(msg)` races the token: the `select!` it
//!   waited in first completes with the send winning (dropping only
//!   `cancelled()`); the message is lost on the next pass, when
//!   `cancelled()` wins and drops the pending send;
//! - a server whose handler, spawned after the signal, races the token
//!   and drops its request without ever waiting.
//!
//! Each `then` line is the last `select!` of its task that dropped a
//! pending branch. The fixed twins pass.
#![cfg(cancelsim)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cancelsim::{Check, Report};
use cancelsim_tokio as tokio;
use cancelsim_tokio_util as tokio_util;
use tokio::sync::{mpsc, oneshot};
use tokio::time::sleep;
use tokio_util::sync::CancellationToken;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Forwards `inbox` into `out`; on stop, hands what it holds back
/// (`nacked`). `reserve`: waits for room with `reserve()` (cancel-safe)
/// instead of racing `send(msg)`.
async fn forward(
    mut inbox: mpsc::Receiver<u64>,
    out: mpsc::Sender<u64>,
    nacked: Arc<Mutex<Vec<u64>>>,
    stop: CancellationToken,
    reserve: bool,
) {
    while let Some(msg) = inbox.recv().await {
        if !reserve {
            tokio::select! { // marker: send select
                r = out.send(msg) => if r.is_err() { break },
                _ = stop.cancelled() => break,
            }
            continue;
        }
        tokio::select! {
            permit = out.reserve() => match permit {
                Ok(permit) => permit.send(msg),
                Err(_) => break,
            },
            _ = stop.cancelled() => {
                nacked.lock().unwrap().push(msg);
                break;
            }
        }
    }
    inbox.close();
    while let Some(msg) = inbox.recv().await {
        nacked.lock().unwrap().push(msg);
    }
}

async fn forwarding(reserve: bool) {
    let stop = CancellationToken::new();
    tokio::cancelsim::register_signal({
        let stop = stop.clone();
        move || stop.cancel()
    });
    let nacked = Arc::new(Mutex::new(Vec::new()));
    let (in_tx, in_rx) = mpsc::channel(16);
    let (out_tx, mut out_rx) = mpsc::channel(1);
    let forwarder = tokio::spawn(forward(
        in_rx,
        out_tx,
        nacked.clone(),
        stop.clone(),
        reserve,
    ));
    let stage = tokio::spawn(async move {
        let mut done = Vec::new();
        while let Some(msg) = out_rx.recv().await {
            sleep(ms(2)).await;
            done.push(msg);
        }
        done
    });
    for msg in 0..6 {
        in_tx.send(msg).await.unwrap();
    }
    drop(in_tx);
    sleep(ms(50)).await;
    stop.cancel();
    forwarder.await.unwrap();
    let mut seen = stage.await.unwrap();
    seen.extend(nacked.lock().unwrap().iter());
    seen.sort();
    assert_eq!(seen, (0..6).collect::<Vec<u64>>(), "a message was lost");
}

/// The answer to a request refused on shutdown.
const REFUSED: u64 = u64::MAX;

/// Serves each request in a handler task; on stop, stops accepting.
/// `drop_on_stop`: a handler races its work against the token and drops
/// the request (and its reply channel) when the token wins.
async fn serve(
    mut rx: mpsc::Receiver<(u64, oneshot::Sender<u64>)>,
    stop: CancellationToken,
    drop_on_stop: bool,
) {
    let tracker = tokio_util::task::TaskTracker::new();
    loop {
        tokio::select! {
            req = rx.recv() => match req {
                Some((id, reply)) => {
                    let stop = stop.clone();
                    tracker.spawn(async move {
                        if drop_on_stop {
                            tokio::select! { // marker: handler select
                                _ = stop.cancelled() => {}
                                _ = sleep(ms(20)) => { let _ = reply.send(id * 2); }
                            }
                        } else {
                            sleep(ms(20)).await;
                            let _ = reply.send(id * 2);
                        }
                    });
                }
                None => break,
            },
            _ = stop.cancelled() => break,
        }
    }
    // Refuse what is still queued: the client retries elsewhere.
    rx.close();
    while let Some((_, reply)) = rx.recv().await {
        let _ = reply.send(REFUSED);
    }
    tracker.close();
    tracker.wait().await;
}

async fn serving(drop_on_stop: bool) {
    let stop = CancellationToken::new();
    tokio::cancelsim::register_signal({
        let stop = stop.clone();
        move || stop.cancel()
    });
    let (tx, rx) = mpsc::channel(8);
    let server = tokio::spawn(serve(rx, stop.clone(), drop_on_stop));
    let mut answers = Vec::new();
    for id in 0..3u64 {
        let (reply, answer) = oneshot::channel();
        if tx.send((id, reply)).await.is_ok() {
            answers.push((id, answer));
        }
        sleep(ms(5)).await;
    }
    for (id, answer) in answers {
        match answer.await {
            Ok(REFUSED) => {}
            Ok(value) => assert_eq!(value, id * 2),
            Err(_) => panic!("request {id} was dropped without an answer"),
        }
    }
    stop.cancel();
    server.await.unwrap();
}

fn sweep<F: std::future::Future<Output = ()> + 'static>(
    body: impl Fn() -> F + Send + Sync + 'static,
) -> Report {
    Check::new(body).tokio_preset().run()
}

/// `file:line:column` of the `select!` on the line marked `marker`.
fn select_at(marker: &str) -> String {
    let source = include_str!("signal_races.rs");
    let (index, line) = source
        .lines()
        .enumerate()
        .find(|(_, line)| line.ends_with(&format!("// marker: {marker}")))
        .unwrap();
    let column = line.find("tokio::select!").unwrap() + 1;
    format!(
        "select! at crates/cancelsim-tokio-util/tests/signal_races.rs:{}:{column}",
        index + 1
    )
}

/// The report's `then` lines of its signal groups.
fn then_lines(report: &Report) -> Vec<String> {
    report
        .to_string()
        .lines()
        .filter(|line| line.starts_with("  then "))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_send_dropped_when_the_token_won_is_named() {
    let report = sweep(|| forwarding(false));
    assert!(!report.is_clean(), "{report}");
    let lossy = format!(
        "{}: branch 1 won; dropped pending branch 0",
        select_at("send select")
    );
    assert!(
        then_lines(&report).iter().any(|line| line.contains(&lossy)),
        "{lossy} in\n{report}"
    );
    assert_eq!(report.to_string(), sweep(|| forwarding(false)).to_string());
}

#[test]
fn the_reserving_forwarder_passes() {
    let report = sweep(|| forwarding(true));
    report.assert_clean();
    assert!(report.counts().per_kind["signal"] > 0, "{report}");
}

#[test]
fn the_handler_that_dropped_its_request_is_named() {
    let report = sweep(|| serving(true));
    assert!(!report.is_clean(), "{report}");
    let lossy = format!(
        "{}: branch 0 won; dropped pending branch 1",
        select_at("handler select")
    );
    assert!(
        then_lines(&report).iter().any(|line| line.contains(&lossy)),
        "{lossy} in\n{report}"
    );
}

#[test]
fn the_handler_that_finishes_its_request_passes() {
    sweep(|| serving(false)).assert_clean();
}
