//! A service that honours its shutdown signal and then waits for a handler
//! that does not: the handler is the one `cancel-ignored` names, once; the
//! service waiting for it is not reported as a second culprit.
#![cfg(cancelsim)]

use std::time::Duration;

use cancelsim::{Check, Report, ViolationCode};
use cancelsim_tokio::sync::watch;

async fn handler(deaf: bool, mut shutdown: watch::Receiver<bool>) {
    for _ in 0..50 {
        if deaf {
            cancelsim_tokio::time::sleep(Duration::from_millis(100)).await;
        } else {
            cancelsim_tokio::select! {
                _ = shutdown.changed() => return,
                _ = cancelsim_tokio::time::sleep(Duration::from_millis(100)) => {}
            }
        }
    }
}

async fn service(deaf: bool, joinset: bool, mut shutdown: watch::Receiver<bool>) {
    if joinset {
        let mut set = cancelsim_tokio::task::JoinSet::new();
        set.spawn(handler(deaf, shutdown.clone()));
        let _ = shutdown.changed().await;
        while set.join_next().await.is_some() {}
    } else {
        let worker = cancelsim_tokio::spawn(handler(deaf, shutdown.clone()));
        let _ = shutdown.changed().await;
        let _ = worker.await;
    }
}

async fn shutdown_test(deaf: bool, joinset: bool) {
    let (stop, shutdown) = watch::channel(false);
    let stop = std::rc::Rc::new(stop);
    cancelsim_tokio::cancelsim::register_signal({
        let stop = std::rc::Rc::clone(&stop);
        move || {
            let _ = stop.send(true);
        }
    });
    let server = cancelsim_tokio::spawn(service(deaf, joinset, shutdown));
    cancelsim_tokio::time::sleep(Duration::from_millis(250)).await;
    let _ = stop.send(true);
    server.await.unwrap();
}

fn sweep(deaf: bool, joinset: bool) -> Report {
    Check::new(move || shutdown_test(deaf, joinset))
        .tokio_preset()
        .seeds(0..2)
        .run()
}

fn ignored_tasks(report: &Report) -> Vec<String> {
    let mut names: Vec<String> = report
        .failures()
        .iter()
        .flat_map(|failure| failure.violations())
        .filter(|violation| violation.kind() == ViolationCode::CancelIgnored)
        .map(|violation| violation.task_name().unwrap_or("?").to_string())
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn only_the_deaf_handler_is_reported_not_the_service_awaiting_it() {
    for joinset in [false, true] {
        let report = sweep(true, joinset);
        let names = ignored_tasks(&report);
        println!("{report}");
        assert_eq!(names.len(), 1, "joinset={joinset}: {names:?}\n{report}");
        assert!(names[0].contains("deaf_child.rs:"), "{names:?}");
    }
}

#[test]
fn the_listening_handler_is_clean() {
    for joinset in [false, true] {
        sweep(false, joinset).assert_clean();
    }
}

/// A deaf worker that waits in two places — on a channel (a wait
/// cancelsim cannot locate) and on a `sleep` — is one bug wherever the
/// signal finds it: one `cancel-ignored` group, titled by the task, not
/// one per wait (one of them titled `at ?`).
async fn two_waits_deaf() {
    let (stop, _shutdown) = watch::channel(false);
    cancelsim_tokio::cancelsim::register_signal(move || {
        let _ = stop.send(true);
    });
    let (tx, mut rx) = cancelsim_tokio::sync::mpsc::channel::<u32>(1);
    let worker = cancelsim_tokio::spawn(async move {
        while let Some(job) = rx.recv().await {
            cancelsim_tokio::time::sleep(Duration::from_millis(u64::from(job))).await;
        }
    });
    // Jobs longer than the grace time: the grace ends in a job (`on
    // sleep`) or, after the last, on the channel.
    for _ in 0..3 {
        tx.send(1500).await.unwrap();
    }
    cancelsim_tokio::time::sleep(Duration::from_secs(10)).await;
    drop(tx);
    worker.await.unwrap();
}

#[test]
fn a_deaf_task_is_one_group_wherever_the_signal_finds_it() {
    let report = Check::new(two_waits_deaf).tokio_preset().run();
    let text = report.to_string();
    let titles: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("cancel-ignored in "))
        .collect();
    assert_eq!(titles.len(), 1, "{text}");
    assert!(
        titles[0].starts_with("cancel-ignored in tests/deaf_child.rs:"),
        "{text}"
    );
    assert!(!titles[0].contains(" at "), "{text}");
    // Its runs found it waiting at both places.
    let waits: Vec<String> = report
        .failures()
        .iter()
        .flat_map(|f| f.violations())
        .filter(|v| v.kind() == ViolationCode::CancelIgnored)
        .map(|v| v.to_string())
        .collect();
    assert!(waits.iter().any(|w| w.contains("on sleep")), "{waits:?}");
    assert!(waits.iter().any(|w| !w.contains("on sleep")), "{waits:?}");
}
