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

mod handshake;
mod links;
mod messages;
mod subscriptions;

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

    /// The role its events go out with: GinsFSM's messages carry one.
    fn origin_role(&self) -> Roles {
        self.roles.first().cloned().map_or(Roles::None, Roles::One)
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
            origin_role: self.origin_role(),
            origin_gobj: Some(sender.clone()),
            kw,
        };
        self.enqueue(id, event, Some(sender), import)
            .map_err(|reason| GobjError::failed(format!("{} not sent: {reason}", target.event)))
    }
}

fn route_name(routes: &BTreeMap<u64, Route>, id: u64) -> String {
    routes.get(&id).map_or_else(String::new, |r| r.name.clone())
}
