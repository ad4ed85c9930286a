//! tokio-stream's time adapters swept by the tokio preset: a batch writer
//! over `ReceiverStream` + `chunks_timeout` found buggy or passed clean,
//! the wait inside a stream `timeout` expired at every await point, and
//! the same seed giving the same trace.
#![cfg(cancelsim)]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use cancelsim::{Check, Config, Report, SchedulerKind, ViolationCode};
use cancelsim_tokio as tokio;
use cancelsim_tokio_stream::wrappers::ReceiverStream;
use cancelsim_tokio_stream::StreamExt;
use tokio::sync::mpsc;

fn codes(report: &Report) -> Vec<ViolationCode> {
    report
        .failures()
        .iter()
        .flat_map(|failure| failure.violations().iter().map(|v| v.kind()))
        .collect()
}

/// Writes a batch to the store: a slow sink (1 ms).
async fn write(store: &RefCell<Vec<u32>>, batch: Vec<u32>) {
    tokio::time::sleep(Duration::from_millis(1)).await;
    store.borrow_mut().extend(batch);
}

/// Batches what comes on `rx` (up to 4 items, or what came within 5 ms)
/// and writes each batch, beside a heartbeat. The buggy one takes a batch
/// and writes it inside the `select!` branch: when the heartbeat wins
/// while the batch is being written, the batch is dropped with the
/// branch. The fixed one only takes the batch in the branch (the items
/// wait in the stream until then) and writes it in the handler.
async fn batch_writer(rx: mpsc::Receiver<u32>, store: Rc<RefCell<Vec<u32>>>, buggy: bool) -> u32 {
    let chunks = ReceiverStream::new(rx).chunks_timeout(4, Duration::from_millis(5));
    tokio::pin!(chunks);
    let mut heartbeat = tokio::time::interval(Duration::from_millis(50));
    let mut beats = 0;
    loop {
        if buggy {
            tokio::select! {
                ended = async {
                    match chunks.next().await {
                        Some(batch) => { write(&store, batch).await; false }
                        None => true,
                    }
                } => if ended { break },
                _ = heartbeat.tick() => beats += 1,
            }
        } else {
            tokio::select! {
                batch = chunks.next() => match batch {
                    Some(batch) => write(&store, batch).await,
                    None => break,
                },
                _ = heartbeat.tick() => beats += 1,
            }
        }
    }
    beats
}

async fn batching_test(buggy: bool) {
    let (tx, rx) = mpsc::channel(16);
    let store = Rc::new(RefCell::new(Vec::new()));
    let writer = tokio::spawn(batch_writer(rx, Rc::clone(&store), buggy));
    for n in 0..10 {
        tx.send(n).await.unwrap();
        if n % 3 == 2 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    drop(tx);
    writer.await.unwrap();
    assert_eq!(*store.borrow(), (0..10).collect::<Vec<_>>(), "batches lost");
}

/// The test as a `#[tokio::test]` passes on one run (the baseline).
#[tokio::test(crate = "cancelsim_tokio")]
async fn the_batch_writer_writes_every_item() {
    batching_test(false).await;
}

#[test]
fn a_batch_written_inside_a_select_branch_is_found() {
    let report = Check::new(|| batching_test(true)).tokio_preset().run();
    assert!(codes(&report).contains(&ViolationCode::Panic), "{report}");
    let text = report.to_string();
    assert!(text.contains("batches lost"), "{text}");
    assert!(text.contains("sweeps.rs:"), "named in this file: {text}");
    assert!(text.contains("dropped pending branch"), "{text}");
}

#[test]
fn the_batch_writer_that_takes_batches_in_the_branch_is_clean() {
    let report = Check::new(|| batching_test(false)).tokio_preset().run();
    report.assert_clean();
    // Expiries were swept: the heartbeat's, and the chunk's own deadline.
    assert!(report.counts().per_kind["timeout"] > 0, "{report}");
}

/// A consumer of a stream under `timeout` that counts the gaps: the
/// sweep expires its wait for an item at every await point inside.
async fn timed_consumer(strict: bool) -> Vec<u32> {
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(async move {
        for n in 0..3 {
            tokio::time::sleep(Duration::from_millis(1)).await;
            if tx.send(n).await.is_err() {
                break;
            }
        }
    });
    let timed = ReceiverStream::new(rx).timeout(Duration::from_millis(10)); // marker: timeout
    tokio::pin!(timed);
    let mut got = Vec::new();
    while let Some(item) = timed.next().await {
        match item {
            Ok(value) => got.push(value),
            Err(elapsed) if strict => panic!("no gap expected: {elapsed}"),
            Err(_) => {}
        }
    }
    got
}

fn marked_line(marker: &str) -> usize {
    include_str!("sweeps.rs")
        .lines()
        .position(|l| l.ends_with(marker))
        .expect("marked line")
        + 1
}

#[test]
fn the_wait_inside_a_stream_timeout_is_expired_and_the_stream_kept() {
    let report = Check::new(|| async {
        // The stream is kept across a gap: every item still comes.
        assert_eq!(timed_consumer(false).await, vec![0, 1, 2], "items lost");
    })
    .tokio_preset()
    .run();
    report.assert_clean();
    assert!(report.counts().per_kind["timeout"] > 0, "{report}");
}

#[test]
fn a_consumer_that_assumes_no_gap_is_found_at_the_stream_timeout() {
    let report = Check::new(|| async {
        timed_consumer(true).await;
    })
    .tokio_preset()
    .excuse_timeout_results(false)
    .run();
    assert!(codes(&report).contains(&ViolationCode::Panic), "{report}");
    let text = report.to_string();
    assert!(text.contains("no gap expected"), "{text}");
    assert!(text.contains("timeout@"), "{text}");
    let at = format!("sweeps.rs:{}", marked_line("// marker: timeout"));
    assert!(
        text.contains(&at),
        "the expiry named at the `.timeout(..)`, {at}: {text}"
    );
}

/// Same seed, identical trace, with every simulated adapter in it.
#[test]
fn same_seed_same_trace_with_the_time_adapters() {
    let program = || async {
        let store = Rc::new(RefCell::new(Vec::new()));
        let (tx, rx) = mpsc::channel(16);
        let writer = tokio::spawn(batch_writer(rx, Rc::clone(&store), false));
        let ticks = tokio_stream_ticks().await;
        for n in 0..6 {
            tx.send(n).await.unwrap();
        }
        drop(tx);
        writer.await.unwrap();
        let got = timed_consumer(false).await;
        let inner = store.borrow().clone();
        (inner, ticks, got)
    };
    let run = |seed| {
        let config = Config::default()
            .seed(seed)
            .scheduler(SchedulerKind::Random);
        let mut sim = cancelsim::Sim::new(config);
        let out = sim.block_on(program()).unwrap();
        (out, sim.trace().to_string())
    };
    let (out, trace) = run(5);
    assert_eq!(out.0, (0..6).collect::<Vec<_>>());
    assert_eq!(out.2, vec![0, 1, 2]);
    assert_eq!(run(5).1, trace);
    assert!(trace.contains("sweeps.rs:"), "{trace}");
}

/// Throttled ticks of an `IntervalStream`, under `timeout_repeating`.
async fn tokio_stream_ticks() -> usize {
    let interval = tokio::time::interval(Duration::from_millis(2));
    let ticks = cancelsim_tokio_stream::wrappers::IntervalStream::new(interval)
        .throttle(Duration::from_millis(3))
        .take(4)
        .timeout_repeating(tokio::time::interval(Duration::from_millis(10)));
    ticks.collect::<Vec<_>>().await.len()
}
