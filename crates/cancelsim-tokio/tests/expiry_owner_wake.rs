//! An injected expiry of a `select!` against a timer (or of a `timeout`)
//! holds what the task waits on until the timer wins: a slow peer, a slow
//! backend. It does not make a task deaf to the task that spawned it: a
//! worker in `select! { _ = stop => return, _ = sleep(60s) => {} }` sees
//! its owner's stop at once on tokio, so the owner's `timeout(1s, handle)`
//! does not expire for it. (Trial 9: a backoff refresher's
//! `select! { _ = token.cancelled() => return, _ = sleep(period) => {} }`,
//! awaited under `timeout(1s, task).expect(..)`, was reported.) What
//! another task sends is still held: the timer's branch is explored there.
//! (Only with `--cfg cancelsim`.)
#![cfg(cancelsim)]

use std::time::Duration;

use cancelsim::{Check, Report};
use cancelsim_tokio::sync::{mpsc, oneshot};
use cancelsim_tokio::time::{sleep, timeout};

mod common;
use common::{failing_repros as failing, tokio_sweep as sweep};

/// [`sweep`], every failure reported: none excused because the program
/// fails the same when the expired operation never started.
fn strict_sweep<F, Fut>(body: F) -> Report
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()>,
{
    Check::new(body)
        .tokio_preset()
        .excuse_timeout_results(false)
        .run()
}

/// The failing runs' repro lines whose injection went into the worker
/// (task 1): the owner's own `timeout` expired by an injection fails its
/// `expect`, which is not what these tests are about.
fn worker_failures(report: &Report) -> Vec<String> {
    failing(report)
        .into_iter()
        .filter(|repro| repro.contains("@1:"))
        .collect()
}

/// A refresher: work every period until its owner's stop.
async fn refresher(mut stop: oneshot::Receiver<()>, work: mpsc::UnboundedSender<u32>) {
    let mut round = 0;
    loop {
        let _ = work.send(round);
        round += 1;
        cancelsim_tokio::select! {
            _ = &mut stop => return,
            _ = sleep(Duration::from_secs(60)) => {}
        }
    }
}

/// The owner starts the refresher, lets it work, stops it and gives it a
/// second.
async fn owner() {
    let (stop, stopped) = oneshot::channel::<()>();
    let (work, mut done) = mpsc::unbounded_channel();
    let task = cancelsim_tokio::spawn(refresher(stopped, work));
    assert_eq!(done.recv().await, Some(0));
    sleep(Duration::from_millis(20)).await;
    let _ = stop.send(());
    timeout(Duration::from_secs(1), task)
        .await
        .expect("the refresher stops within a second")
        .unwrap();
}

#[test]
fn an_expired_race_sees_the_owners_stop() {
    let report = strict_sweep(owner);
    // The refresher's race was expired (a timeout injection in task 1)...
    let expiries = report
        .counts()
        .per_kind
        .get("timeout")
        .copied()
        .unwrap_or(0);
    assert!(expiries > 0, "{report}");
    // ... and no such run failed: the stop, then the owner's join under a
    // deadline, ended the hold; the refresher returned within the second.
    let failures = worker_failures(&report);
    assert!(failures.is_empty(), "{failures:?}\n{report}");
}

/// The same shape, a `timeout` instead of the race: the owner's stop ends
/// the hold of the expired timeout's inner future too.
async fn owner_of_a_timeout() {
    let (stop, stopped) = oneshot::channel::<()>();
    let task = cancelsim_tokio::spawn(async move {
        let _ = timeout(Duration::from_secs(60), stopped).await;
    });
    sleep(Duration::from_millis(20)).await;
    let _ = stop.send(());
    timeout(Duration::from_secs(1), task)
        .await
        .expect("the task stops within a second")
        .unwrap();
}

#[test]
fn an_expired_timeout_sees_the_owners_stop() {
    let report = strict_sweep(owner_of_a_timeout);
    let expiries = report
        .counts()
        .per_kind
        .get("timeout")
        .copied()
        .unwrap_or(0);
    assert!(expiries > 0, "{report}");
    let failures = worker_failures(&report);
    assert!(failures.is_empty(), "{failures:?}\n{report}");
}

/// A consumer of pairs that takes the second half of a pair in the same
/// branch as the first, beside an idle timer: a producer task (not its
/// owner) sends the halves 5 ms apart. The buggy branch holds the first
/// half in its future, lost when the timer wins between the two; the fixed
/// one keeps it in the loop's state. The expiry holds the sibling's send
/// and finds it.
async fn consumer_fed_by_a_sibling(fixed: bool) {
    let (tx, mut rx) = mpsc::channel::<u32>(4);
    let producer = cancelsim_tokio::spawn(async move {
        for item in 0..4 {
            sleep(Duration::from_millis(5)).await;
            if tx.send(item).await.is_err() {
                return;
            }
        }
    });
    let consumer = cancelsim_tokio::spawn(async move {
        let mut pairs = Vec::new();
        let mut first: Option<u32> = None;
        let mut idle = 0;
        loop {
            let pair = cancelsim_tokio::select! {
                pair = async {
                    if fixed {
                        if first.is_none() {
                            first = Some(rx.recv().await?);
                        }
                        let second = rx.recv().await?;
                        Some((first.take()?, second))
                    } else {
                        let one = rx.recv().await?;
                        let two = rx.recv().await?;
                        Some((one, two))
                    }
                } => pair,
                _ = sleep(Duration::from_millis(100)) => {
                    idle += 1;
                    continue;
                }
            };
            match pair {
                Some(pair) => pairs.push(pair),
                None => break,
            }
        }
        (pairs, idle)
    });
    producer.await.unwrap();
    let (pairs, _idle) = consumer.await.unwrap();
    assert_eq!(pairs, vec![(0, 1), (2, 3)], "every pair delivered whole");
}

#[test]
fn a_held_wait_on_a_siblings_send_still_finds_the_timeout_branchs_bug() {
    let report = sweep(|| consumer_fed_by_a_sibling(false));
    let repros = failing(&report);
    assert!(
        repros.iter().any(|r| r.contains("timeout@2:")),
        "{repros:?}\n{report}"
    );
    assert!(
        report.to_string().contains("every pair delivered whole"),
        "{report}"
    );
    let fixed = sweep(|| consumer_fed_by_a_sibling(true));
    assert!(fixed.is_clean(), "{fixed}");
}

/// An expiry injected as the task is woken, by its owner's stop: the stop
/// came in time, nothing is held.
#[test]
fn an_expiry_on_the_owners_wake_holds_nothing() {
    let repro: cancelsim::Repro = "cancelsim:v1 seed=0 scheduler=fifo inject=timeout@1:1/wake"
        .parse()
        .expect("a valid repro");
    let config = cancelsim::Config::default().runtime_shutdown(true);
    let outcome = cancelsim::check::run_repro(&owner, &config, &repro);
    assert_eq!(outcome.fired.len(), 1, "the expiry fired");
    assert!(outcome.is_clean(), "{:?}", outcome.violations);
    let trace = outcome.trace.to_string();
    assert!(trace.contains("(woken, before its poll)"), "{trace}");
    assert!(trace.contains("branch 0 won"), "{trace}");
}

#[test]
fn same_seed_same_trace_when_an_owner_ends_a_hold() {
    let repro: cancelsim::Repro = "cancelsim:v1 seed=4 scheduler=current-thread inject=timeout@1:1"
        .parse()
        .expect("a valid repro");
    let config = cancelsim::Config::default().runtime_shutdown(true);
    let run = || {
        let outcome = cancelsim::check::run_repro(&owner, &config, &repro);
        assert_eq!(outcome.fired.len(), 1, "the expiry fired");
        assert!(outcome.is_clean(), "{:?}", outcome.violations);
        outcome.trace.to_string()
    };
    let first = run();
    assert_eq!(first, run());
    // The refresher's race expired, its owner's stop woke it, and it
    // returned from its race: the stop branch won, not the timer.
    assert!(first.contains("woken by main#0"), "{first}");
    assert!(first.contains("branch 0 won"), "{first}");
    assert!(!first.contains("timeout fired"), "{first}");
}

/// The owner's bytes through an `io::duplex` are a peer's delivery, not
/// the owner acting on its task: a server held by an expiry mid-frame
/// stays held through them (the rest of a frame can be late), so its
/// `read_exact` in a `select!` against a timer is found losing the half it
/// read; a reader that keeps its bytes passes.
async fn owner_writes_frames(keeps_bytes: bool) {
    use cancelsim_tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut client, mut server) = cancelsim_tokio::io::duplex(64);
    let task = cancelsim_tokio::spawn(async move {
        let mut frames = Vec::new();
        let mut partial = Vec::new();
        // A bounded wait: a lost half leaves the last frame short.
        for _ in 0..8 {
            if frames.len() == 2 {
                break;
            }
            let mut frame = [0u8; 4];
            let read = async {
                if keeps_bytes {
                    while partial.len() < 4 {
                        let mut bytes = [0u8; 4];
                        let n = server.read(&mut bytes[..4 - partial.len()]).await.unwrap();
                        partial.extend_from_slice(&bytes[..n]);
                    }
                    frame.copy_from_slice(&partial);
                    partial.clear();
                } else {
                    server.read_exact(&mut frame).await.unwrap();
                }
            };
            cancelsim_tokio::select! {
                () = read => frames.push(frame),
                _ = sleep(Duration::from_millis(100)) => {}
            }
        }
        frames
    });
    for frame in [b"abcd", b"efgh"] {
        // Each frame in two writes, a moment apart.
        client.write_all(&frame[..2]).await.unwrap();
        sleep(Duration::from_millis(1)).await;
        client.write_all(&frame[2..]).await.unwrap();
    }
    assert_eq!(task.await.unwrap(), [*b"abcd", *b"efgh"], "frames whole");
}

#[test]
fn the_owners_bytes_through_a_pipe_do_not_end_a_hold() {
    let report = sweep(|| owner_writes_frames(false));
    let repros = failing(&report);
    assert!(
        repros
            .iter()
            .any(|r| r.contains("scheduler=fifo inject=timeout@1:")),
        "{repros:?}\n{report}"
    );
    assert!(report.to_string().contains("frames whole"), "{report}");
    let fixed = sweep(|| owner_writes_frames(true));
    assert!(fixed.is_clean(), "{fixed}");
}

/// An owner that stops the worker and awaits it with no deadline leaves
/// the expiry's hold in place: nothing in the program can tell a slow
/// worker from a quick one, and the expiry runs to its timer.
#[test]
fn an_owner_awaiting_without_a_deadline_leaves_the_hold() {
    async fn patient_owner() {
        let (stop, stopped) = oneshot::channel::<()>();
        let (work, mut done) = mpsc::unbounded_channel();
        let task = cancelsim_tokio::spawn(refresher(stopped, work));
        assert_eq!(done.recv().await, Some(0));
        let _ = stop.send(());
        task.await.unwrap();
    }
    let repro: cancelsim::Repro = "cancelsim:v1 seed=0 scheduler=fifo inject=timeout@1:1"
        .parse()
        .expect("a valid repro");
    let config = cancelsim::Config::default().runtime_shutdown(true);
    let outcome = cancelsim::check::run_repro(&patient_owner, &config, &repro);
    assert_eq!(outcome.fired.len(), 1, "the expiry fired");
    let trace = outcome.trace.to_string();
    assert!(trace.contains("timer branch won"), "{trace}");
}
