//! Sockets as gobjs: [`GSock`] (one connection), [`GServerSock`] (a
//! listener that makes a `GSock` child per connection) and [`GConnex`] (a
//! client that reconnects).
//!
//! This is the only module that touches `mio::net`. Its contract:
//! - sockets are registered with the gaplic's own poll, edge triggered; a
//!   readiness reaches the owning gobj as its `EV_IO` event, and the gobj
//!   reads and writes until `WouldBlock`;
//! - no byte is lost: a partial write keeps the rest in the output buffer,
//!   written when the socket is writable again; data given to a socket that
//!   cannot take it is refused with an error, never dropped silently;
//! - memory is bounded: an output buffer past its cap (a peer that does not
//!   read) disconnects the socket, with a trace;
//! - every failure (refused, reset, closed by the peer, timed out) ends in
//!   an event that says why.
//!
//! Addresses are `host:port` for TCP (`127.0.0.1:7000`, `localhost:7000`,
//! `[::1]:7000`) and `unix:PATH` for Unix domain sockets.

mod connex;
mod gsock;
mod server;

pub use connex::{GConnex, GConnexEvent, GConnexState};
pub use gsock::{GSock, GSockEvent, GSockState};
pub use server::{GServerSock, GServerSockEvent, GServerSockState};

use std::io::{self, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

use mio::event::Source;
use mio::{Interest, Registry, Token};

use crate::GobjError;
use crate::error::ErrorKind;

/// A parsed socket address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Address {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

impl Address {
    /// Parses `host:port` (resolving a host name) or `unix:PATH`.
    pub(crate) fn parse(text: &str) -> Result<Address, GobjError> {
        let bad = |reason: &str| {
            GobjError::from(ErrorKind::BadAddress {
                address: text.to_owned(),
                reason: reason.to_owned(),
            })
        };
        if let Some(path) = text.strip_prefix("unix:") {
            if path.is_empty() {
                return Err(bad("`unix:` needs a path"));
            }
            return Ok(Address::Unix(PathBuf::from(path)));
        }
        if text.is_empty() {
            return Err(bad("it is empty"));
        }
        let mut found = text
            .to_socket_addrs()
            .map_err(|e| bad(&format!("expected `host:port` or `unix:PATH` ({e})")))?;
        found
            .next()
            .map(Address::Tcp)
            .ok_or_else(|| bad("the host name resolves to no address"))
    }
}

/// A connected stream, TCP or Unix.
#[derive(Debug)]
pub(crate) enum Stream {
    Tcp(mio::net::TcpStream),
    Unix(mio::net::UnixStream),
}

impl Stream {
    /// Starts a nonblocking connect; completion shows as writability.
    pub(crate) fn connect(address: &Address) -> io::Result<Stream> {
        match address {
            Address::Tcp(addr) => {
                let stream = mio::net::TcpStream::connect(*addr)?;
                Ok(Stream::Tcp(stream))
            }
            Address::Unix(path) => Ok(Stream::Unix(mio::net::UnixStream::connect(path)?)),
        }
    }

    /// The peer, once connected; `Err(NotConnected)` while connecting.
    pub(crate) fn peer(&self) -> io::Result<String> {
        match self {
            Stream::Tcp(s) => s.peer_addr().map(|a| a.to_string()),
            Stream::Unix(s) => s.peer_addr().map(|a| describe_unix(&a)),
        }
    }

    pub(crate) fn local(&self) -> String {
        match self {
            Stream::Tcp(s) => s.local_addr().map(|a| a.to_string()),
            Stream::Unix(s) => s.local_addr().map(|a| describe_unix(&a)),
        }
        .unwrap_or_default()
    }

    /// A connect that failed reports its error here.
    pub(crate) fn take_error(&self) -> io::Result<Option<io::Error>> {
        match self {
            Stream::Tcp(s) => s.take_error(),
            Stream::Unix(s) => s.take_error(),
        }
    }

    pub(crate) fn set_nodelay(&self) {
        if let Stream::Tcp(s) = self {
            // Small messages go out at once; failing to set it only costs
            // latency.
            let _ = s.set_nodelay(true);
        }
    }
}

fn describe_unix(addr: &std::os::unix::net::SocketAddr) -> String {
    addr.as_pathname().map_or_else(
        || "unix:(unnamed)".to_owned(),
        |p| format!("unix:{}", p.display()),
    )
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Source for Stream {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.register(registry, token, interests),
            Stream::Unix(s) => s.register(registry, token, interests),
        }
    }
    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.reregister(registry, token, interests),
            Stream::Unix(s) => s.reregister(registry, token, interests),
        }
    }
    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.deregister(registry),
            Stream::Unix(s) => s.deregister(registry),
        }
    }
}

/// A listening socket, TCP or Unix.
#[derive(Debug)]
pub(crate) enum Listener {
    Tcp(mio::net::TcpListener),
    Unix(mio::net::UnixListener, PathBuf),
}

impl Listener {
    pub(crate) fn bind(address: &Address) -> io::Result<Listener> {
        match address {
            Address::Tcp(addr) => Ok(Listener::Tcp(mio::net::TcpListener::bind(*addr)?)),
            Address::Unix(path) => Ok(Listener::Unix(
                mio::net::UnixListener::bind(path)?,
                path.clone(),
            )),
        }
    }

    /// The next connection and its peer's address.
    pub(crate) fn accept(&self) -> io::Result<(Stream, String)> {
        match self {
            Listener::Tcp(l) => l.accept().map(|(s, a)| (Stream::Tcp(s), a.to_string())),
            Listener::Unix(l, _) => l
                .accept()
                .map(|(s, a)| (Stream::Unix(s), describe_unix(&a))),
        }
    }

    /// The address it listens on (with the port the system chose for 0).
    pub(crate) fn local(&self) -> String {
        match self {
            Listener::Tcp(l) => l.local_addr().map(|a| a.to_string()).unwrap_or_default(),
            Listener::Unix(_, path) => format!("unix:{}", path.display()),
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Listener::Unix(_, path) = self {
            // The socket file is ours; a failure leaves a stale file only.
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Source for Listener {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        match self {
            Listener::Tcp(l) => l.register(registry, token, interests),
            Listener::Unix(l, _) => l.register(registry, token, interests),
        }
    }
    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        match self {
            Listener::Tcp(l) => l.reregister(registry, token, interests),
            Listener::Unix(l, _) => l.reregister(registry, token, interests),
        }
    }
    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        match self {
            Listener::Tcp(l) => l.deregister(registry),
            Listener::Unix(l, _) => l.deregister(registry),
        }
    }
}

/// Seconds as a `Duration`, for the socket gclasses' attrs; `None` for zero
/// or less (off).
pub(crate) fn seconds(value: f64) -> Option<std::time::Duration> {
    (value > 0.0)
        .then(|| std::time::Duration::try_from_secs_f64(value).ok())
        .flatten()
}
