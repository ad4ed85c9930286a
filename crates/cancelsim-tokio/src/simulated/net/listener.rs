//! `TcpListener`: bound to an address of the simulation's network; each
//! connection made to it waits in its backlog until `accept` takes it.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::panic::Location;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use ::cancelsim::trace::{IoWait, Wait, WaitKind};

use super::addr::{first_that, ToSocketAddrs};
use super::network;
use super::stream::TcpStream;
use crate::simulated::io::call_site;

/// The connections made to a listener and not yet accepted.
#[derive(Default)]
pub(crate) struct Backlog {
    state: Mutex<BacklogState>,
}

#[derive(Default)]
struct BacklogState {
    waiting: VecDeque<(TcpStream, SocketAddr)>,
    /// The task that polled `poll_accept` last (tokio's `poll_accept`
    /// wakes only the most recent caller).
    acceptor: Option<Waker>,
    /// The `accept()` futures waiting, by their number, in the order
    /// they came: a connection wakes them all, as tokio's readiness does;
    /// one takes it, the others wait again. A future dropped while it
    /// waits takes its waker out.
    accepting: Vec<(u64, Waker)>,
    /// The next `accept()` future's number.
    next_accept: u64,
    /// The listener was dropped: no more connections.
    closed: bool,
}

impl Backlog {
    fn state(&self) -> MutexGuard<'_, BacklogState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues a connection's server end (`peer`: its client's address);
    /// `false` when the listener is gone (the connection is refused).
    pub(crate) fn offer(&self, server_end: TcpStream, peer: SocketAddr) -> bool {
        let mut state = self.state();
        if state.closed {
            return false;
        }
        state.waiting.push_back((server_end, peer));
        let mut wake: Vec<Waker> = std::mem::take(&mut state.accepting)
            .into_iter()
            .map(|(_, waker)| waker)
            .collect();
        wake.extend(state.acceptor.take());
        drop(state);
        for waker in wake {
            waker.wake();
        }
        true
    }
}

/// A TCP socket server, listening for connections (tokio's
/// `net::TcpListener`), on the simulation's network: a connection made to
/// its address by [`TcpStream::connect`] in the same simulation waits
/// until [`accept`](TcpListener::accept) takes it. A task waiting there
/// waits on a `tcp accept` at that call. Dropping the listener refuses
/// new connections and resets the ones not accepted (their clients read
/// `ConnectionReset`, as on Linux).
pub struct TcpListener {
    addr: SocketAddr,
    backlog: Arc<Backlog>,
    at: &'static Location<'static>,
    ttl: std::sync::atomic::AtomicU32,
}

impl TcpListener {
    /// Binds to `addr` (tokio's `bind`): port 0 takes a free port
    /// (from 49152 on, the same in every run), a port another listener of
    /// the simulation holds is `AddrInUse`.
    #[track_caller]
    pub fn bind<A: ToSocketAddrs>(addr: A) -> impl Future<Output = io::Result<TcpListener>> {
        let at = Location::caller();
        async move {
            crate::task::require_runtime();
            let backlog = Arc::new(Backlog::default());
            let addr = first_that(&addr, |addr| network::bind(addr, &backlog))?;
            Ok(TcpListener {
                addr,
                backlog,
                at,
                ttl: std::sync::atomic::AtomicU32::new(64),
            })
        }
    }

    /// Accepts a connection (tokio's `accept`): its stream and its
    /// client's address, waiting for one to be made.
    #[track_caller]
    pub fn accept(&self) -> impl Future<Output = io::Result<(TcpStream, SocketAddr)>> + '_ {
        let at = Location::caller();
        let number = {
            let mut state = self.backlog.state();
            state.next_accept += 1;
            state.next_accept
        };
        Accept {
            listener: self,
            number,
            at,
        }
    }

    /// Polls to accept a connection (tokio's `poll_accept`): only the task
    /// that polled last is woken when one comes, as in tokio.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        self.poll_accept_waiting(cx, None)
    }

    /// Takes a waiting connection, or registers the task: as `accept()`
    /// future number `queued`, or in `poll_accept`'s one slot.
    fn poll_accept_waiting(
        &self,
        cx: &mut Context<'_>,
        queued: Option<u64>,
    ) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let at = call_site::current().unwrap_or(self.at);
        let mut state = self.backlog.state();
        if let Some((mut stream, peer)) = state.waiting.pop_front() {
            stream.accepted_at(at);
            return Poll::Ready(Ok((stream, peer)));
        }
        if let Some(number) = queued {
            match state.accepting.iter_mut().find(|(n, _)| *n == number) {
                Some((_, waker)) => waker.clone_from(cx.waker()),
                None => state.accepting.push((number, cx.waker().clone())),
            }
        } else {
            match &mut state.acceptor {
                Some(waker) => waker.clone_from(cx.waker()),
                None => state.acceptor = Some(cx.waker().clone()),
            }
        }
        ::cancelsim::note_wait(Wait {
            kind: WaitKind::Io(IoWait::TcpAccept),
            at: Some(at),
        });
        Poll::Pending
    }

    /// The address it is bound to (with the port taken for port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.addr)
    }

    /// The IP time-to-live set for its connections (kept, no effect).
    pub fn ttl(&self) -> io::Result<u32> {
        Ok(self.ttl.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Sets the IP time-to-live (kept, no effect in the simulation).
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.ttl.store(ttl, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}

/// An `accept()` in progress: its waker, while it waits, is among the
/// listener's `accepting`, and goes with it when it is dropped (a
/// `select!` that took another branch, a timeout).
struct Accept<'a> {
    listener: &'a TcpListener,
    number: u64,
    at: &'static Location<'static>,
}

impl Future for Accept<'_> {
    type Output = io::Result<(TcpStream, SocketAddr)>;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let (listener, number) = (self.listener, self.number);
        call_site::polled_at(self.at, || listener.poll_accept_waiting(cx, Some(number)))
    }
}

impl Drop for Accept<'_> {
    fn drop(&mut self) {
        self.listener
            .backlog
            .state()
            .accepting
            .retain(|(number, _)| *number != self.number);
    }
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        network::unbind(self.addr, &self.backlog);
        let waiting = {
            let mut state = self.backlog.state();
            state.closed = true;
            std::mem::take(&mut state.waiting)
        };
        // Outside the lock: the streams' drops wake their clients.
        drop(waiting);
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}
