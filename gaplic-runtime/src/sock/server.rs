//! `GServerSock`: a listening socket that makes a `GSock` per connection.

use std::io;

use gaplic_macros::gobj;
use mio::{Interest, Token};

use super::gsock::{me, now};
use super::{Address, GSock, GSockEvent, Listener, Repeated, count_of, seconds};

use crate::cx::Cx;
use crate::error::ErrorKind;
use crate::error::{GobjError, Ret};
use crate::event::Event;
use crate::id::TimerId;
use crate::kw;
use crate::kw::Kw;
use crate::pubsub::SubscribeOptions;
use crate::value::Value;

/// Connections accepted per `EV_IO` before other gobjs get a turn.
const ACCEPTS_PER_TURN: usize = 64;

gobj! {
    /// Listens on `address` and makes a [`GSock`] child per accepted
    /// connection, as GinsFSM's `GServerSock`. Its parent is subscribed to
    /// every child's events, so it sees `EV_CONNECTED`, `EV_RX_DATA`,
    /// `EV_DISCONNECTED`... with the child as the source, and answers through
    /// that child. A child whose connection ends is destroyed. Past
    /// `max_connections`, new connections are closed at once, with a trace.
    /// A connection silent for `idle_timeout` seconds (60 by default) is
    /// closed, so silent peers cannot hold the slots for ever.
    ///
    /// When the system refuses to accept (out of file descriptors or
    /// memory), the connections wait in the backlog and the listener tries
    /// again every `accept_retry_delay` seconds until it can. Its repeated
    /// warnings (accepts that fail, connections refused at the limit) are
    /// traced once per 10 s, each with the count left out, and that count
    /// again when it accepts again.
    ///
    /// An address in use or an invalid one makes the creation fail with an
    /// error naming it, as does an attr out of its range
    /// ([`ErrorKind::BadAttr`](crate::ErrorKind::BadAttr)). Port 0 picks a free port: see
    /// [`local_address`](GServerSock::local_address).
    #[gobj(crate = "crate")]
    #[derive(Debug)]
    pub struct GServerSock {
        /// Where to listen: `host:port` or `unix:PATH`.
        #[attr(default = "")]
        address: String,
        /// Most connections at once; at least 1. Default 10 000.
        #[attr(default = 10_000, range = 1..)]
        max_connections: u64,
        /// Passed to each `GSock`: seconds without traffic before it closes
        /// (0: never). Default
        /// [`DEFAULT_IDLE_TIMEOUT`](GServerSock::DEFAULT_IDLE_TIMEOUT) (60);
        /// at most one year.
        #[attr(default = GServerSock::DEFAULT_IDLE_TIMEOUT, range = 0.0..=31_536_000.0)]
        idle_timeout: f64,
        /// Passed to each `GSock`: most bytes in its output buffer. Default
        /// [`GSock::DEFAULT_TX_LIMIT`] (1 MiB); 1 to [`GSock::MAX_TX_LIMIT`].
        #[attr(default = GSock::DEFAULT_TX_LIMIT, range = 1..=1_073_741_824)]
        tx_limit: u64,
        /// Passed to each `GSock`: bytes read per system call. Default
        /// [`GSock::DEFAULT_RX_SIZE`] (64 KiB); 1 to [`GSock::MAX_RX_SIZE`].
        #[attr(default = GSock::DEFAULT_RX_SIZE, range = 1..=16_777_216)]
        rx_size: u64,
        /// Seconds before accepting again after the system refused (out of
        /// descriptors or memory). Default
        /// [`DEFAULT_ACCEPT_RETRY_DELAY`](GServerSock::DEFAULT_ACCEPT_RETRY_DELAY)
        /// (0.1); more than 0, at most one year.
        #[attr(default = GServerSock::DEFAULT_ACCEPT_RETRY_DELAY, range = f64::MIN_POSITIVE..=31_536_000.0)]
        accept_retry_delay: f64,
        listener: Option<Listener>,
        token: Option<Token>,
        local: String,
        connections: u64,
        accepted: u64,
        /// The timer of the next accept after a refusal.
        retry: Option<TimerId>,
        /// Warnings of accepts that failed.
        failed_accepts: Repeated,
        /// Warnings of connections refused at the limit.
        refused_connections: Repeated,
    }
    events {
        /// The listener is ready (from the gaplic's poll).
        EV_IO: input bottom,
        /// A child's connection ended (its `EV_DISCONNECTED`, renamed).
        EV_CHILD_GONE: input bottom,
        /// The wait after a refused accept is over.
        EV_ACCEPT_RETRY: input bottom,
    }
    states {
        /// Accepting connections.
        ST_LISTENING,
    }
    machine {
        ST_LISTENING {
            EV_IO => accept,
            EV_CHILD_GONE => child_gone,
            EV_ACCEPT_RETRY => retry_accept,
        }
    }
    hooks { start_up, go_out }
}

impl GServerSock {
    /// The default `idle_timeout` of a server's connections, in seconds: a
    /// minute of silence closes one.
    pub const DEFAULT_IDLE_TIMEOUT: f64 = 60.0;
    /// The default `accept_retry_delay`, in seconds.
    pub const DEFAULT_ACCEPT_RETRY_DELAY: f64 = 0.1;

    /// The address it listens on, with the port the system chose for 0.
    pub fn local_address(&self) -> &str {
        &self.local
    }

    /// How many connections are open.
    pub fn connections(&self) -> u64 {
        self.connections
    }

    fn start_up(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        let address = Address::parse(&self.address)?;
        let mut listener = Listener::bind(&address).map_err(|error| ErrorKind::Socket {
            context: "cannot listen on",
            address: self.address.clone(),
            error,
        })?;
        let id = me(cx)?;
        let token = cx.gaplic()?.register_io(
            id,
            &mut listener,
            Interest::READABLE,
            GServerSockEvent::EV_IO,
        )?;
        self.local = listener.local();
        self.listener = Some(listener);
        self.token = Some(token);
        tracing::debug!(target: "gaplic::sock", address = %self.local, "listening");
        Ok(())
    }

    /// Refuses attrs out of their documented ranges, the ones it passes to
    /// its connections included, before it listens.
    fn go_out(&mut self, cx: &mut Cx<Self>) {
        if let (Some(mut listener), Some(token)) = (self.listener.take(), self.token.take())
            && let Ok(gaplic) = cx.gaplic()
        {
            gaplic.deregister_io(token, &mut listener);
        }
        self.trace_left_out();
    }

    fn accept(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        for _ in 0..ACCEPTS_PER_TURN {
            let Some(listener) = &self.listener else {
                return Ok(Value::Null);
            };
            let (stream, peer) = match listener.accept() {
                Ok(accepted) => accepted,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Value::Null),
                // This one is gone (reset while it waited); the next may
                // be there.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::Interrupted
                            | io::ErrorKind::ConnectionAborted
                            | io::ErrorKind::ConnectionReset
                    ) =>
                {
                    continue;
                }
                Err(e) => {
                    // Out of descriptors or memory: the connections wait in
                    // the backlog, and no new readiness comes for them
                    // (edge triggered) until another one arrives. Try again
                    // after a while.
                    self.accept_failed(cx, &e.to_string())?;
                    return Ok(Value::Null);
                }
            };
            self.trace_failed_left_out();
            if self.connections >= self.max_connections {
                if let Some(left_out) = self.refused_connections.admit(now(cx)) {
                    tracing::warn!(
                        target: "gaplic::sock",
                        address = %self.local,
                        limit = self.max_connections,
                        left_out,
                        "connection refused: the server is at its connection limit"
                    );
                }
                drop(stream);
                continue;
            }
            self.trace_refused_left_out();
            if let Err(error) = self.adopt(cx, stream, peer) {
                // The connection is lost; the listener goes on, after a
                // while (the error is likely a lack of resources).
                self.accept_failed(cx, &error.to_string())?;
                return Ok(Value::Null);
            }
        }
        // More may wait: come back after the others' turn.
        let id = me(cx)?;
        cx.post(id, GServerSockEvent::EV_IO, Kw::new())?;
        Ok(Value::Null)
    }

    /// The wait after a refused accept is over: accept what waits.
    fn retry_accept(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.retry = None;
        self.accept(cx, ev)
    }

    /// Traces a failed accept (rate-limited) and schedules the next try.
    fn accept_failed(&mut self, cx: &mut Cx<Self>, error: &str) -> Result<(), GobjError> {
        let delay = seconds(self.accept_retry_delay).unwrap_or_default();
        if let Some(left_out) = self.failed_accepts.admit(now(cx)) {
            tracing::warn!(
                target: "gaplic::sock",
                address = %self.local,
                %error,
                retry_in = ?delay,
                left_out,
                "cannot accept connections; trying again"
            );
        }
        if self.retry.is_none() {
            self.retry = Some(cx.set_timer(delay, GServerSockEvent::EV_ACCEPT_RETRY, Kw::new())?);
        }
        Ok(())
    }

    /// Traces the counts of warnings left out, if any.
    fn trace_left_out(&mut self) {
        self.trace_failed_left_out();
        self.trace_refused_left_out();
    }

    fn trace_failed_left_out(&mut self) {
        let left_out = self.failed_accepts.take_left_out();
        if left_out > 0 {
            tracing::warn!(
                target: "gaplic::sock",
                address = %self.local,
                left_out,
                "accepting again; {} not traced",
                count_of(left_out, "more failed accept was", "more failed accepts were")
            );
        }
    }

    fn trace_refused_left_out(&mut self) {
        let left_out = self.refused_connections.take_left_out();
        if left_out > 0 {
            tracing::warn!(
                target: "gaplic::sock",
                address = %self.local,
                limit = self.max_connections,
                left_out,
                "{} refused at the connection limit",
                count_of(left_out, "more connection was", "more connections were")
            );
        }
    }

    /// Makes the `GSock` child of an accepted connection.
    fn adopt(
        &mut self,
        cx: &mut Cx<Self>,
        mut stream: super::Stream,
        peer: String,
    ) -> Result<(), GobjError> {
        self.accepted += 1;
        let id = me(cx)?;
        let name = format!("clisrv-{}", self.accepted);
        let settings = kw! {
            "subscribe_parent" => false,
            "idle_timeout" => self.idle_timeout,
            "tx_limit" => self.tx_limit,
            "rx_size" => self.rx_size,
        };
        let gaplic = cx.gaplic()?;
        let child = gaplic.create_gobj::<GSock>(&name, Some(id), settings)?;
        if let Some(parent) = gaplic.parent_of(id) {
            gaplic.subscribe(child, None, parent, SubscribeOptions::new())?;
        }
        gaplic.subscribe(
            child,
            Some("EV_DISCONNECTED"),
            id,
            SubscribeOptions::new()
                .post()
                .hard()
                .rename("EV_CHILD_GONE"),
        )?;
        let token = match gaplic.register_io(
            child,
            &mut stream,
            Interest::READABLE | Interest::WRITABLE,
            GSockEvent::EV_IO,
        ) {
            Ok(token) => token,
            Err(error) => {
                gaplic.destroy_gobj(child)?;
                return Err(error);
            }
        };
        if let Some(gsock) = gaplic.gobj_mut::<GSock>(child) {
            gsock.attach(stream, token, peer);
        }
        self.connections += 1;
        gaplic.send(child, GSockEvent::EV_ACCEPTED, Kw::new())?;
        Ok(())
    }

    fn child_gone(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        if let Some(child) = ev.source() {
            self.connections = self.connections.saturating_sub(1);
            let gaplic = cx.gaplic()?;
            // Destroyed by someone else already: nothing more to do.
            if gaplic.contains(child) {
                gaplic.destroy_gobj(child)?;
            }
        }
        Ok(Value::Null)
    }
}
