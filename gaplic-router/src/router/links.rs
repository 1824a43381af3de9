//! The links of a router: its sockets connecting and closing, bytes in
//! and out through the websocket framing, the tick that measures silence,
//! flushing, and the end of a route with what waited on it.

use super::*;

impl GRouter {
    pub(super) fn connected(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
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

    pub(super) fn rx_data(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
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

    pub(super) fn disconnected(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
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

    pub(super) fn link_timeout(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
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

    pub(super) fn tick(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
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
    pub(super) fn schedule_flush(&mut self, cx: &mut Cx<Self>) {
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

    pub(super) fn flush_now(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
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
    pub(super) fn close_link(&mut self, cx: &mut Cx<Self>, link: GobjId, reason: &str, drop: bool) {
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
    pub(super) fn delete_route(&mut self, cx: &mut Cx<Self>, id: u64, reason: &str) {
        let Some(mut route) = self.routes_by_id.remove(&id) else {
            return;
        };
        let reason = format!("route to `{}` closed: {reason}", route.name);
        self.fail_all(cx, route.drain(), &reason);
        self.drop_exports(cx, id);
        self.imports.retain(|_, import| import.route != id);
    }

    /// Tells each sender of `pendings` that its event failed.
    pub(super) fn fail_all(&mut self, cx: &mut Cx<Self>, pendings: Vec<Pending>, reason: &str) {
        for pending in pendings {
            self.fail(cx, &pending, reason);
        }
    }

    /// Tells the sender of `pending` that it failed, or traces it.
    pub(super) fn fail(&mut self, cx: &mut Cx<Self>, pending: &Pending, reason: &str) {
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
}
