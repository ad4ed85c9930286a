//! The network of one simulation: which addresses its listeners are bound
//! to, and the ports it hands out. Every simulation (every run of a sweep)
//! starts with an empty one, so a run never reaches a listener of another
//! and the ports handed out are the same in every run of a seed.
//!
//! Addresses follow the host's loopback rules: a listener bound to the
//! unspecified address (`0.0.0.0:p`) takes connections to any address of
//! its family on port p, and two listeners cannot share a port unless
//! both are bound to distinct specific addresses.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use super::listener::Backlog;

/// The first port handed out for port 0 (the start of the range Linux
/// and IANA keep for ephemeral ports).
const FIRST_EPHEMERAL: u16 = 49152;

#[derive(Default)]
struct Network {
    simulation: Option<u64>,
    listeners: BTreeMap<SocketAddr, Arc<Backlog>>,
    /// The next port to hand out, minus `FIRST_EPHEMERAL`.
    next_port: u16,
}

thread_local! {
    static NETWORK: RefCell<Network> = RefCell::default();
}

/// Runs `f` on the network of the caller's simulation (a fresh one for a
/// new simulation).
fn with_network<R>(f: impl FnOnce(&mut Network) -> R) -> R {
    let here = ::cancelsim::simulation_id();
    NETWORK.with(|network| {
        let mut network = network.borrow_mut();
        if network.simulation != here {
            *network = Network {
                simulation: here,
                ..Network::default()
            };
        }
        f(&mut network)
    })
}

/// How many ports the ephemeral range holds.
const EPHEMERAL_PORTS: u16 = u16::MAX - FIRST_EPHEMERAL + 1;

impl Network {
    /// The next ephemeral port no listener holds, in turn; `None` when
    /// listeners hold them all.
    fn ephemeral_port(&mut self) -> Option<u16> {
        let held: BTreeSet<u16> = self.listeners.keys().map(SocketAddr::port).collect();
        for _ in 0..EPHEMERAL_PORTS {
            let port = FIRST_EPHEMERAL + self.next_port;
            self.next_port = (self.next_port + 1) % EPHEMERAL_PORTS;
            if !held.contains(&port) {
                return Some(port);
            }
        }
        None
    }

    fn clashes(&self, addr: SocketAddr) -> bool {
        self.listeners.keys().any(|bound| {
            bound.port() == addr.port()
                && bound.is_ipv4() == addr.is_ipv4()
                && (bound.ip() == addr.ip()
                    || bound.ip().is_unspecified()
                    || addr.ip().is_unspecified())
        })
    }
}

/// Binds `backlog` to `addr` (port 0: a free port); the address bound.
pub(super) fn bind(addr: SocketAddr, backlog: &Arc<Backlog>) -> io::Result<SocketAddr> {
    with_network(|network| {
        let mut addr = addr;
        if addr.port() == 0 {
            addr.set_port(network.ephemeral_port().ok_or_else(no_free_port)?);
        } else if network.clashes(addr) {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!("address {addr} already in use (by another listener of this simulation)"),
            ));
        }
        network.listeners.insert(addr, Arc::clone(backlog));
        Ok(addr)
    })
}

/// Unbinds the listener bound to `addr` (if it is still `backlog`).
pub(super) fn unbind(addr: SocketAddr, backlog: &Arc<Backlog>) {
    with_network(|network| {
        if network
            .listeners
            .get(&addr)
            .is_some_and(|bound| Arc::ptr_eq(bound, backlog))
        {
            network.listeners.remove(&addr);
        }
    });
}

/// What binding port 0, or connecting, says when every ephemeral port is
/// held by a listener.
fn no_free_port() -> io::Error {
    io::Error::new(
        io::ErrorKind::AddrInUse,
        "no free port: listeners of this simulation hold every port from 49152 on",
    )
}

/// The listener a connection to `addr` reaches, with the address the
/// connection is made to (the unspecified address is this host's
/// loopback, as a connect to `0.0.0.0` is on Linux), and a fresh port for
/// the connecting end.
pub(super) fn route(addr: SocketAddr) -> io::Result<(Option<Arc<Backlog>>, SocketAddr, u16)> {
    let mut addr = addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(loopback(addr.ip()));
    }
    with_network(|network| {
        let listener = network.listeners.get(&addr).cloned().or_else(|| {
            let any = SocketAddr::new(unspecified(addr.ip()), addr.port());
            network.listeners.get(&any).cloned()
        });
        // (Linux says `EADDRNOTAVAIL` when a connect finds no port.)
        let port = network.ephemeral_port().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::AddrNotAvailable,
                "no free port to connect from: listeners of this simulation hold every port \
                 from 49152 on",
            )
        })?;
        Ok((listener, addr, port))
    })
}

/// The loopback address of `ip`'s family.
pub(super) fn loopback(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
        IpAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
    }
}

fn unspecified(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
        IpAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_handed_out_in_turn_and_run_out_with_an_error() {
        let mut network = Network::default();
        assert_eq!(network.ephemeral_port(), Some(49152));
        assert_eq!(network.ephemeral_port(), Some(49153));
        // Listeners on every port of the range but one.
        for port in FIRST_EPHEMERAL..=u16::MAX {
            if port != 50000 {
                let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
                network.listeners.insert(addr, Arc::default());
            }
        }
        assert_eq!(network.ephemeral_port(), Some(50000));
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 50000));
        network.listeners.insert(addr, Arc::default());
        assert_eq!(network.ephemeral_port(), None);
        assert_eq!(no_free_port().kind(), io::ErrorKind::AddrInUse);
    }
}
