//! I/O and `select!` against real tokio: `split` and `BufReader::read_line`
//! over a duplex pipe, and `select!`'s `else` when every branch is disabled.
//! The same program runs, written once as a macro over the crate it runs
//! on, on tokio's paused current-thread runtime and on the facade (see
//! `compat.rs`); the logs must agree, or differ exactly as documented.
#![cfg(cancelsim)]

use std::sync::Arc;
use std::time::Duration;

#[macro_use]
mod common;
use common::*;

#[test]
fn split_and_buf_reader_read_line_over_duplex_agree_with_tokio() {
    let (real, sim) = both!(|rt, log, start| async move {
        use rt::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
        let (client, server) = rt::io::duplex(64);
        let (mut client_read, mut client_write) = rt::io::split(client);
        let (server_read, mut server_write) = rt::io::split(server);
        let writer = rt::spawn(async move {
            for word in ["hello", "wor", "ld\nbye"] {
                client_write.write_all(word.as_bytes()).await.unwrap();
                rt::time::sleep(Duration::from_millis(5)).await;
            }
            client_write.write_all(b"\n").await.unwrap();
            client_write.shutdown().await.unwrap();
        });
        let mut lines = BufReader::new(server_read);
        let mut line = String::new();
        loop {
            line.clear();
            let n = lines.read_line(&mut line).await.unwrap();
            note!(log, start, "read_line {n} {line:?}");
            if n == 0 {
                break;
            }
            server_write
                .write_all(line.to_uppercase().as_bytes())
                .await
                .unwrap();
        }
        server_write.shutdown().await.unwrap();
        writer.await.unwrap();
        let mut echo = String::new();
        client_read.read_to_string(&mut echo).await.unwrap();
        note!(log, start, "echo {echo:?}");
    });
    assert_eq!(real, sim);
    assert_eq!(
        sim,
        log_of(&[
            (10, "read_line 11 \"helloworld\\n\""),
            (15, "read_line 4 \"bye\\n\""),
            (15, "read_line 0 \"\""),
            (15, "echo \"HELLOWORLD\\nBYE\\n\""),
        ])
    );
}

#[test]
fn select_else_when_all_branches_are_disabled_agrees_with_tokio() {
    let (real, sim) = both!(|rt, log, start| async move {
        let enabled = start.elapsed() > Duration::from_secs(1); // false
        let value = rt::select! {
            _ = {
                note!(log, start, "a disabled branch's future is still built");
                rt::time::sleep(Duration::from_millis(1))
            }, if enabled => 1,
            _ = rt::time::sleep(Duration::from_millis(2)), if enabled => 2,
            else => 0,
        };
        note!(log, start, "all preconditions false: {value}");
        let value = rt::select! {
            Some(v) = async { None::<u8> } => v,
            Ok(v) = async {
                rt::time::sleep(Duration::from_millis(3)).await;
                Err::<u8, ()>(())
            } => v,
            else => 99,
        };
        note!(log, start, "all patterns refuted: {value}");
        let value = rt::select! {
            biased;
            Some(v) = async { None::<u8> } => v,
            _ = rt::time::sleep(Duration::from_millis(1)), if enabled => 1,
            else => 7,
        };
        note!(log, start, "biased, refuted and disabled: {value}");
    });
    assert_eq!(real, sim);
    assert_eq!(
        sim,
        log_of(&[
            (0, "a disabled branch's future is still built"),
            (0, "all preconditions false: 0"),
            (3, "all patterns refuted: 99"),
            (3, "biased, refuted and disabled: 7"),
        ])
    );
}
