//! The simulated network in sweeps: a TCP frame server whose `select!`
//! loses half a frame is found at its read (`tcp read` at the line), its
//! cancel-safe twin passes; waits in `accept` and `connect` are named at
//! their calls; every run has a network of its own (a fixed port binds in
//! every run of a sweep, port 0 hands out the same port in each); the
//! delivery delays are recorded, so a seed replays its trace and two
//! seeds deliver differently. (Only with `--cfg cancelsim`.)
#![cfg(cancelsim)]

use std::time::Duration;

use cancelsim::{Check, Config, SchedulerKind, Sim, ViolationCode};
use cancelsim_tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use cancelsim_tokio::net::{TcpListener, TcpStream};
use cancelsim_tokio::time::sleep;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// `tests/net.rs:LINE:` of the marked line.
fn at(marker: &str) -> String {
    let line = include_str!("net.rs")
        .lines()
        .position(|l| l.ends_with(&format!("// marker: {marker}")))
        .expect("marked line");
    format!("tests/net.rs:{}:", line + 1)
}

fn line_with<'a>(text: &'a str, words: &[&str]) -> &'a str {
    text.lines()
        .find(|line| words.iter().all(|word| line.contains(word)))
        .unwrap_or_else(|| panic!("no line with {words:?} in\n{text}"))
}

const FRAMES: [&[u8]; 3] = [b"ping", b"pong", b"done"];

/// A client that writes each frame as a slow peer does: its length byte,
/// a pause, its bytes.
async fn client(addr: std::net::SocketAddr) {
    let mut stream = TcpStream::connect(addr).await.unwrap(); // marker: connect
    for frame in FRAMES {
        stream.write_all(&[frame.len() as u8]).await.unwrap();
        sleep(ms(2)).await;
        stream.write_all(frame).await.unwrap();
    }
}

/// One frame with two `read_exact`s: not cancel-safe.
async fn read_frame(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut len = [0u8; 1];
    stream.read_exact(&mut len).await.ok()?;
    let mut frame = vec![0u8; usize::from(len[0])];
    stream.read_exact(&mut frame).await.ok()?; // marker: read frame
    Some(frame)
}

/// Serves one connection on port `port` (0: any), reading frames beside a
/// heartbeat timer that never fires in a normal run.
async fn server(port: u16, buggy: bool) {
    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let writer = cancelsim_tokio::spawn(client(addr));
    let (mut stream, _) = listener.accept().await.unwrap(); // marker: accept
    let mut frames = Vec::new();
    let mut buffer = Vec::new();
    loop {
        if buggy {
            cancelsim_tokio::select! {
                frame = read_frame(&mut stream) => match frame {
                    Some(frame) => frames.push(frame),
                    None => break,
                },
                _ = sleep(Duration::from_secs(1)) => {}
            }
        } else {
            cancelsim_tokio::select! {
                read = stream.read_buf(&mut buffer) => {
                    if read.unwrap() == 0 {
                        break;
                    }
                    while let Some(len) = buffer.first().map(|len| usize::from(*len)) {
                        if buffer.len() < 1 + len {
                            break;
                        }
                        frames.push(buffer[1..1 + len].to_vec());
                        buffer.drain(..1 + len);
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
fn a_frame_lost_by_a_select_on_a_tcp_stream_is_reported_at_the_read() {
    let report = Check::new(|| server(0, true)).tokio_preset().run();
    assert!(!report.is_clean(), "{report}");
    let violation = &report.failures()[0].violations()[0];
    assert_eq!(violation.kind(), ViolationCode::Panic, "{report}");
    assert!(violation.message().contains("a frame was lost"), "{report}");
    let text = report.to_string();
    line_with(
        &text,
        &[
            "first found at main#0 await point",
            "on tcp read (",
            &at("read frame"),
        ],
    );
}

#[test]
fn the_cancel_safe_tcp_frame_server_passes_on_a_fixed_port_in_every_run() {
    // Port 7000 binds in every run: each has a network of its own.
    let report = Check::new(|| server(7000, false)).tokio_preset().run();
    report.assert_clean();
    assert!(report.counts().runs > 10, "{report}");
}

#[test]
fn accept_and_connect_waits_are_named_at_their_calls() {
    let mut sim = Sim::new(Config::default());
    sim.block_on(server(0, false)).unwrap();
    let trace = sim.trace().to_string();
    line_with(
        &trace,
        &["suspend at await point", "on tcp accept (", &at("accept")],
    );
    line_with(
        &trace,
        &["suspend at await point", "on tcp connect (", &at("connect")],
    );
    assert!(
        !trace.contains("a channel, lock, Notify or other future"),
        "{trace}"
    );
}

/// The ports a run's listeners got for port 0, and what a second binding
/// of the first one said.
async fn ports() -> (Vec<u16>, std::io::ErrorKind) {
    let a = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let b = TcpListener::bind("0.0.0.0:0").await.unwrap();
    let clash = TcpListener::bind(("0.0.0.0", a.local_addr().unwrap().port()))
        .await
        .unwrap_err()
        .kind();
    (
        vec![
            a.local_addr().unwrap().port(),
            b.local_addr().unwrap().port(),
        ],
        clash,
    )
}

#[test]
fn every_simulation_starts_with_an_empty_network() {
    for _ in 0..2 {
        let mut sim = Sim::new(Config::default());
        let (ports, clash) = sim.block_on(ports()).unwrap();
        assert_eq!(ports, [49152, 49153]);
        assert_eq!(clash, std::io::ErrorKind::AddrInUse);
    }
}

fn traced(seed: u64) -> String {
    let mut sim = Sim::new(
        Config::default()
            .seed(seed)
            .scheduler(SchedulerKind::Random),
    );
    sim.block_on(server(0, false)).unwrap();
    sim.trace().to_string()
}

#[test]
fn same_seed_same_trace_and_seeds_deliver_differently() {
    assert_eq!(traced(3), traced(3));
    let deliveries = |trace: &str| -> Vec<String> {
        trace
            .lines()
            .filter(|line| line.contains("arrive"))
            .map(|line| line.split_once("arrive").unwrap().1.to_string())
            .collect()
    };
    let first = deliveries(&traced(3));
    assert!(!first.is_empty(), "no delivery recorded");
    assert!(
        (4..12).any(|seed| deliveries(&traced(seed)) != first),
        "every seed delivered the same way"
    );
}

/// mini-redis's `send_error_publish_after_subscribe` in shape (trial 20):
/// the test reads the server's one-line reply with one `read` and checks
/// it whole. TCP may deliver a write in pieces: under random schedules the
/// reply arrives in two, and the report says that is what failed. Its
/// twin reads the line until it is whole.
async fn reply_read_in_one_call(whole: bool) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = cancelsim_tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut request = [0u8; 5];
        stream.read_exact(&mut request).await.unwrap();
        stream
            .write_all(b"-ERR unknown command 'publish'\r\n")
            .await
            .unwrap();
    });
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(b"PING\n").await.unwrap();
    let mut reply = [0u8; 32];
    let n = if whole {
        stream.read_exact(&mut reply).await.unwrap()
    } else {
        stream.read(&mut reply).await.unwrap()
    };
    assert_eq!(&reply[..n], b"-ERR unknown command 'publish'\r\n");
    server.await.unwrap();
}

#[test]
fn a_reply_read_in_one_call_is_found_and_the_split_delivery_named() {
    let report = Check::new(|| reply_read_in_one_call(false))
        .tokio_preset()
        .run();
    assert!(!report.is_clean(), "{report}");
    let violation = &report.failures()[0].violations()[0];
    assert_eq!(violation.kind(), ViolationCode::Panic, "{report}");
    assert!(
        violation
            .hint()
            .contains("a read in it returned only part of what its peer wrote in one call"),
        "{report}"
    );
    assert!(
        report.failures()[0]
            .trace()
            .to_string()
            .contains("arrive in two pieces"),
        "{report}"
    );
}

#[test]
fn the_reply_read_until_whole_passes() {
    Check::new(|| reply_read_in_one_call(true))
        .tokio_preset()
        .run()
        .assert_clean();
}

/// mini-redis's subscriber in shape (trial 20): a connection's handler
/// `select!`s between the next 4-byte frame from its client and a message
/// to forward. Its frame read is cancel-safe when what it has read lives
/// in the handler's buffer, not when it lives in the read's own future: a
/// message that wins the race while the frame is half there drops that
/// half. No injection: the schedules alone (a frame delivered in two
/// pieces, the message between them) find it.
async fn frames_beside_messages(cancel_safe: bool) {
    use cancelsim_tokio::sync::mpsc;
    async fn read_frame(
        stream: &mut TcpStream,
        buffer: &mut Vec<u8>,
        cancel_safe: bool,
    ) -> Vec<u8> {
        // Not cancel-safe: what is read lives in the future until the
        // frame is whole (the rest is put back then).
        let mut local = (!cancel_safe).then(|| std::mem::take(&mut *buffer));
        loop {
            let held = match &mut local {
                Some(local) => local,
                None => &mut *buffer,
            };
            if held.len() >= 4 {
                let frame = held.drain(..4).collect();
                if let Some(rest) = local {
                    *buffer = rest;
                }
                return frame;
            }
            let mut chunk = [0u8; 16];
            let n = stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the client went away mid-frame");
            held.extend_from_slice(&chunk[..n]);
        }
    }

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel::<u8>();
    let server = cancelsim_tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut buffer = Vec::new();
        let mut frames = Vec::new();
        let mut forwarded = Vec::new();
        while frames.len() < 2 {
            cancelsim_tokio::select! {
                frame = read_frame(&mut stream, &mut buffer, cancel_safe) => frames.push(frame),
                Some(message) = rx.recv() => forwarded.push(message),
            }
        }
        (frames, forwarded)
    });
    let mut client = TcpStream::connect(addr).await.unwrap();
    client.write_all(b"ping").await.unwrap();
    tx.send(1).unwrap();
    client.write_all(b"pong").await.unwrap();
    let (frames, _) = server.await.unwrap();
    assert_eq!(frames, [b"ping".to_vec(), b"pong".to_vec()]);
}

#[test]
fn a_half_frame_dropped_by_a_select_beside_a_message_is_found_and_explained() {
    let report = Check::new(|| frames_beside_messages(false))
        .tokio_preset()
        .run();
    assert!(!report.is_clean(), "{report}");
    let failure = &report.failures()[0];
    assert!(failure.repro().injections.is_empty(), "{report}");
    let hint = failure.violations()[0].hint();
    assert!(
        hint.contains("the bytes its future had read went with it"),
        "{hint}\n{report}"
    );
    let trace = failure.trace().to_string();
    assert!(trace.contains("arrive in two pieces"), "{trace}");
    assert!(trace.contains("dropped pending branch"), "{trace}");
}

#[test]
fn the_frame_read_into_the_handlers_buffer_passes() {
    Check::new(|| frames_beside_messages(true))
        .tokio_preset()
        .run()
        .assert_clean();
}

/// An `accept()` that lost a `select!` leaves no waker behind: a
/// connection made later does not wake the task, now waiting on
/// something else (it would show as a wake by the connecting task).
#[test]
fn an_accept_dropped_by_a_select_leaves_no_waker_behind() {
    let mut sim = Sim::new(Config::default());
    sim.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        cancelsim_tokio::select! {
            _ = listener.accept() => unreachable!("no client yet"),
            _ = sleep(ms(1)) => {}
        }
        let client = cancelsim_tokio::spawn(async move {
            sleep(ms(5)).await;
            TcpStream::connect(addr).await.unwrap()
        });
        sleep(ms(10)).await;
        let _stream = client.await.unwrap();
        let (_accepted, _) = listener.accept().await.unwrap();
    })
    .unwrap();
    let trace = sim.trace().to_string();
    // Only its timers wake the test.
    assert!(
        !trace.lines().any(|line| line.contains("main#0")
            && line.contains("woken by")
            && !line.contains("woken by timer")),
        "{trace}"
    );
}
