//! `GRouter`: carries events between gaplics as GinsFSM's intra-events.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gaplic_macros::gobj;
use gaplic_runtime::{
    Cx, ErrorKind, Event, Gaplic, GobjError, GobjId, Kw, Ret, SubscribeOptions, Symbol, Value, kw,
};
use gaplic_runtime::{EventKey, GConnex, GServerSock, KwError, Origin, TimerId};

use crate::route::{
    GAPLIC_TOKEN, Mode, Pending, Route, RouteKind, parse_static_route, parse_static_routes,
    socket_address, websocket_url,
};
use crate::wire::{self, EventAck, EventNack, IdentityCard, IntraEvent, Message, RoleEntry, Roles};
use crate::ws::{Link, LinkEvent};

/// The event a local sender is posted when an event it sent through the
/// router is refused or lost: keys `gaplic`, `role`, `gobj`, `event` (where
/// it was going) and `reason`.
pub const EV_SEND_FAILED: &str = "EV_SEND_FAILED";

gobj! {
    #[gobj(crate = "gaplic_runtime")]
    /// Carries events between gaplics, as GinsFSM's `GRouter` does, over
    /// websockets: one unique gobj named [`ROUTER`](gaplic_runtime::ROUTER) per gaplic.
    ///
    /// **Routes.** A *static* route is a gaplic this one dials (a
    /// [`GConnex`] child per route, redialling with backoff), from
    /// `static_routes` in GinsFSM's syntax (`name, role1+role2,
    /// ws://host:port; ...`) or `routes` (one such route per item). With
    /// `server`, it listens on `listen` (loopback by default) and each
    /// client that sends its identity card is a *dynamic* route. Events are
    /// routed by the destination gaplic's name (static routes first, then
    /// dynamic ones), then by its role.
    ///
    /// **Sending.** `EV_SEND_EVENT { gaplic, role, gobj, event, kw }`
    /// sends `event` to the unique gobj `gobj` of the gaplic called
    /// `gaplic` (or, if empty, of any gaplic with role `role`); the origin
    /// is the sender, which must be a unique gobj (or name one in `from`).
    /// `EV_SUBSCRIBE_EVENT` and `EV_UNSUBSCRIBE_EVENT` (same keys, no `kw`
    /// needed) subscribe the sender to an output event of a remote gobj:
    /// each broadcast comes back to it under the event's own name, with
    /// `original_event_name` and `__subscription_reference__`. A refusal
    /// known at once (no route, a full queue, a `kw` JSON cannot carry) is
    /// the send's error; one known later (a nack, a route that closed for
    /// good) is posted to the sender as [`EV_SEND_FAILED`].
    ///
    /// **Receiving.** An event for this gaplic (its name is the first word
    /// of `destination_gaplic`, or `destination_role` is one of its roles)
    /// is sent to the unique gobj `destination_gobj`, with the router as
    /// the source and the sending gobj as the event's
    /// [origin](gaplic_runtime::Event::origin) ([`Cx::reply`] answers it); an
    /// unknown gobj is answered
    /// with the nack `GObj 'x' UNKNOWN`. With `__subscribe_response__` in
    /// the payload, the action's result goes back to the origin as an
    /// event of the same name with `__action_return__`. An event for
    /// another gaplic is forwarded, or nacked when there is no route.
    ///
    /// **Peers.** With a GinsFSM peer it follows GinsFSM's rules: one
    /// event in flight per route, serials cycling 1..10, ack before
    /// delivery. Two gaplic routers find each other by a token in
    /// `my_roles` (`=gaplic/1/<incarnation>`, which GinsFSM keeps as a
    /// role and never routes by) and then keep up to `window` events in
    /// flight, ack after delivery (a failed delivery is a nack with the
    /// error), never reuse a serial, and after a reconnect send again what
    /// was not acknowledged, which the receiver delivers once.
    ///
    /// **Limits.** Messages over `max_message_size` close the link with a
    /// traced reason; a route holds at most `queue_limit` events; a link
    /// whose handshake and identity card do not complete within
    /// `handshake_timeout` seconds is closed.
    #[derive(Debug)]
    pub struct GRouter {
        /// Static routes in GinsFSM's syntax: `name, role1+role2,
        /// url1+url2; name2, role, url; ...` (urls `ws://host:port/path`).
        #[attr(default = "")]
        static_routes: String,
        /// Static routes as a list, one `name, role1+role2, url1+url2` per
        /// item (added to `static_routes`).
        #[attr]
        routes: Vec<String>,
        /// Listen for dynamic routes.
        #[attr(default = false)]
        server: bool,
        /// Where to listen, with `server`: loopback by default, port 0 for
        /// any free port (see [`GRouter::listen_address`]).
        #[attr(default = "127.0.0.1:0")]
        listen: String,
        /// Largest message, websocket frame or message, in bytes. Default
        /// 1 MiB ([`wire::DEFAULT_MAX_MESSAGE_SIZE`]).
        #[attr(default = wire::DEFAULT_MAX_MESSAGE_SIZE as u64, range = 64..=(1 << 30))]
        max_message_size: u64,
        /// Most events a route holds, waiting and in flight; past it a send
        /// is refused (a forwarded event is nacked).
        #[attr(default = 256, range = 1..=1_000_000)]
        queue_limit: u64,
        /// Most subscriptions remote gobjs may hold on local ones, all
        /// routes together; past it a subscription is nacked.
        #[attr(default = 10_000, range = 1..=10_000_000)]
        max_remote_subscriptions: u64,
        /// Most events in flight on a route between gaplic peers (GinsFSM
        /// peers: 1).
        #[attr(default = 64, range = 1..=65_536)]
        window: u64,
        /// Seconds a new link has to finish its websocket handshake and
        /// identity card exchange.
        #[attr(default = 5.0, range = 0.001..=3600.0)]
        handshake_timeout: f64,
        /// Seconds between pings on idle links (0: none).
        #[attr(default = 20.0, range = 0.0..=3600.0)]
        ping_interval: f64,
        /// Seconds before redialling a static route the first time.
        #[attr(default = 1.0, range = 0.001..=3600.0)]
        reconnect_delay: f64,
        /// Longest wait between dials.
        #[attr(default = 30.0, range = 0.001..=3600.0)]
        max_reconnect_delay: f64,
        /// Seconds a closed dynamic route of a gaplic peer keeps its events
        /// for the peer to come back; then they fail.
        #[attr(default = 30.0, range = 0.0..=86_400.0)]
        route_linger: f64,
        /// Offer gaplic's extensions to gaplic peers.
        #[attr(default = true)]
        extensions: bool,
        /// A secret shared by the gaplics allowed to connect: when set,
        /// each side of a link proves it knows it (a challenge on both
        /// sides, carried in the identity cards as `=nonce/...` and
        /// `=proof/...` tokens), and a peer that cannot is refused: its
        /// events are nacked and its link closed. GinsFSM peers cannot
        /// prove it. It keeps out peers configured without it; it is no
        /// substitute for encryption.
        #[attr(default = "")]
        secret: String,
        /// Bytes a connection may hold unsent before it is closed (a peer
        /// that does not read).
        #[attr(default = 8 << 20, range = 1..=(1 << 30))]
        tx_limit: u64,
        me: Option<GobjId>,
        name: String,
        roles: Vec<String>,
        incarnation: String,
        listener: Option<GobjId>,
        next_route: u64,
        routes_by_id: BTreeMap<u64, Route>,
        links: BTreeMap<GobjId, LinkState>,
        exports: HashMap<String, Export>,
        next_import: u64,
        imports: BTreeMap<u64, Import>,
        names: HashMap<GobjId, Arc<str>>,
        dirty: Vec<GobjId>,
        /// An `EV_FLUSH` is on its way.
        flush_posted: bool,
        /// Per link, the last event delivered and not yet acknowledged
        /// (gaplic peers: one ack covers it and those before it).
        pending_acks: BTreeMap<GobjId, (u64, String)>,
        tick: Option<TimerId>,
    }
    events {
        /// Send an event to a gobj of another gaplic.
        EV_SEND_EVENT: input top { gobj: String, event: String },
        /// Subscribe the sender to an output event of a remote gobj.
        EV_SUBSCRIBE_EVENT: input top { gobj: String, event: String },
        /// End such a subscription.
        EV_UNSUBSCRIBE_EVENT: input top { gobj: String, event: String },
        /// A connection is up (from a socket).
        EV_CONNECTED: input bottom,
        /// Bytes arrived (from a socket).
        EV_RX_DATA: input bottom { data: Vec<u8> },
        /// A connection ended (from a socket).
        EV_DISCONNECTED: input bottom,
        /// A socket's output drained.
        EV_TX_READY: input bottom,
        /// A dial failed (from a socket).
        EV_CONNECT_FAILED: input bottom,
        /// A broadcast of a local gobj that a remote gaplic subscribed to.
        EV_SUBSCRIPTION: input bottom,
        /// A link's time to open is over.
        EV_LINK_TIMEOUT: input bottom { link: GobjId },
        /// Time to ping idle links and expire lingering routes.
        EV_TICK: input bottom,
        /// Send what the links have to send (posted by the router to
        /// itself, so what one turn produces goes out in one write).
        EV_FLUSH: input bottom,
        /// A route opened: `gaplic`, `roles`, `kind` (`static`, `dynamic`),
        /// `mode` (`ginsfsm`, `gaplic`).
        EV_ROUTE_OPENED: output top,
        /// A route's link closed: `gaplic`, `reason`.
        EV_ROUTE_CLOSED: output top,
    }
    states { ST_IDLE }
    machine {
        ST_IDLE {
            EV_SEND_EVENT => send_event,
            EV_SUBSCRIBE_EVENT => subscribe_event,
            EV_UNSUBSCRIBE_EVENT => unsubscribe_event,
            EV_CONNECTED => connected,
            EV_RX_DATA => rx_data,
            EV_DISCONNECTED => disconnected,
            EV_TX_READY,
            EV_CONNECT_FAILED,
            EV_SUBSCRIPTION => subscription,
            EV_LINK_TIMEOUT => link_timeout,
            EV_TICK => tick,
            EV_FLUSH => flush_now,
        }
    }
    hooks { start_up, go_out }
}

/// A websocket on one socket gobj.
#[derive(Debug)]
struct LinkState {
    ws: Link,
    /// The route it carries, once known.
    route: Option<u64>,
    /// The socket `EV_SEND_DATA` and `EV_DROP` go to (a static route's
    /// `GConnex` has it as its child).
    sock: GobjId,
    timer: Option<TimerId>,
    /// When it last brought bytes, as the last tick saw (a clock read per
    /// tick, not per read): a link silent for three ping intervals (no
    /// pong either) is closed, at most a tick late.
    last_rx: Instant,
    /// Bytes came since the last tick.
    rx_since_tick: bool,
    /// With a secret: this side's nonce and the peer's, once known.
    nonces: (Option<String>, Option<String>),
    /// Whether the peer proved the secret (always, without one).
    verified: bool,
    /// The two ends, `peer` then `local`: the name of a nameless
    /// client's route, as GinsFSM names it.
    ends: String,
}

/// A subscription of a remote gobj to an output event of a local one.
#[derive(Debug, Clone)]
struct Export {
    publisher: GobjId,
    publisher_name: String,
    event: String,
    route: u64,
    gaplic: Option<String>,
    role: Option<String>,
    gobj: String,
}

/// A subscription of a local gobj to an output event of a remote one.
#[derive(Debug, Clone)]
struct Import {
    route: u64,
    gaplic: Option<String>,
    role: Option<String>,
    gobj: String,
    event: String,
    subscriber: String,
    kw: Kw,
    reference: Option<String>,
}

/// Where an `EV_SEND_EVENT` goes.
struct Target {
    gaplic: Option<String>,
    role: Option<String>,
    gobj: String,
    event: String,
}

impl Target {
    fn from_event(ev: &Event) -> Result<Target, GobjError> {
        let nonempty = |key: &str| -> Result<Option<String>, GobjError> {
            Ok(ev.get::<Option<String>>(key)?.filter(|s| !s.is_empty()))
        };
        let target = Target {
            gaplic: nonempty("gaplic")?,
            role: nonempty("role")?,
            gobj: ev.get("gobj")?,
            event: ev.get("event")?,
        };
        if target.gaplic.is_none() && target.role.is_none() {
            return Err(GobjError::failed(format!(
                "{}: give `gaplic` or `role` of the gaplic `{}` is in",
                ev.name(),
                target.gobj
            )));
        }
        Ok(target)
    }

    fn describe(&self) -> String {
        format!(
            "gobj `{}` of gaplic {} role {}",
            self.gobj,
            self.gaplic
                .as_deref()
                .map_or("-".into(), |g| format!("`{g}`")),
            self.role
                .as_deref()
                .map_or("-".into(), |r| format!("`{r}`"))
        )
    }
}

/// A random word: the clock and the process's hash seed, hashed.
fn random_word() -> String {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.write_u64(COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    format!("{:016x}", hasher.finish())
}

/// A step of the shared-secret check on the server's side.
enum Secret {
    /// Answer the card with these tokens; the route is not open yet.
    Challenge(Vec<String>),
    /// The client proved it: open the route.
    Proven,
    /// Refuse the client, for this reason.
    Refused(String),
}

/// The proof that `label`'s side knows `secret`, over both nonces (the
/// client's first): SHA-1 of all of it, as the websocket handshake's
/// accept key computes it.
fn prove(secret: &str, label: &str, client_nonce: &str, server_nonce: &str) -> String {
    let text = format!("{secret}\n{label}\n{client_nonce}\n{server_nonce}");
    tungstenite::handshake::derive_accept_key(text.as_bytes())
}

/// Compares two proofs in a time that does not depend on where they
/// differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Python's `repr` of a string, as GinsFSM's messages print names.
fn py_repr(text: Option<&str>) -> String {
    match text {
        None => "None".to_owned(),
        Some(text) => format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'")),
    }
}

/// Whether `key` of `kw` is `true` (a missing key or another value is
/// not), read without making an error for the usual missing key.
fn flag(kw: &Kw, key: &str) -> bool {
    matches!(kw.value(key), Some(Value::Bool(true)))
}

fn seconds(value: f64) -> Option<Duration> {
    (value > 0.0)
        .then(|| Duration::try_from_secs_f64(value).ok())
        .flatten()
}

impl GRouter {
    /// The address the router listens on, with the port chosen for port 0;
    /// `None` without `server`.
    pub fn listen_address(&self, gaplic: &Gaplic) -> Option<String> {
        let listener = self.listener?;
        gaplic
            .gobj::<GServerSock>(listener)
            .map(|server| server.local_address().to_owned())
    }

    /// The names of the gaplics with an open route, and each route's mode
    /// (`ginsfsm` or `gaplic`).
    pub fn open_routes(&self) -> Vec<(String, &'static str)> {
        self.routes_by_id
            .values()
            .filter(|r| r.opened)
            .map(|r| (r.name.clone(), r.mode.name()))
            .collect()
    }

    /// Events waiting or in flight on the route to `gaplic`.
    pub fn backlog(&self, gaplic: &str) -> Option<usize> {
        self.routes_by_id
            .values()
            .find(|r| r.name == gaplic)
            .map(Route::backlog)
    }

    /// How many remote subscriptions to local gobjs there are.
    pub fn export_count(&self) -> usize {
        self.exports.len()
    }

    fn start_up(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        let me = cx
            .id()
            .ok_or_else(|| GobjError::failed("GRouter runs in a gaplic"))?;
        self.me = Some(me);
        self.incarnation = random_word();
        let bad = |error: String| {
            GobjError::from(ErrorKind::BadAttr {
                gclass: "GRouter",
                error: KwError::Refused {
                    key: "static_routes".into(),
                    value: "(see the reason)".into(),
                    reason: error,
                },
            })
        };
        let mut statics = parse_static_routes(&self.static_routes).map_err(bad)?;
        for text in &self.routes {
            statics.push(parse_static_route(text).map_err(bad)?);
        }
        let gaplic = cx.gaplic()?;
        self.name = gaplic.name().to_owned();
        self.roles = gaplic.roles().to_vec();
        if self.server {
            let listener = cx.create_child::<GServerSock>(
                "router-server",
                kw! {
                    "address" => self.listen.clone(),
                    "idle_timeout" => if self.ping_interval > 0.0 { self.ping_interval * 3.0 } else { 0.0 },
                    "tx_limit" => self.tx_limit,
                },
            )?;
            self.listener = Some(listener);
        }
        for route in statics {
            let addresses = route
                .urls
                .iter()
                .map(|url| socket_address(url))
                .collect::<Result<Vec<_>, _>>()
                .map_err(bad)?;
            let connex = cx.create_child::<GConnex>(
                &format!("route-{}", route.name),
                kw! {
                    "addresses" => addresses,
                    "reconnect_delay" => self.reconnect_delay,
                    "max_reconnect_delay" => self.max_reconnect_delay.max(self.reconnect_delay),
                    "tx_limit" => self.tx_limit,
                },
            )?;
            let gsock = cx
                .gaplic()?
                .gobj::<GConnex>(connex)
                .and_then(GConnex::gsock);
            let id = self.new_route(Route::new(
                route.name,
                route.roles,
                RouteKind::Static {
                    connex,
                    gsock,
                    urls: route.urls,
                },
            ));
            tracing::debug!(target: "gaplic::router", route = id, "static route");
        }
        self.arm_tick(cx)?;
        Ok(())
    }

    fn go_out(&mut self, cx: &mut Cx<Self>) {
        let routes: Vec<u64> = self.routes_by_id.keys().copied().collect();
        for id in routes {
            if let Some(mut route) = self.routes_by_id.remove(&id) {
                self.fail_all(cx, route.drain(), "the router is gone");
            }
        }
    }

    fn arm_tick(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        let every = seconds(self.ping_interval)
            .unwrap_or(Duration::from_secs(10))
            .min(
                seconds(self.route_linger)
                    .unwrap_or(Duration::MAX)
                    .max(Duration::from_millis(100)),
            );
        self.tick = Some(cx.set_timer(every, GRouterEvent::EV_TICK, Kw::new())?);
        Ok(())
    }

    fn new_route(&mut self, route: Route) -> u64 {
        self.next_route += 1;
        self.routes_by_id.insert(self.next_route, route);
        self.next_route
    }

    fn limit(&self) -> usize {
        usize::try_from(self.max_message_size).unwrap_or(usize::MAX)
    }

    /// The card this router shows: its name, roles, the extension token.
    fn card(&self, extra: Vec<String>) -> IdentityCard {
        let mut roles = self.roles.clone();
        roles.extend(extra);
        if self.extensions {
            roles.push(format!("={GAPLIC_TOKEN}/{}", self.incarnation));
        }
        IdentityCard {
            my_gaplic_name: Some(self.name.clone()),
            my_roles: roles,
        }
    }

    // ----- sockets ------------------------------------------------------------

    fn connected(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let Some(source) = ev.source() else {
            return Ok(Value::Null);
        };
        let route = self
            .routes_by_id
            .iter()
            .find(|(_, r)| matches!(r.kind, RouteKind::Static { connex, .. } if connex == source))
            .map(|(id, _)| *id);
        let limit = self.limit();
        let (url, gsock) =
            route
                .and_then(|id| self.routes_by_id.get(&id))
                .map_or((None, None), |r| match &r.kind {
                    RouteKind::Static { urls, gsock, .. } => {
                        (urls.first().map(|url| websocket_url(url)), *gsock)
                    }
                    RouteKind::Dynamic => (None, None),
                });
        let ws = match route {
            Some(_) => {
                let Some(url) = url else {
                    tracing::warn!(target: "gaplic::router", "a static route without a url");
                    return Ok(Value::Null);
                };
                match Link::client(&url, limit) {
                    Ok(ws) => ws,
                    Err(reason) => {
                        tracing::warn!(target: "gaplic::router", %reason, "cannot open the route");
                        return Ok(Value::Null);
                    }
                }
            }
            None => Link::server(limit),
        };
        let timer = seconds(self.handshake_timeout)
            .map(|t| cx.set_timer(t, GRouterEvent::EV_LINK_TIMEOUT, kw! { "link" => source }))
            .transpose()?;
        let now = cx.gaplic()?.now();
        self.links.insert(
            source,
            LinkState {
                ws,
                route,
                // A static route writes to its `GConnex`'s socket itself:
                // one hop and one copy less per write.
                sock: gsock.unwrap_or(source),
                timer,
                last_rx: now,
                rx_since_tick: false,
                nonces: (None, None),
                verified: self.secret.is_empty(),
                ends: format!(
                    "{}{}",
                    ev.get::<Option<String>>("peername")?.unwrap_or_default(),
                    ev.get::<Option<String>>("sockname")?.unwrap_or_default()
                ),
            },
        );
        self.dirty.push(source);
        self.schedule_flush(cx);
        Ok(Value::Null)
    }

    fn rx_data(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let Some(source) = ev.source() else {
            return Ok(Value::Null);
        };
        let data = ev
            .kw()
            .value("data")
            .and_then(Value::as_bytes)
            .unwrap_or_default();
        let Some(link) = self.links.get_mut(&source) else {
            return Ok(Value::Null);
        };
        link.rx_since_tick = true;
        let events = link.ws.feed(data);
        self.dirty.push(source);
        for event in events {
            match event {
                LinkEvent::Opened => self.link_opened(source),
                LinkEvent::Text(text) => self.message(cx, source, &text),
                LinkEvent::Closed(reason) => {
                    self.close_link(cx, source, &reason, true);
                    break;
                }
            }
            if !self.links.contains_key(&source) {
                break;
            }
        }
        self.schedule_flush(cx);
        Ok(Value::Null)
    }

    fn disconnected(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        if let Some(source) = ev.source() {
            let reason = ev
                .get::<Option<String>>("reason")
                .ok()
                .flatten()
                .unwrap_or_else(|| "disconnected".to_owned());
            self.close_link(cx, source, &reason, false);
        }
        self.schedule_flush(cx);
        Ok(Value::Null)
    }

    fn link_timeout(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let link: GobjId = ev.get("link")?;
        let open = self
            .links
            .get(&link)
            .and_then(|l| l.route)
            .is_some_and(|r| {
                self.routes_by_id
                    .get(&r)
                    .is_some_and(|route| route.opened && route.link == Some(link))
            });
        if let Some(state) = self.links.get_mut(&link) {
            state.timer = None;
            if !open {
                let reason = format!(
                    "handshake and identity card not done within {} s",
                    self.handshake_timeout
                );
                state.ws.close(&reason);
                self.dirty.push(link);
                self.flush(cx);
                self.close_link(cx, link, &reason, true);
            }
        }
        self.flush(cx);
        Ok(Value::Null)
    }

    fn tick(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        let now = cx.gaplic()?.now();
        for link in self.links.values_mut() {
            if std::mem::take(&mut link.rx_since_tick) {
                link.last_rx = now;
            }
        }
        if let Some(interval) = seconds(self.ping_interval) {
            // A peer that answers no ping (it does not read, or is gone
            // without a word) is let go.
            let silence = interval * 3;
            let silent: Vec<GobjId> = self
                .links
                .iter()
                .filter(|(_, l)| now.saturating_duration_since(l.last_rx) > silence)
                .map(|(id, _)| *id)
                .collect();
            for link in silent {
                let reason = format!(
                    "silent for {:.3} s: no answer to pings",
                    silence.as_secs_f64()
                );
                if let Some(state) = self.links.get_mut(&link) {
                    state.ws.close(&reason);
                    self.dirty.push(link);
                }
                self.close_link(cx, link, &reason, true);
            }
        }
        if self.ping_interval > 0.0 {
            for (id, link) in &mut self.links {
                if link.ws.is_open() {
                    link.ws.ping();
                    self.dirty.push(*id);
                }
            }
        }
        let linger = seconds(self.route_linger).unwrap_or(Duration::ZERO);
        let expired: Vec<u64> = self
            .routes_by_id
            .iter()
            .filter(|(_, r)| {
                r.parked_since
                    .is_some_and(|since| now.saturating_duration_since(since) >= linger)
            })
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            self.delete_route(cx, id, "the peer did not come back");
        }
        self.schedule_flush(cx);
        self.arm_tick(cx)?;
        Ok(Value::Null)
    }

    /// Has the links' output sent at the end of the turn, in one write
    /// per link.
    fn schedule_flush(&mut self, cx: &mut Cx<Self>) {
        if self.flush_posted || (self.dirty.is_empty() && self.pending_acks.is_empty()) {
            return;
        }
        let Some(me) = self.me else {
            return;
        };
        match cx.post(me, GRouterEvent::EV_FLUSH, Kw::new()) {
            Ok(()) => self.flush_posted = true,
            // Stopping: send now.
            Err(_) => self.flush(cx),
        }
    }

    fn flush_now(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.flush_posted = false;
        self.flush(cx);
        Ok(Value::Null)
    }

    /// Sends the acks that wait, then what each link touched has to send,
    /// each in one write.
    fn flush(&mut self, cx: &mut Cx<Self>) {
        while let Some(link) = self.pending_acks.keys().next().copied() {
            self.emit_pending_ack(link);
        }
        let mut dirty = std::mem::take(&mut self.dirty);
        dirty.sort_unstable();
        dirty.dedup();
        for id in dirty.drain(..) {
            let Some(link) = self.links.get_mut(&id) else {
                continue;
            };
            if !link.ws.has_output() {
                continue;
            }
            let data = link.ws.take_output();
            let sock = link.sock;
            if let Err(error) = cx.send(sock, "EV_SEND_DATA", kw! { "data" => data }) {
                tracing::warn!(target: "gaplic::router", %error, "cannot write to the link");
            }
        }
        if self.dirty.is_empty() {
            self.dirty = dirty;
        }
    }

    /// A link is gone: its socket closed (`drop` false) or the router
    /// closes it (`drop` true: the socket is dropped after what waits is
    /// sent).
    fn close_link(&mut self, cx: &mut Cx<Self>, link: GobjId, reason: &str, drop: bool) {
        self.flush(cx);
        self.pending_acks.remove(&link);
        let Some(state) = self.links.remove(&link) else {
            return;
        };
        if let Some(timer) = state.timer {
            cx.cancel_timer(timer);
        }
        tracing::info!(target: "gaplic::router", gaplic = %self.name, %reason, "link closed");
        if drop {
            self.drop_socket(cx, state.sock, state.route);
        }
        let Some(id) = state.route else {
            return;
        };
        let Some(route) = self.routes_by_id.get_mut(&id) else {
            return;
        };
        if route.link != Some(link) {
            return;
        }
        let was_open = route.opened;
        route.link = None;
        route.opened = false;
        route.requeue_in_flight();
        let name = route.name.clone();
        let is_static = route.is_static();
        let gaplic_mode = matches!(route.mode, Mode::Gaplic { .. });
        if is_static {
            // It redials; what waits goes out on the next link.
        } else if gaplic_mode {
            route.parked_since = Some(cx.gaplic().map_or_else(|_| Instant::now(), |g| g.now()));
        } else {
            self.delete_route(cx, id, reason);
        }
        if !is_static || gaplic_mode {
            self.drop_exports(cx, id);
        }
        if was_open {
            let closed = kw! { "gaplic" => name, "reason" => reason };
            if let Err(error) = cx.broadcast(GRouterEvent::EV_ROUTE_CLOSED, closed) {
                tracing::warn!(target: "gaplic::router", %error, "cannot publish EV_ROUTE_CLOSED");
            }
        }
    }

    /// Drops a connection: a static route's socket only (its `GConnex`
    /// dials again after its delay), a dynamic route's socket whole.
    fn drop_socket(&mut self, cx: &mut Cx<Self>, sock: GobjId, route: Option<u64>) {
        let target = route
            .and_then(|id| self.routes_by_id.get(&id))
            .and_then(|r| match r.kind {
                RouteKind::Static { gsock, .. } => gsock,
                RouteKind::Dynamic => None,
            })
            .unwrap_or(sock);
        if let Err(error) = cx.post(target, "EV_DROP", Kw::new()) {
            tracing::debug!(target: "gaplic::router", %error, "socket gone already");
        }
    }

    /// Deletes a route: what it holds fails, its subscriptions end.
    fn delete_route(&mut self, cx: &mut Cx<Self>, id: u64, reason: &str) {
        let Some(mut route) = self.routes_by_id.remove(&id) else {
            return;
        };
        let reason = format!("route to `{}` closed: {reason}", route.name);
        self.fail_all(cx, route.drain(), &reason);
        self.drop_exports(cx, id);
        self.imports.retain(|_, import| import.route != id);
    }

    /// Tells each sender of `pendings` that its event failed.
    fn fail_all(&mut self, cx: &mut Cx<Self>, pendings: Vec<Pending>, reason: &str) {
        for pending in pendings {
            self.fail(cx, &pending, reason);
        }
    }

    /// Tells the sender of `pending` that it failed, or traces it.
    fn fail(&mut self, cx: &mut Cx<Self>, pending: &Pending, reason: &str) {
        let event = &pending.event;
        tracing::warn!(
            target: "gaplic::router",
            gaplic = %self.name,
            event = %event.event_name,
            destination_gaplic = ?event.destination_gaplic,
            destination_gobj = %event.destination_gobj,
            %reason,
            "event not delivered"
        );
        let Some(notify) = &pending.notify else {
            return;
        };
        let failed = kw! {
            "gaplic" => event.destination_gaplic.clone(),
            "role" => event.destination_role.clone(),
            "gobj" => event.destination_gobj.clone(),
            "event" => event.event_name.clone(),
            "reason" => reason,
        };
        if let Err(error) = cx.post(notify.as_str(), EV_SEND_FAILED, failed) {
            tracing::warn!(target: "gaplic::router", %error, gobj = %notify, "cannot tell the sender");
        }
    }

    // ----- messages -----------------------------------------------------------

    fn link_opened(&mut self, link: GobjId) {
        let Some(route) = self.links.get(&link).and_then(|l| l.route) else {
            // A server waits for the client's card.
            return;
        };
        // A client: show the card, with the roles reachable back through
        // this gaplic (those of its dynamic routes).
        let back: Vec<String> = self
            .routes_by_id
            .values()
            .filter(|r| !r.is_static() && r.opened)
            .flat_map(|r| r.roles.iter().map(|role| format!("^{role}")))
            .collect();
        let mut back = back;
        if !self.secret.is_empty() {
            let nonce = random_word();
            back.push(format!("=nonce/{nonce}"));
            if let Some(state) = self.links.get_mut(&link) {
                state.nonces.0 = Some(nonce);
            }
        }
        let card = self.card(back);
        tracing::debug!(target: "gaplic::router", route, "link open, card sent");
        self.transmit(link, &Message::IdentityCard(card));
    }

    fn message(&mut self, cx: &mut Cx<Self>, link: GobjId, text: &str) {
        let message = match wire::decode_text(text, self.limit()) {
            Ok(message) => message,
            Err(error) => {
                self.bad_message(link, text, &error.to_string());
                return;
            }
        };
        match message {
            Message::IdentityCard(card) => self.identity_card(cx, link, card),
            Message::IdentityCardAck(card) => self.identity_card_ack(cx, link, card),
            Message::Event(event) => self.event(cx, link, event),
            Message::EventAck(ack) => self.ack(cx, link, ack.serial, None, ack.reference),
            Message::EventNack(nack) => {
                self.ack(cx, link, nack.serial, Some(nack.error_message), None);
            }
        }
    }

    /// A message that cannot be read: an event with a readable
    /// `event_name` and `serial` is nacked with the reason; anything else
    /// is traced and dropped (GinsFSM drops it silently).
    fn bad_message(&mut self, link: GobjId, text: &str, reason: &str) {
        tracing::warn!(target: "gaplic::router", gaplic = %self.name, %reason, "message refused");
        let Ok(serde_json::Value::Object(object)) = serde_json::from_str::<serde_json::Value>(text)
        else {
            return;
        };
        if object.get("message_type").and_then(|t| t.as_str()) != Some(wire::EVENT) {
            return;
        }
        let nack = EventNack {
            serial: object.get("serial").and_then(serde_json::Value::as_u64),
            event_name: object
                .get("event_name")
                .and_then(|n| n.as_str())
                .unwrap_or_default()
                .to_owned(),
            error_message: format!("message refused: {reason}"),
        };
        self.transmit(link, &Message::EventNack(nack));
    }

    fn identity_card(&mut self, cx: &mut Cx<Self>, link: GobjId, card: IdentityCard) {
        let Some(state) = self.links.get(&link) else {
            return;
        };
        if let Some(id) = state.route
            && self.routes_by_id.get(&id).is_some_and(Route::is_static)
        {
            tracing::warn!(target: "gaplic::router", "identity card on a route we dialed: ignored");
            return;
        }
        let subcontracted: Vec<String> = self
            .routes_by_id
            .values()
            .filter(|r| r.is_static())
            .flat_map(|r| r.roles.iter().map(|role| format!("*{role}")))
            .collect();
        let mut send_ack = true;
        if !self.secret.is_empty() {
            match self.check_client(link, &card) {
                Secret::Challenge(tokens) => {
                    let mut extra = subcontracted;
                    extra.extend(tokens);
                    let ack = self.card(extra);
                    self.transmit(link, &Message::IdentityCardAck(ack));
                    return;
                }
                Secret::Proven => send_ack = false,
                Secret::Refused(reason) => {
                    self.refuse_link(cx, link, &reason);
                    return;
                }
            }
        }
        let Some(state) = self.links.get(&link) else {
            return;
        };
        let mode = self.peer_mode(&card);
        let name = card
            .my_gaplic_name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| format!("^{}", state.ends));
        let roles: Vec<String> = card
            .my_roles
            .iter()
            .filter_map(|r| RoleEntry::parse(r).routable())
            .map(str::to_owned)
            .collect();
        // A gaplic peer coming back finds its parked route; a new
        // incarnation starts afresh.
        let existing = state.route.or_else(|| {
            self.routes_by_id
                .iter()
                .find(|(_, r)| !r.is_static() && r.name == name && r.link.is_none())
                .map(|(id, _)| *id)
        });
        let id = match existing {
            Some(id)
                if mode != Mode::GinsFsm
                    && self.routes_by_id.get(&id).is_some_and(|r| r.mode == mode) =>
            {
                id
            }
            Some(id) if state.route == Some(id) => id,
            Some(id) => {
                self.delete_route(cx, id, "the peer restarted");
                self.new_route(Route::new(name.clone(), roles.clone(), RouteKind::Dynamic))
            }
            None => self.new_route(Route::new(name.clone(), roles.clone(), RouteKind::Dynamic)),
        };
        if let Some(state) = self.links.get_mut(&link) {
            state.route = Some(id);
            if let Some(timer) = state.timer.take() {
                cx.cancel_timer(timer);
            }
        }
        let Some(route) = self.routes_by_id.get_mut(&id) else {
            return;
        };
        route.name = name.clone();
        route.roles = roles.clone();
        route.their_roles = card.my_roles.clone();
        if route.mode != mode {
            route.delivered = 0;
        }
        // A card again on an open link only updates the route (GinsFSM's
        // "UPDATE"): nothing is sent again, nothing announced again.
        let again = route.opened && route.link == Some(link);
        route.mode = mode.clone();
        route.link = Some(link);
        route.opened = true;
        route.parked_since = None;
        if !again {
            route.requeue_in_flight();
        }
        if send_ack {
            let ack = self.card(subcontracted);
            self.transmit(link, &Message::IdentityCardAck(ack));
        }
        if !again {
            self.route_opened(cx, id, "dynamic");
        }
    }

    fn identity_card_ack(&mut self, cx: &mut Cx<Self>, link: GobjId, card: IdentityCard) {
        if !self.secret.is_empty() {
            match self.check_server(link, &card) {
                Ok(proof) => {
                    let mut roles = self.roles.clone();
                    roles.push(format!("={GAPLIC_TOKEN}/{}", self.incarnation));
                    roles.push(format!("=proof/{proof}"));
                    let card = IdentityCard {
                        my_gaplic_name: Some(self.name.clone()),
                        my_roles: roles,
                    };
                    self.transmit(link, &Message::IdentityCard(card));
                }
                Err(reason) => {
                    let route = self.links.get(&link).and_then(|l| l.route);
                    self.refuse_link(cx, link, &reason);
                    if let Some(route) = route.and_then(|id| self.routes_by_id.get_mut(&id)) {
                        let pendings = route.drain();
                        self.fail_all(cx, pendings, &reason);
                    }
                    return;
                }
            }
        }
        let Some(id) = self.links.get_mut(&link).and_then(|state| {
            if let Some(timer) = state.timer.take() {
                cx.cancel_timer(timer);
            }
            state.route
        }) else {
            tracing::warn!(target: "gaplic::router", "identity card ack on a route we did not dial: ignored");
            return;
        };
        let mode = self.peer_mode(&card);
        let Some(route) = self.routes_by_id.get_mut(&id) else {
            return;
        };
        if let Some(name) = card.my_gaplic_name.as_ref().filter(|n| !n.is_empty())
            && *name != route.name
        {
            tracing::info!(target: "gaplic::router", from = %route.name, to = %name, "route renamed by its peer");
            route.name = name.clone();
        }
        for role in card
            .my_roles
            .iter()
            .filter_map(|r| RoleEntry::parse(r).routable())
        {
            if !route.has_role(role) {
                route.roles.push(role.to_owned());
            }
        }
        if route.mode != mode {
            // Another peer behind the same address: start the serials anew.
            route.mode = mode;
            route.delivered = 0;
        }
        route.their_roles = card.my_roles;
        route.link = Some(link);
        route.opened = true;
        route.requeue_in_flight();
        self.route_opened(cx, id, "static");
    }

    /// The tokens of `card` that start with `prefix` (`nonce/`, `proof/`).
    fn token<'c>(card: &'c IdentityCard, prefix: &str) -> Option<&'c str> {
        card.my_roles
            .iter()
            .find_map(|r| match RoleEntry::parse(r) {
                RoleEntry::Token(token) => token.strip_prefix(prefix),
                _ => None,
            })
    }

    /// The server's side of the secret: a first card gets a challenge (the
    /// server's nonce and its proof); the client's second card must bring
    /// its proof.
    fn check_client(&mut self, link: GobjId, card: &IdentityCard) -> Secret {
        let secret = self.secret.clone();
        let Some(state) = self.links.get_mut(&link) else {
            return Secret::Refused("the link is gone".to_owned());
        };
        if let Some(proof) = Self::token(card, "proof/") {
            let (Some(theirs), Some(ours)) = (&state.nonces.1, &state.nonces.0) else {
                return Secret::Refused("a proof of the shared secret before any challenge".into());
            };
            if same(proof, &prove(&secret, "client", theirs, ours)) {
                state.verified = true;
                return Secret::Proven;
            }
            return Secret::Refused(format!(
                "gaplic {} failed the shared secret check",
                py_repr(card.my_gaplic_name.as_deref())
            ));
        }
        let theirs = Self::token(card, "nonce/").unwrap_or_default().to_owned();
        let ours = random_word();
        let proof = prove(&secret, "server", &theirs, &ours);
        state.nonces = (Some(ours.clone()), Some(theirs));
        // A peer without a nonce cannot answer: its events are nacked
        // until its link times out.
        Secret::Challenge(vec![format!("=nonce/{ours}"), format!("=proof/{proof}")])
    }

    /// The client's side of the secret: the server's ack must prove it;
    /// then the client's proof goes back.
    fn check_server(&mut self, link: GobjId, card: &IdentityCard) -> Result<String, String> {
        let peer = py_repr(card.my_gaplic_name.as_deref());
        let state = self.links.get_mut(&link).ok_or("the link is gone")?;
        let ours = state.nonces.0.clone().unwrap_or_default();
        let (Some(theirs), Some(proof)) =
            (Self::token(card, "nonce/"), Self::token(card, "proof/"))
        else {
            return Err(format!("gaplic {peer} does not prove the shared secret"));
        };
        if !same(proof, &prove(&self.secret, "server", &ours, theirs)) {
            return Err(format!("gaplic {peer} failed the shared secret check"));
        }
        state.verified = true;
        Ok(prove(&self.secret, "client", &ours, theirs))
    }

    /// Closes a link whose peer is refused, saying why.
    fn refuse_link(&mut self, cx: &mut Cx<Self>, link: GobjId, reason: &str) {
        tracing::warn!(target: "gaplic::router", gaplic = %self.name, %reason, "peer refused");
        if let Some(state) = self.links.get_mut(&link) {
            state.ws.close(reason);
            self.dirty.push(link);
        }
        self.close_link(cx, link, reason, true);
    }

    /// How the peer of `card` speaks.
    fn peer_mode(&self, card: &IdentityCard) -> Mode {
        if !self.extensions {
            return Mode::GinsFsm;
        }
        card.my_roles
            .iter()
            .find_map(|r| match RoleEntry::parse(r) {
                RoleEntry::Token(token) => token
                    .strip_prefix(GAPLIC_TOKEN)
                    .and_then(|rest| rest.strip_prefix('/'))
                    .map(|incarnation| Mode::Gaplic {
                        incarnation: incarnation.to_owned(),
                    }),
                _ => None,
            })
            .unwrap_or(Mode::GinsFsm)
    }

    /// The card exchange is done: tell subscribers, subscribe again what
    /// local gobjs had subscribed through the route, send what waits.
    fn route_opened(&mut self, cx: &mut Cx<Self>, id: u64, kind: &str) {
        let Some(route) = self.routes_by_id.get(&id) else {
            return;
        };
        let opened = kw! {
            "gaplic" => route.name.clone(),
            "roles" => route.roles.clone(),
            "kind" => kind,
            "mode" => route.mode.name(),
        };
        tracing::info!(target: "gaplic::router", gaplic = %self.name, peer = %route.name, mode = route.mode.name(), kind, "route open");
        let resubscribe: Vec<u64> = self
            .imports
            .iter()
            .filter(|(_, i)| i.route == id && i.reference.is_some())
            .map(|(key, _)| *key)
            .collect();
        for key in resubscribe {
            if let Some(import) = self.imports.get_mut(&key) {
                import.reference = None;
                let import = import.clone();
                let event = self.subscribe_message(&import, true);
                if let Some(route) = self.routes_by_id.get_mut(&id) {
                    route.queue.push_back(Pending {
                        event,
                        notify: Some(import.subscriber.clone()),
                        import: Some(key),
                    });
                }
            }
        }
        self.pump(id);
        if let Err(error) = cx.broadcast(GRouterEvent::EV_ROUTE_OPENED, opened) {
            tracing::warn!(target: "gaplic::router", %error, "cannot publish EV_ROUTE_OPENED");
        }
    }

    fn ack(
        &mut self,
        cx: &mut Cx<Self>,
        link: GobjId,
        serial: Option<u64>,
        refused: Option<String>,
        reference: Option<String>,
    ) {
        let Some(id) = self.links.get(&link).and_then(|l| l.route) else {
            tracing::warn!(target: "gaplic::router", "ack or nack on a link without a route: ignored");
            return;
        };
        let Some(route) = self.routes_by_id.get_mut(&id) else {
            return;
        };
        if refused.is_none()
            && reference.is_none()
            && matches!(route.mode, Mode::Gaplic { .. })
            && let Some(serial) = serial
        {
            if route.release_through(serial) == 0 {
                tracing::warn!(target: "gaplic::router", peer = %route.name, serial, "ack of no event in flight");
            }
            self.pump(id);
            return;
        }
        let Some((pending, matched)) = route.release(serial) else {
            tracing::warn!(target: "gaplic::router", peer = %route.name, ?serial, "ack or nack of no event in flight");
            return;
        };
        if !matched {
            tracing::warn!(target: "gaplic::router", peer = %route.name, ?serial, sent = ?pending.event.serial, "ack with another serial");
        }
        match refused {
            Some(reason) => {
                if let Some(import) = pending.import {
                    self.imports.remove(&import);
                }
                self.fail(
                    cx,
                    &pending,
                    &format!(
                        "refused by `{}`: {reason}",
                        route_name(&self.routes_by_id, id)
                    ),
                );
            }
            None => {
                if let (Some(import), Some(reference)) = (pending.import, reference)
                    && let Some(import) = self.imports.get_mut(&import)
                {
                    import.reference = Some(reference);
                }
            }
        }
        self.pump(id);
    }

    fn event(&mut self, cx: &mut Cx<Self>, link: GobjId, mut event: IntraEvent) {
        if !self.links.get(&link).is_some_and(|l| l.verified) {
            let reason =
                "refused: this router takes events only from peers that prove its shared secret";
            self.nack(link, &event, reason.to_owned());
            return;
        }
        let route_id = self.links.get(&link).and_then(|l| l.route);
        if let Some(route) = route_id.and_then(|id| self.routes_by_id.get(&id))
            && !route.is_static()
            && event.origin_gaplic.as_deref().is_none_or(str::is_empty)
        {
            event.origin_gaplic = Some(route.name.clone());
        }
        let for_name = event
            .destination_gaplic
            .as_deref()
            .and_then(|g| g.split_whitespace().next())
            .is_some_and(|first| first == self.name);
        let for_role = event
            .destination_role
            .as_deref()
            .is_some_and(|role| !role.is_empty() && self.roles.iter().any(|r| r == role));
        if !(for_name || for_role) {
            self.forward(link, event);
            return;
        }
        let Some(dst) = cx
            .gaplic()
            .ok()
            .and_then(|g| g.find_unique_gobj(&event.destination_gobj))
        else {
            let reason = format!("GObj {} UNKNOWN", py_repr(Some(&event.destination_gobj)));
            self.nack(link, &event, reason);
            return;
        };
        if flag(&event.kw, "__subscribe_event__") {
            self.export(cx, link, route_id, dst, event);
            return;
        }
        if flag(&event.kw, "__unsubscribe_event__") {
            self.unexport(cx, &event);
            self.ack_event(link, &event, None);
            return;
        }
        self.deliver(cx, link, route_id, dst, event);
    }

    fn deliver(
        &mut self,
        cx: &mut Cx<Self>,
        link: GobjId,
        route_id: Option<u64>,
        dst: GobjId,
        event: IntraEvent,
    ) {
        // With a gaplic peer, the last serial delivered from it: what it
        // sends again after a reconnect is not delivered twice.
        let delivered = route_id
            .and_then(|id| self.routes_by_id.get(&id))
            .and_then(|r| match r.mode {
                Mode::Gaplic { .. } => Some(r.delivered),
                Mode::GinsFsm => None,
            });
        if let (Some(last), Some(serial)) = (delivered, event.serial)
            && serial <= last
        {
            // Sent again after a reconnect, delivered already.
            self.ack_event(link, &event, None);
            return;
        }
        if delivered.is_none() {
            // GinsFSM: ack before delivery.
            self.ack_event(link, &event, None);
        }
        let subscribe_response = event
            .kw
            .get::<bool>("__subscribe_response__")
            .unwrap_or(false);
        let mut event = event;
        let kw = std::mem::take(&mut event.kw);
        // The origin goes with the event, for `Cx::reply`; an action
        // return needs it again.
        let origin_role = match std::mem::take(&mut event.origin_role) {
            Roles::One(role) => Some(role),
            roles => roles.first().map(str::to_owned),
        };
        let (origin_gaplic, origin_gobj) = if subscribe_response {
            (event.origin_gaplic.clone(), event.origin_gobj.clone())
        } else {
            (event.origin_gaplic.take(), event.origin_gobj.take())
        };
        let mut origin = Origin::new(
            origin_gaplic.unwrap_or_default(),
            origin_gobj.unwrap_or_default(),
        );
        if let Some(role) = origin_role {
            origin = origin.with_role(role);
        }
        let result = cx.send_with_origin(dst, EventKey::from(event.event_name.clone()), kw, origin);
        if let (Some(_), Some(serial)) = (delivered, event.serial) {
            if let Some(route) = route_id.and_then(|id| self.routes_by_id.get_mut(&id)) {
                route.delivered = route.delivered.max(serial);
            }
            match &result {
                Ok(_) => self.ack_event(link, &event, None),
                Err(error) => {
                    let reason = error.to_string();
                    self.nack(link, &event, reason);
                }
            }
        } else if let Err(error) = &result {
            tracing::warn!(target: "gaplic::router", event = %event.event_name, gobj = %event.destination_gobj, %error, "delivery failed after the ack");
        }
        if subscribe_response && let Some(id) = route_id {
            let value = match result {
                Ok(sent) => sent.into_value().unwrap_or_default(),
                Err(error) => Value::from(error.to_string()),
            };
            let value = match wire::check_value(&value, "__action_return__") {
                Ok(()) => value,
                Err(error) => Value::from(error.to_string()),
            };
            let response = IntraEvent {
                serial: None,
                event_name: event.event_name.clone(),
                destination_gaplic: event.origin_gaplic.clone(),
                destination_role: None,
                destination_gobj: event.origin_gobj.clone().unwrap_or_default(),
                origin_gaplic: Some(self.name.clone()),
                origin_role: Roles::None,
                origin_gobj: Some(event.destination_gobj.clone()),
                kw: kw! { "__action_return__" => value },
            };
            self.enqueue(id, response, None, None)
                .unwrap_or_else(|reason| {
                    tracing::warn!(target: "gaplic::router", %reason, "action return not sent");
                });
        }
    }

    /// Whether the link carries a route to a gaplic peer.
    fn gaplic_link(&self, link: GobjId) -> bool {
        self.links
            .get(&link)
            .and_then(|l| l.route)
            .and_then(|id| self.routes_by_id.get(&id))
            .is_some_and(|r| matches!(r.mode, Mode::Gaplic { .. }))
    }

    /// Sends the ack that waits on `link`, if any.
    fn emit_pending_ack(&mut self, link: GobjId) {
        if let Some((serial, event_name)) = self.pending_acks.remove(&link) {
            let ack = EventAck {
                serial: Some(serial),
                event_name,
                reference: None,
            };
            self.transmit(link, &Message::EventAck(ack));
        }
    }

    /// Acknowledges `event`. To a gaplic peer, a plain ack waits for the
    /// end of the turn and covers every event before it on the link.
    fn ack_event(&mut self, link: GobjId, event: &IntraEvent, reference: Option<String>) {
        if reference.is_none()
            && let Some(serial) = event.serial
            && self.gaplic_link(link)
        {
            self.pending_acks
                .insert(link, (serial, event.event_name.clone()));
            return;
        }
        self.emit_pending_ack(link);
        let ack = EventAck {
            serial: event.serial,
            event_name: event.event_name.clone(),
            reference,
        };
        self.transmit(link, &Message::EventAck(ack));
    }

    fn nack(&mut self, link: GobjId, event: &IntraEvent, reason: String) {
        self.emit_pending_ack(link);
        tracing::warn!(target: "gaplic::router", gaplic = %self.name, event = %event.event_name, %reason, "event refused");
        let nack = EventNack {
            serial: event.serial,
            event_name: event.event_name.clone(),
            error_message: reason,
        };
        self.transmit(link, &Message::EventNack(nack));
    }

    fn forward(&mut self, link: GobjId, mut event: IntraEvent) {
        let Some(id) = self.search(
            event.destination_gaplic.as_deref(),
            event.destination_role.as_deref(),
        ) else {
            let reason = format!(
                "Destination gaplic {} or role {} NOT FOUND",
                py_repr(event.destination_gaplic.as_deref()),
                py_repr(event.destination_role.as_deref())
            );
            self.nack(link, &event, reason);
            return;
        };
        let usable = self
            .routes_by_id
            .get(&id)
            .is_some_and(|r| r.link.is_some() || r.is_static() || r.parked_since.is_some());
        if !usable {
            self.nack(link, &event, "Route found but DISCONNECTED".to_owned());
            return;
        }
        let serial = event.serial;
        event.serial = None;
        match self.enqueue(id, event.clone(), None, None) {
            Ok(()) => {
                event.serial = serial;
                self.ack_event(link, &event, None);
            }
            Err(_) => {
                event.serial = serial;
                self.nack(link, &event, "route_dst event queue FULL".to_owned());
            }
        }
    }

    /// The route for a gaplic name, then for a role: static routes first,
    /// then dynamic ones that are connected (or parked, for gaplic peers).
    fn search(&self, gaplic: Option<&str>, role: Option<&str>) -> Option<u64> {
        let usable = |r: &Route| r.is_static() || r.link.is_some() || r.parked_since.is_some();
        let gaplic = gaplic.filter(|g| !g.is_empty());
        let role = role.filter(|r| !r.is_empty());
        let by = |pick: &dyn Fn(&Route) -> bool| {
            self.routes_by_id
                .iter()
                .filter(|(_, r)| r.is_static())
                .chain(self.routes_by_id.iter().filter(|(_, r)| !r.is_static()))
                .find(|(_, r)| usable(r) && pick(r))
                .map(|(id, _)| *id)
        };
        gaplic
            .and_then(|g| by(&|r: &Route| r.name == g))
            .or_else(|| role.and_then(|role| by(&|r: &Route| r.has_role(role))))
    }

    /// Queues `event` on route `id` and sends what the window allows.
    fn enqueue(
        &mut self,
        id: u64,
        event: IntraEvent,
        notify: Option<String>,
        import: Option<u64>,
    ) -> Result<(), String> {
        let limit = usize::try_from(self.queue_limit).unwrap_or(usize::MAX);
        let route = self
            .routes_by_id
            .get_mut(&id)
            .ok_or_else(|| "the route is gone".to_owned())?;
        if route.backlog() >= limit {
            return Err(format!(
                "the queue of the route to `{}` is full ({limit} events)",
                route.name
            ));
        }
        route.queue.push_back(Pending {
            event,
            notify,
            import,
        });
        self.pump(id);
        Ok(())
    }

    /// Sends what waits on route `id`, as far as its window allows.
    fn pump(&mut self, id: u64) {
        let window = usize::try_from(self.window).unwrap_or(usize::MAX);
        let Some(route) = self.routes_by_id.get_mut(&id) else {
            return;
        };
        let (Some(link), true) = (route.link, route.opened) else {
            return;
        };
        let Some(state) = self.links.get_mut(&link) else {
            return;
        };
        let mut sent = false;
        while route.in_flight.len() < route.window(window) {
            let Some(mut pending) = route.queue.pop_front() else {
                break;
            };
            if pending.event.serial.is_none() {
                pending.event.serial = Some(route.next_serial());
            }
            match wire::encode_event(&pending.event) {
                Ok(text) => {
                    if let Err(reason) = state.ws.send_text(text) {
                        tracing::warn!(target: "gaplic::router", %reason, "message not sent");
                    }
                    sent = true;
                }
                // Payloads are checked when queued, and forwarded ones
                // came as JSON: this cannot happen, but it is traced.
                Err(error) => tracing::warn!(target: "gaplic::router", %error, "event not sent"),
            }
            route.in_flight.push_back(pending);
        }
        if sent {
            self.dirty.push(link);
        }
    }

    /// Writes one message on a link (sent at the next flush).
    fn transmit(&mut self, link: GobjId, message: &Message) {
        let text = match wire::encode_to_string(message) {
            Ok(text) => text,
            Err(error) => {
                tracing::warn!(target: "gaplic::router", %error, "message not sent");
                return;
            }
        };
        let Some(state) = self.links.get_mut(&link) else {
            return;
        };
        if let Err(reason) = state.ws.send_text(text) {
            tracing::warn!(target: "gaplic::router", %reason, "message not sent");
        }
        self.dirty.push(link);
    }

    // ----- the router's own inputs ---------------------------------------------

    /// The unique name of `ev`'s sender, or the gobj its `from` names.
    fn sender(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Result<String, GobjError> {
        let gaplic = cx.gaplic()?;
        if let Some(from) = ev.get::<Option<String>>("from")? {
            if gaplic.find_unique_gobj(&from).is_none() {
                return Err(GobjError::failed(format!(
                    "{}: `from` names `{from}`, which is not a unique gobj",
                    ev.name()
                )));
            }
            return Ok(from);
        }
        let Some(source) = ev.source() else {
            return Err(GobjError::failed(format!(
                "{} came from no gobj: name the sending unique gobj in `from`",
                ev.name()
            )));
        };
        if let Some(name) = self.names.get(&source)
            && gaplic.find_unique_gobj(name) == Some(source)
        {
            return Ok(name.to_string());
        }
        let found = gaplic
            .unique_names()
            .into_iter()
            .find(|name| gaplic.find_unique_gobj(name) == Some(source))
            .map(str::to_owned);
        match found {
            Some(name) => {
                self.names.insert(source, name.as_str().into());
                Ok(name)
            }
            None => Err(GobjError::failed(format!(
                "{}: the sender {source} has no unique name, so no answer could reach it",
                ev.name()
            ))),
        }
    }

    fn send_event(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let target = Target::from_event(ev)?;
        let sender = self.sender(cx, ev)?;
        let kw = ev.get::<Option<Kw>>("kw")?.unwrap_or_default();
        self.send_out(&target, sender, kw, None)?;
        self.schedule_flush(cx);
        Ok(Value::Null)
    }

    fn send_out(
        &mut self,
        target: &Target,
        sender: String,
        kw: Kw,
        import: Option<u64>,
    ) -> Result<(), GobjError> {
        if target.gaplic.as_deref() == Some(self.name.as_str())
            || target
                .role
                .as_deref()
                .is_some_and(|r| self.roles.iter().any(|mine| mine == r))
        {
            return Err(GobjError::failed(format!(
                "{} is in this gaplic: send to it directly",
                target.describe()
            )));
        }
        wire::check_kw(&kw).map_err(GobjError::failed)?;
        let Some(id) = self.search(target.gaplic.as_deref(), target.role.as_deref()) else {
            return Err(GobjError::failed(format!(
                "no route to {}",
                target.describe()
            )));
        };
        let event = IntraEvent {
            serial: None,
            event_name: target.event.clone(),
            destination_gaplic: target.gaplic.clone(),
            destination_role: target.role.clone(),
            destination_gobj: target.gobj.clone(),
            origin_gaplic: Some(self.name.clone()),
            origin_role: self.roles.first().cloned().map_or(Roles::None, Roles::One),
            origin_gobj: Some(sender.clone()),
            kw,
        };
        self.enqueue(id, event, Some(sender), import)
            .map_err(|reason| GobjError::failed(format!("{} not sent: {reason}", target.event)))
    }

    fn subscribe_message(&self, import: &Import, subscribe: bool) -> IntraEvent {
        let mut kw = import.kw.clone();
        if subscribe {
            kw.insert("__subscribe_event__", true);
        } else {
            kw.insert("__unsubscribe_event__", true);
            kw.insert("__subscription_reference__", import.reference.clone());
        }
        IntraEvent {
            serial: None,
            event_name: import.event.clone(),
            destination_gaplic: import.gaplic.clone(),
            destination_role: import.role.clone(),
            destination_gobj: import.gobj.clone(),
            origin_gaplic: Some(self.name.clone()),
            origin_role: self.roles.first().cloned().map_or(Roles::None, Roles::One),
            origin_gobj: Some(import.subscriber.clone()),
            kw,
        }
    }

    fn subscribe_event(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let target = Target::from_event(ev)?;
        let sender = self.sender(cx, ev)?;
        let Some(route) = self.search(target.gaplic.as_deref(), target.role.as_deref()) else {
            return Err(GobjError::failed(format!(
                "no route to {}",
                target.describe()
            )));
        };
        self.next_import += 1;
        let key = self.next_import;
        let import = Import {
            route,
            gaplic: target.gaplic.clone(),
            role: target.role.clone(),
            gobj: target.gobj.clone(),
            event: target.event.clone(),
            subscriber: sender.clone(),
            kw: ev.get::<Option<Kw>>("kw")?.unwrap_or_default(),
            reference: None,
        };
        let event = self.subscribe_message(&import, true);
        self.imports.insert(key, import);
        if let Err(reason) = self.enqueue(route, event, Some(sender), Some(key)) {
            self.imports.remove(&key);
            return Err(GobjError::failed(format!(
                "subscription not sent: {reason}"
            )));
        }
        self.schedule_flush(cx);
        Ok(Value::Null)
    }

    fn unsubscribe_event(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let target = Target::from_event(ev)?;
        let sender = self.sender(cx, ev)?;
        let Some((key, import)) = self
            .imports
            .iter()
            .find(|(_, i)| {
                i.subscriber == sender
                    && i.gobj == target.gobj
                    && i.event == target.event
                    && i.gaplic == target.gaplic
                    && i.role == target.role
            })
            .map(|(k, i)| (*k, i.clone()))
        else {
            return Err(GobjError::failed(format!(
                "`{sender}` has no subscription to `{}` of {}",
                target.event,
                target.describe()
            )));
        };
        self.imports.remove(&key);
        let event = self.subscribe_message(&import, false);
        self.enqueue(import.route, event, Some(sender), None)
            .map_err(|reason| GobjError::failed(format!("unsubscription not sent: {reason}")))?;
        self.schedule_flush(cx);
        Ok(Value::Null)
    }

    // ----- subscriptions of remote gobjs to local ones --------------------------

    fn export(
        &mut self,
        cx: &mut Cx<Self>,
        link: GobjId,
        route: Option<u64>,
        publisher: GobjId,
        event: IntraEvent,
    ) {
        let Some(route) = route else {
            self.nack(
                link,
                &event,
                "Cannot make external subscription: no identity card on this link".to_owned(),
            );
            return;
        };
        let Some(me) = self.me else {
            return;
        };
        let limit = usize::try_from(self.max_remote_subscriptions).unwrap_or(usize::MAX);
        if self.exports.len() >= limit {
            let reason =
                format!("Cannot make external subscription: {limit} remote subscriptions already");
            self.nack(link, &event, reason);
            return;
        }
        let already = self
            .exports
            .values()
            .any(|e| e.publisher == publisher && e.event == event.event_name);
        if !already {
            let options = SubscribeOptions::new().rename(GRouterEvent::EV_SUBSCRIPTION.name());
            let subscribed = cx
                .gaplic()
                .and_then(|g| g.subscribe(publisher, Some(&event.event_name), me, options));
            if let Err(error) = subscribed {
                self.nack(link, &event, format!("Cannot subscribe event: {error}"));
                return;
            }
        }
        let reference = random_word();
        self.exports.insert(
            reference.clone(),
            Export {
                publisher,
                publisher_name: event.destination_gobj.clone(),
                event: event.event_name.clone(),
                route,
                gaplic: event.origin_gaplic.clone(),
                role: event.origin_role.first().map(str::to_owned),
                gobj: event.origin_gobj.clone().unwrap_or_default(),
            },
        );
        self.ack_event(link, &event, Some(reference));
    }

    fn unexport(&mut self, cx: &mut Cx<Self>, event: &IntraEvent) {
        let reference = event
            .kw
            .get::<Option<String>>("__subscription_reference__")
            .ok()
            .flatten();
        let gone: Vec<String> = match reference {
            Some(reference) => vec![reference],
            None => self
                .exports
                .iter()
                .filter(|(_, e)| {
                    e.publisher_name == event.destination_gobj
                        && e.event == event.event_name
                        && e.gaplic == event.origin_gaplic
                        && Some(&e.gobj) == event.origin_gobj.as_ref()
                })
                .map(|(r, _)| r.clone())
                .collect(),
        };
        for reference in gone {
            self.remove_export(cx, &reference);
        }
    }

    fn remove_export(&mut self, cx: &mut Cx<Self>, reference: &str) {
        let Some(export) = self.exports.remove(reference) else {
            return;
        };
        let still = self
            .exports
            .values()
            .any(|e| e.publisher == export.publisher && e.event == export.event);
        if !still
            && let (Some(me), Ok(gaplic)) = (self.me, cx.gaplic())
            && gaplic.contains(export.publisher)
        {
            let _ = gaplic.unsubscribe(export.publisher, Some(&export.event), me, true);
        }
    }

    fn drop_exports(&mut self, cx: &mut Cx<Self>, route: u64) {
        let gone: Vec<String> = self
            .exports
            .iter()
            .filter(|(_, e)| e.route == route)
            .map(|(r, _)| r.clone())
            .collect();
        for reference in gone {
            self.remove_export(cx, &reference);
        }
    }

    /// A local gobj broadcast an event remote gobjs subscribed to: each
    /// gets it, under its own name.
    fn subscription(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let Some(publisher) = ev.source() else {
            return Ok(Value::Null);
        };
        let name: String = ev.get("original_event_name")?;
        let targets: Vec<(String, Export)> = self
            .exports
            .iter()
            .filter(|(_, e)| e.publisher == publisher && e.event == name)
            .map(|(r, e)| (r.clone(), e.clone()))
            .collect();
        for (reference, export) in targets {
            let mut kw = ev.kw().clone();
            kw.insert("__subscription_reference__", reference.clone());
            if let Err(error) = wire::check_kw(&kw) {
                tracing::warn!(target: "gaplic::router", %error, event = %name, "broadcast not sent to a remote subscriber");
                continue;
            }
            let event = IntraEvent {
                serial: None,
                event_name: name.clone(),
                destination_gaplic: export.gaplic.clone(),
                destination_role: export.role.clone(),
                destination_gobj: export.gobj.clone(),
                origin_gaplic: Some(self.name.clone()),
                origin_role: self.roles.first().cloned().map_or(Roles::None, Roles::One),
                origin_gobj: Some(export.publisher_name.clone()),
                kw,
            };
            if let Err(reason) = self.enqueue(export.route, event, None, None) {
                tracing::warn!(target: "gaplic::router", %reason, event = %name, subscriber = %export.gobj, "broadcast lost for a remote subscriber");
                if !self.routes_by_id.contains_key(&export.route) {
                    self.remove_export(cx, &reference);
                }
            }
        }
        self.schedule_flush(cx);
        Ok(Value::Null)
    }
}

fn route_name(routes: &BTreeMap<u64, Route>, id: u64) -> String {
    routes.get(&id).map_or_else(String::new, |r| r.name.clone())
}
