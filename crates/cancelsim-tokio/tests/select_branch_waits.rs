//! The await point a `select!` against a timer is expired at is named at
//! the dropped branch's own expression (`on select! branch 0
//! (tests/select_branch_waits.rs:LINE:COL)`) when that branch waits on
//! something cancelsim cannot locate — a channel's `recv()`, a lock, a
//! `Notify` — not at the timer branch (which is not what the expiry
//! drops). A located wait of the branch (a duplex read, a `sleep` inside
//! it) keeps its own name, and a `sleep` in a race without a timer branch
//! keeps `on sleep`. (Only with `--cfg cancelsim`.)
#![cfg(cancelsim)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use cancelsim::{Config, Sim, ViolationCode};
use cancelsim_tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use cancelsim_tokio::sync::{mpsc, Notify};
use cancelsim_tokio::time::sleep;

mod common;
use common::tokio_sweep as sweep;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// `tests/select_branch_waits.rs:LINE:COL` of the marked line, at `column`.
fn at(marker: &str, column: usize) -> String {
    let line = include_str!("select_branch_waits.rs")
        .lines()
        .position(|l| l.ends_with(&format!("// marker: {marker}")))
        .expect("marked line");
    format!("tests/select_branch_waits.rs:{}:{column}", line + 1)
}

/// The column of `token`'s first character on the marked line.
fn column_of(marker: &str, token: &str) -> usize {
    let line = include_str!("select_branch_waits.rs")
        .lines()
        .find(|l| l.ends_with(&format!("// marker: {marker}")))
        .expect("marked line");
    line.find(token).expect("token on the marked line") + 1
}

/// Is there a line with all of `words`?
fn has_line(text: &str, words: &[&str]) -> bool {
    text.lines()
        .any(|line| words.iter().all(|word| line.contains(word)))
}

/// Runs `wait` counted in `busy`: the buggy one (`fixed == false`)
/// uncounts after the wait, so not when the wait is dropped; the fixed one
/// uncounts in a guard's `Drop`.
async fn counted<F: std::future::Future>(busy: &AtomicU64, fixed: bool, wait: F) -> F::Output {
    struct Uncount<'a>(&'a AtomicU64);
    impl Drop for Uncount<'_> {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::SeqCst);
        }
    }
    busy.fetch_add(1, Ordering::SeqCst);
    let guard = fixed.then(|| Uncount(busy));
    let out = wait.await;
    if guard.is_none() {
        busy.fetch_sub(1, Ordering::SeqCst);
    }
    out
}

// ----- a counter around `rx.recv()` raced against a sleep --------------------------

/// Counts a job while it waits for it in a `select!` against a sleep.
async fn counted_recv(fixed: bool) {
    let (tx, mut rx) = mpsc::channel::<u32>(1);
    let busy = AtomicU64::new(0);
    cancelsim_tokio::spawn(async move {
        sleep(ms(10)).await;
        let _ = tx.send(1).await;
    });
    cancelsim_tokio::select! {
        _ = counted(&busy, fixed, rx.recv()) => {} // marker: recv
        _ = sleep(Duration::from_secs(1)) => {} // marker: timer
    }
    assert_eq!(busy.load(Ordering::SeqCst), 0, "a job is still counted");
}

#[test]
fn a_dropped_recv_branch_is_named_at_its_own_expression() {
    let report = sweep(|| counted_recv(false));
    assert!(!report.is_clean(), "{report}");
    let failure = &report.failures()[0];
    let violation = &failure.violations()[0];
    assert_eq!(violation.kind(), ViolationCode::Panic, "{report}");
    assert_eq!(violation.task_id().map(|t| t.as_u32()), Some(0), "{report}");
    assert_eq!(failure.repro().injections[0].to_string(), "timeout@0:1");
    let recv = at("recv", column_of("recv", "counted("));
    let text = report.to_string();
    assert!(
        has_line(
            &text,
            &[
                "first found at main#0 await point 1 on select! branch 0 (",
                &format!("{recv})")
            ]
        ),
        "{recv}\n{text}"
    );
    // Not at the timer, whose branch is not what the expiry drops.
    let timer = at("timer", column_of("timer", "sleep("));
    assert!(
        !has_line(&text, &["first found at", &timer]),
        "{timer}\n{text}"
    );
    // The trace's suspension says so too.
    let trace = failure.trace().to_string();
    assert!(
        has_line(
            &trace,
            &[
                "suspend at await point 1 on select! branch 0 (",
                &format!("{recv})")
            ]
        ),
        "{trace}"
    );
    assert!(
        trace.contains("branch 1 won; dropped pending branch 0 (waiting at await point 1)"),
        "{trace}"
    );
}

#[test]
fn the_fixed_counter_passes() {
    let report = sweep(|| counted_recv(true));
    report.assert_clean();
}

#[test]
fn the_named_branch_replays_with_an_identical_trace() {
    let report = sweep(|| counted_recv(false));
    let repro = report.failures()[0].repro().clone();
    let body = || counted_recv(false);
    let config = cancelsim::Config::default().runtime_shutdown(true);
    let first = cancelsim::check::run_repro(&body, &config, &repro);
    let again = cancelsim::check::run_repro(&body, &config, &repro);
    assert!(!first.is_clean(), "{}", first.trace);
    let text = first.trace.to_string();
    assert!(text.contains("select! branch 0 ("), "{text}");
    assert_eq!(text, again.trace.to_string());
}

/// The same with a `Notify`, the timer written first: named at branch 1.
async fn counted_notified(fixed: bool) {
    let notify = std::sync::Arc::new(Notify::new());
    let busy = AtomicU64::new(0);
    cancelsim_tokio::spawn({
        let notify = notify.clone();
        async move {
            sleep(ms(10)).await;
            notify.notify_one();
        }
    });
    cancelsim_tokio::select! {
        _ = sleep(Duration::from_secs(1)) => {}
        () = counted(&busy, fixed, notify.notified()) => {} // marker: notified
    }
    assert_eq!(busy.load(Ordering::SeqCst), 0, "still counted");
}

#[test]
fn a_dropped_notified_branch_written_second_is_named_at_its_own_expression() {
    let report = sweep(|| counted_notified(false));
    assert!(!report.is_clean(), "{report}");
    let call = at("notified", column_of("notified", "counted("));
    let text = report.to_string();
    assert!(
        has_line(&text, &["on select! branch 1 (", &format!("{call})")]),
        "{call}\n{text}"
    );
    sweep(|| counted_notified(true)).assert_clean();
}

// ----- a located wait of the dropped branch keeps its name --------------------------

async fn counted_read(fixed: bool) {
    let (mut client, mut server) = cancelsim_tokio::io::duplex(16);
    let busy = AtomicU64::new(0);
    cancelsim_tokio::spawn(async move {
        sleep(ms(10)).await;
        let _ = client.write_all(b"x").await;
        sleep(ms(10)).await;
    });
    cancelsim_tokio::select! {
        _ = counted(&busy, fixed, server.read_u8()) => {}
        _ = sleep(Duration::from_secs(1)) => {}
    }
    assert_eq!(busy.load(Ordering::SeqCst), 0, "still counted");
}

#[test]
fn a_located_wait_of_the_dropped_branch_still_wins() {
    let report = sweep(|| counted_read(false));
    assert!(!report.is_clean(), "{report}");
    let text = report.to_string();
    assert!(
        has_line(
            &text,
            &["first found at main#0 await point 1 on duplex read ("]
        ),
        "{text}"
    );
    assert!(!text.contains("select! branch"), "{text}");
    sweep(|| counted_read(true)).assert_clean();
}

/// A `sleep` inside the dropped branch (after a wait of its own) is named
/// as the sleep it is.
async fn counted_sleep_in_branch(fixed: bool) {
    let notify = std::sync::Arc::new(Notify::new());
    let busy = AtomicU64::new(0);
    cancelsim_tokio::spawn({
        let notify = notify.clone();
        async move {
            sleep(ms(10)).await;
            notify.notify_one();
        }
    });
    let work = async {
        notify.notified().await;
        sleep(ms(20)).await; // marker: inner sleep
    };
    cancelsim_tokio::select! {
        () = counted(&busy, fixed, work) => {}
        _ = sleep(Duration::from_secs(1)) => {}
    }
    assert_eq!(busy.load(Ordering::SeqCst), 0, "still counted");
}

#[test]
fn a_sleep_inside_the_dropped_branch_keeps_its_name() {
    let mut sim = Sim::new(Config::default());
    sim.block_on(counted_sleep_in_branch(true)).unwrap();
    let trace = sim.trace().to_string();
    let inner = at("inner sleep", column_of("inner sleep", "sleep("));
    assert!(
        has_line(
            &trace,
            &[
                "main#0",
                "suspend at await point 2 on sleep (",
                &format!("{inner})")
            ]
        ),
        "{inner}\n{trace}"
    );
    sweep(|| counted_sleep_in_branch(true)).assert_clean();
    assert!(!sweep(|| counted_sleep_in_branch(false)).is_clean());
}

/// A race without a timer branch whose branches wait on nothing cancelsim
/// locates (a channel and a `Notify`): the task's wait is named at the
/// first pending branch, not "a channel, lock, Notify or other future" without a place.
async fn recv_or_shutdown() {
    let (tx, mut rx) = mpsc::channel::<u32>(1);
    let shutdown = std::sync::Arc::new(Notify::new());
    cancelsim_tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            sleep(ms(10)).await;
            tx.send(1).await.expect("the receiver is alive");
            sleep(ms(10)).await;
            shutdown.notify_one();
        }
    });
    loop {
        cancelsim_tokio::select! {
            got = rx.recv() => { if got.is_none() { break; } } // marker: plain recv
            () = shutdown.notified() => break,
        }
    }
}

#[test]
fn a_race_without_a_timer_names_its_wait_at_the_first_pending_branch() {
    let mut sim = Sim::new(Config::default());
    sim.block_on(recv_or_shutdown()).unwrap();
    let trace = sim.trace().to_string();
    let recv = at("plain recv", column_of("plain recv", "rx.recv()"));
    assert!(
        has_line(
            &trace,
            &[
                "main#0",
                "suspend at await point 1 on select! branch 0 (",
                &format!("{recv})")
            ]
        ),
        "{recv}\n{trace}"
    );
    assert!(
        !trace.contains(
            "main#0       suspend at await point 1 on a channel, lock, Notify or other future"
        ),
        "{trace}"
    );
    // The same seed gives the same trace.
    let mut again = Sim::new(Config::default());
    again.block_on(recv_or_shutdown()).unwrap();
    assert_eq!(trace, again.trace().to_string());
}

/// A mover that pops an item and then awaits the send, in a `select!`
/// beside the program's stop channel (trial 6's flusher): the shutdown
/// signal at the send makes the stop branch win and drops the popped item.
/// The await point names the stop branch as the task waited; the report's
/// next line says what the race then dropped. The fixed twin reserves the
/// channel's slot before it pops.
async fn mover(fixed: bool) {
    let (stop_tx, mut stop_rx) = mpsc::channel::<()>(1);
    cancelsim_tokio::cancelsim::register_signal(move || {
        let _ = stop_tx.try_send(());
    });
    let (out_tx, mut out_rx) = mpsc::channel::<u32>(1);
    let consumer = cancelsim_tokio::spawn(async move {
        let mut received = 0;
        while out_rx.recv().await.is_some() {
            sleep(ms(1)).await;
            received += 1;
        }
        received
    });
    let mut items = vec![1u32, 2, 3];
    loop {
        cancelsim_tokio::select! {
            _ = stop_rx.recv() => break,
            sent = async {
                if fixed {
                    let permit = out_tx.reserve().await.ok()?;
                    permit.send(items.pop()?);
                } else {
                    let item = items.pop()?;
                    out_tx.send(item).await.ok()?;
                }
                Some(())
            } => if sent.is_none() { break },
        }
    }
    drop(out_tx);
    let received = consumer.await.unwrap();
    assert_eq!(received + items.len(), 3, "an item was lost");
}

#[test]
fn the_report_says_which_branch_the_race_dropped_after_the_injection() {
    let report = sweep(|| mover(false));
    assert!(!report.is_clean(), "{report}");
    let text = report.to_string();
    let lines: Vec<&str> = text.lines().collect();
    let first = lines
        .iter()
        .position(|l| l.starts_with("  first found "))
        .unwrap_or_else(|| panic!("{text}"));
    let then = lines[first + 1];
    assert!(
        then.starts_with("  then main#0: select! at ")
            && then.contains("tests/select_branch_waits.rs:"),
        "{text}"
    );
    assert!(
        then.contains("branch 0 won; dropped pending branch 1 (waiting at await point"),
        "{text}"
    );
    let json = report.to_json();
    assert!(json.contains("\"then\": \"main#0: select! at "), "{json}");
    // The signal is a moment of the run, and its hint is the select!'s.
    assert!(
        lines[first].starts_with("  first found with the program's signal fired at "),
        "{text}"
    );
    let hint = report.failures()[0].violations()[0].hint();
    assert!(
        hint.starts_with("the program's shutdown signal made `select!`s drop pending branches"),
        "{hint}"
    );
}

/// A service stopped by the program's signal: the test then sends to it
/// and unwraps the send (the receiver is gone once it stopped). The hint
/// names the shutdown's errors, not a timeout's.
#[test]
fn an_unwrap_after_the_signal_gets_the_shutdown_hint() {
    let report = sweep(|| async {
        let (stop_tx, mut stop_rx) = mpsc::channel::<()>(1);
        cancelsim_tokio::cancelsim::register_signal(move || {
            let _ = stop_tx.try_send(());
        });
        let (tx, mut rx) = mpsc::channel::<u32>(4);
        let service = cancelsim_tokio::spawn(async move {
            loop {
                cancelsim_tokio::select! {
                    _ = stop_rx.recv() => break,
                    Some(_) = rx.recv() => sleep(ms(1)).await,
                }
            }
        });
        for n in 0..3 {
            sleep(ms(5)).await;
            tx.send(n).await.unwrap();
        }
        drop(tx);
        service.await.unwrap();
    });
    let violation = report
        .failures()
        .iter()
        .flat_map(|failure| failure.violations())
        .find(|v| v.message().contains("SendError"))
        .unwrap_or_else(|| panic!("{report}"));
    assert!(
        violation
            .hint()
            .contains("a send to a task that already stopped (`SendError`)"),
        "{}",
        violation.hint()
    );
}

#[test]
fn the_mover_that_reserves_before_it_pops_passes() {
    let report = sweep(|| mover(true));
    report.assert_clean();
    assert!(report.counts().per_kind["signal"] > 0, "{report}");
}

/// An aggregator that stops on the shutdown signal (`biased`: the stop
/// first), with items still in its channel: lost unless `drains` empties
/// the channel before it exits (trial 12's metrics flush).
async fn aggregator(drains: bool) {
    let (stop_tx, mut stop_rx) = mpsc::channel::<()>(1);
    cancelsim_tokio::cancelsim::register_signal(move || {
        let _ = stop_tx.try_send(());
    });
    let (tx, mut rx) = mpsc::channel::<u64>(16);
    let total = std::sync::Arc::new(AtomicU64::new(0));
    let summed = std::sync::Arc::clone(&total);
    let aggregator = cancelsim_tokio::spawn(async move {
        loop {
            cancelsim_tokio::select! {
                biased;
                _ = stop_rx.recv() => break,
                item = rx.recv() => match item {
                    Some(n) => { summed.fetch_add(n, Ordering::SeqCst); }
                    None => return,
                },
            }
        }
        if drains {
            rx.close();
            while let Some(n) = rx.recv().await {
                summed.fetch_add(n, Ordering::SeqCst);
            }
        }
    });
    for _ in 0..5 {
        tx.send(1).await.unwrap();
    }
    sleep(Duration::from_millis(1)).await;
    drop(tx);
    aggregator.await.unwrap();
    assert_eq!(total.load(Ordering::SeqCst), 5, "increments lost");
}

#[test]
fn an_assertion_after_the_signal_says_what_stopping_left_unfinished() {
    let report = sweep(|| aggregator(false));
    let failure = report
        .failures()
        .iter()
        .find(|f| f.repro().to_string().contains("inject=signal@0:1"))
        .unwrap_or_else(|| panic!("the signal at the test's sleep fails it: {report}"));
    let violation = &failure.violations()[0];
    assert_eq!(violation.kind(), ViolationCode::Panic, "{report}");
    let hint = violation.hint();
    assert!(
        hint.starts_with("the program's shutdown signal fired here (one moment of the run"),
        "{hint}"
    );
    assert!(
        hint.contains("finish or hand back what was accepted before exiting"),
        "{hint}"
    );
}

#[test]
fn the_aggregator_that_drains_on_shutdown_passes() {
    let report = sweep(|| aggregator(true));
    report.assert_clean();
    assert!(
        report.counts().per_kind.get("signal").copied().unwrap_or(0) > 0,
        "{report}"
    );
}
