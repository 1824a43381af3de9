//! `GSock`: one stream connection as a gobj.

use std::io::{self, Read, Write};
use std::time::Instant;

use gaplic_macros::gobj;
use mio::{Interest, Token};

use super::{Address, Stream, seconds};

use crate::error::ErrorKind;
use crate::{Cx, Event, GobjError, GobjId, Kw, Ret, SubscribeOptions, TimerId, Value, kw};

/// Reads per `EV_IO` before the socket lets other gobjs have a turn.
const READS_PER_TURN: usize = 16;

gobj! {
    /// One TCP or Unix stream connection, as GinsFSM's `GSock`.
    ///
    /// A client sends it `EV_CONNECT { address }`; a [`GServerSock`](crate::GServerSock)
    /// hands it an accepted connection. It publishes `EV_CONNECTED`,
    /// `EV_RX_DATA` (each read, as bytes), `EV_TX_READY` (its output buffer
    /// drained), `EV_DISCONNECTED` (with the reason) and, for a dial that did
    /// not succeed, `EV_CONNECT_FAILED`. `EV_SEND_DATA` writes at once what
    /// the socket takes and buffers the rest; past `tx_limit` buffered bytes
    /// (a peer that does not read) it disconnects. `EV_DROP` closes.
    ///
    /// By default its parent is subscribed to all its events.
    #[gobj(crate = "crate")]
    #[derive(Debug)]
    pub struct GSock {
        /// Most bytes the output buffer may hold.
        #[attr(default = 16_777_216)]
        tx_limit: u64,
        /// Bytes read per system call.
        #[attr(default = 65_536)]
        rx_size: u64,
        /// Seconds a dial may take (0: no limit).
        #[attr(default = 10.0)]
        connect_timeout: f64,
        /// Seconds without traffic before it disconnects (0: never).
        #[attr(default = 0.0)]
        idle_timeout: f64,
        /// Subscribe the parent to all events at start-up.
        #[attr(default = true)]
        subscribe_parent: bool,
        stream: Option<Stream>,
        token: Option<Token>,
        address: String,
        peer: String,
        local: String,
        out: Vec<u8>,
        out_at: usize,
        rx: Vec<u8>,
        peer_closed: bool,
        close_pending: bool,
        timer: Option<TimerId>,
        last_traffic: Option<Instant>,
    }
    events {
        /// Dial `address` (`host:port` or `unix:PATH`).
        EV_CONNECT: input top { address: String },
        /// A server attached an accepted connection.
        EV_ACCEPTED: input bottom,
        /// The socket is ready (from the gaplic's poll).
        EV_IO: input bottom,
        /// Write `data`.
        EV_SEND_DATA: input top { data: Vec<u8> },
        /// Close the connection.
        EV_DROP: input top,
        /// The connect or idle timer expired.
        EV_TIMER: input bottom,
        /// Connected.
        EV_CONNECTED: output top { peername: String, sockname: String },
        /// A dial did not succeed.
        EV_CONNECT_FAILED: output top { address: String, reason: String },
        /// The connection ended.
        EV_DISCONNECTED: output top { reason: String },
        /// Bytes arrived.
        EV_RX_DATA: output top { data: Vec<u8> },
        /// The output buffer drained.
        EV_TX_READY: output top,
    }
    states {
        /// No connection.
        ST_IDLE,
        /// Dialing.
        ST_CONNECTING,
        /// Connected.
        ST_CONNECTED,
    }
    machine {
        ST_IDLE {
            EV_CONNECT => connect,
            EV_ACCEPTED => accepted,
            EV_DROP,
            EV_IO,
            EV_TIMER,
        }
        ST_CONNECTING {
            EV_IO => connecting,
            EV_SEND_DATA => send_data,
            EV_DROP => drop_connection,
            EV_TIMER => connect_timed_out,
        }
        ST_CONNECTED {
            EV_IO => io,
            EV_SEND_DATA => send_data,
            EV_DROP => drop_connection,
            EV_TIMER => idle_check,
            EV_ACCEPTED,
        }
    }
    hooks { start_up, go_out }
}

impl GSock {
    /// The peer's address, once connected.
    pub fn peer(&self) -> &str {
        &self.peer
    }

    /// Bytes written by `EV_SEND_DATA` that the socket has not taken yet.
    pub fn buffered(&self) -> usize {
        self.out.len() - self.out_at
    }

    /// Gives the socket a connection a server accepted and registered.
    pub(crate) fn attach(&mut self, stream: Stream, token: Token, peer: String) {
        self.stream = Some(stream);
        self.token = Some(token);
        self.peer = peer;
    }

    fn start_up(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        if !self.subscribe_parent {
            return Ok(());
        }
        let id = me(cx)?;
        let gaplic = cx.gaplic()?;
        if let Some(parent) = gaplic.parent_of(id) {
            gaplic.subscribe(id, None, parent, SubscribeOptions::new())?;
        }
        Ok(())
    }

    fn go_out(&mut self, cx: &mut Cx<Self>) {
        if cx.state() == GSockState::ST_CONNECTED {
            // Subscribers (a server counting its connections) learn it.
            if let Err(error) = self.disconnect(cx, "destroyed".to_owned()) {
                tracing::warn!(target: "gaplic::sock", %error, "cannot publish the disconnection");
            }
        }
        self.release(cx);
    }

    fn connect(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.address = ev.get("address")?;
        let address = match Address::parse(&self.address) {
            Ok(address) => address,
            Err(error) => return self.dial_failed(cx, error.to_string(), error),
        };
        let mut stream = match Stream::connect(&address) {
            Ok(stream) => stream,
            Err(error) => {
                let error = GobjError::from(ErrorKind::Socket {
                    context: "cannot connect to",
                    address: self.address.clone(),
                    error,
                });
                return self.dial_failed(cx, error.to_string(), error);
            }
        };
        let id = me(cx)?;
        let token = cx.gaplic()?.register_io(
            id,
            &mut stream,
            Interest::READABLE | Interest::WRITABLE,
            GSockEvent::EV_IO,
        )?;
        self.stream = Some(stream);
        self.token = Some(token);
        cx.set_state(GSockState::ST_CONNECTING);
        if let Some(limit) = seconds(self.connect_timeout) {
            self.timer = Some(cx.set_timer(limit, GSockEvent::EV_TIMER, Kw::new())?);
        }
        Ok(Value::Null)
    }

    fn connecting(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        let Some(stream) = &self.stream else {
            return Ok(Value::Null);
        };
        let failure = match stream.take_error() {
            Ok(Some(error)) | Err(error) => Some(error),
            Ok(None) => match stream.peer() {
                Ok(_) => None,
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return Ok(Value::Null),
                Err(e) => Some(e),
            },
        };
        if let Some(error) = failure {
            let error = GobjError::from(ErrorKind::Socket {
                context: "cannot connect to",
                address: self.address.clone(),
                error,
            });
            self.release(cx);
            return self.dial_failed(cx, error.to_string(), error);
        }
        self.cancel_timer(cx);
        self.connected(cx)?;
        self.io(cx, _ev)
    }

    fn connect_timed_out(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.timer = None;
        self.release(cx);
        let reason = format!("connect to `{}` timed out", self.address);
        self.dial_failed(cx, reason.clone(), GobjError::failed(reason))
    }

    /// Publishes the failure of a dial and returns `error` to the sender.
    fn dial_failed(&mut self, cx: &mut Cx<Self>, reason: String, error: GobjError) -> Ret {
        cx.set_state(GSockState::ST_IDLE);
        self.out.clear();
        self.out_at = 0;
        tracing::debug!(target: "gaplic::sock", address = %self.address, %reason, "dial failed");
        let address = self.address.clone();
        cx.broadcast(
            GSockEvent::EV_CONNECT_FAILED,
            kw! { "address" => address, "reason" => reason },
        )?;
        Err(error)
    }

    fn accepted(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.connected(cx)?;
        self.io(cx, ev)
    }

    /// Enters `ST_CONNECTED` and says so.
    fn connected(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        cx.set_state(GSockState::ST_CONNECTED);
        if let Some(stream) = &self.stream {
            stream.set_nodelay();
            // A peer that reset already has no name any more; keep the one
            // accept gave.
            if let Ok(peer) = stream.peer() {
                self.peer = peer;
            }
            self.local = stream.local();
        }
        self.touch(cx)?;
        if let Some(idle) = seconds(self.idle_timeout) {
            self.timer = Some(cx.set_timer(idle, GSockEvent::EV_TIMER, Kw::new())?);
        }
        cx.broadcast(
            GSockEvent::EV_CONNECTED,
            kw! { "peername" => self.peer.clone(), "sockname" => self.local.clone() },
        )
    }

    /// Reads what arrived, then writes what waits.
    fn io(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        let size = usize::try_from(self.rx_size).unwrap_or(65_536).max(1);
        if self.rx.len() != size {
            self.rx.resize(size, 0);
        }
        let mut reads = 0;
        while !self.peer_closed && cx.state() == GSockState::ST_CONNECTED {
            let Some(stream) = self.stream.as_mut() else {
                break;
            };
            match stream.read(&mut self.rx) {
                Ok(0) => self.peer_closed = true,
                Ok(n) => {
                    self.touch(cx)?;
                    let data = self.rx[..n].to_vec();
                    cx.broadcast(GSockEvent::EV_RX_DATA, kw! { "data" => data })?;
                    reads += 1;
                    if reads == READS_PER_TURN {
                        // More may wait: come back after the others' turn.
                        let id = me(cx)?;
                        cx.post(id, GSockEvent::EV_IO, Kw::new())?;
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.disconnect(cx, describe(&e))?;
                    return Ok(Value::Null);
                }
            }
        }
        if cx.state() != GSockState::ST_CONNECTED {
            return Ok(Value::Null);
        }
        if self.peer_closed && !self.close_pending {
            // The peer will send no more, but answers to what it sent may
            // still be on their way (sent or posted by the subscribers):
            // close after them, on the next EV_IO.
            self.close_pending = true;
            let id = me(cx)?;
            cx.post(id, GSockEvent::EV_IO, Kw::new())?;
            return Ok(Value::Null);
        }
        self.flush(cx)?;
        Ok(Value::Null)
    }

    fn send_data(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let data = ev
            .kw()
            .value("data")
            .and_then(Value::as_bytes)
            .unwrap_or_default();
        let mut rest = data;
        if cx.state() == GSockState::ST_CONNECTED && self.buffered() == 0 {
            // Nothing waits: write straight from the event, buffer the rest.
            match self.write_some(rest) {
                Ok(written) => rest = &rest[written..],
                Err(error) => {
                    self.disconnect(cx, describe(&error))?;
                    return Err(GobjError::failed(format!(
                        "cannot send to `{}`: {error}",
                        self.peer
                    )));
                }
            }
            if rest.is_empty() {
                // All written: the output is drained, as after a buffered
                // write (flow control waits for this).
                self.touch(cx)?;
                cx.broadcast(GSockEvent::EV_TX_READY, Kw::new())?;
                return Ok(Value::Null);
            }
        }
        let limit = usize::try_from(self.tx_limit).unwrap_or(usize::MAX);
        if self.buffered() + rest.len() > limit {
            let reason = format!(
                "output buffer full ({} + {} bytes over the {limit}-byte limit): the peer does not read",
                self.buffered(),
                rest.len()
            );
            tracing::warn!(target: "gaplic::sock", peer = %self.peer, "{reason}");
            self.disconnect(cx, reason.clone())?;
            return Err(GobjError::failed(reason));
        }
        self.out.extend_from_slice(rest);
        Ok(Value::Null)
    }

    /// Writes from `data` until the socket takes no more; returns how much
    /// it took.
    fn write_some(&mut self, data: &[u8]) -> io::Result<usize> {
        let mut written = 0;
        while written < data.len() {
            let Some(stream) = self.stream.as_mut() else {
                break;
            };
            match stream.write(&data[written..]) {
                Ok(0) => break,
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(written)
    }

    /// Writes the output buffer until the socket takes no more.
    fn flush(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        let had_data = self.buffered() > 0;
        while self.out_at < self.out.len() {
            let Some(stream) = self.stream.as_mut() else {
                return Ok(());
            };
            match stream.write(&self.out[self.out_at..]) {
                Ok(0) => break,
                Ok(n) => self.out_at += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return self.disconnect(cx, describe(&e)),
            }
        }
        if self.out_at == self.out.len() {
            self.out.clear();
            self.out_at = 0;
            if had_data {
                self.touch(cx)?;
                cx.broadcast(GSockEvent::EV_TX_READY, Kw::new())?;
            }
            if self.peer_closed {
                return self.disconnect(cx, "closed by the peer".to_owned());
            }
        } else if self.out_at > self.out.len() / 2 {
            // Keep the buffer from growing: drop what was written.
            self.out.drain(..self.out_at);
            self.out_at = 0;
        }
        Ok(())
    }

    fn drop_connection(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        if cx.state() == GSockState::ST_CONNECTING {
            self.release(cx);
            let reason = "dropped while connecting".to_owned();
            cx.set_state(GSockState::ST_IDLE);
            let address = self.address.clone();
            cx.broadcast(
                GSockEvent::EV_CONNECT_FAILED,
                kw! { "address" => address, "reason" => reason },
            )?;
            return Ok(Value::Null);
        }
        self.disconnect(cx, "dropped".to_owned())?;
        Ok(Value::Null)
    }

    fn idle_check(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.timer = None;
        let Some(idle) = seconds(self.idle_timeout) else {
            return Ok(Value::Null);
        };
        let now = cx.gaplic()?.now();
        let quiet = self
            .last_traffic
            .map_or(idle, |t| now.saturating_duration_since(t));
        if quiet >= idle {
            self.disconnect(cx, format!("idle for {:.3} s", idle.as_secs_f64()))?;
        } else {
            self.timer = Some(cx.set_timer(idle - quiet, GSockEvent::EV_TIMER, Kw::new())?);
        }
        Ok(Value::Null)
    }

    fn touch(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        if self.idle_timeout > 0.0 {
            self.last_traffic = Some(cx.gaplic()?.now());
        }
        Ok(())
    }

    /// Closes the connection and says why.
    fn disconnect(&mut self, cx: &mut Cx<Self>, reason: String) -> Result<(), GobjError> {
        self.release(cx);
        cx.set_state(GSockState::ST_IDLE);
        let lost = self.buffered();
        self.out.clear();
        self.out_at = 0;
        tracing::debug!(target: "gaplic::sock", peer = %self.peer, %reason, lost, "disconnected");
        cx.broadcast(GSockEvent::EV_DISCONNECTED, kw! { "reason" => reason })
    }

    /// Lets go of the socket, its registration and its timer.
    fn release(&mut self, cx: &mut Cx<Self>) {
        self.cancel_timer(cx);
        self.peer_closed = false;
        self.close_pending = false;
        if let Some(mut stream) = self.stream.take() {
            if let (Some(token), Ok(gaplic)) = (self.token.take(), cx.gaplic()) {
                gaplic.deregister_io(token, &mut stream);
            }
            if let Stream::Tcp(s) = &stream {
                // Already closed by the peer is fine.
                let _ = s.shutdown(std::net::Shutdown::Both);
            }
        }
    }

    fn cancel_timer(&mut self, cx: &mut Cx<Self>) {
        if let Some(timer) = self.timer.take() {
            cx.cancel_timer(timer);
        }
    }
}

/// The gobj's own id: sockets need a gaplic (its poll).
pub(crate) fn me<G: crate::Gclass>(cx: &Cx<G>) -> Result<GobjId, GobjError> {
    cx.id().ok_or_else(|| {
        ErrorKind::NoGaplic {
            gobj: cx.name().into(),
        }
        .into()
    })
}

/// A disconnect reason from an IO error.
fn describe(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::ConnectionReset => "reset by the peer".to_owned(),
        io::ErrorKind::BrokenPipe => "the peer closed the connection".to_owned(),
        _ => error.to_string(),
    }
}
