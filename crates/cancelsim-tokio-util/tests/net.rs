//! `tokio_util::net::Listener`, simulated: a server generic over the
//! trait accepts from the facade's simulated `TcpListener` as tokio-util's
//! does from real tokio's (the logs must agree), and its `accept()` wait
//! is named at the generic code's call. (Only with `--cfg cancelsim`.)
#![cfg(cancelsim)]

use std::sync::Arc;

#[macro_use]
mod common;
use common::Log;

/// `tests/net.rs:LINE:` of the marked line.
fn at(marker: &str) -> String {
    let line = include_str!("net.rs")
        .lines()
        .position(|l| l.ends_with(&format!("// marker: {marker}")))
        .expect("marked line");
    format!("tests/net.rs:{}:", line + 1)
}

/// A generic echo server over the simulated crates: accepts `clients`
/// connections through `Listener::accept` and echoes one line from each.
mod generic {
    use cancelsim_tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
    use cancelsim_tokio_util::net::Listener;

    pub async fn serve<L: Listener>(mut listener: L, clients: usize) -> Vec<String>
    where
        L::Io: Unpin,
    {
        let mut lines = Vec::new();
        for _ in 0..clients {
            let (io, _) = listener.accept().await.unwrap(); // marker: accept
            let mut io = BufReader::new(io);
            let mut line = String::new();
            io.read_line(&mut line).await.unwrap();
            io.get_mut().write_all(line.as_bytes()).await.unwrap();
            lines.push(line.trim_end().to_string());
        }
        lines
    }
}

/// The same server over real tokio and tokio-util.
mod real {
    use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
    use tokio_util::net::Listener;

    pub async fn serve<L: Listener>(mut listener: L, clients: usize) -> Vec<String>
    where
        L::Io: Unpin,
    {
        let mut lines = Vec::new();
        for _ in 0..clients {
            let (io, _) = listener.accept().await.unwrap();
            let mut io = BufReader::new(io);
            let mut line = String::new();
            io.read_line(&mut line).await.unwrap();
            io.get_mut().write_all(line.as_bytes()).await.unwrap();
            lines.push(line.trim_end().to_string());
        }
        lines
    }
}

macro_rules! echo_program {
    ($rt:ident, $log:ident, $start:ident, $serve:path) => {
        async move {
            use $rt::io::{AsyncReadExt as _, AsyncWriteExt as _};
            let listener = $rt::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            note!($log, $start, "local port is nonzero: {}", addr.port() != 0);
            let server = $rt::spawn($serve(listener, 2));
            for name in ["first", "second"] {
                let mut stream = $rt::net::TcpStream::connect(addr).await.unwrap();
                stream
                    .write_all(format!("{name}\n").as_bytes())
                    .await
                    .unwrap();
                let mut echoed = vec![0; name.len() + 1];
                stream.read_exact(&mut echoed).await.unwrap();
                note!(
                    $log,
                    $start,
                    "echoed {}",
                    String::from_utf8_lossy(&echoed).trim_end()
                );
            }
            note!($log, $start, "served {:?}", server.await.unwrap());
        }
    };
}

#[test]
fn a_server_generic_over_listener_accepts_as_tokio_utils() {
    let real: Log = Arc::default();
    {
        let log = Arc::clone(&real);
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async move {
                let start = tokio::time::Instant::now();
                echo_program!(tokio, log, start, real::serve).await
            });
    }
    let sim: Log = Arc::default();
    {
        let log = Arc::clone(&sim);
        cancelsim_tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async move {
                let start = cancelsim_tokio::time::Instant::now();
                echo_program!(cancelsim_tokio, log, start, generic::serve).await
            });
    }
    // Real loopback takes real time: compare the events alone.
    let events =
        |log: &Log| -> Vec<String> { log.lock().unwrap().iter().map(|(_, e)| e.clone()).collect() };
    assert_eq!(events(&real), events(&sim));
    assert_eq!(
        events(&sim),
        [
            "local port is nonzero: true",
            "echoed first",
            "echoed second",
            "served [\"first\", \"second\"]",
        ]
    );
}

#[test]
fn the_generic_accept_wait_is_named_at_its_call() {
    let mut sim = cancelsim::Sim::new(cancelsim::Config::default());
    sim.block_on(async {
        let listener = cancelsim_tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let server = cancelsim_tokio::spawn(generic::serve(listener, 1));
        cancelsim_tokio::task::yield_now().await;
        let mut stream = cancelsim_tokio::net::TcpStream::connect(addr)
            .await
            .unwrap();
        cancelsim_tokio::io::AsyncWriteExt::write_all(&mut stream, b"hi\n")
            .await
            .unwrap();
        server.await.unwrap()
    })
    .unwrap();
    let trace = sim.trace().to_string();
    assert!(
        trace
            .lines()
            .any(|line| line.contains("on tcp accept (") && line.contains(&at("accept"))),
        "{trace}"
    );
}
