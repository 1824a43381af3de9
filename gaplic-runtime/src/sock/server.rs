//! `GServerSock`: a listening socket that makes a `GSock` per connection.

use std::io;

use gaplic_macros::gobj;
use mio::{Interest, Token};

use super::gsock::me;
use super::{Address, GSock, GSockEvent, Listener};
use crate::error::ErrorKind;
use crate::{Cx, Event, GobjError, Kw, Ret, SubscribeOptions, Value, kw};

/// Connections accepted per `EV_IO` before other gobjs get a turn.
const ACCEPTS_PER_TURN: usize = 64;

gobj! {
    /// Listens on `address` and makes a [`GSock`] child per accepted
    /// connection, as GinsFSM's `GServerSock`. Its parent is subscribed to
    /// every child's events, so it sees `EV_CONNECTED`, `EV_RX_DATA`,
    /// `EV_DISCONNECTED`... with the child as the source, and answers through
    /// that child. A child whose connection ends is destroyed. Past
    /// `max_connections`, new connections are closed at once, with a trace.
    ///
    /// An address in use or an invalid one makes the creation fail with an
    /// error naming it. Port 0 picks a free port: see
    /// [`local_address`](GServerSock::local_address).
    #[gobj(crate = "crate")]
    #[derive(Debug)]
    pub struct GServerSock {
        /// Where to listen: `host:port` or `unix:PATH`.
        #[attr(default = "")]
        address: String,
        /// Most connections at once.
        #[attr(default = 10_000)]
        max_connections: u64,
        /// Passed to each `GSock`: seconds without traffic before it closes.
        #[attr(default = 0.0)]
        idle_timeout: f64,
        /// Passed to each `GSock`: most bytes in its output buffer.
        #[attr(default = 16_777_216)]
        tx_limit: u64,
        listener: Option<Listener>,
        token: Option<Token>,
        local: String,
        connections: u64,
        accepted: u64,
    }
    events {
        /// The listener is ready (from the gaplic's poll).
        EV_IO: input bottom,
        /// A child's connection ended (its `EV_DISCONNECTED`, renamed).
        EV_CHILD_GONE: input bottom,
    }
    states {
        /// Accepting connections.
        ST_LISTENING,
    }
    machine {
        ST_LISTENING {
            EV_IO => accept,
            EV_CHILD_GONE => child_gone,
        }
    }
    hooks { start_up, go_out }
}

impl GServerSock {
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

    fn go_out(&mut self, cx: &mut Cx<Self>) {
        if let (Some(mut listener), Some(token)) = (self.listener.take(), self.token.take())
            && let Ok(gaplic) = cx.gaplic()
        {
            gaplic.deregister_io(token, &mut listener);
        }
    }

    fn accept(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        for _ in 0..ACCEPTS_PER_TURN {
            let Some(listener) = &self.listener else {
                return Ok(Value::Null);
            };
            let (stream, peer) = match listener.accept() {
                Ok(accepted) => accepted,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Value::Null),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // Out of descriptors and the like: this connection is
                    // lost, the listener goes on.
                    tracing::warn!(target: "gaplic::sock", address = %self.local, error = %e, "accept failed");
                    return Ok(Value::Null);
                }
            };
            if self.connections >= self.max_connections {
                tracing::warn!(
                    target: "gaplic::sock",
                    address = %self.local,
                    limit = self.max_connections,
                    "connection refused: the server is at its connection limit"
                );
                drop(stream);
                continue;
            }
            self.adopt(cx, stream, peer)?;
        }
        // More may wait: come back after the others' turn.
        let id = me(cx)?;
        cx.post(id, GServerSockEvent::EV_IO, Kw::new())?;
        Ok(Value::Null)
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
