//! `StreamMap`, simulated: tokio-stream draws the entry it polls first
//! from a random number generator of its own, per thread; the simulated
//! one makes that a recorded choice, so a seed replays which stream's item
//! comes first and two seeds explore both. The rest of its behaviour is
//! tokio-stream's: compared on real tokio, order aside. (Only with `--cfg
//! cancelsim`.)
#![cfg(cancelsim)]

use std::sync::Arc;
use std::time::Duration;

#[macro_use]
mod common;
use common::Log;

use cancelsim::{Config, SchedulerKind, Sim};

/// The order a map of three ready streams yields their first items in.
async fn order() -> Vec<&'static str> {
    use cancelsim_tokio_stream::{StreamExt, StreamMap};
    let mut map = StreamMap::new();
    for name in ["a", "b", "c"] {
        map.insert(name, cancelsim_tokio_stream::iter([name]));
    }
    let mut order = Vec::new();
    while let Some((key, _)) = map.next().await {
        order.push(key);
    }
    order
}

fn run(seed: u64) -> (Vec<&'static str>, String) {
    let mut sim = Sim::new(
        Config::default()
            .seed(seed)
            .scheduler(SchedulerKind::Random),
    );
    let order = sim.block_on(order()).unwrap();
    (order, sim.trace().to_string())
}

#[test]
fn same_seed_same_order_and_trace() {
    for seed in 0..8 {
        assert_eq!(run(seed), run(seed), "seed {seed}");
    }
}

#[test]
fn seeds_explore_which_stream_comes_first() {
    let firsts: std::collections::BTreeSet<_> = (0..32).map(|seed| run(seed).0[0]).collect();
    assert_eq!(firsts.len(), 3, "{firsts:?}");
}

#[test]
fn the_map_agrees_with_tokio_streams_order_aside() {
    let (real, sim) = both!(|rt, stream, log, start| async move {
        use stream::StreamExt;
        type Boxed = std::pin::Pin<Box<dyn stream::Stream<Item = u32> + Send>>;
        let mut map = stream::StreamMap::new();
        let (tx, rx) = rt::sync::mpsc::unbounded_channel::<u32>();
        map.insert(
            "channel",
            Box::pin(stream::wrappers::UnboundedReceiverStream::new(rx)) as Boxed,
        );
        map.insert("numbers", Box::pin(stream::iter(vec![1u32, 2, 3])) as Boxed);
        note!(
            log,
            start,
            "len {} has numbers {}",
            map.len(),
            map.contains_key("numbers")
        );
        // The numbers, in some order with nothing else: the channel is empty.
        let mut got = Vec::new();
        for _ in 0..3 {
            got.push(map.next().await.unwrap());
        }
        got.sort();
        note!(log, start, "{got:?}");
        // The channel's item; the ended numbers go as the map meets them
        // (whether this poll meets them depends on where it starts).
        tx.send(7).unwrap();
        note!(log, start, "{:?}", map.next().await);
        // A send after 5 ms wakes the map.
        rt::spawn(async move {
            rt::time::sleep(Duration::from_millis(5)).await;
            tx.send(8).unwrap();
            tx.send(9).unwrap();
        });
        let mut many = Vec::new();
        let n = map.next_many(&mut many, 10).await;
        note!(log, start, "next_many {n} {many:?}");
        let removed = map.remove("channel").is_some();
        note!(log, start, "removed {removed} empty {}", map.is_empty());
        note!(log, start, "{:?}", map.next().await);
    });
    assert_eq!(real, sim);
    assert_eq!(sim.len(), 6, "{sim:?}");
    assert_eq!(
        sim[3],
        (
            5,
            "next_many 2 [(\"channel\", 8), (\"channel\", 9)]".to_string()
        )
    );
}

/// A map made through the standard library (`collect()`) records its
/// choices at a site of this crate's, not at a path into the toolchain's
/// sources; `Debug` shows the entries, as tokio-stream's.
#[test]
fn a_collected_map_records_its_choices_at_a_stable_site() {
    let mut sim = Sim::new(Config::default().seed(1).scheduler(SchedulerKind::Random));
    let order = sim
        .block_on(async {
            use cancelsim_tokio_stream::{StreamExt, StreamMap};
            let mut map: StreamMap<_, _> = ["a", "b"]
                .into_iter()
                .map(|name| (name, cancelsim_tokio_stream::iter([name])))
                .collect();
            let debug = format!("{map:?}");
            assert!(debug.starts_with("StreamMap { entries: ["), "{debug}");
            let mut order = Vec::new();
            while let Some((key, _)) = map.next().await {
                order.push(key);
            }
            order
        })
        .unwrap();
    assert_eq!(order.len(), 2);
    let trace = sim.trace().to_string();
    let choice = trace
        .lines()
        .find(|line| line.contains("StreamMap polls entry"))
        .unwrap_or_else(|| panic!("{trace}"));
    assert!(!choice.contains("/rustc/"), "{choice}");
    assert!(choice.contains("src/simulated/stream_map.rs:"), "{choice}");
}
