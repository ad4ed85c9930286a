//! Runtime-agnostic synchronisation primitives from `futures` and `tokio::sync`
//! work inside a simulation: their wakers are ordinary `Waker`s, and values
//! really pass between simulated tasks.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use cancelsim::time::{sleep, Instant};
use cancelsim::{spawn, yield_now};
use futures::{SinkExt, StreamExt};

mod common;
use common::{ms, sim};

/// Seed of the simulations of this file.
const SEED: u64 = 11;

#[test]
fn futures_mpsc_carries_every_message_in_order_with_backpressure() {
    let received = sim(SEED)
        .block_on(async {
            let (mut tx, rx) = futures::channel::mpsc::channel::<u32>(1);
            let producer = spawn(async move {
                for value in 1..=6 {
                    tx.send(value).await.unwrap();
                }
                Instant::now()
            });
            let consumer = spawn(async move {
                let mut received = Vec::new();
                let mut rx = rx;
                while let Some(value) = rx.next().await {
                    received.push((value, Instant::now()));
                    sleep(ms(1)).await; // a slow consumer: the producer must wait
                }
                received
            });
            let producer_done = producer.await.unwrap();
            (producer_done, consumer.await.unwrap())
        })
        .unwrap();
    let (producer_done, received) = received;
    assert!(
        producer_done > Instant::ZERO,
        "a full channel makes the producer wait for the slow consumer"
    );
    let values: Vec<u32> = received.iter().map(|(value, _)| *value).collect();
    assert_eq!(values, [1, 2, 3, 4, 5, 6]);
    let last_at = received.last().unwrap().1;
    assert_eq!(last_at.since_start(), ms(5));
}

#[test]
fn futures_oneshot_wakes_the_receiver_when_sent() {
    let (value, at) = sim(SEED)
        .block_on(async {
            let (tx, rx) = futures::channel::oneshot::channel::<&str>();
            spawn(async move {
                sleep(ms(7)).await;
                tx.send("ping").unwrap();
            })
            .detach();
            let value = rx.await.unwrap();
            (value, Instant::now())
        })
        .unwrap();
    assert_eq!(value, "ping");
    assert_eq!(at.since_start(), ms(7));
}

#[test]
fn futures_oneshot_reports_a_dropped_sender() {
    let result = sim(SEED)
        .block_on(async {
            let (tx, rx) = futures::channel::oneshot::channel::<u8>();
            let owner = spawn(async move {
                let _tx = tx;
                sleep(ms(1)).await;
            });
            let result = rx.await;
            owner.await.unwrap();
            result
        })
        .unwrap();
    assert_eq!(result, Err(futures::channel::oneshot::Canceled));
}

#[test]
fn futures_mutex_serialises_critical_sections() {
    let (total, now, overlap) = sim(SEED)
        .block_on(async {
            let counter = Rc::new(futures::lock::Mutex::new(0u32));
            let inside = Rc::new(Cell::new(0u32));
            let overlap = Rc::new(Cell::new(false));
            let tasks: Vec<_> = (0..3)
                .map(|_| {
                    let counter = Rc::clone(&counter);
                    let inside = Rc::clone(&inside);
                    let overlap = Rc::clone(&overlap);
                    spawn(async move {
                        let mut guard = counter.lock().await;
                        inside.set(inside.get() + 1);
                        overlap.set(overlap.get() || inside.get() > 1);
                        sleep(ms(10)).await; // held across an await point
                        *guard += 1;
                        inside.set(inside.get() - 1);
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            let total = *counter.lock().await;
            (total, Instant::now(), overlap.get())
        })
        .unwrap();
    assert_eq!(total, 3);
    assert!(!overlap);
    assert_eq!(
        now.since_start(),
        ms(30),
        "three 10ms sections, one at a time"
    );
}

#[test]
fn tokio_mpsc_carries_every_message_in_order() {
    let received = sim(SEED)
        .block_on(async {
            let (tx, mut rx) = tokio::sync::mpsc::channel::<u32>(2);
            let producer = spawn(async move {
                for value in 0..10 {
                    tx.send(value).await.unwrap();
                    if value % 3 == 0 {
                        yield_now().await;
                    }
                }
            });
            let mut received = Vec::new();
            while let Some(value) = rx.recv().await {
                received.push(value);
            }
            producer.await.unwrap();
            received
        })
        .unwrap();
    assert_eq!(received, (0..10).collect::<Vec<_>>());
}

#[test]
fn tokio_oneshot_wakes_the_receiver_when_sent() {
    let (value, at) = sim(SEED)
        .block_on(async {
            let (tx, rx) = tokio::sync::oneshot::channel::<u64>();
            let sender = spawn(async move {
                sleep(ms(3)).await;
                tx.send(99).unwrap();
            });
            let value = rx.await.unwrap();
            sender.await.unwrap();
            (value, Instant::now())
        })
        .unwrap();
    assert_eq!(value, 99);
    assert_eq!(at.since_start(), ms(3));
}

#[test]
fn tokio_mutex_serialises_critical_sections() {
    let (log, now) = sim(SEED)
        .block_on(async {
            let log = Arc::new(tokio::sync::Mutex::new(Vec::new()));
            let tasks: Vec<_> = ["a", "b"]
                .into_iter()
                .map(|name| {
                    let log = Arc::clone(&log);
                    spawn(async move {
                        let mut guard = log.lock().await;
                        guard.push(format!("{name} in"));
                        sleep(ms(10)).await;
                        guard.push(format!("{name} out"));
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            let log = log.lock().await.clone();
            (log, Instant::now())
        })
        .unwrap();
    assert_eq!(log, ["a in", "a out", "b in", "b out"]);
    assert_eq!(now.since_start(), ms(20));
}

#[test]
fn tokio_notify_wakes_a_waiter() {
    let woke_at = sim(SEED)
        .block_on(async {
            let notify = Rc::new(tokio::sync::Notify::new());
            let waiter = spawn({
                let notify = Rc::clone(&notify);
                async move {
                    notify.notified().await;
                    Instant::now()
                }
            });
            yield_now().await; // the waiter registers first
            sleep(ms(5)).await;
            notify.notify_one();
            waiter.await.unwrap()
        })
        .unwrap();
    assert_eq!(woke_at.since_start(), ms(5));
}

#[test]
fn tokio_semaphore_limits_concurrency_to_its_permits() {
    let (peak, now) = sim(SEED)
        .block_on(async {
            let permits = Rc::new(tokio::sync::Semaphore::new(2));
            let holding = Rc::new(Cell::new(0u32));
            let peak = Rc::new(Cell::new(0u32));
            let tasks: Vec<_> = (0..5)
                .map(|_| {
                    let permits = Rc::clone(&permits);
                    let holding = Rc::clone(&holding);
                    let peak = Rc::clone(&peak);
                    spawn(async move {
                        let _permit = permits.acquire().await.unwrap();
                        holding.set(holding.get() + 1);
                        peak.set(peak.get().max(holding.get()));
                        sleep(ms(10)).await;
                        holding.set(holding.get() - 1);
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            (peak.get(), Instant::now())
        })
        .unwrap();
    assert_eq!(peak, 2);
    assert_eq!(now.since_start(), ms(30), "five 10ms holds, two at a time");
}
