//! The messages of a link: each read and dispatched by type, events
//! delivered here or forwarded, acks and nacks, and the queues of each
//! route pumped onto its link.

use super::*;

impl GRouter {
    pub(super) fn link_opened(&mut self, link: GobjId) {
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

    pub(super) fn message(&mut self, cx: &mut Cx<Self>, link: GobjId, text: &str) {
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

    /// The card exchange is done: tell subscribers, subscribe again what
    /// local gobjs had subscribed through the route, send what waits.
    pub(super) fn route_opened(&mut self, cx: &mut Cx<Self>, id: u64, kind: &str) {
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
    pub(super) fn emit_pending_ack(&mut self, link: GobjId) {
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
    pub(super) fn ack_event(
        &mut self,
        link: GobjId,
        event: &IntraEvent,
        reference: Option<String>,
    ) {
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

    pub(super) fn nack(&mut self, link: GobjId, event: &IntraEvent, reason: String) {
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
    pub(super) fn search(&self, gaplic: Option<&str>, role: Option<&str>) -> Option<u64> {
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
    pub(super) fn enqueue(
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
    pub(super) fn transmit(&mut self, link: GobjId, message: &Message) {
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
}
