//! `GConnex`: a client connection that dials again when it fails or drops.

use std::time::Duration;

use gaplic_macros::gobj;

use super::gsock::me;
use super::{GSock, GSockEvent, seconds};

use crate::cx::Cx;
use crate::error::ErrorKind;
use crate::error::{GobjError, Ret};
use crate::event::Event;
use crate::id::{GobjId, TimerId};
use crate::kw;
use crate::kw::Kw;
use crate::pubsub::SubscribeOptions;
use crate::value::Value;

gobj! {
    /// A client connection to one of `addresses`, as GinsFSM's `GConnex`:
    /// it dials them in turn and, when a dial fails or the connection drops,
    /// dials again after `reconnect_delay` seconds, doubling the delay after
    /// each failure up to `max_reconnect_delay` (a success resets it).
    ///
    /// It re-publishes its [`GSock`] child's `EV_CONNECTED`, `EV_RX_DATA`,
    /// `EV_TX_READY` and `EV_DISCONNECTED` (the last only after a
    /// connection succeeded), with itself as the source, so a subscriber
    /// answers through it; [`gsock`](GConnex::gsock) gives the socket. `EV_SEND_DATA`
    /// while disconnected keeps the data and sends it once connected (up to
    /// `tx_limit` bytes). `EV_DROP` closes and stops dialing until
    /// `EV_CONNECT`. Its parent is subscribed to all its events.
    ///
    /// Its attrs are checked at creation, those it passes to its socket
    /// included: a value out of its range fails it with
    /// [`ErrorKind::BadAttr`](crate::ErrorKind::BadAttr) naming the key.
    #[gobj(crate = "crate")]
    #[derive(Debug)]
    pub struct GConnex {
        /// Where to connect, tried in turn.
        #[attr]
        addresses: Vec<String>,
        /// Seconds before dialing again after the first failure. Default 5;
        /// more than 0, at most one year.
        #[attr(default = 5.0, range = f64::MIN_POSITIVE..=31_536_000.0)]
        reconnect_delay: f64,
        /// Longest wait between dials, as the delay doubles (never less than
        /// `reconnect_delay`). Default 60; more than 0, at most one year.
        #[attr(default = 60.0, range = f64::MIN_POSITIVE..=31_536_000.0)]
        max_reconnect_delay: f64,
        /// Seconds a dial may take (0: no limit). Default 10; at most one
        /// year.
        #[attr(default = 10.0, range = 0.0..=31_536_000.0)]
        connect_timeout: f64,
        /// Seconds without traffic before the connection is closed (0:
        /// never, the default, as for any socket that dials). At most one
        /// year.
        #[attr(default = 0.0, range = 0.0..=31_536_000.0)]
        idle_timeout: f64,
        /// Most bytes kept while disconnected, and in the socket's buffer.
        /// Default [`GSock::DEFAULT_TX_LIMIT`] (1 MiB); 1 to
        /// [`GSock::MAX_TX_LIMIT`].
        #[attr(default = GSock::DEFAULT_TX_LIMIT, range = 1..=1_073_741_824)]
        tx_limit: u64,
        /// Passed to the socket: bytes read per system call. Default
        /// [`GSock::DEFAULT_RX_SIZE`] (64 KiB); 1 to [`GSock::MAX_RX_SIZE`].
        #[attr(default = GSock::DEFAULT_RX_SIZE, range = 1..=16_777_216)]
        rx_size: u64,
        gsock: Option<GobjId>,
        next: usize,
        failures: u32,
        held: Vec<u8>,
        timer: Option<TimerId>,
    }
    events {
        /// Start dialing (again).
        EV_CONNECT: input top,
        /// Send `data` now, or once connected.
        EV_SEND_DATA: input top { data: Vec<u8> },
        /// Close and stop dialing.
        EV_DROP: input top,
        /// The wait before the next dial is over.
        EV_RETRY: input bottom,
        /// Connected (from the socket, re-published).
        EV_CONNECTED: input output top,
        /// A dial failed (from the socket).
        EV_CONNECT_FAILED: input bottom,
        /// The connection ended (from the socket, re-published).
        EV_DISCONNECTED: input output top,
        /// Bytes arrived (from the socket, re-published).
        EV_RX_DATA: input output top,
        /// The output buffer drained (from the socket, re-published).
        EV_TX_READY: input output top,
    }
    states {
        /// Not connected; waiting to dial, or stopped.
        ST_DISCONNECTED,
        /// Dialing.
        ST_WAIT_CONNECTED,
        /// Connected.
        ST_CONNECTED,
    }
    machine {
        ST_DISCONNECTED {
            EV_CONNECT => dial -> ST_WAIT_CONNECTED,
            EV_RETRY => dial -> ST_WAIT_CONNECTED,
            EV_SEND_DATA => hold,
            EV_DROP => stop,
            // Late news of a connection already given up.
            EV_DISCONNECTED,
            EV_CONNECT_FAILED,
            EV_TX_READY,
        }
        ST_WAIT_CONNECTED {
            EV_CONNECTED => connected -> ST_CONNECTED,
            EV_CONNECT_FAILED => failed -> ST_DISCONNECTED,
            EV_SEND_DATA => hold,
            EV_DROP => stop -> ST_DISCONNECTED,
            EV_DISCONNECTED,
        }
        ST_CONNECTED {
            EV_RX_DATA => republish,
            EV_TX_READY => republish,
            EV_DISCONNECTED => disconnected -> ST_DISCONNECTED,
            EV_SEND_DATA => send_data,
            EV_DROP => drop_connected -> ST_DISCONNECTED,
        }
    }
    hooks { start_up }
}

impl GConnex {
    /// The socket child.
    pub fn gsock(&self) -> Option<GobjId> {
        self.gsock
    }

    fn start_up(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        if self.addresses.is_empty() {
            return Err(ErrorKind::BadAddress {
                address: String::new(),
                reason: "GConnex needs at least one address in `addresses`".to_owned(),
            }
            .into());
        }
        let id = me(cx)?;
        let settings = kw! {
            "connect_timeout" => self.connect_timeout,
            "idle_timeout" => self.idle_timeout,
            "tx_limit" => self.tx_limit,
            "rx_size" => self.rx_size,
        };
        let gsock = cx.create_child::<GSock>("gsock", settings)?;
        self.gsock = Some(gsock);
        let gaplic = cx.gaplic()?;
        if let Some(parent) = gaplic.parent_of(id) {
            gaplic.subscribe(id, None, parent, SubscribeOptions::new())?;
        }
        cx.post(id, GConnexEvent::EV_CONNECT, Kw::new())?;
        Ok(())
    }

    /// Refuses attrs out of their documented ranges, the ones it passes to
    /// its socket included.
    fn dial(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.timer = None;
        let address = self.addresses[self.next % self.addresses.len()].clone();
        self.next = (self.next + 1) % self.addresses.len();
        let gsock = self
            .gsock
            .ok_or_else(|| GobjError::failed("GConnex lost its socket"))?;
        // A failure comes back as EV_CONNECT_FAILED; the direct error only
        // repeats it.
        let _ = cx.send(gsock, GSockEvent::EV_CONNECT, kw! { "address" => address });
        Ok(Value::Null)
    }

    fn connected(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.failures = 0;
        cx.broadcast(GConnexEvent::EV_CONNECTED, ev.kw().clone())?;
        if !self.held.is_empty() {
            let data = std::mem::take(&mut self.held);
            self.forward(cx, data)?;
        }
        Ok(Value::Null)
    }

    fn failed(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let reason: String = ev.get("reason")?;
        tracing::debug!(target: "gaplic::sock", connex = %cx.name(), %reason, "dial failed");
        self.schedule_retry(cx)
    }

    fn disconnected(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        cx.broadcast(GConnexEvent::EV_DISCONNECTED, ev.kw().clone())?;
        self.schedule_retry(cx)
    }

    fn republish(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        cx.broadcast(ev.name(), ev.kw().clone())?;
        Ok(Value::Null)
    }

    fn send_data(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let data: Vec<u8> = ev.get("data")?;
        self.forward(cx, data)
    }

    fn hold(&mut self, _cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let data = ev
            .kw()
            .value("data")
            .and_then(Value::as_bytes)
            .unwrap_or_default();
        let limit = usize::try_from(self.tx_limit).unwrap_or(usize::MAX);
        if self.held.len() + data.len() > limit {
            return Err(GobjError::failed(format!(
                "GConnex is not connected and holds {} bytes already; {} more would pass the {limit}-byte limit",
                self.held.len(),
                data.len()
            )));
        }
        if self.held.len() + data.len() > self.held.capacity() {
            // Grow by doubling, but never allocate past the limit.
            let needed = self.held.len() + data.len();
            let target = needed
                .max(self.held.capacity().saturating_mul(2))
                .min(limit);
            self.held.reserve_exact(target - self.held.len());
        }
        self.held.extend_from_slice(data);
        Ok(Value::Null)
    }

    fn stop(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        if let Some(timer) = self.timer.take() {
            cx.cancel_timer(timer);
        }
        if let Some(gsock) = self.gsock {
            // A failure to drop is reported by the socket's own events.
            let _ = cx.send(gsock, GSockEvent::EV_DROP, Kw::new());
        }
        cx.set_state(GConnexState::ST_DISCONNECTED);
        Ok(Value::Null)
    }

    /// `EV_DROP` while connected: the socket's own `EV_DISCONNECTED` comes
    /// back queued, in `ST_DISCONNECTED`, where it is ignored; say it here.
    fn drop_connected(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.stop(cx, ev)?;
        cx.broadcast(GConnexEvent::EV_DISCONNECTED, kw! { "reason" => "dropped" })?;
        Ok(Value::Null)
    }

    fn forward(&mut self, cx: &mut Cx<Self>, data: Vec<u8>) -> Ret {
        let gsock = self
            .gsock
            .ok_or_else(|| GobjError::failed("GConnex lost its socket"))?;
        let sent = cx.send(gsock, GSockEvent::EV_SEND_DATA, kw! { "data" => data })?;
        Ok(sent.into_value().unwrap_or_default())
    }

    /// Waits before the next dial: the delay doubles with each failure in a
    /// row, up to the maximum.
    fn schedule_retry(&mut self, cx: &mut Cx<Self>) -> Ret {
        let base = seconds(self.reconnect_delay).unwrap_or(Duration::ZERO);
        let max = seconds(self.max_reconnect_delay).unwrap_or(base).max(base);
        let delay = base.saturating_mul(1_u32 << self.failures.min(16)).min(max);
        self.failures = self.failures.saturating_add(1);
        self.timer = Some(cx.set_timer(delay, GConnexEvent::EV_RETRY, Kw::new())?);
        Ok(Value::Null)
    }
}
