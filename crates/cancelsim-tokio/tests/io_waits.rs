//! A task waiting on a simulated stream waits on a `duplex read` (`duplex
//! write`, `simplex read`, `simplex write`) at the user's call that
//! waited — `read_exact`, `read_line` over a `BufReader` on a split half,
//! `write_all` into a full pipe, `copy` — not where the stream was made:
//! in traces and in the await point a report names. A frame reader that
//! loses half a frame when a `select!` drops it is reported at its read;
//! its cancel-safe twin passes. (Only with `--cfg cancelsim`.)
#![cfg(cancelsim)]

use std::time::Duration;

use cancelsim::{Check, Config, SchedulerKind, Sim, ViolationCode};
use cancelsim_tokio::io::{
    AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader, DuplexStream,
};
use cancelsim_tokio::time::sleep;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// `tests/io_waits.rs:LINE:` of the marked line.
fn at(marker: &str) -> String {
    let line = include_str!("io_waits.rs")
        .lines()
        .position(|l| l.ends_with(&format!("// marker: {marker}")))
        .expect("marked line");
    format!("tests/io_waits.rs:{}:", line + 1)
}

fn line_with<'a>(trace: &'a str, words: &[&str]) -> &'a str {
    trace
        .lines()
        .find(|line| words.iter().all(|word| line.contains(word)))
        .unwrap_or_else(|| panic!("no line with {words:?} in\n{trace}"))
}

// ----- frames read in a `select!` ---------------------------------------------

const FRAMES: [&[u8]; 2] = [b"ping", b"pong"];

/// Writes each frame as a slow client does: its length byte, a pause, its
/// bytes; then closes the stream.
async fn client(mut stream: DuplexStream) {
    for frame in FRAMES {
        stream.write_all(&[frame.len() as u8]).await.unwrap();
        sleep(ms(2)).await;
        stream.write_all(frame).await.unwrap();
    }
}

/// One frame with two `read_exact`s: not cancel-safe (a length read and
/// then dropped is lost).
async fn read_frame(reader: &mut DuplexStream) -> Option<Vec<u8>> {
    let mut len = [0u8; 1];
    reader.read_exact(&mut len).await.ok()?; // marker: read length
    let mut frame = vec![0u8; usize::from(len[0])];
    reader.read_exact(&mut frame).await.ok()?; // marker: read frame
    Some(frame)
}

/// A whole frame from the front of `buffer`, if there is one.
fn take_frame(buffer: &mut Vec<u8>) -> Option<Vec<u8>> {
    let len = usize::from(*buffer.first()?);
    if buffer.len() < 1 + len {
        return None;
    }
    let frame = buffer[1..1 + len].to_vec();
    buffer.drain(..1 + len);
    Some(frame)
}

/// Reads frames beside a quiet-line timer that never fires in a normal
/// run; the tokio preset expires it at every await point of the read.
async fn server(buggy: bool) {
    let (client_end, mut server_end) = cancelsim_tokio::io::duplex(64);
    let writer = cancelsim_tokio::spawn(client(client_end));
    let mut frames = Vec::new();
    let mut buffer = Vec::new();
    loop {
        if buggy {
            cancelsim_tokio::select! {
                frame = read_frame(&mut server_end) => match frame {
                    Some(frame) => frames.push(frame),
                    None => break,
                },
                _ = sleep(Duration::from_secs(1)) => {}
            }
        } else {
            cancelsim_tokio::select! {
                read = server_end.read_buf(&mut buffer) => {
                    if read.unwrap() == 0 {
                        break;
                    }
                    while let Some(frame) = take_frame(&mut buffer) {
                        frames.push(frame);
                    }
                }
                _ = sleep(Duration::from_secs(1)) => {}
            }
        }
    }
    writer.await.unwrap();
    assert_eq!(frames, FRAMES, "a frame was lost");
}

#[test]
fn a_frame_lost_by_a_select_is_reported_at_the_read() {
    let report = Check::new(|| server(true)).tokio_preset().run();
    assert!(!report.is_clean(), "{report}");
    let failure = &report.failures()[0];
    let violation = &failure.violations()[0];
    assert_eq!(violation.kind(), ViolationCode::Panic, "{report}");
    assert_eq!(violation.task_name(), Some("main"), "{report}");
    assert!(violation.message().contains("a frame was lost"), "{report}");
    // The await point: main waiting for the frame's bytes, at that read.
    let text = report.to_string();
    line_with(
        &text,
        &[
            "first found at main#0 await point",
            "on duplex read (",
            &at("read frame"),
        ],
    );
    // Where the stream was made is no wait of anyone's.
    assert!(
        !text.contains("a channel, lock, Notify or other future"),
        "{text}"
    );
}

#[test]
fn the_cancel_safe_frame_reader_passes() {
    let report = Check::new(|| server(false)).tokio_preset().run();
    report.assert_clean();
    assert!(report.counts().runs > 1, "{report}");
}

// ----- lines read through tokio's own `Lines` in a `select!` -----------------

/// A line server over tokio's `Lines` (whose `next_line` the facade cannot
/// wrap): the reads are named at the `select!` branch that polls them, not
/// where the stream was made. The buggy twin reads a pair of lines in one
/// branch future, and loses the first when the timer drops it.
async fn line_server(buggy: bool) {
    let (mut client_end, server_end) = cancelsim_tokio::io::duplex(64);
    let writer = cancelsim_tokio::spawn(async move {
        for line in ["a\n", "b\n", "c\n", "d\n"] {
            client_end.write_all(line.as_bytes()).await.unwrap();
            sleep(ms(2)).await;
        }
    });
    let mut lines = BufReader::new(server_end).lines();
    let mut got = Vec::new();
    loop {
        if buggy {
            cancelsim_tokio::select! {
                pair = async { (lines.next_line().await, lines.next_line().await) } => { // marker: pair branch
                    match pair {
                        (Ok(Some(first)), Ok(Some(second))) => got.extend([first, second]),
                        _ => break,
                    }
                }
                _ = sleep(Duration::from_secs(1)) => {}
            }
        } else {
            cancelsim_tokio::select! {
                line = lines.next_line() => match line.unwrap() { // marker: next_line branch
                    Some(line) => got.push(line),
                    None => break,
                },
                _ = sleep(Duration::from_secs(1)) => {}
            }
        }
    }
    writer.await.unwrap();
    assert_eq!(got, ["a", "b", "c", "d"], "a line was lost");
}

#[test]
fn a_read_through_tokios_lines_is_named_at_its_select_branch() {
    let mut sim = Sim::new(Config::default());
    sim.block_on(line_server(false)).unwrap();
    let trace = sim.trace().to_string();
    line_with(
        &trace,
        &[
            "suspend at await point",
            "on duplex read (",
            &at("next_line branch"),
        ],
    );
    assert!(
        !trace.contains("a channel, lock, Notify or other future"),
        "{trace}"
    );
}

#[test]
fn a_line_lost_by_a_select_is_reported_at_its_branch() {
    let report = Check::new(|| line_server(true)).tokio_preset().run();
    assert!(!report.is_clean(), "{report}");
    let violation = &report.failures()[0].violations()[0];
    assert_eq!(violation.kind(), ViolationCode::Panic, "{report}");
    assert!(violation.message().contains("a line was lost"), "{report}");
    let text = report.to_string();
    line_with(
        &text,
        &[
            "first found at main#0 await point",
            "on duplex read (",
            &at("pair branch"),
        ],
    );
}

#[test]
fn the_line_server_reading_one_line_per_branch_passes() {
    let report = Check::new(|| line_server(false)).tokio_preset().run();
    report.assert_clean();
    assert!(report.counts().per_kind["timeout"] > 0, "{report}");
}

/// The same read under a `timeout` (the client of a request/response
/// protocol): named at the `timeout` call that polls it.
#[test]
fn a_read_through_tokios_lines_is_named_at_its_timeout() {
    let mut sim = Sim::new(Config::default());
    sim.block_on(async {
        let (mut client_end, server_end) = cancelsim_tokio::io::duplex(64);
        let writer = cancelsim_tokio::spawn(async move {
            sleep(ms(5)).await;
            client_end.write_all(b"answer\n").await.unwrap();
        });
        let mut lines = BufReader::new(server_end).lines();
        let answer = cancelsim_tokio::time::timeout(Duration::from_secs(1), lines.next_line()) // marker: timeout next_line
            .await;
        assert_eq!(answer.unwrap().unwrap().as_deref(), Some("answer"));
        writer.await.unwrap();
    })
    .unwrap();
    let trace = sim.trace().to_string();
    line_with(
        &trace,
        &[
            "main#0",
            "suspend at await point",
            "on duplex read (",
            &at("timeout next_line"),
        ],
    );
}

// ----- every simulated wait, at its call --------------------------------------

async fn every_wait() {
    // A split half under a `BufReader`: the line's read.
    let (client_end, server_end) = cancelsim_tokio::io::duplex(4);
    let (server_read, _server_write) = cancelsim_tokio::io::split(server_end);
    let reader = cancelsim_tokio::spawn(async move {
        let mut lines = BufReader::new(server_read);
        let mut line = String::new();
        lines.read_line(&mut line).await.unwrap(); // marker: read_line
        line
    });
    // A write into a full pipe: waits until the reader takes bytes out.
    let mut client_end = client_end;
    client_end.write_all(b"0123456789\n").await.unwrap(); // marker: write_all
    assert_eq!(reader.await.unwrap(), "0123456789\n");

    // A simplex pipe, and `copy` out of it.
    let (mut simplex_read, mut simplex_write) = cancelsim_tokio::io::simplex(4);
    let (mut sink_end, mut far_end) = cancelsim_tokio::io::duplex(64);
    let copier = cancelsim_tokio::spawn(async move {
        cancelsim_tokio::io::copy(&mut simplex_read, &mut sink_end) // marker: copy
            .await
            .unwrap()
    });
    simplex_write.write_all(b"abcdefgh").await.unwrap(); // marker: simplex write
    simplex_write.shutdown().await.unwrap();
    assert_eq!(copier.await.unwrap(), 8);
    let mut copied = [0u8; 8];
    far_end.read_exact(&mut copied).await.unwrap();
    assert_eq!(&copied, b"abcdefgh");
}

fn trace(config: Config) -> String {
    let mut sim = Sim::new(config);
    sim.block_on(every_wait()).unwrap();
    sim.trace().to_string()
}

#[test]
fn each_stream_wait_is_named_at_the_call_that_waited() {
    let trace = trace(Config::default());
    let suspended = |kind: &str, marker: &str| {
        line_with(
            &trace,
            &[
                "suspend at await point",
                &format!("on {kind} ("),
                &at(marker),
            ],
        );
    };
    suspended("duplex read", "read_line");
    suspended("duplex write", "write_all");
    suspended("simplex read", "copy");
    suspended("simplex write", "simplex write");
    assert!(
        !trace.contains("a channel, lock, Notify or other future"),
        "{trace}"
    );
    for line in trace.lines() {
        assert!(!line.contains("simulated/"), "{line}");
    }
}

#[test]
fn a_delivery_delay_is_waited_on_as_the_read() {
    // Under random schedules, chunks arrive late: the task waits on the
    // read, not on a sleep in the facade or at the stream's making.
    let mut delayed = false;
    for seed in 0..16 {
        let trace = trace(
            Config::default()
                .seed(seed)
                .scheduler(SchedulerKind::Random),
        );
        delayed |= trace
            .lines()
            .any(|line| line.contains("choice") && !line.contains("choice 0 of 4"));
        assert!(!trace.contains("on sleep"), "{trace}");
        assert!(
            !trace.contains("a channel, lock, Notify or other future"),
            "{trace}"
        );
    }
    assert!(delayed, "no schedule delayed a chunk");
}

#[test]
fn same_seed_same_trace() {
    for seed in [1, 7] {
        let config = || {
            Config::default()
                .seed(seed)
                .scheduler(SchedulerKind::Random)
        };
        assert_eq!(trace(config()), trace(config()));
    }
}

// ----- drop-in: the facade's futures are tokio's, `Send` as theirs --------

fn assert_send<T: Send>(_: &T) {}

async fn read_generic<R: cancelsim_tokio::io::AsyncRead + Unpin>(reader: &mut R) -> u8 {
    reader.read_u8().await.unwrap_or(0)
}

async fn read_by_the_extension_bound<R>(reader: &mut R) -> u8
where
    R: cancelsim_tokio::io::AsyncReadExt + Unpin + Send,
{
    reader.read_u8().await.unwrap_or(0)
}

#[test]
fn extension_futures_are_send_when_the_stream_is() {
    let (mut a, mut b) = cancelsim_tokio::io::duplex(8);
    assert_send(&a.read_exact(&mut [0u8; 1]));
    assert_send(&b.write_all(b"x"));
    assert_send(&read_generic(&mut a));
    assert_send(&read_by_the_extension_bound(&mut b));
    let mut lines = BufReader::new(a);
    assert_send(&lines.read_line(&mut String::new()));
    assert_send(&cancelsim_tokio::io::copy(&mut lines, &mut b));
}

#[test]
fn each_delivery_choice_says_what_it_delays() {
    // `choice 2 of 4 at ...: 4 bytes written arrive in two pieces, 2 + 2`,
    // then each piece's delay: `the first 2 bytes arrive at once`, `the
    // last 2 bytes arrive after 666.666µs`.
    let (mut split, mut late) = (false, false);
    for seed in 0..16 {
        let trace = trace(
            Config::default()
                .seed(seed)
                .scheduler(SchedulerKind::Random),
        );
        // The pieces of the stream's chunk still to arrive, per site.
        let mut pieces: std::collections::HashMap<&str, Vec<String>> = Default::default();
        for line in trace.lines().filter(|line| line.contains("choice ")) {
            let (site, label) = line
                .split_once(" at ")
                .and_then(|(_, rest)| rest.split_once(": "))
                .unwrap_or_else(|| panic!("a choice without a label: {line}"));
            let expected = pieces.entry(site).or_default();
            let words: Vec<&str> = label.split(' ').collect();
            if label.contains(" bytes written arrive in one piece") {
                *expected = vec![format!("{} bytes arrive", words[0])];
            } else if let Some((_, cut)) = label.split_once(" two pieces, ") {
                let (a, b) = cut.split_once(" + ").expect("a + b");
                let len: usize = words[0].parse().unwrap();
                let (a, b): (usize, usize) = (a.parse().unwrap(), b.parse().unwrap());
                assert_eq!(a + b, len, "{line}");
                let count = |n: usize| match n {
                    1 => "1 byte arrives".to_string(),
                    _ => format!("{n} bytes arrive"),
                };
                *expected = vec![
                    format!("the last {}", count(b)),
                    format!("the first {}", count(a)),
                ];
                split = true;
            } else {
                // A piece's delay: the next piece of the chunk cut above.
                let piece = expected.pop().unwrap_or_else(|| panic!("{line}"));
                assert!(
                    label == format!("{piece} at once")
                        || label.starts_with(&format!("{piece} after ")),
                    "{line}: expected {piece}"
                );
                late |= label.contains(" after ");
            }
        }
    }
    assert!(split && late, "no schedule split or delayed a chunk");
}
