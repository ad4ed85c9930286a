//! tokio-stream's wrappers over the runtime's types (`IntervalStream`,
//! `WatchStream`, `JoinSetStream`, `ReadDirStream`, `TcpListenerStream`),
//! simulated, against
//! real tokio-stream on real tokio's paused runtime; `SignalStream` fired
//! by the test.
#![cfg(cancelsim)]

use std::sync::Arc;
use std::time::Duration;

#[macro_use]
mod common;
use common::Log;

#[test]
fn interval_stream_ticks_and_bursts_missed_ticks_as_tokio_stream() {
    let (real, sim) = both!(|rt, stream, log, start| async move {
        use stream::StreamExt;
        let interval = rt::time::interval(Duration::from_millis(10));
        let mut ticks = stream::wrappers::IntervalStream::new(interval);
        for n in 0..3 {
            let tick = ticks.next().await.unwrap();
            note!(log, start, "tick {n} scheduled at {:?}", tick - start);
        }
        // Late by 35 ms: the missed ticks come at once (Burst).
        rt::time::sleep(Duration::from_millis(35)).await;
        for n in 3..8 {
            let tick = ticks.next().await.unwrap();
            note!(log, start, "tick {n} scheduled at {:?}", tick - start);
        }
        let mut interval = ticks.into_inner();
        interval.set_missed_tick_behavior(rt::time::MissedTickBehavior::Delay);
        let ticks = stream::wrappers::IntervalStream::new(interval);
        rt::time::sleep(Duration::from_millis(23)).await;
        let later: Vec<_> = ticks.take(3).collect().await;
        for tick in later {
            note!(log, start, "delayed tick at {:?}", tick - start);
        }
    });
    assert_eq!(real, sim);
    assert_eq!(sim.len(), 11);
}

#[test]
fn watch_stream_yields_the_latest_values_as_tokio_stream() {
    let (real, sim) = both!(|rt, stream, log, start| async move {
        use stream::StreamExt;
        let (tx, rx) = rt::sync::watch::channel(0u32);
        let changes = stream::wrappers::WatchStream::from_changes(tx.subscribe());
        let mut values = stream::wrappers::WatchStream::new(rx);
        rt::spawn(async move {
            for (value, ms) in [(1u32, 5u64), (2, 10), (3, 10), (4, 30)] {
                rt::time::sleep_until(start + Duration::from_millis(ms)).await;
                tx.send(value).unwrap();
            }
        });
        while let Some(value) = values.next().await {
            note!(log, start, "value {value}");
        }
        let changes: Vec<u32> = changes.collect().await;
        note!(log, start, "changes {changes:?}");
    });
    assert_eq!(real, sim);
    assert_eq!(sim[0], (0, "value 0".to_string()));
    assert_eq!(sim.last().unwrap().1, "changes [4]");
}

#[test]
fn join_set_stream_yields_results_as_tasks_end_as_tokio_stream() {
    let (real, sim) = both!(|rt, stream, log, start| async move {
        use stream::StreamExt;
        let mut set = rt::task::JoinSet::new();
        for (value, ms) in [(1u32, 30u64), (2, 10), (3, 20)] {
            set.spawn(async move {
                rt::time::sleep(Duration::from_millis(ms)).await;
                value
            });
        }
        let mut joined = stream::wrappers::JoinSetStream::new(set);
        note!(
            log,
            start,
            "size_hint {:?}",
            stream::Stream::size_hint(&joined)
        );
        while let Some(result) = joined.next().await {
            note!(log, start, "joined {}", result.unwrap());
        }
    });
    assert_eq!(real, sim);
    assert_eq!(sim.last().unwrap(), &(30, "joined 1".to_string()));
}

#[test]
fn read_dir_stream_lists_a_directory_as_tokio_stream() {
    let dir = std::env::temp_dir().join(format!("cancelsim-stream-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["a", "b", "c"] {
        std::fs::write(dir.join(name), name).unwrap();
    }
    let path: &'static std::path::Path = Box::leak(dir.clone().into_boxed_path());
    let (real, sim) = both!(|rt, stream, log, start| async move {
        use stream::StreamExt;
        let entries = stream::wrappers::ReadDirStream::new(rt::fs::read_dir(path).await.unwrap());
        let mut names: Vec<String> = entries
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect()
            .await;
        names.sort();
        note!(log, start, "names {names:?}");
    });
    std::fs::remove_dir_all(&dir).unwrap();
    // The facade's blocking work costs virtual time; the names agree.
    let names = |log: &[(u128, String)]| log.iter().map(|(_, e)| e.clone()).collect::<Vec<_>>();
    assert_eq!(names(&real), names(&sim));
    assert_eq!(sim[0].1, r#"names ["a", "b", "c"]"#);
}

/// A signal stream receives each delivery the test fires (on real tokio
/// that would be the OS's signal).
#[cfg(unix)]
#[test]
fn tcp_listener_stream_yields_each_connection_as_tokio_stream() {
    let (real, sim) = both!(|rt, stream, log, start| async move {
        use rt::io::{AsyncReadExt, AsyncWriteExt};
        use stream::StreamExt;
        let listener = rt::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut incoming = stream::wrappers::TcpListenerStream::new(listener);
        let clients = rt::spawn(async move {
            for word in ["one", "two"] {
                let mut client = rt::net::TcpStream::connect(addr).await.unwrap();
                client.write_all(word.as_bytes()).await.unwrap();
            }
        });
        for _ in 0..2 {
            let mut connection = incoming.next().await.unwrap().unwrap();
            let mut word = String::new();
            connection.read_to_string(&mut word).await.unwrap();
            note!(log, start, "accepted {word:?}");
        }
        clients.await.unwrap();
        let listener = incoming.into_inner();
        note!(
            log,
            start,
            "listener back: {}",
            listener.local_addr().unwrap() == addr
        );
    });
    assert_eq!(real, sim);
    assert_eq!(
        sim,
        [
            (0, "accepted \"one\"".to_string()),
            (0, "accepted \"two\"".to_string()),
            (0, "listener back: true".to_string()),
        ]
    );
}

#[test]
fn signal_stream_receives_each_fired_signal() {
    use cancelsim_tokio as tokio;
    use cancelsim_tokio_stream::StreamExt;
    use tokio::signal::unix::{signal, SignalKind};
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let got = runtime.block_on(async {
        let mut hangups = cancelsim_tokio_stream::wrappers::SignalStream::new(
            signal(SignalKind::hangup()).unwrap(),
        );
        tokio::spawn(async {
            for _ in 0..2 {
                tokio::time::sleep(Duration::from_millis(5)).await;
                tokio::cancelsim::fire_signal(SignalKind::hangup());
            }
        });
        let mut got = Vec::new();
        for _ in 0..2 {
            got.push((hangups.next().await, tokio::time::Instant::now()));
        }
        got.into_iter().map(|(v, _)| v).collect::<Vec<_>>()
    });
    assert_eq!(got, vec![Some(()), Some(())]);
}
