//! Addresses inside the simulation: tokio's `ToSocketAddrs` (the same
//! implementors), resolved without a resolver. An IP address is itself,
//! `localhost` is `127.0.0.1`; any other host name is an error that says
//! what to do, as the simulation has no DNS.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// What `bind`, `connect` and `lookup_host` take (tokio's
/// `net::ToSocketAddrs`, with the same implementors): a `SocketAddr`, an
/// `(ip, port)` pair, a `"host:port"` string. Sealed, as tokio's.
pub trait ToSocketAddrs: sealed::Resolve {}

pub(crate) mod sealed {
    use std::io;
    use std::net::SocketAddr;

    /// Resolves to the addresses to try, in order.
    pub trait Resolve {
        /// The addresses, or why there are none.
        fn resolve(&self) -> io::Result<Vec<SocketAddr>>;
    }
}

use sealed::Resolve;

macro_rules! to_socket_addrs {
    ($($ty:ty => |$value:ident| $resolve:expr;)*) => {$(
        impl ToSocketAddrs for $ty {}

        impl Resolve for $ty {
            fn resolve(&self) -> io::Result<Vec<SocketAddr>> {
                let $value = self;
                $resolve
            }
        }
    )*};
}

to_socket_addrs! {
    SocketAddr => |addr| Ok(vec![*addr]);
    SocketAddrV4 => |addr| Ok(vec![SocketAddr::V4(*addr)]);
    SocketAddrV6 => |addr| Ok(vec![SocketAddr::V6(*addr)]);
    (IpAddr, u16) => |pair| Ok(vec![SocketAddr::new(pair.0, pair.1)]);
    (Ipv4Addr, u16) => |pair| Ok(vec![SocketAddr::new(IpAddr::V4(pair.0), pair.1)]);
    (Ipv6Addr, u16) => |pair| Ok(vec![SocketAddr::new(IpAddr::V6(pair.0), pair.1)]);
    (&str, u16) => |pair| host(pair.0, pair.1);
    (String, u16) => |pair| host(&pair.0, pair.1);
    str => |text| host_port(text);
    String => |text| host_port(text);
    [SocketAddr] => |addrs| Ok(addrs.to_vec());
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}

impl<T: ToSocketAddrs + ?Sized> Resolve for &T {
    fn resolve(&self) -> io::Result<Vec<SocketAddr>> {
        (**self).resolve()
    }
}

/// `"127.0.0.1:80"`, `"[::1]:80"`, `"localhost:80"`.
fn host_port(text: &str) -> io::Result<Vec<SocketAddr>> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(vec![addr]);
    }
    let Some((name, port)) = text.rsplit_once(':') else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "invalid socket address",
        ));
    };
    let port: u16 = port
        .parse()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "invalid port value"))?;
    host(name, port)
}

/// A host and a port: an IP address, or `localhost`.
fn host(name: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    if let Ok(ip) = name
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    if name.eq_ignore_ascii_case("localhost") {
        return Ok(vec![SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port)]);
    }
    Err(io::Error::other(format!(
        "cannot resolve `{name}`: the simulated network (cancelsim-tokio) has no DNS; \
         it knows IP addresses and `localhost`. Bind the service under test to \
         `127.0.0.1:0` and give its clients the address `local_addr()` reports"
    )))
}

/// Resolves `addr` as tokio's `bind` and `connect` do: the first address
/// that `attempt` accepts, or the last error.
pub(super) fn first_that<A, T>(
    addr: &A,
    mut attempt: impl FnMut(SocketAddr) -> io::Result<T>,
) -> io::Result<T>
where
    A: ToSocketAddrs + ?Sized,
{
    let mut last = None;
    for addr in addr.resolve()? {
        match attempt(addr) {
            Ok(done) => return Ok(done),
            Err(error) => last = Some(error),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any address",
        )
    }))
}

/// tokio's `net::lookup_host`: the addresses `host` resolves to in the
/// simulation (an IP address is itself, `localhost` is `127.0.0.1`).
pub async fn lookup_host<T: ToSocketAddrs>(
    host: T,
) -> io::Result<impl Iterator<Item = SocketAddr>> {
    Ok(host.resolve()?.into_iter())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_resolve_as_tokio_resolves_them_without_dns() {
        let v4: SocketAddr = "127.0.0.1:80".parse().unwrap();
        assert_eq!("127.0.0.1:80".resolve().unwrap(), [v4]);
        assert_eq!("localhost:80".resolve().unwrap(), [v4]);
        assert_eq!(("localhost", 80).resolve().unwrap(), [v4]);
        assert_eq!((Ipv4Addr::LOCALHOST, 80).resolve().unwrap(), [v4]);
        let v6: SocketAddr = "[::1]:80".parse().unwrap();
        assert_eq!("[::1]:80".resolve().unwrap(), [v6]);
        assert_eq!(String::from("[::1]:80").resolve().unwrap(), [v6]);
        let error = "db.internal:5432".resolve().unwrap_err();
        assert!(error.to_string().contains("`db.internal`"), "{error}");
        assert!(error.to_string().contains("local_addr()"), "{error}");
        assert_eq!(
            "127.0.0.1".resolve().unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
    }
}
