//! Small programs over a runtime-agnostic channel: W4 (ping-pong) and W5 (a
//! small program re-run from a fresh world).

use std::time::Duration;

use cancelsim::schedule::SimRng;
use cancelsim::Config;
use tokio::sync::mpsc;

use crate::sizes::{Sizes, DURATION_SEED};
use crate::worlds::{on_cancelsim, on_tokio, sim_config, trace_mode};

/// The two ends of W4: `ping` sends `0..messages` and waits for each echo;
/// `pong` echoes until its inbox closes. Returns the sum of the echoes.
pub(crate) async fn w4_ping(
    messages: usize,
    to_pong: mpsc::Sender<u64>,
    mut from_pong: mpsc::Receiver<u64>,
) -> u64 {
    let mut sum = 0;
    for message in 0..messages as u64 {
        to_pong.send(message).await.expect("pong is alive");
        sum += from_pong.recv().await.expect("pong echoes");
    }
    sum
}

pub(crate) async fn w4_pong(mut from_ping: mpsc::Receiver<u64>, to_ping: mpsc::Sender<u64>) {
    while let Some(message) = from_ping.recv().await {
        if to_ping.send(message).await.is_err() {
            break;
        }
    }
}

pub(crate) fn w4_cancelsim(sizes: Sizes) -> u64 {
    on_cancelsim(sim_config(), async move {
        let (to_pong, from_ping) = mpsc::channel(1);
        let (to_ping, from_pong) = mpsc::channel(1);
        let ping = cancelsim::spawn(w4_ping(sizes.messages, to_pong, from_pong));
        let pong = cancelsim::spawn(w4_pong(from_ping, to_ping));
        let sum = ping.await.expect("ping ends");
        pong.await.expect("pong ends");
        sum
    })
}

pub(crate) fn w4_tokio(sizes: Sizes) -> u64 {
    on_tokio(async move {
        let (to_pong, from_ping) = mpsc::channel(1);
        let (to_ping, from_pong) = mpsc::channel(1);
        let ping = tokio::spawn(w4_ping(sizes.messages, to_pong, from_pong));
        let pong = tokio::spawn(w4_pong(from_ping, to_ping));
        let sum = ping.await.expect("ping ends");
        pong.await.expect("pong ends");
        sum
    })
}

/// W5's sleeps: 3 tasks × 10 durations (milliseconds), drawn once.
pub(crate) fn w5_durations() -> [[u64; 10]; 3] {
    let mut rng = SimRng::new(DURATION_SEED + 5);
    let mut durations = [[0; 10]; 3];
    for task in &mut durations {
        for ms in task {
            *ms = rng.below(100) + 1;
        }
    }
    durations
}

/// W5 on cancelsim: `small_runs` fresh worlds, each running the small
/// program (a producer sleeps then sends, a consumer receives then sleeps, a
/// bystander sleeps). Returns the sum of the values received.
pub(crate) fn w5_cancelsim(sizes: Sizes, durations: [[u64; 10]; 3]) -> u64 {
    let mut received = 0;
    for run in 0..sizes.small_runs as u64 {
        received += on_cancelsim(Config::default().trace(trace_mode()), async move {
            let (tx, mut rx) = mpsc::channel(1);
            let producer = cancelsim::spawn(async move {
                for ms in durations[0] {
                    cancelsim::time::sleep(Duration::from_millis(ms)).await;
                }
                tx.send(run).await.expect("consumer is alive");
            });
            let consumer = cancelsim::spawn(async move {
                let value = rx.recv().await.expect("producer sends");
                for ms in durations[1] {
                    cancelsim::time::sleep(Duration::from_millis(ms)).await;
                }
                value
            });
            let bystander = cancelsim::spawn(async move {
                for ms in durations[2] {
                    cancelsim::time::sleep(Duration::from_millis(ms)).await;
                }
            });
            producer.await.expect("producer ends");
            bystander.await.expect("bystander ends");
            consumer.await.expect("consumer ends")
        });
    }
    received
}

pub(crate) fn w5_tokio(sizes: Sizes, durations: [[u64; 10]; 3]) -> u64 {
    let mut received = 0;
    for run in 0..sizes.small_runs as u64 {
        received += on_tokio(async move {
            let (tx, mut rx) = mpsc::channel(1);
            let producer = tokio::spawn(async move {
                for ms in durations[0] {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
                tx.send(run).await.expect("consumer is alive");
            });
            let consumer = tokio::spawn(async move {
                let value = rx.recv().await.expect("producer sends");
                for ms in durations[1] {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
                value
            });
            let bystander = tokio::spawn(async move {
                for ms in durations[2] {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
            });
            producer.await.expect("producer ends");
            bystander.await.expect("bystander ends");
            consumer.await.expect("consumer ends")
        });
    }
    received
}
