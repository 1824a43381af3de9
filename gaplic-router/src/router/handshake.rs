//! The identity-card exchange of a link: GinsFSM's card and its ack, the
//! negotiation of gaplic's extensions, and the shared-secret check.

use super::*;

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

impl GRouter {
    pub(super) fn identity_card(&mut self, cx: &mut Cx<Self>, link: GobjId, card: IdentityCard) {
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

    pub(super) fn identity_card_ack(
        &mut self,
        cx: &mut Cx<Self>,
        link: GobjId,
        card: IdentityCard,
    ) {
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
}
