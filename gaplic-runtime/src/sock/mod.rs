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
//! - memory is bounded: an output buffer never holds nor allocates more
//!   than `tx_limit` bytes (1 MiB by default), and a send that would pass
//!   it (a peer that does not read) disconnects the socket, with a trace;
//!   an output buffer that drains gives back what it allocated past
//!   [`GSock::KEPT_BUFFER_CAPACITY`];
//! - input is paced by output: a socket reads at most
//!   [`GSock::READS_AHEAD`] reads ahead of its subscribers' handling of
//!   them, and no more than its output buffer has room for (counting what
//!   it read ahead as answers on their way), so a peer that writes faster
//!   than the gaplic or its own reader keeps up is slowed down by TCP, not
//!   queued in memory, and an echo never passes `tx_limit`;
//! - sizes are checked before anything is allocated: an attr that sizes a
//!   buffer or a timeout out of its documented range makes the creation
//!   fail with [`ErrorKind::BadAttr`](crate::ErrorKind::BadAttr) and a [`KwError::OutOfRange`] that
//!   names the key, the value and the range;
//! - the defaults are safe: a server's connections are closed after
//!   [`GServerSock::DEFAULT_IDLE_TIMEOUT`] seconds of silence, so silent
//!   peers cannot hold its connection slots for ever (a socket that dials
//!   has no idle timeout unless given one: its silence is its protocol's
//!   business);
//! - a listener that cannot accept (out of descriptors or memory) tries
//!   again every `accept_retry_delay` seconds until it can: connections
//!   waiting in its backlog are not left there until another one arrives;
//! - every failure (refused, reset, closed by the peer, timed out) ends in
//!   an event that says why;
//! - a warning that repeats (sends refused after a disconnect, full output
//!   buffers, connections refused at the limit, accepts that fail) is
//!   traced the first time,
//!   then at most once per [`WARNING_INTERVAL`] (10 s) per socket, each line
//!   saying how many were left out; the count left out at the end of a
//!   run of them (the socket closes, or accepts again) is traced too.
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
use std::time::{Duration, Instant};

use mio::event::Source;
use mio::{Interest, Registry, Token};

use crate::error::ErrorKind;
use crate::error::GobjError;

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
pub(crate) fn seconds(value: f64) -> Option<Duration> {
    (value > 0.0)
        .then(|| Duration::try_from_secs_f64(value).ok())
        .flatten()
}

/// How often a warning that repeats is traced, at most, per socket and
/// kind of warning.
pub(crate) const WARNING_INTERVAL: Duration = Duration::from_secs(10);

/// One kind of warning of one socket, which may repeat: the first is
/// traced, then at most one per [`WARNING_INTERVAL`]; the others are only
/// counted, and the count goes with the next line traced.
#[derive(Debug, Default)]
pub(crate) struct Repeated {
    last: Option<Instant>,
    left_out: u64,
}

/// `"{count} {one}"` or `"{count} {many}"`, for a count in a message.
pub(crate) fn count_of(count: u64, one: &str, many: &str) -> String {
    if count == 1 {
        format!("{count} {one}")
    } else {
        format!("{count} {many}")
    }
}

impl Repeated {
    /// `Some(left_out)` when this occurrence is to be traced, with how many
    /// were left out since the last one traced; `None` when it is only
    /// counted.
    pub(crate) fn admit(&mut self, now: Instant) -> Option<u64> {
        match self.last {
            Some(last) if now.saturating_duration_since(last) < WARNING_INTERVAL => {
                self.left_out += 1;
                None
            }
            _ => {
                self.last = Some(now);
                Some(std::mem::take(&mut self.left_out))
            }
        }
    }

    /// How many were left out since the last one traced; the count starts
    /// again from 0.
    pub(crate) fn take_left_out(&mut self) -> u64 {
        std::mem::take(&mut self.left_out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_warning_is_admitted_once_per_interval_with_the_count_left_out() {
        let start = Instant::now();
        let mut repeated = Repeated::default();
        assert_eq!(repeated.admit(start), Some(0));
        for i in 1..=5 {
            assert_eq!(repeated.admit(start + Duration::from_millis(i)), None);
        }
        assert_eq!(repeated.admit(start + WARNING_INTERVAL), Some(5));
        assert_eq!(repeated.admit(start + WARNING_INTERVAL), None);
        assert_eq!(repeated.take_left_out(), 1);
        assert_eq!(repeated.take_left_out(), 0);
    }

    /// The longest timeout or delay the socket gclasses take, in seconds
    /// (one year): longer is a mistake in the configuration, not a wish.
    /// The attrs' `range` rules spell it out.
    const MAX_SECONDS: f64 = 365.0 * 24.0 * 3600.0;

    #[test]
    fn the_attr_ranges_spell_out_the_limits() {
        use crate::machine::Gclass;
        // Digits grouped with `_` read as the plain number; a path keeps its
        // own underscores.
        let number = |text: &str| {
            let mut plain = String::new();
            for c in text.chars() {
                if c != '_' || !plain.ends_with(|last: char| last.is_ascii_digit()) {
                    plain.push(c);
                }
            }
            plain
        };
        for meta in [GSock::META, GServerSock::META, GConnex::META] {
            for attr in meta.attrs() {
                let expected = match attr.name() {
                    "tx_limit" => format!("range 1..={}", GSock::MAX_TX_LIMIT),
                    "rx_size" => format!("range 1..={}", GSock::MAX_RX_SIZE),
                    "connect_timeout" | "idle_timeout" => {
                        format!("range 0.0..={MAX_SECONDS:.1}")
                    }
                    "reconnect_delay" | "max_reconnect_delay" | "accept_retry_delay" => {
                        format!("range f64::MIN_POSITIVE..={MAX_SECONDS:.1}")
                    }
                    "max_connections" => "range 1..".to_owned(),
                    _ => continue,
                };
                assert_eq!(
                    number(attr.rules()),
                    expected,
                    "{}.{}",
                    meta.name(),
                    attr.name()
                );
            }
        }
    }
}
