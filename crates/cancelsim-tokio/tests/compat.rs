//! The simulated items against real tokio: the same program, written once
//! as a macro over the crate it runs on, on tokio's paused current-thread
//! runtime and on the facade; the logs (virtual time, event) must agree.
//! (Only the simulation build has something to compare.)
#![cfg(cancelsim)]

use std::sync::Arc;
use std::time::Duration;

#[macro_use]
mod common;
use common::Log;

#[test]
fn sleep_timeout_and_spawn_agree_with_tokio() {
    let (real, sim) = both!(|rt, log, start| async move {
        let child = rt::spawn({
            let log = Arc::clone(&log);
            async move {
                rt::time::sleep(Duration::from_millis(30)).await;
                note!(log, start, "child woke");
                7
            }
        });
        let slow = rt::time::timeout(
            Duration::from_millis(10),
            rt::time::sleep(Duration::from_millis(20)),
        )
        .await;
        note!(log, start, "timeout {:?}", slow.map_err(|e| e.to_string()));
        let fast = rt::time::timeout(Duration::from_millis(50), child).await;
        note!(log, start, "joined {:?}", fast.map(|r| r.unwrap()));
        let until = rt::time::Instant::now() + Duration::from_millis(5);
        rt::time::sleep_until(until).await;
        note!(log, start, "slept until");
    });
    assert_eq!(real, sim);
    assert_eq!(sim.len(), 4);
}

#[test]
fn interval_ticks_and_missed_tick_behaviour_agree_with_tokio() {
    let (real, sim) = both!(|rt, log, start| async move {
        for behavior in [
            rt::time::MissedTickBehavior::Burst,
            rt::time::MissedTickBehavior::Delay,
            rt::time::MissedTickBehavior::Skip,
        ] {
            let mut ticker = rt::time::interval(Duration::from_millis(10));
            ticker.set_missed_tick_behavior(behavior);
            for i in 0..4 {
                ticker.tick().await;
                note!(log, start, "{behavior:?} tick {i}");
                if i == 1 {
                    rt::time::sleep(Duration::from_millis(25)).await; // miss ticks
                }
            }
        }
    });
    assert_eq!(real, sim);
}

#[test]
fn abort_join_set_and_join_errors_agree_with_tokio() {
    let (real, sim) = both!(|rt, log, start| async move {
        let forever = rt::spawn(async { rt::time::sleep(Duration::from_secs(3600)).await });
        forever.abort();
        let error = forever.await.unwrap_err();
        note!(
            log,
            start,
            "aborted: cancelled={} panic={}",
            error.is_cancelled(),
            error.is_panic()
        );
        let mut set = rt::task::JoinSet::new();
        for ms in [30u64, 10, 20] {
            set.spawn(async move {
                rt::time::sleep(Duration::from_millis(ms)).await;
                ms
            });
        }
        note!(log, start, "len {}", set.len());
        while let Some(done) = set.join_next().await {
            note!(log, start, "joined {}", done.unwrap());
        }
        set.spawn(async {
            rt::time::sleep(Duration::from_secs(1)).await;
            0
        });
        set.abort_all();
        let aborted = set.join_next().await.unwrap().unwrap_err();
        note!(
            log,
            start,
            "abort_all: cancelled={}",
            aborted.is_cancelled()
        );
        note!(log, start, "empty {}", set.join_next().await.is_none());
    });
    assert_eq!(real, sim);
}

#[test]
fn biased_select_and_preconditions_agree_with_tokio() {
    let (real, sim) = both!(|rt, log, start| async move {
        let mut ticks = 0;
        loop {
            rt::select! {
                biased;
                _ = rt::time::sleep(Duration::from_millis(5)), if ticks < 3 => {
                    ticks += 1;
                    note!(log, start, "tick {ticks}");
                }
                _ = rt::time::sleep(Duration::from_millis(12)) => {
                    note!(log, start, "slow branch");
                    break;
                }
            }
        }
        let value = rt::select! {
            Some(v) = async { None::<u8> } => v,
            v = async { 9u8 } => v,
            else => 0,
        };
        note!(log, start, "pattern-disabled branch skipped: {value}");
    });
    assert_eq!(real, sim);
}

#[test]
fn sync_primitives_and_duplex_pass_through() {
    let (real, sim) = both!(|rt, log, start| async move {
        use rt::io::{AsyncReadExt, AsyncWriteExt};
        let (tx, mut rx) = rt::sync::mpsc::channel::<u8>(1);
        let producer = rt::spawn(async move {
            for i in 0..3 {
                tx.send(i).await.unwrap();
                rt::time::sleep(Duration::from_millis(2)).await;
            }
        });
        while let Some(i) = rx.recv().await {
            note!(log, start, "got {i}");
        }
        producer.await.unwrap();
        let (mut a, mut b) = rt::io::duplex(16);
        a.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        b.read_exact(&mut buf).await.unwrap();
        note!(log, start, "read {:?}", std::str::from_utf8(&buf).unwrap());
    });
    assert_eq!(real, sim);
}

#[test]
fn an_unnamed_task_is_named_by_its_spawn_site() {
    let mut sim = cancelsim::Sim::new(cancelsim::Config::default());
    sim.block_on(async {
        cancelsim_tokio::spawn(async {}).await.unwrap();
    })
    .unwrap();
    let line = line!() - 3;
    let trace = sim.trace().to_string();
    assert!(trace.contains(&format!("compat.rs:{line}#1")), "{trace}");
}

#[test]
fn fair_select_start_is_recorded_and_replayed() {
    let program = || async {
        let mut wins = Vec::new();
        for _ in 0..8 {
            cancelsim_tokio::select! {
                _ = async {} => wins.push(0),
                _ = async {} => wins.push(1),
            }
        }
        wins
    };
    let run = |seed| {
        let config = cancelsim::Config::default()
            .seed(seed)
            .scheduler(cancelsim::SchedulerKind::Random);
        let mut sim = cancelsim::Sim::new(config);
        let wins = sim.block_on(program()).unwrap();
        (wins, sim.schedule(), sim.trace().to_string())
    };
    let (wins, schedule, trace) = run(5);
    assert_eq!(run(5).0, wins, "same seed, same branch order");
    assert!(trace.contains("select! at"), "{trace}");
    let orders: std::collections::BTreeSet<Vec<u8>> = (0..8).map(|seed| run(seed).0).collect();
    assert!(orders.len() > 1, "seeds explore branch orders");
    let config = cancelsim::Config::default().scheduler(cancelsim::SchedulerKind::Replay(
        std::sync::Arc::new(schedule),
    ));
    let replayed = cancelsim::Sim::new(config).block_on(program()).unwrap();
    assert_eq!(replayed, wins, "a replay takes the recorded branches");
    let baseline = cancelsim::Sim::new(cancelsim::Config::default())
        .block_on(program())
        .unwrap();
    assert_eq!(
        baseline,
        vec![0; 8],
        "the Fifo baseline always starts at branch 0"
    );
}

#[test]
fn outside_a_runtime_spawn_panics_with_tokios_message() {
    let caught = std::panic::catch_unwind(|| {
        drop(cancelsim_tokio::spawn(async {}));
    })
    .unwrap_err();
    let message = caught
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| caught.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    assert!(message.contains("there is no reactor running"), "{message}");
    assert!(message.contains("cancelsim-tokio"), "{message}");
}

#[test]
fn io_delivery_delay_lets_a_timer_win_mid_read_under_random_schedules() {
    use cancelsim_tokio::io::{AsyncReadExt, AsyncWriteExt};
    let program = || async {
        let (mut a, mut b) = cancelsim_tokio::io::duplex(64);
        a.write_all(b"0123456789").await.unwrap();
        let mut buf = [0u8; 10];
        // `read` is cancel-safe (tokio's docs): a read dropped before its
        // bytes arrived loses nothing, they wait in the stream, as in a
        // socket's buffer.
        let first = cancelsim_tokio::select! {
            biased;
            n = b.read(&mut buf) => Some(n.unwrap()),
            _ = cancelsim_tokio::time::sleep(Duration::from_micros(500)) => None,
        };
        let mut got = buf[..first.unwrap_or(0)].to_vec();
        while got.len() < 10 {
            let n = b.read(&mut buf).await.unwrap();
            got.extend_from_slice(&buf[..n]);
        }
        (first, got)
    };
    let run = |scheduler: cancelsim::SchedulerKind, seed: u64| {
        let config = cancelsim::Config::default().seed(seed).scheduler(scheduler);
        cancelsim::Sim::new(config).block_on(program()).unwrap()
    };
    for seed in 0..8 {
        assert_eq!(
            run(cancelsim::SchedulerKind::Fifo, seed).0,
            Some(10),
            "no delay in the baseline, and the chunk in one piece"
        );
    }
    let outcomes: Vec<_> = (0..32)
        .map(|seed| run(cancelsim::SchedulerKind::Random, seed))
        .collect();
    assert!(
        outcomes.iter().any(|(first, _)| first.is_none()),
        "a delay lets the timer win"
    );
    assert!(outcomes.iter().any(|(first, _)| *first == Some(10)));
    assert!(
        outcomes
            .iter()
            .any(|(first, _)| first.is_some_and(|n| (1..10).contains(&n))),
        "a chunk arrives in two segments: the first read has part of it"
    );
    assert!(outcomes.iter().all(|(_, bytes)| bytes == b"0123456789"));
    assert_eq!(
        run(cancelsim::SchedulerKind::Random, 3),
        run(cancelsim::SchedulerKind::Random, 3),
        "same seed, same delays"
    );
}

/// A chunk in two segments, as a peer's bytes reach a socket in pieces:
/// `read_exact` in a `select!` against a timer loses the first segment's
/// bytes when the timer wins between them (tokio documents it as not
/// cancel-safe), which a sweep finds when it expires the timer at the
/// wait between the segments of an explored schedule; a cancel-safe
/// reader that keeps its bytes passes the same sweep.
#[test]
fn a_frame_half_read_when_a_timer_wins_between_segments_is_found() {
    use cancelsim_tokio::io::{AsyncReadExt, AsyncWriteExt};
    async fn frames(keeps_bytes: bool) {
        let (mut client, mut server) = cancelsim_tokio::io::duplex(64);
        let writer = cancelsim_tokio::spawn(async move {
            for frame in [*b"abcdefgh", *b"ijklmnop"] {
                client.write_all(&frame).await.unwrap();
                cancelsim_tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        let mut got = Vec::new();
        let mut partial = Vec::new();
        while got.len() < 2 {
            let mut frame = [0u8; 8];
            let read = async {
                if keeps_bytes {
                    while partial.len() < 8 {
                        let mut byte = [0u8; 8];
                        let n = server.read(&mut byte[..8 - partial.len()]).await.unwrap();
                        partial.extend_from_slice(&byte[..n]);
                    }
                    frame.copy_from_slice(&partial);
                    partial.clear();
                } else {
                    server.read_exact(&mut frame).await.unwrap();
                }
            };
            cancelsim_tokio::select! {
                () = read => got.push(frame),
                _ = cancelsim_tokio::time::sleep(Duration::from_millis(100)) => {}
            }
        }
        writer.await.unwrap();
        assert_eq!(got, [*b"abcdefgh", *b"ijklmnop"], "frames whole");
    }
    let report = cancelsim::Check::new(|| frames(false)).tokio_preset().run();
    assert!(!report.is_clean(), "{report}");
    let text = report.to_string();
    assert!(text.contains("timeouts expired in"), "{text}");
    assert!(
        text.contains("scheduler=current-thread inject=timeout@0:"),
        "{text}"
    );
    assert!(text.contains("on duplex read"), "{text}");
    cancelsim::Check::new(|| frames(true))
        .tokio_preset()
        .run()
        .assert_clean();
}

/// tokio's handles are `Send + Sync`, and tokio code relies on it (boxed
/// `Send` futures, handles in shared state): the simulated ones are too.
#[test]
fn handles_are_send_and_sync_as_tokios() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>(_: &T) {}
    send_sync::<cancelsim_tokio::task::JoinHandle<u8>>();
    send_sync::<cancelsim_tokio::task::AbortHandle>();
    send_sync::<cancelsim_tokio::task::JoinSet<u8>>();
    send_sync::<cancelsim_tokio::runtime::Runtime>();
    send_sync::<cancelsim_tokio::time::Sleep>();
    send_sync::<cancelsim_tokio::time::Interval>();
    send_sync::<cancelsim_tokio::io::DuplexStream>();
    send_sync::<cancelsim_tokio::task::JoinError>();
    // `?` from a JoinError into the boxed error type tokio code uses.
    fn boxed(error: cancelsim_tokio::task::JoinError) -> Box<dyn std::error::Error + Send + Sync> {
        error.into()
    }
    let _ = boxed;
    let future = async {
        let handle = cancelsim_tokio::spawn(async { 1u8 });
        let mut set = cancelsim_tokio::task::JoinSet::new();
        set.spawn(async { 2u8 });
        let abort = handle.abort_handle();
        cancelsim_tokio::time::sleep(Duration::from_millis(1)).await;
        let one = handle.await.unwrap();
        let two = set.join_next().await.unwrap().unwrap();
        drop(abort);
        one + two
    };
    send(&future);
    let boxed: std::pin::Pin<Box<dyn std::future::Future<Output = u8> + Send>> = Box::pin(future);
    let total = cancelsim_tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(boxed);
    assert_eq!(total, 3);
}

#[test]
fn ctrl_c_completes_when_the_test_fires_it_in_this_simulation_only() {
    let runtime = cancelsim_tokio::runtime::Runtime::new().unwrap();
    let at = runtime.block_on(async {
        let waiter = cancelsim_tokio::spawn(async {
            cancelsim_tokio::signal::ctrl_c().await.unwrap();
            cancelsim_tokio::time::Instant::now()
        });
        cancelsim_tokio::time::sleep(Duration::from_millis(30)).await;
        cancelsim_tokio::cancelsim::fire_ctrl_c();
        let start = cancelsim_tokio::time::Instant::now() - Duration::from_millis(30);
        waiter.await.unwrap().duration_since(start)
    });
    assert_eq!(at, Duration::from_millis(30));
    // A new simulation starts without the Ctrl-C of the last one.
    let pending = cancelsim_tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(async {
            cancelsim_tokio::time::timeout(
                Duration::from_millis(5),
                cancelsim_tokio::signal::ctrl_c(),
            )
            .await
            .is_err()
        });
    assert!(pending, "ctrl_c() waits until fired in this simulation");
}

#[test]
fn fs_runs_as_blocking_work_on_real_files_and_agrees_with_tokio() {
    let dir = std::env::temp_dir().join(format!("cancelsim-tokio-fs-{}", std::process::id()));
    let path = dir.join("note.txt");
    let (dir_ref, path_ref) = (&dir, &path);
    let (real, sim) = both!(|rt, log, start| {
        let (dir, path) = (dir_ref.clone(), path_ref.clone());
        async move {
            rt::fs::create_dir_all(&dir).await.unwrap();
            rt::fs::write(&path, b"hello").await.unwrap();
            let text = rt::fs::read_to_string(&path).await.unwrap();
            note!(log, start, "read {text:?}");
            let exists = rt::fs::try_exists(&path).await.unwrap();
            rt::fs::remove_file(&path).await.unwrap();
            let gone = !rt::fs::try_exists(&path).await.unwrap();
            note!(log, start, "existed {exists}, gone {gone}");
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
    // The texts agree; the facade's calls take 1 ms of virtual time each
    // (`set_blocking_cost`), tokio's none.
    let texts = |log: &[(u128, String)]| log.iter().map(|(_, t)| t.clone()).collect::<Vec<_>>();
    assert_eq!(texts(&real), texts(&sim));
    assert_eq!(sim.last().map(|(ms, _)| *ms), Some(6));
}
