//! The simulation build's proof: each buggy variant of the service is found
//! by the tokio preset's sweep, with the right violation, and its fixed
//! twin is clean. (Only with `--cfg cancelsim`.)
#![cfg(cancelsim)]

use std::sync::Arc;
use std::time::Duration;

use cancelsim::{Check, Report, ViolationCode};
use tokio::sync::mpsc;
use tokio_service::{cache::Cache, frames, pool, retry};
use tokio_util::sync::CancellationToken;

fn sweep<F, Fut>(body: F) -> Report
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()>,
{
    Check::new(body).tokio_preset().run()
}

fn codes(report: &Report) -> Vec<ViolationCode> {
    report
        .failures()
        .iter()
        .flat_map(|failure| failure.violations().iter().map(|v| v.kind()))
        .collect()
}

/// The client's half of a frames test: writes three frames slowly (until
/// the reader goes away), closes, waits for the reader, and checks that
/// every frame arrived whole.
async fn send_frames_and_check<W, T>(
    mut client: W,
    reader: tokio::task::JoinHandle<T>,
    mut received: mpsc::UnboundedReceiver<Vec<u8>>,
) where
    W: tokio::io::AsyncWrite + Unpin,
{
    for frame in [&b"hello"[..], b"cancel-safe", b"world"] {
        let pause = Duration::from_millis(1);
        if frames::write_frame_slowly(&mut client, frame, pause)
            .await
            .is_err()
        {
            break;
        }
    }
    drop(client);
    let _ = reader.await;
    let mut got = Vec::new();
    while let Ok(frame) = received.try_recv() {
        got.push(frame);
    }
    assert_eq!(
        got,
        [&b"hello"[..], b"cancel-safe", b"world"],
        "frames lost or corrupted"
    );
}

async fn frames_test(buggy: bool) {
    let (client, server) = tokio::io::duplex(64);
    let token = CancellationToken::new();
    let (out, received) = mpsc::unbounded_channel();
    let beat = Duration::from_micros(300);
    let reader = if buggy {
        tokio::spawn(frames::buggy::serve(server, beat, token.clone(), out))
    } else {
        tokio::spawn(frames::serve(server, beat, token.clone(), out))
    };
    send_frames_and_check(client, reader, received).await;
}

#[test]
fn a_half_read_frame_dropped_by_select_is_found() {
    let report = sweep(|| frames_test(true));
    assert!(!report.is_clean());
    assert!(codes(&report).contains(&ViolationCode::Panic), "{report}");
    let text = report.to_string();
    assert!(text.contains("frames lost or corrupted"), "{text}");
    // The trace explains it: the heartbeat won and the read was dropped.
    assert!(text.contains("won; dropped pending branch"), "{text}");
    // One bug, one group, across the baseline's seeds and schedules.
    let groups = report.groups();
    let panics: Vec<_> = groups
        .iter()
        .filter(|(code, _, _)| code == "panic")
        .collect();
    assert_eq!(panics.len(), 1, "{text}");
    assert!(
        text.contains("seen with 1 seed and 16 explored schedules"),
        "{text}"
    );
}

#[test]
fn the_cancel_safe_frame_reader_is_clean() {
    let report = sweep(|| frames_test(false));
    report.assert_clean();
    assert!(report.counts().per_kind["cancel-drop"] > 0);
}

/// The frame reader behind a simulated TCP connection.
async fn tcp_frames_test(buggy: bool) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (out, received) = mpsc::unbounded_channel();
    let beat = Duration::from_micros(300);
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await?;
        let token = CancellationToken::new();
        if buggy {
            frames::buggy::serve(stream, beat, token, out).await
        } else {
            frames::serve(stream, beat, token, out).await
        }
    });
    let client = tokio::net::TcpStream::connect(addr).await.unwrap();
    send_frames_and_check(client, server, received).await;
}

#[test]
fn a_half_read_frame_over_tcp_is_found_at_the_servers_read() {
    let report = sweep(|| tcp_frames_test(true));
    assert!(codes(&report).contains(&ViolationCode::Panic), "{report}");
    let text = report.to_string();
    assert!(text.contains("frames lost or corrupted"), "{text}");
    // Even the baseline loses them (the heartbeat beats the slow client's
    // pause); its trace shows the server's task waiting on the socket at
    // the buggy reader's `read_exact`, in the service's code, and the
    // heartbeat's branch dropping that read.
    assert!(
        text.lines()
            .any(|line| line.contains("on tcp read (") && line.contains("src/frames.rs:")),
        "{text}"
    );
    assert!(
        text.contains("won; dropped pending branches 0, 2 (waiting at await point"),
        "{text}"
    );
}

#[test]
fn the_cancel_safe_frame_reader_over_tcp_is_clean() {
    let report = sweep(|| tcp_frames_test(false));
    report.assert_clean();
    assert!(report.counts().per_kind["cancel-drop"] > 0);
}

async fn pool_test(buggy: bool) {
    let token = CancellationToken::new();
    tokio::cancelsim::register_signal({
        let token = token.clone();
        move || token.cancel()
    });
    let (jobs, rx) = mpsc::channel(8);
    let pool = if buggy {
        pool::buggy::start(2, rx, token.clone())
    } else {
        pool::start(2, rx, token.clone())
    };
    for _ in 0..4 {
        let _ = jobs.send(Duration::from_secs(3)).await;
    }
    tokio::time::sleep(Duration::from_secs(4)).await;
    pool.shutdown(Duration::from_millis(100)).await;
}

#[test]
fn a_worker_deaf_to_the_shutdown_token_is_cancel_ignored() {
    let report = sweep(|| pool_test(true));
    assert!(
        codes(&report).contains(&ViolationCode::CancelIgnored),
        "{report}"
    );
    let text = report.to_string();
    assert!(
        text.contains("pool.rs:"),
        "the worker is named by its spawn site: {text}"
    );
    assert!(text.contains("signal@"), "{text}");
}

#[test]
fn workers_that_listen_to_the_token_are_clean() {
    let report = sweep(|| pool_test(false));
    report.assert_clean();
    assert!(
        report.counts().per_kind["signal"] > 0,
        "the signal was swept"
    );
}

async fn cache_test(buggy: bool) {
    let cache = Arc::new(Cache::default());
    cache.refresh("k", async { "v1".to_string() }).await;
    let slow = async {
        tokio::time::sleep(Duration::from_millis(10)).await;
        "v2".to_string()
    };
    let refresh = async {
        if buggy {
            cache.refresh_buggy("k", slow).await
        } else {
            cache.refresh("k", slow).await
        }
    };
    let _ = tokio::time::timeout(Duration::from_millis(50), refresh).await;
    assert!(
        cache.is_consistent().await,
        "an entry is stuck in Refreshing"
    );
}

#[test]
fn a_cache_entry_left_refreshing_by_a_timeout_is_found() {
    let report = sweep(|| cache_test(true));
    assert!(codes(&report).contains(&ViolationCode::Panic), "{report}");
    assert!(report.to_string().contains("stuck in Refreshing"));
    assert!(report.counts().per_kind["timeout"] > 0);
}

#[test]
fn the_cancel_safe_cache_is_clean() {
    sweep(|| cache_test(false)).assert_clean();
}

async fn retry_test(buggy: bool) {
    let gauge = retry::Gauge::default();
    let op = || async {
        tokio::time::sleep(Duration::from_millis(5)).await;
        Ok::<u32, ()>(7)
    };
    let (attempts, per_try, backoff) = (3, Duration::from_millis(20), Duration::from_millis(5));
    let _ = if buggy {
        retry::with_retry_buggy(attempts, per_try, backoff, &gauge, op).await
    } else {
        retry::with_retry(attempts, per_try, backoff, &gauge, op).await
    };
    assert_eq!(gauge.get(), 0, "a call is still counted in flight");
}

#[test]
fn a_gauge_left_counting_by_a_timed_out_try_is_found() {
    let report = sweep(|| retry_test(true));
    assert!(codes(&report).contains(&ViolationCode::Panic), "{report}");
    assert!(
        report.to_string().contains("injected: timeout@"),
        "{report}"
    );
}

#[test]
fn the_guarded_gauge_is_clean() {
    sweep(|| retry_test(false)).assert_clean();
}

#[test]
fn same_seed_same_trace_and_seeds_explore_select_orders() {
    let run = |seed: u64| {
        let config = cancelsim::Config::default()
            .seed(seed)
            .scheduler(cancelsim::SchedulerKind::Random);
        let mut sim = cancelsim::Sim::new(config);
        sim.block_on(frames_test(false)).unwrap();
        sim.trace().to_string()
    };
    assert_eq!(run(3), run(3), "same seed, identical trace");
    let distinct: std::collections::BTreeSet<String> = (0..8).map(run).collect();
    assert!(
        distinct.len() > 1,
        "different seeds explore different orders"
    );
    assert!(
        run(3).contains("choice "),
        "select!'s start branch is a recorded choice"
    );
}
