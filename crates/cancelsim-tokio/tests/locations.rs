//! Every location a trace shows is in the user's code, not in the facade's:
//! where a `JoinSet` is waited on, who aborted its tasks and where (its
//! `abort_all`, its `shutdown`, its drop), where a `tokio::fs` call
//! runs its blocking work, where an `io::duplex` stream's delivery
//! delays are chosen, and where a read on it waits.
#![cfg(cancelsim)]

use std::time::Duration;

use cancelsim::{Config, Sim};
use cancelsim_tokio::task::JoinSet;
use cancelsim_tokio::time::sleep;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

async fn body(path: std::path::PathBuf) {
    let mut set = JoinSet::new();
    set.spawn(sleep(ms(50)));
    set.spawn(sleep(ms(5)));
    let _ = set.join_next().await; // marker: join_next
    cancelsim_tokio::fs::write(&path, b"saved").await.unwrap(); // marker: fs
    let _ = cancelsim_tokio::fs::remove_file(&path).await;
    set.abort_all(); // marker: abort_all
    while set.join_next().await.is_some() {}

    let mut stopped = JoinSet::new();
    stopped.spawn(sleep(ms(50)));
    stopped.shutdown().await; // marker: shutdown

    let mut dropped = JoinSet::new(); // marker: made
    dropped.spawn(sleep(ms(50)));
    cancelsim_tokio::task::yield_now().await;
    drop(dropped);

    use cancelsim_tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let (mut client, mut server) = cancelsim_tokio::io::duplex(64); // marker: duplex
    let reader = cancelsim_tokio::spawn(async move {
        let mut got = [0u8; 4];
        server.read_exact(&mut got).await.unwrap(); // marker: read_exact
    });
    cancelsim_tokio::task::yield_now().await;
    client.write_all(b"ping").await.unwrap();
    reader.await.unwrap();
}

/// `tests/locations.rs:LINE:` of the marked line.
fn at(marker: &str) -> String {
    let line = include_str!("locations.rs")
        .lines()
        .position(|l| l.ends_with(&format!("// marker: {marker}")))
        .expect("marked line");
    format!("tests/locations.rs:{}:", line + 1)
}

fn trace() -> String {
    let path = std::env::temp_dir().join(format!("cancelsim-locations-{}", std::process::id()));
    let mut sim = Sim::new(Config::default());
    sim.block_on(body(path)).unwrap();
    sim.trace().to_string()
}

fn line_with<'a>(trace: &'a str, words: &[&str]) -> &'a str {
    trace
        .lines()
        .find(|line| words.iter().all(|word| line.contains(word)))
        .unwrap_or_else(|| panic!("no line with {words:?} in\n{trace}"))
}

#[test]
fn a_joinset_and_fs_calls_show_the_users_locations() {
    let trace = trace();
    // The wait in `join_next`: a join, at the call.
    line_with(
        &trace,
        &[
            "main#0",
            "suspend at await point 1 on join tests/locations.rs:20#1",
            &at("join_next"),
        ],
    );
    // The fs call: its blocking task is spawned there, named by what it
    // does, and waited on there by that name.
    let fs = at("fs");
    line_with(&trace, &["main#0", "spawn fs::write#", &fs]);
    line_with(
        &trace,
        &[
            "main#0",
            "suspend at await point",
            "on join fs::write#",
            &fs,
        ],
    );
    line_with(&trace, &["main#0", "on join fs::remove_file#"]);
    // Aborts: by `abort_all`, by `shutdown`, by dropping the set (where it
    // was made: the drop has no call site).
    for marker in ["abort_all", "shutdown", "made"] {
        line_with(&trace, &["aborted by main#0 at", &at(marker)]);
    }
    // A stream's delivery delay: chosen where the stream was made.
    line_with(
        &trace,
        &[
            "choice 0 of 4 at",
            &at("duplex"),
            "4 bytes written arrive in one piece",
        ],
    );
    // A read waiting for the other end: a duplex read, at the read.
    line_with(
        &trace,
        &["suspend at await point 1 on duplex read", &at("read_exact")],
    );
    // Nothing points into the facade.
    for line in trace.lines() {
        assert!(!line.contains("simulated/"), "{line}");
    }
}

#[test]
fn same_seed_same_trace() {
    assert_eq!(trace(), trace());
}
