//! Routes: where events for other gaplics go, their queues and serials,
//! and the `static_routes` setting. No IO.

use std::collections::VecDeque;
use std::time::Instant;

use gaplic_runtime::GobjId;

use crate::wire::IntraEvent;

/// The extension token a gaplic router puts in `my_roles`, followed by
/// `/` and its incarnation (a random word drawn at start-up). GinsFSM
/// stores it as one more role and never routes by it.
pub const GAPLIC_TOKEN: &str = "gaplic/1";

/// How a route's peer speaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// GinsFSM's rules: one event in flight, serials cycling 1..10, ack
    /// before delivery.
    GinsFsm,
    /// Both sides are gaplic: several events in flight, serials that never
    /// repeat, ack after delivery, retransmission after a reconnect
    /// without duplicates.
    Gaplic {
        /// The peer's incarnation: a new one means it restarted.
        incarnation: String,
    },
}

impl Mode {
    /// `"ginsfsm"` or `"gaplic"`.
    pub fn name(&self) -> &'static str {
        match self {
            Mode::GinsFsm => "ginsfsm",
            Mode::Gaplic { .. } => "gaplic",
        }
    }
}

/// One route of the `static_routes` setting: a gaplic this one dials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaticRoute {
    /// The gaplic's name.
    pub name: String,
    /// Its roles.
    pub roles: Vec<String>,
    /// Its websocket URLs (`ws://host:port/path`), tried in turn.
    pub urls: Vec<String>,
}

/// Reads GinsFSM's `static_routes`: `name, role1+role2, url1+url2; ...`
/// (the roles may be left out: `name, url`).
///
/// # Errors
///
/// A message naming the route and what is wrong with it.
///
/// # Examples
///
/// ```
/// use gaplic_router::route::parse_static_routes;
///
/// let routes = parse_static_routes("sca1, sca+scb, ws://localhost:8002+ws://localhost:8003; sca2, ws://h:1")?;
/// assert_eq!(routes[0].roles, ["sca", "scb"]);
/// assert_eq!(routes[0].urls.len(), 2);
/// assert!(routes[1].roles.is_empty());
/// assert!(parse_static_routes("lonely").is_err());
/// # Ok::<(), String>(())
/// ```
pub fn parse_static_routes(text: &str) -> Result<Vec<StaticRoute>, String> {
    text.split(';')
        .map(str::trim)
        .filter(|route| !route.is_empty())
        .map(parse_static_route)
        .collect()
}

/// Reads one route: `name, role1+role2, url1+url2` or `name, url`.
///
/// # Errors
///
/// A message naming the route and what is wrong with it.
pub fn parse_static_route(text: &str) -> Result<StaticRoute, String> {
    let fields: Vec<&str> = text
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .collect();
    let plus = |field: &str| -> Vec<String> {
        field
            .split('+')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let (name, roles, urls) = match fields.as_slice() {
        [name, urls] => (*name, Vec::new(), plus(urls)),
        [name, roles, urls] => (*name, plus(roles), plus(urls)),
        _ => {
            return Err(format!(
                "static route `{text}`: expected `name, role1+role2, url1+url2` or `name, url`"
            ));
        }
    };
    for url in &urls {
        socket_address(url).map_err(|e| format!("static route `{name}`: {e}"))?;
    }
    Ok(StaticRoute {
        name: name.to_owned(),
        roles,
        urls,
    })
}

/// The `host:port` a websocket URL dials (`ws://host:port/path`, or
/// `http://`, as GinsFSM writes them).
///
/// # Errors
///
/// A message naming the URL when it has another scheme or no port.
pub fn socket_address(url: &str) -> Result<String, String> {
    let rest = ["ws://", "http://"]
        .iter()
        .find_map(|scheme| url.strip_prefix(scheme))
        .ok_or_else(|| format!("url `{url}` does not start with `ws://` or `http://`"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
            Ok(authority.to_owned())
        }
        _ => Err(format!("url `{url}` has no `host:port`")),
    }
}

/// The same URL with a `ws://` scheme, as the handshake needs it.
pub(crate) fn websocket_url(url: &str) -> String {
    match url.strip_prefix("http://") {
        Some(rest) => format!("ws://{rest}"),
        None => url.to_owned(),
    }
}

/// Which side of the connection this gaplic is on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteKind {
    /// It dials: a static route, redialled while the router lives.
    Static {
        /// The dialing gobj (a `GConnex`).
        connex: GobjId,
        /// Its socket, to drop a connection without stopping the dialing.
        gsock: Option<GobjId>,
        /// The URLs.
        urls: Vec<String>,
    },
    /// It listens: a dynamic route, made by a peer's identity card.
    Dynamic,
}

/// An event waiting on a route, or in flight on it.
#[derive(Clone, Debug)]
pub struct Pending {
    /// The message; its serial is given at its first transmission.
    pub event: IntraEvent,
    /// The local gobj to tell if it fails (its unique name).
    pub notify: Option<String>,
    /// The import this event subscribes, whose reference its ack brings.
    pub import: Option<u64>,
}

/// A gaplic this one reaches, directly connected.
#[derive(Debug)]
pub struct Route {
    /// The peer's name.
    pub name: String,
    /// The roles it is reached for: configured, and from its card.
    pub roles: Vec<String>,
    /// What its card said, as given.
    pub their_roles: Vec<String>,
    /// Static or dynamic.
    pub kind: RouteKind,
    /// The socket gobj of its open link, if any.
    pub link: Option<GobjId>,
    /// Whether the identity cards were exchanged on that link.
    pub opened: bool,
    /// How the peer speaks.
    pub mode: Mode,
    /// The last serial given.
    serial: u64,
    /// Events waiting to be sent.
    pub queue: VecDeque<Pending>,
    /// Events sent and not yet acknowledged, oldest first.
    pub in_flight: VecDeque<Pending>,
    /// Since when a closed dynamic route of a gaplic peer waits for it to
    /// come back.
    pub parked_since: Option<Instant>,
    /// The last serial delivered from a gaplic peer (of its current
    /// incarnation): what it sends again after a reconnect up to there is
    /// acked, not delivered again.
    pub delivered: u64,
}

impl Route {
    /// A route to `name`, not connected.
    pub fn new(name: String, roles: Vec<String>, kind: RouteKind) -> Route {
        Route {
            name,
            roles,
            their_roles: Vec::new(),
            kind,
            link: None,
            opened: false,
            mode: Mode::GinsFsm,
            serial: 0,
            queue: VecDeque::new(),
            in_flight: VecDeque::new(),
            parked_since: None,
            delivered: 0,
        }
    }

    /// Whether it is a static route.
    pub fn is_static(&self) -> bool {
        matches!(self.kind, RouteKind::Static { .. })
    }

    /// Events queued or in flight.
    pub fn backlog(&self) -> usize {
        self.queue.len() + self.in_flight.len()
    }

    /// Whether it is reached for `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// How many events may be in flight at once: one with GinsFSM, the
    /// window with a gaplic peer.
    pub fn window(&self, window: usize) -> usize {
        match self.mode {
            Mode::GinsFsm => 1,
            Mode::Gaplic { .. } => window.max(1),
        }
    }

    /// The next serial: cycling 1..10 with GinsFSM, counting up with a
    /// gaplic peer (so a retransmission is recognised).
    pub fn next_serial(&mut self) -> u64 {
        self.serial = match self.mode {
            Mode::GinsFsm => self.serial % 10 + 1,
            Mode::Gaplic { .. } => self.serial + 1,
        };
        self.serial
    }

    /// Starts over on a new link: what was in flight goes first in the
    /// queue, to be sent again.
    pub fn requeue_in_flight(&mut self) {
        while let Some(pending) = self.in_flight.pop_back() {
            self.queue.push_front(pending);
        }
    }

    /// Takes the event in flight an ack or nack of `serial` is for: with
    /// GinsFSM any ack releases the one in flight (a serial mismatch is
    /// only traced, as GinsFSM does); with a gaplic peer it is the one of
    /// that serial. Returns it and whether the serial matched.
    pub fn release(&mut self, serial: Option<u64>) -> Option<(Pending, bool)> {
        match self.mode {
            Mode::GinsFsm => {
                let pending = self.in_flight.pop_front()?;
                let matched = serial.is_none() || pending.event.serial == serial;
                Some((pending, matched))
            }
            Mode::Gaplic { .. } => {
                let at = self
                    .in_flight
                    .iter()
                    .position(|p| p.event.serial == serial)?;
                self.in_flight.remove(at).map(|p| (p, true))
            }
        }
    }

    /// Drops the events in flight up to `serial` included (a gaplic
    /// peer's ack covers every event before it); returns how many.
    pub fn release_through(&mut self, serial: u64) -> usize {
        let mut released = 0;
        while self
            .in_flight
            .front()
            .is_some_and(|p| p.event.serial.is_some_and(|s| s <= serial))
        {
            self.in_flight.pop_front();
            released += 1;
        }
        released
    }

    /// Empties the route: everything queued or in flight.
    pub fn drain(&mut self) -> Vec<Pending> {
        let mut all: Vec<Pending> = self.in_flight.drain(..).collect();
        all.extend(self.queue.drain(..));
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(name: &str) -> Pending {
        Pending {
            event: IntraEvent {
                event_name: name.to_owned(),
                ..IntraEvent::default()
            },
            notify: None,
            import: None,
        }
    }

    #[test]
    fn static_routes_read_ginsfsm_syntax_and_name_faults() {
        let routes = parse_static_routes(
            " sca1, sca+sca, http://localhost:8002+http://localhost:8002;\n sca2, sca, ws://localhost:8003/x; ",
        )
        .unwrap();
        assert_eq!(routes.len(), 2);
        assert_eq!(routes[0].name, "sca1");
        assert_eq!(routes[0].roles, ["sca", "sca"]);
        assert_eq!(routes[1].urls, ["ws://localhost:8003/x"]);
        assert_eq!(
            socket_address(&routes[1].urls[0]).unwrap(),
            "localhost:8003"
        );
        let error = parse_static_routes("a, b, ftp://x:1").unwrap_err();
        assert_eq!(
            error,
            "static route `a`: url `ftp://x:1` does not start with `ws://` or `http://`"
        );
        assert!(
            parse_static_routes("a, b, ws://x")
                .unwrap_err()
                .contains("no `host:port`")
        );
        assert!(parse_static_routes("a, b, c, d").is_err());
        assert_eq!(websocket_url("http://h:1/p"), "ws://h:1/p");
    }

    #[test]
    fn serials_cycle_with_ginsfsm_and_count_with_gaplic() {
        let mut route = Route::new("p".into(), vec![], RouteKind::Dynamic);
        let serials: Vec<u64> = (0..12).map(|_| route.next_serial()).collect();
        assert_eq!(serials, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1, 2]);
        route.mode = Mode::Gaplic {
            incarnation: "x".into(),
        };
        assert_eq!(route.next_serial(), 3);
        assert_eq!(route.window(16), 16);
    }

    #[test]
    fn release_follows_each_mode() {
        let mut route = Route::new("p".into(), vec![], RouteKind::Dynamic);
        let mut a = pending("A");
        a.event.serial = Some(4);
        route.in_flight.push_back(a);
        let (released, matched) = route.release(Some(5)).unwrap();
        assert_eq!((released.event.event_name.as_str(), matched), ("A", false));
        route.mode = Mode::Gaplic {
            incarnation: "x".into(),
        };
        for serial in 1..=3 {
            let mut p = pending("B");
            p.event.serial = Some(serial);
            route.in_flight.push_back(p);
        }
        assert!(route.release(Some(9)).is_none());
        assert_eq!(route.release(Some(2)).unwrap().0.event.serial, Some(2));
        route.queue.push_back(pending("C"));
        route.requeue_in_flight();
        let order: Vec<_> = route.queue.iter().map(|p| p.event.serial).collect();
        assert_eq!(order, [Some(1), Some(3), None]);
        assert_eq!(route.drain().len(), 3);
        assert_eq!(route.backlog(), 0);
    }
}
