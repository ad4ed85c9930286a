//! `net` against real tokio: the same programs on real loopback sockets
//! (tokio's paused current-thread runtime) and on the simulated network
//! must log the same — an echo over `TcpListener`/`TcpStream` with
//! `split` and `into_split`, the addresses each end reports, a refused
//! connection, a port in use, the end of the stream when a peer goes,
//! `reunite`. (See `compat.rs` for the harness.)
#![cfg(cancelsim)]

use std::sync::Arc;

#[macro_use]
mod common;
use common::*;

#[test]
fn an_echo_over_tcp_agrees_with_tokio() {
    let (real, sim) = both!(|rt, log, start| async move {
        use rt::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
        let listener = rt::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        note!(
            log,
            start,
            "bound to a port of its own: {}",
            addr.port() != 0
        );
        let server = rt::spawn(async move {
            let (mut stream, peer) = listener.accept().await.unwrap();
            let same_peer = stream.peer_addr().unwrap() == peer;
            let (read, mut write) = stream.split();
            let mut lines = BufReader::new(read).lines();
            let mut count = 0;
            while let Some(line) = lines.next_line().await.unwrap() {
                write
                    .write_all(line.to_uppercase().as_bytes())
                    .await
                    .unwrap();
                write.write_all(b"\n").await.unwrap();
                count += 1;
            }
            (count, same_peer, peer)
        });
        let mut client = rt::net::TcpStream::connect(addr).await.unwrap();
        note!(
            log,
            start,
            "client's peer is the listener: {}",
            client.peer_addr().unwrap() == addr
        );
        note!(
            log,
            start,
            "client's ip: {}",
            client.local_addr().unwrap().ip()
        );
        client.set_nodelay(true).unwrap();
        note!(log, start, "nodelay: {}", client.nodelay().unwrap());
        client.write_all(b"hello\nworld\n").await.unwrap();
        client.shutdown().await.unwrap();
        let mut echo = String::new();
        client.read_to_string(&mut echo).await.unwrap();
        note!(log, start, "echo {echo:?}");
        let (count, same_peer, peer) = server.await.unwrap();
        note!(
            log,
            start,
            "server saw {count} lines; peer_addr = accept's: {same_peer}"
        );
        note!(
            log,
            start,
            "server's peer is the client: {}",
            peer == client.local_addr().unwrap()
        );
    });
    assert_eq!(real, sim);
    assert_eq!(
        sim,
        log_of(&[
            (0, "bound to a port of its own: true"),
            (0, "client's peer is the listener: true"),
            (0, "client's ip: 127.0.0.1"),
            (0, "nodelay: true"),
            (0, "echo \"HELLO\\nWORLD\\n\""),
            (0, "server saw 2 lines; peer_addr = accept's: true"),
            (0, "server's peer is the client: true"),
        ])
    );
}

#[test]
fn refused_connections_ports_in_use_and_names_agree_with_tokio() {
    let (real, sim) = both!(|rt, log, start| async move {
        let listener = rt::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let again = rt::net::TcpListener::bind(addr).await.map(|_| ());
        note!(log, start, "bind again: {:?}", again.map_err(|e| e.kind()));
        let by_name = rt::net::TcpStream::connect(("localhost", addr.port())).await;
        note!(
            log,
            start,
            "connect to localhost: {:?}",
            by_name.map(|_| ()).map_err(|e| e.kind())
        );
        let found: Vec<_> = rt::net::lookup_host(format!("127.0.0.1:{}", addr.port()))
            .await
            .unwrap()
            .collect();
        note!(log, start, "lookup_host of an ip: {}", found == [addr]);
        drop(listener);
        let refused = rt::net::TcpStream::connect(addr).await.map(|_| ());
        note!(
            log,
            start,
            "connect after the listener went: {:?}",
            refused.map_err(|e| e.kind())
        );
        let bad = rt::net::TcpStream::connect("127.0.0.1").await.map(|_| ());
        note!(log, start, "no port: {:?}", bad.map_err(|e| e.kind()));
    });
    assert_eq!(real, sim);
    assert_eq!(
        sim,
        log_of(&[
            (0, "bind again: Err(AddrInUse)"),
            (0, "connect to localhost: Ok(())"),
            (0, "lookup_host of an ip: true"),
            (0, "connect after the listener went: Err(ConnectionRefused)"),
            (0, "no port: Err(InvalidInput)"),
        ])
    );
}

#[test]
fn owned_halves_a_gone_peer_and_reunite_agree_with_tokio() {
    let (real, sim) = both!(|rt, log, start| async move {
        use rt::io::{AsyncReadExt, AsyncWriteExt};
        let listener = rt::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = rt::net::TcpStream::connect(addr).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        // The client's writing half goes: the server reads the end.
        let (mut client_read, client_write) = client.into_split();
        let (mut server_read, mut server_write) = server.into_split();
        let writer = rt::spawn(async move {
            let mut write = client_write;
            write.write_all(b"last words").await.unwrap();
            drop(write);
        });
        let mut got = String::new();
        server_read.read_to_string(&mut got).await.unwrap();
        writer.await.unwrap();
        note!(log, start, "server read {got:?} then the end");
        // The server still writes to the client's reading half.
        server_write.write_all(b"bye").await.unwrap();
        server_write.shutdown().await.unwrap();
        let mut back = String::new();
        client_read.read_to_string(&mut back).await.unwrap();
        note!(log, start, "client read {back:?}");
        // Halves of one stream reunite; of two, they come back.
        let other = rt::net::TcpStream::connect(addr).await.unwrap();
        let (_other_read, other_write) = other.into_split();
        let mismatched = server_read.reunite(other_write);
        note!(
            log,
            start,
            "halves of two streams reunite: {}",
            mismatched.is_ok()
        );
        let (server_read, _other_write) = match mismatched {
            Err(rt::net::tcp::ReuniteError(read, write)) => (read, write),
            Ok(_) => unreachable!(),
        };
        let whole = server_read.reunite(server_write);
        note!(
            log,
            start,
            "halves of one stream reunite: {}",
            whole.is_ok()
        );
        // A client that goes: the server reads the end.
        let (mut server, _) = listener.accept().await.unwrap();
        drop(_other_read);
        drop(_other_write);
        let mut rest = Vec::new();
        let n = server.read_to_end(&mut rest).await.unwrap();
        note!(log, start, "after the client went: read {n} bytes");
    });
    assert_eq!(real, sim);
    assert_eq!(
        sim,
        log_of(&[
            (0, "server read \"last words\" then the end"),
            (0, "client read \"bye\""),
            (0, "halves of two streams reunite: false"),
            (0, "halves of one stream reunite: true"),
            (0, "after the client went: read 0 bytes"),
        ])
    );
}

#[test]
fn two_tasks_accepting_on_one_listener_both_get_connections_as_in_tokio() {
    let (real, sim) = both!(|rt, log, start| async move {
        use rt::io::AsyncReadExt;
        let listener = Arc::new(rt::net::TcpListener::bind("127.0.0.1:0").await.unwrap());
        let addr = listener.local_addr().unwrap();
        // Two workers accept from one listener; each waits in `accept()`
        // before any connection comes.
        let (done, mut finished) = rt::sync::mpsc::unbounded_channel();
        for _ in 0..2 {
            let listener = Arc::clone(&listener);
            let done = done.clone();
            rt::spawn(async move {
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut byte = [0u8; 1];
                stream.read_exact(&mut byte).await.unwrap();
                done.send(byte[0]).unwrap();
            });
        }
        rt::task::yield_now().await;
        let mut clients = Vec::new();
        for byte in [1u8, 2] {
            let mut client = rt::net::TcpStream::connect(addr).await.unwrap();
            rt::io::AsyncWriteExt::write_all(&mut client, &[byte])
                .await
                .unwrap();
            clients.push(client);
        }
        let mut got = vec![
            finished.recv().await.unwrap(),
            finished.recv().await.unwrap(),
        ];
        got.sort();
        note!(log, start, "served {got:?}");
    });
    assert_eq!(real, sim);
    assert_eq!(sim, log_of(&[(0, "served [1, 2]")]));
}

#[test]
fn options_outlive_split_and_reunite_as_in_tokio() {
    let (real, sim) = both!(|rt, log, start| async move {
        let listener = rt::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = rt::net::TcpStream::connect(addr).await.unwrap();
        client.set_nodelay(true).unwrap();
        client.set_ttl(33).unwrap();
        let (read, write) = client.into_split();
        let client = read.reunite(write).unwrap();
        note!(
            log,
            start,
            "nodelay {} ttl {}",
            client.nodelay().unwrap(),
            client.ttl().unwrap()
        );
    });
    assert_eq!(real, sim);
    assert_eq!(sim, log_of(&[(0, "nodelay true ttl 33")]));
}

/// The panic of a future run outside any runtime, as text.
fn outside_a_runtime<F: std::future::Future>(future: F) -> String {
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        futures::executor::block_on(future)
    }))
    .err()
    .expect("panics outside a runtime");
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn bind_and_connect_outside_a_runtime_panic_as_in_tokio() {
    let addr = "127.0.0.1:9";
    for panic in [
        outside_a_runtime(tokio::net::TcpListener::bind("127.0.0.1:0")),
        outside_a_runtime(cancelsim_tokio::net::TcpListener::bind("127.0.0.1:0")),
        outside_a_runtime(tokio::net::TcpStream::connect(addr)),
        outside_a_runtime(cancelsim_tokio::net::TcpStream::connect(addr)),
    ] {
        assert!(panic.contains("there is no reactor running"), "{panic}");
    }
}

/// What a peer that goes away leaves, as Linux's loopback does: a reset
/// when it closed with bytes unread or was never accepted (reads: what
/// reached the reader, then `ConnectionReset`, then the end; writes:
/// `BrokenPipe`), the end of the stream when it closed with nothing
/// unread (the first write after still goes out, the next fails).
#[test]
fn a_peer_that_goes_away_resets_or_ends_the_stream_as_on_linux() {
    let (real, sim) = both!(|rt, log, start| async move {
        use rt::io::{AsyncReadExt, AsyncWriteExt};
        let mut buf = [0u8; 8];

        // A listener dropped with a connection it never accepted.
        let listener = rt::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = rt::net::TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        drop(listener);
        rt::task::yield_now().await;
        note!(
            log,
            start,
            "unaccepted: read {}",
            outcome(client.read(&mut buf).await)
        );
        note!(
            log,
            start,
            "unaccepted: write {}",
            outcome(client.write(b"x").await)
        );

        // A server that closes with the client's bytes unread.
        let listener = rt::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = rt::net::TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        server.write_all(b"hello").await.unwrap();
        client.write_all(b"abc").await.unwrap();
        let mut one = [0u8; 1];
        server.read_exact(&mut one).await.unwrap();
        drop(server);
        rt::task::yield_now().await;
        note!(
            log,
            start,
            "unread: read {}",
            outcome(client.read(&mut buf).await)
        );
        note!(
            log,
            start,
            "unread: read {}",
            outcome(client.read(&mut buf).await)
        );
        note!(
            log,
            start,
            "unread: read {}",
            outcome(client.read(&mut buf).await)
        );
        note!(
            log,
            start,
            "unread: write {}",
            outcome(client.write(b"x").await)
        );

        // A server that closes with nothing unread.
        let listener = rt::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = rt::net::TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        server.write_all(b"bye").await.unwrap();
        drop(server);
        rt::task::yield_now().await;
        note!(
            log,
            start,
            "closed: read {}",
            outcome(client.read(&mut buf).await)
        );
        note!(
            log,
            start,
            "closed: read {}",
            outcome(client.read(&mut buf).await)
        );
        note!(
            log,
            start,
            "closed: write {}",
            outcome(client.write(b"x").await)
        );
        rt::task::yield_now().await;
        note!(
            log,
            start,
            "closed: write {}",
            outcome(client.write(b"y").await)
        );
        note!(
            log,
            start,
            "closed: read {}",
            outcome(client.read(&mut buf).await)
        );
    });
    assert_eq!(real, sim);
    assert_eq!(
        sim,
        log_of(&[
            (0, "unaccepted: read ConnectionReset"),
            (0, "unaccepted: write BrokenPipe"),
            (0, "unread: read Ok(5)"),
            (0, "unread: read ConnectionReset"),
            (0, "unread: read Ok(0)"),
            (0, "unread: write BrokenPipe"),
            (0, "closed: read Ok(3)"),
            (0, "closed: read Ok(0)"),
            (0, "closed: write Ok(1)"),
            (0, "closed: write BrokenPipe"),
            (0, "closed: read Ok(0)"),
        ])
    );
}

/// The orderings Linux gives a reset and a shutdown (after the review):
/// a write that comes first after a reset gets it (`ConnectionReset`),
/// later writes `BrokenPipe` and reads the end; a peer that shut its
/// writing down before it closed with bytes unread leaves the end of the
/// stream to read; an end's own write after its shutdown fails at once.
#[test]
fn resets_and_shutdowns_in_the_orders_linux_gives_them() {
    let (real, sim) = both!(|rt, log, start| async move {
        use rt::io::{AsyncReadExt, AsyncWriteExt};
        let mut buf = [0u8; 8];
        let pair = || async {
            let listener = rt::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let client = rt::net::TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let (server, _) = listener.accept().await.unwrap();
            (client, server)
        };

        // Reset, then the client writes first.
        let (mut client, server) = pair().await;
        client.write_all(b"abc").await.unwrap();
        rt::task::yield_now().await;
        drop(server);
        rt::task::yield_now().await;
        note!(
            log,
            start,
            "reset: write {}",
            outcome(client.write(b"x").await)
        );
        note!(
            log,
            start,
            "reset: write {}",
            outcome(client.write(b"x").await)
        );
        note!(
            log,
            start,
            "reset: read {}",
            outcome(client.read(&mut buf).await)
        );

        // The server shuts its writing down, then closes with bytes unread.
        let (mut client, mut server) = pair().await;
        client.write_all(b"abc").await.unwrap();
        server.shutdown().await.unwrap();
        rt::task::yield_now().await;
        drop(server);
        rt::task::yield_now().await;
        note!(
            log,
            start,
            "shut then reset: read {}",
            outcome(client.read(&mut buf).await)
        );
        note!(
            log,
            start,
            "shut then reset: write {}",
            outcome(client.write(b"x").await)
        );

        // The client's own write after its shutdown.
        let (mut client, _server) = pair().await;
        client.shutdown().await.unwrap();
        note!(
            log,
            start,
            "own shutdown: write {}",
            outcome(client.write(b"x").await)
        );
    });
    assert_eq!(real, sim);
    assert_eq!(
        sim,
        log_of(&[
            (0, "reset: write ConnectionReset"),
            (0, "reset: write BrokenPipe"),
            (0, "reset: read Ok(0)"),
            (0, "shut then reset: read Ok(0)"),
            (0, "shut then reset: write BrokenPipe"),
            (0, "own shutdown: write BrokenPipe"),
        ])
    );
}

/// A read's or write's outcome as the TCP tests log it: `Ok(n)` or the
/// error's kind.
fn outcome(result: std::io::Result<usize>) -> String {
    match result {
        Ok(n) => format!("Ok({n})"),
        Err(error) => format!("{:?}", error.kind()),
    }
}
