//! Ordinary tokio tests of the service. `cargo test` runs them on real
//! tokio; `RUSTFLAGS="--cfg cancelsim" cargo test` runs each, unchanged, as
//! a cancelsim sweep (drop cancellation at every await point, timeout
//! expiry inside every `timeout`, the registered shutdown signal at every
//! await point, random schedules). The only simulation-specific line is
//! `register_signal`, which does nothing on real tokio.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_service::{cache::Cache, frames, pool, retry};
use tokio_util::sync::CancellationToken;

const FRAMES: [&[u8]; 3] = [b"hello", b"cancel-safe", b"world"];

#[tokio::test]
async fn frames_arrive_whole_beside_the_heartbeat() {
    let (mut client, server) = tokio::io::duplex(64);
    let token = CancellationToken::new();
    tokio::cancelsim::register_signal({
        let token = token.clone();
        move || token.cancel()
    });
    let (out, mut received) = mpsc::unbounded_channel();
    let reader = tokio::spawn(frames::serve(
        server,
        Duration::from_micros(300),
        token.clone(),
        out,
    ));
    for frame in FRAMES {
        let pause = Duration::from_millis(1);
        if frames::write_frame_slowly(&mut client, frame, pause)
            .await
            .is_err()
        {
            break; // the server went away (shut down)
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    drop(client);
    let _ = reader.await;
    // However the reader ended (end of stream, shutdown), what it passed on
    // are whole frames, in order.
    let mut got = Vec::new();
    while let Ok(frame) = received.try_recv() {
        got.push(frame);
    }
    let expected: Vec<Vec<u8>> = FRAMES.iter().map(|f| f.to_vec()).collect();
    assert_eq!(got[..], expected[..got.len()], "frames corrupted");
    if !token.is_cancelled() {
        assert_eq!(got.len(), FRAMES.len(), "frames lost");
    }
}

#[tokio::test]
async fn frames_arrive_whole_over_tcp() {
    // The same reader behind a socket: on real tokio a loopback
    // connection, in the simulation build a simulated one.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let token = CancellationToken::new();
    tokio::cancelsim::register_signal({
        let token = token.clone();
        move || token.cancel()
    });
    let (out, mut received) = mpsc::unbounded_channel();
    let server = tokio::spawn({
        let token = token.clone();
        async move {
            let (stream, _) = listener.accept().await?;
            frames::serve(stream, Duration::from_micros(300), token, out).await
        }
    });
    let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
    for frame in FRAMES {
        let pause = Duration::from_millis(1);
        if frames::write_frame_slowly(&mut client, frame, pause)
            .await
            .is_err()
        {
            break; // the server went away (shut down)
        }
    }
    drop(client);
    let _ = server.await;
    let mut got = Vec::new();
    while let Ok(frame) = received.try_recv() {
        got.push(frame);
    }
    let expected: Vec<Vec<u8>> = FRAMES.iter().map(|f| f.to_vec()).collect();
    assert_eq!(got[..], expected[..got.len()], "frames corrupted");
    if !token.is_cancelled() {
        assert_eq!(got.len(), FRAMES.len(), "frames lost");
    }
}

#[tokio::test]
async fn the_pool_drains_on_shutdown() {
    let token = CancellationToken::new();
    tokio::cancelsim::register_signal({
        let token = token.clone();
        move || token.cancel()
    });
    let (jobs, rx) = mpsc::channel(8);
    let pool = pool::start(2, rx, token.clone());
    for _ in 0..4 {
        let _ = jobs.send(Duration::from_millis(30)).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let done = Arc::clone(&pool.done);
    // Workers that outlive the grace period are aborted; under the sweep,
    // `cancel-ignored` reports any worker that did not act on the signal.
    pool.shutdown(Duration::from_millis(100)).await;
    assert!(done.load(std::sync::atomic::Ordering::Relaxed) <= 4);
}

#[tokio::test]
async fn a_refresh_that_times_out_leaves_the_cache_consistent() {
    let cache = Arc::new(Cache::default());
    cache.refresh("k", async { "v1".to_string() }).await;
    let slow = async {
        tokio::time::sleep(Duration::from_millis(10)).await;
        "v2".to_string()
    };
    let _ = tokio::time::timeout(Duration::from_millis(50), cache.refresh("k", slow)).await;
    assert!(cache.is_consistent().await);
    assert!(cache.get("k").await.is_some());
}

#[tokio::test]
async fn retries_keep_the_gauge_right() {
    let gauge = retry::Gauge::default();
    let mut calls = 0;
    let result = retry::with_retry(
        3,
        Duration::from_millis(20),
        Duration::from_millis(5),
        &gauge,
        || {
            calls += 1;
            let slow = calls < 3;
            async move {
                if slow {
                    tokio::time::sleep(Duration::from_millis(100)).await; // times out
                }
                Ok::<u32, ()>(7)
            }
        },
    )
    .await;
    assert_eq!(gauge.get(), 0, "no call is still counted in flight");
    if let Some(Ok(value)) = result {
        assert_eq!(value, 7);
    }
}

#[tokio::test]
async fn shutdown_finishes_in_time() {
    let token = CancellationToken::new();
    tokio::cancelsim::register_signal({
        let token = token.clone();
        move || token.cancel()
    });
    let (jobs, rx) = mpsc::channel(8);
    let pool = pool::start(3, rx, token);
    let _ = jobs.send(Duration::from_millis(10)).await;
    // The test's own deadline is its assertion: the sweep expires the
    // timeouts inside the pool, not this one.
    tokio::time::timeout(
        Duration::from_secs(1),
        pool.shutdown(Duration::from_millis(100)),
    )
    .await
    .expect("shutdown finishes within a second");
}

/// A service that stops on SIGTERM (as on Kubernetes). `fire_signal` is
/// part of the API the one dependency line (`features = ["full"]`) gives,
/// in the normal build too, where it does nothing: this test compiles only
/// because `full` turns on the facade's `signal` feature.
#[cfg(unix)]
#[tokio::test]
async fn sigterm_stops_the_ticker() {
    use tokio::signal::unix::{signal, SignalKind};
    tokio::cancelsim::register_signal(|| {
        tokio::cancelsim::fire_signal(SignalKind::terminate());
    });
    let mut sigterm = signal(SignalKind::terminate()).expect("a SIGTERM listener");
    let mut ticks = 0;
    loop {
        tokio::select! {
            _ = sigterm.recv() => break,
            _ = tokio::time::sleep(Duration::from_millis(10)) => {
                ticks += 1;
                if ticks == 3 {
                    break;
                }
            }
        }
    }
    assert!(ticks <= 3);
}

/// tower's layers (real tokio's timers, in the simulation build too): the
/// fast calls answer, the slow one times out at the gateway's limit.
#[tokio::test]
async fn the_gateway_answers_and_times_out_slow_calls() {
    use tokio_service::gateway::{call_all, Backend};
    let start = tokio::time::Instant::now();
    let fast = Backend {
        delay: Duration::from_millis(10),
    };
    let answers = call_all(fast, Duration::from_millis(100), &[1, 2, 3]).await;
    assert_eq!(answers, [Ok(2), Ok(4), Ok(6)]);
    assert!(start.elapsed() >= Duration::from_millis(30));
    let slow = Backend {
        delay: Duration::from_millis(500),
    };
    let answers = call_all(slow, Duration::from_millis(100), &[4]).await;
    assert_eq!(answers, [Err("request timed out".to_string())]);
    assert!(start.elapsed() >= Duration::from_millis(130));
}
