//! `sync::watch`: the same program on real tokio and on the facade (values,
//! closing, `wait_for`, `send_if_modified`, `subscribe`), and its wake
//! order fixed: a `watch`-based shutdown with several listeners replays
//! identically, where tokio's random waiter lists made it differ.
#![cfg(cancelsim)]

use std::sync::Arc;
use std::time::Duration;

use cancelsim::{Check, Config, SchedulerKind, Sim};

#[macro_use]
mod common;
use common::Log;

#[test]
fn values_closing_and_wait_for_agree_with_tokio() {
    let (mut real, mut sim) = both!(|rt, log, start| async move {
        let (tx, rx) = rt::sync::watch::channel(0u32);
        let mut listeners = Vec::new();
        for i in 0..3 {
            let mut rx = rx.clone();
            let log = Arc::clone(&log);
            listeners.push(rt::spawn(async move {
                while rx.changed().await.is_ok() {
                    let value = *rx.borrow_and_update();
                    note!(log, start, "rx{i} saw {value}");
                }
                note!(log, start, "rx{i} closed, last {}", *rx.borrow());
            }));
        }
        let waiter = rt::spawn({
            let mut rx = tx.subscribe();
            let log = Arc::clone(&log);
            async move {
                let seen = rx.wait_for(|v| *v >= 2).await.map(|v| *v);
                note!(log, start, "wait_for {seen:?}");
                let after = rx.wait_for(|v| *v >= 100).await.map(|v| *v);
                note!(log, start, "wait_for after close {after:?}");
            }
        });
        drop(rx);
        for value in 1..=3 {
            rt::time::sleep(Duration::from_millis(10)).await;
            tx.send(value).unwrap();
        }
        rt::time::sleep(Duration::from_millis(10)).await;
        let modified = tx.send_if_modified(|v| {
            *v += 0;
            false
        });
        note!(log, start, "send_if_modified {modified}");
        tx.send_modify(|v| *v = 10);
        note!(log, start, "receivers {}", tx.receiver_count());
        rt::time::sleep(Duration::from_millis(10)).await;
        drop(tx);
        for listener in listeners {
            listener.await.unwrap();
        }
        waiter.await.unwrap();
        note!(log, start, "done");
    });
    // Which listener logs first at one instant is tokio's random order;
    // what each saw, and when, must agree.
    real.sort();
    sim.sort();
    assert_eq!(real, sim);
    assert!(
        sim.iter().any(|(_, line)| line == "wait_for Ok(2)"),
        "{sim:?}"
    );
    assert!(
        sim.iter().any(|(_, line)| line == "rx2 closed, last 10"),
        "{sim:?}"
    );
}

/// Three listeners of one shutdown flag: the order they wake in is part of
/// the trace.
async fn three_listeners() {
    let (tx, rx) = cancelsim_tokio::sync::watch::channel(false);
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let mut rx = rx.clone();
        tasks.push(cancelsim_tokio::spawn(async move {
            let _ = rx.changed().await;
        }));
    }
    cancelsim_tokio::time::sleep(Duration::from_millis(1)).await;
    tx.send(true).unwrap();
    for task in tasks {
        task.await.unwrap();
    }
}

#[test]
fn the_same_seed_wakes_the_listeners_in_the_same_order() {
    let trace = |seed| {
        let config = Config::default()
            .seed(seed)
            .scheduler(SchedulerKind::Random);
        let mut sim = Sim::new(config);
        sim.block_on(three_listeners()).unwrap();
        sim.trace().to_string()
    };
    let first = trace(1);
    for _ in 0..20 {
        assert_eq!(trace(1), first);
    }
    // Seeds do explore: some seed wakes the listeners in another order.
    assert!((2..40).any(|seed| trace(seed) != first));
}

#[test]
fn a_watch_shutdown_with_several_listeners_is_deterministic() {
    Check::new(three_listeners)
        .tokio_preset()
        .run()
        .assert_clean();
}
