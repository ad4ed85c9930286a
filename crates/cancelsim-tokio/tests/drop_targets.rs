//! The tokio preset drops the futures the program itself could drop: the
//! test body, and tasks the program aborts while they run. A task spawned
//! and merely awaited, one in a `JoinSet` that is drained, one that only an
//! owner's `Drop` stops as the test ends: nothing drops them mid-way in a
//! real run, so the sweep does not either.
#![cfg(cancelsim)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cancelsim::check::await_points;
use cancelsim::{Check, Config, SchedulerKind};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

async fn body() {
    let plain = cancelsim_tokio::spawn(cancelsim_tokio::time::sleep(ms(5))); // marker: plain
    let mut set = cancelsim_tokio::task::JoinSet::new();
    set.spawn(cancelsim_tokio::time::sleep(ms(5))); // marker: drained
    let handled = cancelsim_tokio::spawn(cancelsim_tokio::time::sleep(ms(50))); // marker: handled
    let abort = handled.abort_handle();
    let mut stopped = cancelsim_tokio::task::JoinSet::new();
    stopped.spawn(cancelsim_tokio::time::sleep(ms(50))); // marker: stopped
    plain.await.unwrap();
    while set.join_next().await.is_some() {}
    abort.abort();
    stopped.abort_all();
    let _ = handled.await;
    while stopped.join_next().await.is_some() {}
}

/// A task's name: its spawn site, `drop_targets.rs:LINE`.
fn site(marker: &str) -> String {
    let line = include_str!("drop_targets.rs")
        .lines()
        .position(|l| l.ends_with(&format!("// marker: {marker}")))
        .expect("marked line");
    format!("drop_targets.rs:{}", line + 1)
}

#[test]
fn only_the_root_and_tasks_aborted_while_they_run_are_drop_targets() {
    let points = await_points(&body, &Config::default(), 0, SchedulerKind::Fifo);
    let abortable = |name: &str| {
        points
            .iter()
            .find(|p| p.task_name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("{name}: {points:#?}"))
            .abortable
    };
    assert!(points[0].abortable, "the root");
    assert!(!abortable(&site("plain")), "a plain spawn");
    assert!(!abortable(&site("drained")), "a drained JoinSet's task");
    assert!(
        abortable(&site("handled")),
        "aborted through its AbortHandle"
    );
    assert!(abortable(&site("stopped")), "aborted by JoinSet::abort_all");
}

/// A token bucket whose refill task lives as long as the bucket: its
/// `Drop` stops it, as the test ends. Correct code.
struct Bucket {
    tokens: Arc<AtomicU32>,
    refill: cancelsim_tokio::task::JoinHandle<()>,
}

impl Bucket {
    fn new() -> Bucket {
        let tokens = Arc::new(AtomicU32::new(0));
        let refill = cancelsim_tokio::spawn({
            let tokens = Arc::clone(&tokens);
            async move {
                loop {
                    cancelsim_tokio::time::sleep(ms(10)).await;
                    tokens.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
        Bucket { tokens, refill }
    }

    async fn take(&self) {
        while self
            .tokens
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_err()
        {
            cancelsim_tokio::time::sleep(ms(1)).await;
        }
    }
}

impl Drop for Bucket {
    fn drop(&mut self) {
        self.refill.abort();
    }
}

#[test]
fn a_task_its_owner_stops_as_the_test_ends_is_not_dropped_mid_way() {
    let report = Check::new(|| async {
        let bucket = Bucket::new();
        for _ in 0..3 {
            bucket.take().await;
        }
    })
    .tokio_preset()
    .run();
    report.assert_clean();
}
