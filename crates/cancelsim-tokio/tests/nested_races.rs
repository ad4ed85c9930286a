//! An await point inside two timer races: a batch gathered under its own
//! deadline `select!`, polled as a branch of a loop's `select!` against a
//! ticker. An expiry at the await point expires the inner race (the batch
//! ends early: harmless); the outer one's deadline can come while the
//! batch still gathers, dropping what it gathered — `timeout-outer@T:P`.
//! (Trial 10: a hand-rolled batcher that loses a partial batch when the
//! report ticker wins was missed.) (Only with `--cfg cancelsim`.)
#![cfg(cancelsim)]

use std::time::Duration;

use cancelsim::{Check, Config, Report};
use cancelsim_tokio::sync::mpsc;
use cancelsim_tokio::time::sleep;

/// The first item, then more until the batch is full or its deadline.
/// With `kept`, the batch lives in the caller's state, not in the future.
async fn next_batch(rx: &mut mpsc::Receiver<u32>, kept: Option<&mut Vec<u32>>) -> Option<Vec<u32>> {
    let mut own = Vec::new();
    let batch = match kept {
        Some(kept) => kept,
        None => &mut own,
    };
    if batch.is_empty() {
        batch.push(rx.recv().await?);
    }
    let deadline = sleep(Duration::from_millis(50));
    cancelsim_tokio::pin!(deadline);
    while batch.len() < 4 {
        cancelsim_tokio::select! {
            item = rx.recv() => match item { // marker: inner recv
                Some(item) => batch.push(item),
                None => break,
            },
            _ = &mut deadline => break,
        }
    }
    Some(std::mem::take(batch))
}

/// Ships batches, and reports on a ticker, until the channel closes.
async fn ship(fixed: bool) {
    let (tx, mut rx) = mpsc::channel::<u32>(16);
    let producer = cancelsim_tokio::spawn(async move {
        for item in 0..6 {
            tx.send(item).await.unwrap();
            sleep(Duration::from_millis(3)).await;
        }
    });
    let mut shipped = Vec::new();
    let mut pending = Vec::new();
    let mut ticks = cancelsim_tokio::time::interval(Duration::from_millis(200));
    ticks.tick().await;
    loop {
        let kept = fixed.then_some(&mut pending);
        cancelsim_tokio::select! {
            batch = next_batch(&mut rx, kept) => match batch { // marker: outer
                Some(batch) => shipped.extend(batch),
                None => break,
            },
            _ = ticks.tick() => {}
        }
    }
    producer.await.unwrap();
    assert_eq!(shipped, (0..6).collect::<Vec<_>>(), "every item shipped");
}

fn sweep(fixed: bool) -> Report {
    Check::new(move || ship(fixed)).tokio_preset().run()
}

#[test]
fn the_outer_races_deadline_is_injected_and_finds_the_lost_batch() {
    let report = sweep(false);
    assert!(!report.is_clean(), "{report}");
    let text = report.to_string();
    let failure = &report.failures()[0];
    assert_eq!(
        failure.repro().injections[0].kind,
        cancelsim::InjectionKind::TimeoutOuter
    );
    assert!(text.contains("every item shipped"), "{text}");
    assert!(
        text.contains("then main#0: select! at crates/cancelsim-tokio/tests/nested_races.rs:"),
        "the outer select! dropped the batch: {text}"
    );
    assert!(
        text.contains("timeout-outer "),
        "the header counts them: {text}"
    );
    // Without the outer expiry the sweep misses it: every inner expiry
    // only ends the batch early.
    let inner_only = failure_kinds(&report);
    assert!(
        !inner_only.contains(&cancelsim::InjectionKind::Timeout),
        "{inner_only:?}"
    );
}

fn failure_kinds(report: &Report) -> Vec<cancelsim::InjectionKind> {
    report
        .failures()
        .iter()
        .flat_map(|failure| failure.repro().injections.iter().map(|i| i.kind))
        .collect()
}

#[test]
fn a_batch_kept_outside_the_dropped_future_survives_the_same_sweep() {
    let report = sweep(true);
    assert!(
        report
            .counts()
            .per_kind
            .get("timeout-outer")
            .copied()
            .unwrap_or(0)
            > 0,
        "{report}"
    );
    report.assert_clean();
}

#[test]
fn same_seed_same_trace_with_an_outer_expiry() {
    let repro: cancelsim::Repro = "cancelsim:v1 seed=0 scheduler=fifo inject=timeout-outer@0:2"
        .parse()
        .expect("a valid repro");
    let body = || ship(false);
    let run =
        || cancelsim::check::run_repro(&body, &Config::default().runtime_shutdown(true), &repro);
    let (first, again) = (run(), run());
    assert_eq!(first.fired.len(), 1, "{}", first.trace);
    assert!(!first.is_clean(), "{}", first.trace);
    assert_eq!(first.trace.to_string(), again.trace.to_string());
    let trace = first.trace.to_string();
    assert!(
        trace.contains("injected timeout-outer at await point 2"),
        "{trace}"
    );
    assert!(trace.contains("select! #0's timer branch won"), "{trace}");
}
