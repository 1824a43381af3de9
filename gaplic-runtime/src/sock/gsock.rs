//! `GSock`: one stream connection as a gobj.

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use gaplic_macros::gobj;
use mio::{Interest, Token};

use super::{Address, Repeated, Stream, count_of, seconds};

use crate::cx::Cx;
use crate::error::ErrorKind;
use crate::error::{GobjError, Ret};
use crate::event::Event;
use crate::id::{GobjId, TimerId};
use crate::kw;
use crate::kw::Kw;
use crate::machine::Symbol;
use crate::pubsub::SubscribeOptions;
use crate::value::Value;

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
    /// `EV_SEND_DATA` without a connection is refused with
    /// [`ErrorKind::NotAccepted`](crate::ErrorKind::NotAccepted); the warning it traces is rate-limited
    /// (one line per 10 s, then one with the count left out).
    ///
    /// Its input is paced by its output, so that neither grows without
    /// bound:
    /// - it reads at most [`READS_AHEAD`](GSock::READS_AHEAD) reads ahead of
    ///   its subscribers: then it posts itself `EV_READ_MORE`, which comes
    ///   after what they posted in answer, and reads on only then;
    /// - it reads no more than its output buffer has room for, counting
    ///   what it read ahead as answers on their way: an echo of a peer that
    ///   does not read stops reading that peer before `tx_limit` (TCP then
    ///   slows the peer down), and reads on as the buffer drains. A
    ///   connection stuck this way sends and receives nothing, so its
    ///   `idle_timeout` ends it.
    ///
    /// An output buffer that drains keeps at most
    /// [`KEPT_BUFFER_CAPACITY`](GSock::KEPT_BUFFER_CAPACITY) bytes allocated.
    ///
    /// Its attrs are checked at creation: a size or a timeout out of its
    /// range fails it with [`ErrorKind::BadAttr`](crate::ErrorKind::BadAttr) and a
    /// [`KwError::OutOfRange`](crate::KwError::OutOfRange) naming the key.
    ///
    /// By default its parent is subscribed to all its events.
    #[gobj(crate = "crate")]
    #[derive(Debug)]
    pub struct GSock {
        /// Most bytes the output buffer may hold, and allocate: a send that
        /// would pass it disconnects (the peer does not read). Default
        /// [`DEFAULT_TX_LIMIT`](GSock::DEFAULT_TX_LIMIT) (1 MiB); 1 to
        /// [`MAX_TX_LIMIT`](GSock::MAX_TX_LIMIT) (1 GiB).
        #[attr(default = GSock::DEFAULT_TX_LIMIT, range = 1..=1_073_741_824)]
        tx_limit: u64,
        /// Bytes read per system call, so the largest `EV_RX_DATA`. Default
        /// [`DEFAULT_RX_SIZE`](GSock::DEFAULT_RX_SIZE) (64 KiB); 1 to
        /// [`MAX_RX_SIZE`](GSock::MAX_RX_SIZE) (16 MiB).
        #[attr(default = GSock::DEFAULT_RX_SIZE, range = 1..=16_777_216)]
        rx_size: u64,
        /// Seconds a dial may take (0: no limit). Default 10; at most one
        /// year.
        #[attr(default = 10.0, range = 0.0..=31_536_000.0)]
        connect_timeout: f64,
        /// Seconds without traffic before it disconnects (0: never). Default
        /// 0 for a socket that dials: a client's silence is its protocol's
        /// business, and closing it would only make it dial again. A
        /// [`GServerSock`](crate::GServerSock) gives its connections its own
        /// `idle_timeout`, 60 s by default. At most one year.
        #[attr(default = 0.0, range = 0.0..=31_536_000.0)]
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
        /// Bytes published since the last `EV_READ_MORE` came back.
        bytes_ahead: usize,
        /// An `EV_READ_MORE` is on its way: read nothing before it.
        waiting_read_more: bool,
        /// Reading stopped for lack of room in the output buffer.
        held_for_room: bool,
        peer_closed: bool,
        close_pending: bool,
        timer: Option<TimerId>,
        last_traffic: Option<Instant>,
        /// Warnings of sends refused without a connection.
        refused_sends: Repeated,
        /// Warnings of a full output buffer.
        full_buffers: Repeated,
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
        /// What earlier reads published has been handled: read on (posted
        /// by the socket to itself).
        EV_READ_MORE: input bottom,
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
            EV_SEND_DATA => refuse_data,
            EV_DROP,
            EV_IO,
            EV_TIMER,
            EV_READ_MORE,
        }
        ST_CONNECTING {
            EV_IO => connecting,
            EV_SEND_DATA => send_data,
            EV_DROP => drop_connection,
            EV_TIMER => connect_timed_out,
            EV_READ_MORE,
        }
        ST_CONNECTED {
            EV_IO => io,
            EV_READ_MORE => read_more,
            EV_SEND_DATA => send_data,
            EV_DROP => drop_connection,
            EV_TIMER => idle_check,
            EV_ACCEPTED,
        }
    }
    hooks { start_up, go_out }
}

impl GSock {
    /// The default `tx_limit`: 1 MiB per connection.
    pub const DEFAULT_TX_LIMIT: u64 = 1 << 20;
    /// The largest `tx_limit`: 1 GiB per connection.
    pub const MAX_TX_LIMIT: u64 = 1 << 30;
    /// The default `rx_size`: 64 KiB per read.
    pub const DEFAULT_RX_SIZE: u64 = 64 << 10;
    /// The largest `rx_size`: 16 MiB per read (allocated once per socket).
    pub const MAX_RX_SIZE: u64 = 16 << 20;
    /// How many reads a socket makes ahead of its subscribers' handling of
    /// them (and per turn): then it waits for its own `EV_READ_MORE`,
    /// which comes after what they posted in answer. The input a
    /// connection keeps in the gaplic's queue is thus at most
    /// `READS_AHEAD x rx_size` bytes (1 MiB by default).
    pub const READS_AHEAD: usize = 16;
    /// What an output buffer that drains keeps allocated, at most (64 KiB):
    /// the rest of what a burst made it allocate is given back.
    pub const KEPT_BUFFER_CAPACITY: usize = 64 << 10;

    /// The peer's address, once connected.
    pub fn peer(&self) -> &str {
        &self.peer
    }

    /// Bytes written by `EV_SEND_DATA` that the socket has not taken yet.
    pub fn buffered(&self) -> usize {
        self.out.len() - self.out_at
    }

    /// Bytes the output buffer has allocated: never more than `tx_limit`,
    /// and at most [`KEPT_BUFFER_CAPACITY`](GSock::KEPT_BUFFER_CAPACITY)
    /// once it has drained.
    pub fn buffer_capacity(&self) -> usize {
        self.out.capacity()
    }

    /// How long the connection may stay silent before it is closed; `None`
    /// when it never is (`idle_timeout` 0).
    pub fn idle_timeout(&self) -> Option<Duration> {
        seconds(self.idle_timeout)
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

    /// Refuses sizes and timeouts out of their documented ranges, before
    /// any buffer is allocated with them.
    fn go_out(&mut self, cx: &mut Cx<Self>) {
        if cx.state() == GSockState::ST_CONNECTED {
            // Subscribers (a server counting its connections) learn it.
            if let Err(error) = self.disconnect(cx, "destroyed".to_owned()) {
                tracing::warn!(target: "gaplic::sock", %error, "cannot publish the disconnection");
            }
        }
        self.release(cx);
        self.trace_refused_left_out();
        self.trace_full_left_out();
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
        self.out = Vec::new();
        self.out_at = 0;
        tracing::debug!(target: "gaplic::sock", address = %self.address, %reason, "dial failed");
        let address = self.address.clone();
        cx.broadcast(
            GSockEvent::EV_CONNECT_FAILED,
            kw! { "address" => address, "reason" => reason },
        )?;
        Err(error)
    }

    /// `EV_SEND_DATA` without a connection: refused as the state cannot
    /// take it, with a warning that is rate-limited (a sender that goes on
    /// after a disconnect would otherwise flood the log).
    fn refuse_data(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        let error = GobjError::from(ErrorKind::NotAccepted {
            gclass: "GSock",
            gobj: cx.name().into(),
            state: cx.state().name(),
            event: "EV_SEND_DATA",
        });
        if let Some(left_out) = self.refused_sends.admit(now(cx)) {
            tracing::warn!(
                target: "gaplic::sock",
                gobj = %cx.name(),
                peer = %self.peer,
                left_out,
                "data refused: the socket is not connected"
            );
        }
        Err(error)
    }

    /// Traces how many refused sends were not traced, if any.
    fn trace_refused_left_out(&mut self) {
        let left_out = self.refused_sends.take_left_out();
        if left_out > 0 {
            tracing::warn!(
                target: "gaplic::sock",
                peer = %self.peer,
                left_out,
                "{} refused without a connection",
                count_of(left_out, "more send was", "more sends were")
            );
        }
    }

    /// Traces how many full output buffers were not traced, if any.
    fn trace_full_left_out(&mut self) {
        let left_out = self.full_buffers.take_left_out();
        if left_out > 0 {
            tracing::warn!(
                target: "gaplic::sock",
                peer = %self.peer,
                left_out,
                "{} disconnected with a full output buffer",
                count_of(left_out, "more connection was", "more connections were")
            );
        }
    }

    fn accepted(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.connected(cx)?;
        self.io(cx, ev)
    }

    /// Enters `ST_CONNECTED` and says so.
    fn connected(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        cx.set_state(GSockState::ST_CONNECTED);
        self.trace_refused_left_out();
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

    /// Reads what arrived (unless an `EV_READ_MORE` is on its way), then
    /// writes what waits; reads again when the writing made room for input
    /// held back.
    fn io(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        loop {
            if !self.waiting_read_more {
                self.read(cx)?;
            }
            if cx.state() != GSockState::ST_CONNECTED {
                return Ok(Value::Null);
            }
            if self.peer_closed && !self.close_pending {
                // The peer will send no more, but answers to what it sent
                // may still be on their way (sent or posted by the
                // subscribers): close after them, on the next EV_IO.
                self.close_pending = true;
                let id = me(cx)?;
                cx.post(id, GSockEvent::EV_IO, Kw::new())?;
                return Ok(Value::Null);
            }
            let before = self.buffered();
            self.flush(cx)?;
            // Within this action the buffer only shrinks, so this ends.
            let made_room = self.buffered() < before;
            if !(self.held_for_room
                && made_room
                && !self.waiting_read_more
                && cx.state() == GSockState::ST_CONNECTED)
            {
                return Ok(Value::Null);
            }
        }
    }

    /// The subscribers have handled what the last reads published.
    fn read_more(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.waiting_read_more = false;
        self.bytes_ahead = 0;
        self.io(cx, ev)
    }

    /// Reads until `WouldBlock` or a short read, or until one more read
    /// could:
    /// - take it past `READS_AHEAD x rx_size` bytes ahead of its
    ///   subscribers, or past `READS_AHEAD` reads in this turn: then it
    ///   posts itself `EV_READ_MORE`, which arrives after what they posted
    ///   in answer, and reads no more before;
    /// - bring in more than the output buffer has room for, counting the
    ///   bytes ahead as answers on their way (so an echo never passes
    ///   `tx_limit`): it reads on when the buffer drains (`held_for_room`),
    ///   or when `EV_READ_MORE` comes back. With nothing buffered and
    ///   nothing ahead, one read is always allowed.
    fn read(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        let size = usize::try_from(self.rx_size).unwrap_or(usize::MAX).max(1);
        if self.rx.len() != size {
            self.rx.resize(size, 0);
        }
        let budget = Self::READS_AHEAD.saturating_mul(size);
        let limit = usize::try_from(self.tx_limit).unwrap_or(usize::MAX);
        let mut reads = 0;
        self.held_for_room = false;
        while !self.peer_closed && cx.state() == GSockState::ST_CONNECTED {
            let pending = self.buffered() + self.bytes_ahead;
            let no_room = pending > 0 && pending.saturating_add(size) > limit;
            if no_room {
                self.held_for_room = true;
            }
            let too_far_ahead =
                self.bytes_ahead > 0 && (no_room || self.bytes_ahead + size > budget);
            if reads == Self::READS_AHEAD || too_far_ahead {
                let id = me(cx)?;
                cx.post(id, GSockEvent::EV_READ_MORE, Kw::new())?;
                self.waiting_read_more = true;
                break;
            }
            if no_room {
                break;
            }
            let Some(stream) = self.stream.as_mut() else {
                break;
            };
            match stream.read(&mut self.rx) {
                Ok(0) => self.peer_closed = true,
                Ok(n) => {
                    self.touch(cx)?;
                    self.bytes_ahead += n;
                    reads += 1;
                    let data = self.rx[..n].to_vec();
                    cx.broadcast(GSockEvent::EV_RX_DATA, kw! { "data" => data })?;
                    if n < size {
                        // A short read of a stream socket took all there
                        // was: what comes later raises a new readiness
                        // edge, so the read that would say `WouldBlock`
                        // is spared (a system call per readiness).
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return self.disconnect(cx, describe(&e)),
            }
        }
        Ok(())
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
            if let Some(left_out) = self.full_buffers.admit(now(cx)) {
                tracing::warn!(target: "gaplic::sock", peer = %self.peer, left_out, "{reason}");
            }
            self.disconnect(cx, reason.clone())?;
            return Err(GobjError::failed(reason));
        }
        self.buffer(rest, limit);
        Ok(Value::Null)
    }

    /// Appends `data` to the output buffer, which has room for it under
    /// `limit`: the buffer grows by doubling, but never allocates past
    /// `limit`, and drops what was written before it grows.
    fn buffer(&mut self, data: &[u8], limit: usize) {
        if self.out.len() + data.len() > self.out.capacity() {
            self.out.drain(..self.out_at);
            self.out_at = 0;
            let needed = self.out.len() + data.len();
            let target = needed
                .max(self.out.capacity().saturating_mul(2))
                .min(limit.max(needed));
            self.out.reserve_exact(target - self.out.len());
        }
        self.out.extend_from_slice(data);
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
            // A burst is over: give back what it made the buffer allocate.
            self.out.shrink_to(Self::KEPT_BUFFER_CAPACITY);
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
        self.out = Vec::new();
        self.out_at = 0;
        tracing::debug!(target: "gaplic::sock", peer = %self.peer, %reason, lost, "disconnected");
        cx.broadcast(GSockEvent::EV_DISCONNECTED, kw! { "reason" => reason })
    }

    /// Lets go of the socket, its registration and its timer.
    fn release(&mut self, cx: &mut Cx<Self>) {
        self.cancel_timer(cx);
        self.peer_closed = false;
        self.close_pending = false;
        self.waiting_read_more = false;
        self.held_for_room = false;
        self.bytes_ahead = 0;
        self.rx = Vec::new();
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

/// Now, by the gaplic's clock (the system's outside a gaplic).
pub(crate) fn now<G: crate::Gclass>(cx: &mut Cx<G>) -> Instant {
    cx.gaplic()
        .map_or_else(|_| Instant::now(), |gaplic| gaplic.now())
}

/// A disconnect reason from an IO error.
fn describe(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::ConnectionReset => "reset by the peer".to_owned(),
        io::ErrorKind::BrokenPipe => "the peer closed the connection".to_owned(),
        _ => error.to_string(),
    }
}
