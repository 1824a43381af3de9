//! Subscriptions across gaplics: local gobjs subscribed to remote
//! publishers (imports), and remote gobjs subscribed to local ones
//! (exports), with what a broadcast sends them.

use super::*;

impl GRouter {
    pub(super) fn subscribe_message(&self, import: &Import, subscribe: bool) -> IntraEvent {
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
            origin_role: self.origin_role(),
            origin_gobj: Some(import.subscriber.clone()),
            kw,
        }
    }

    pub(super) fn subscribe_event(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
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

    pub(super) fn unsubscribe_event(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
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

    pub(super) fn export(
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

    pub(super) fn unexport(&mut self, cx: &mut Cx<Self>, event: &IntraEvent) {
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

    pub(super) fn drop_exports(&mut self, cx: &mut Cx<Self>, route: u64) {
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
    pub(super) fn subscription(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
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
                origin_role: self.origin_role(),
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
