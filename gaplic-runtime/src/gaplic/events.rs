//! Events: send, post, broadcast, and the subscriptions a broadcast
//! follows.

use std::sync::Arc;

use super::Gaplic;
use crate::dest::{Dest, Remote};
use crate::error::ErrorKind;
use crate::error::{GobjError, Ret};
use crate::event::Origin;
use crate::event::Sent;
use crate::gobj::EventKey;
use crate::id::{GobjId, SubscriptionId};
use crate::kw::Kw;
use crate::meta::GclassMeta;
use crate::pubsub::SubscribeOptions;
use crate::pubsub::{Plan, Refusal};
use crate::queue::Queued;
use crate::thread::GaplicHandle;

/// The unique name of the gobj a gaplic hands its posts for gaplics it does
/// not know to (a router, carrying them to other processes and hosts).
pub const ROUTER: &str = "router";

/// The event a post for another gaplic reaches the [`ROUTER`] as, with the
/// keys `gaplic` and/or `role`, `gobj`, `event`, `kw` (the payload) and
/// `from` (the sender's name, for replies).
pub const ROUTER_SEND: &str = "EV_SEND_EVENT";

/// The gobj an event comes from, with its name (for an origin that another
/// gaplic can reply to).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sender<'a> {
    pub(crate) id: GobjId,
    pub(crate) name: &'a Arc<str>,
}

impl Gaplic {
    /// Sends an event directly: the receiver's action runs now and its
    /// result comes back as [`Sent::Done`]. A receiver that is mid-action
    /// (a send from inside an action to a gobj up the chain of sends that
    /// led to it) gets the event right after that action returns, before
    /// anything else reaches it, and this returns [`Sent::Queued`]: not an
    /// error, so `?` goes on; the queued event's result is traced if it is
    /// an error, since nobody receives it.
    ///
    /// Direct sends nest (an action sends, the receiver's action sends...)
    /// at most [`GaplicBuilder::max_send_depth`](crate::GaplicBuilder::max_send_depth)
    /// deep. Use [`post`](Gaplic::post) to break a chain, or when the
    /// sender must not wait for the receiver at all.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownGobj`] / [`ErrorKind::Destroyed`] for a bad
    /// destination, [`ErrorKind::TooDeep`] past the nesting limit; otherwise
    /// what the machine or the action returns.
    pub fn send<'d>(
        &mut self,
        dst: impl Into<Dest<'d>>,
        event: impl Into<EventKey>,
        kw: Kw,
    ) -> Result<Sent, GobjError> {
        self.send_from(None, dst.into(), event.into(), kw)
    }

    pub(crate) fn send_from(
        &mut self,
        sender: Option<Sender<'_>>,
        dst: Dest<'_>,
        event: EventKey,
        kw: Kw,
    ) -> Result<Sent, GobjError> {
        if let Dest::Remote(remote) = &dst {
            if !self.is_here(remote) {
                // Another gaplic: it cannot run now, on this thread.
                self.post_remote(sender, remote, event, kw)?;
                return Ok(Sent::Queued);
            }
            let queued = self.addressed_here(sender, remote, event, kw)?;
            return self.deliver(queued);
        }
        let dst = self.resolve(&dst)?;
        self.deliver(Queued::local(dst, event, kw, sender.map(|s| s.id)))
    }

    /// Sends an event to a gobj of this gaplic as [`send`](Gaplic::send)
    /// does, on behalf of `origin`, a gobj of another gaplic: the receiver
    /// finds it in [`Event::origin`](crate::Event::origin) and its
    /// [`Cx::reply`](crate::Cx::reply) answers there.
    ///
    /// # Errors
    ///
    /// As [`send`](Gaplic::send); [`ErrorKind::NotLocal`] when `dst` is in
    /// another gaplic (an event on behalf of another gaplic is delivered
    /// where it was going, not passed on).
    pub fn send_with_origin<'d>(
        &mut self,
        dst: impl Into<Dest<'d>>,
        event: impl Into<EventKey>,
        kw: Kw,
        origin: Origin,
    ) -> Result<Sent, GobjError> {
        self.send_with_origin_from(None, dst.into(), event.into(), kw, origin)
    }

    pub(crate) fn send_with_origin_from(
        &mut self,
        source: Option<GobjId>,
        dst: Dest<'_>,
        event: EventKey,
        kw: Kw,
        origin: Origin,
    ) -> Result<Sent, GobjError> {
        let dst = self.resolve(&dst)?;
        let mut queued = Queued::local(dst, event, kw, source);
        queued.origin = Some(Box::new(origin));
        self.deliver(queued)
    }

    /// Queues an event for the loop, which delivers posted events in FIFO
    /// order, each with its real source. What the receiver answers is
    /// traced if it is an error.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownGobj`] / [`ErrorKind::Destroyed`] for a bad
    /// destination; [`ErrorKind::Stopped`] once a stop was asked (what was
    /// posted before it is still delivered).
    pub fn post<'d>(
        &mut self,
        dst: impl Into<Dest<'d>>,
        event: impl Into<EventKey>,
        kw: Kw,
    ) -> Result<(), GobjError> {
        self.post_from(None, dst.into(), event.into(), kw)
    }

    pub(crate) fn post_from(
        &mut self,
        sender: Option<Sender<'_>>,
        dst: Dest<'_>,
        event: EventKey,
        kw: Kw,
    ) -> Result<(), GobjError> {
        self.running()?;
        if let Dest::Remote(remote) = &dst {
            if !self.is_here(remote) {
                return self.post_remote(sender, remote, event, kw);
            }
            let queued = self.addressed_here(sender, remote, event, kw)?;
            self.queue.push(queued);
            return Ok(());
        }
        let dst = self.resolve(&dst)?;
        self.queue
            .push(Queued::local(dst, event, kw, sender.map(|s| s.id)));
        Ok(())
    }

    /// Whether `remote` names this gaplic: by name, or by one of its roles
    /// (with both, either will do, as a router decides).
    pub(super) fn is_here(&self, remote: &Remote<'_>) -> bool {
        let by_name = remote.gaplic.as_deref().map(|gaplic| gaplic == &*self.name);
        let by_role = remote
            .role
            .as_deref()
            .map(|role| self.roles.iter().any(|mine| role == mine));
        match (by_name, by_role) {
            (None, None) => true,
            (name, role) => name == Some(true) || role == Some(true),
        }
    }

    /// An event addressed by gaplic and gobj to a gobj of this gaplic: it
    /// keeps its real source, and has this gaplic and the sender as its
    /// origin, as it would have coming from another gaplic.
    fn addressed_here(
        &self,
        sender: Option<Sender<'_>>,
        remote: &Remote<'_>,
        event: EventKey,
        kw: Kw,
    ) -> Result<Queued, GobjError> {
        let dst = self.resolve(&Dest::Unique(remote.gobj.clone()))?;
        let from = sender.map_or_else(|| self.unnamed.clone(), |s| s.name.clone());
        let mut queued = Queued::local(dst, event, kw, sender.map(|s| s.id));
        queued.origin = Some(Box::new(Origin::new(self.name.clone(), from)));
        Ok(queued)
    }

    /// Posts `event` to a gobj of another gaplic: one of this process
    /// found by name or role, or else through this gaplic's router. The
    /// event's origin is this gaplic and the sender's name, for replies.
    fn post_remote(
        &mut self,
        sender: Option<Sender<'_>>,
        remote: &Remote<'_>,
        event: EventKey,
        kw: Kw,
    ) -> Result<(), GobjError> {
        self.running()?;
        let from = sender.map_or_else(|| self.unnamed.clone(), |s| s.name.clone());
        let origin = Origin::new(self.name.clone(), from.clone());
        let gobj = self.names.intern(&remote.gobj);
        let event = EventKey::from(self.names.intern(event.name()));
        if let Some(handle) = self
            .peers
            .find(remote.gaplic.as_deref(), remote.role.as_deref())
        {
            return match handle.post_with_origin(gobj, event, kw, Some(origin)) {
                Ok(()) => Ok(()),
                Err(stopped) => {
                    // It stopped: forget it, so a gaplic started again
                    // under that name is found next time; one that is gone
                    // is named as such.
                    self.peers.forget(&handle);
                    Err(GaplicHandle::find(handle.name()).err().unwrap_or(stopped))
                }
            };
        }
        let Some(router) = self.registry.find_unique(ROUTER) else {
            return Err(match (&remote.gaplic, &remote.role) {
                (Some(gaplic), _) => ErrorKind::UnknownGaplic {
                    name: gaplic.to_string(),
                },
                (None, role) => ErrorKind::UnknownGaplic {
                    name: format!("(role `{}`)", role.as_deref().unwrap_or_default()),
                },
            }
            .into());
        };
        let mut request = Kw::new()
            .with("gobj", &*gobj)
            .with("event", event.name())
            .with("kw", kw)
            .with("from", &*from);
        if let Some(gaplic) = &remote.gaplic {
            request.insert("gaplic", &**gaplic);
        }
        if let Some(role) = &remote.role {
            request.insert("role", &**role);
        }
        // Handed over now, so that what the router knows at once (no route
        // there, a full queue) is the caller's error; the event itself
        // still travels later. A router mid-action gets it right after, and
        // its refusal is traced then.
        let source = sender.map(|s| s.id);
        self.deliver(Queued::local(
            router,
            EventKey::from(ROUTER_SEND),
            request,
            source,
        ))
        .map(drop)
    }

    /// Publishes output event `event` of `publisher` to its subscribers, in
    /// subscription order, each by send or by post as it subscribed, each
    /// subscriber once. After each sent delivery the publisher's
    /// owned-event filter, if any, sees the result and may stop the
    /// broadcast.
    ///
    /// Who gets it is fixed when the broadcast starts: the subscriptions of
    /// that moment. One ended during the broadcast (by `unsubscribe` or
    /// `delete_subscription(s)` from a subscriber's action) still gets this
    /// one, unless its subscriber was destroyed; one made during it starts
    /// with the next broadcast; a re-subscription keeps its place. If a
    /// subscriber destroys the publisher (or asks for it, while the
    /// publisher broadcasts from its own action), the broadcast ends there.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Destroyed`] for a dead publisher;
    /// [`ErrorKind::NotOutput`] when the event is not one of its output
    /// events. A subscriber's own error is traced, not returned.
    pub fn broadcast(
        &mut self,
        publisher: GobjId,
        event: impl Into<EventKey>,
        kw: Kw,
    ) -> Result<(), GobjError> {
        let event = event.into();
        let meta = self.live_meta(publisher)?;
        let name = output_event(meta, event.name())?;
        let registry = &self.registry;
        let Plan {
            mut deliveries,
            unresolved,
        } = self
            .pubsub
            .plan(publisher, name, |unique| registry.find_unique(unique));
        for subscriber in unresolved {
            tracing::warn!(
                target: "gaplic",
                gaplic = %self.name,
                event = name,
                %subscriber,
                "subscriber not found; event not delivered"
            );
        }
        let mut kw = Some(kw);
        let last = deliveries.len().saturating_sub(1);
        for (i, mut delivery) in deliveries.drain(..).enumerate() {
            if !self.registry.contains(publisher) || self.registry.is_destroy_requested(publisher) {
                // Destroyed by a subscriber (or asked to be, while it
                // broadcasts from its own action): it publishes no more.
                break;
            }
            if !self.registry.contains(delivery.dst) {
                // Destroyed by an earlier delivery of this broadcast.
                continue;
            }
            // The last one gets the payload itself, the others a copy.
            let payload = if i == last {
                kw.take().unwrap_or_default()
            } else {
                kw.clone().unwrap_or_default()
            };
            let payload = delivery.payload(payload);
            let queued = Queued::local(delivery.dst, delivery.event, payload, Some(publisher));
            if delivery.post {
                self.queue.push(queued);
                continue;
            }
            let ret: Ret = match self.deliver(queued) {
                Ok(Sent::Done(value)) => Ok(value),
                Ok(Sent::Queued) => continue,
                Err(error) => {
                    if !error.is_destroyed() {
                        self.trace_unreceived(delivery.dst, name, &error);
                    }
                    Err(error)
                }
            };
            match self.pubsub.filter_stops(publisher, &ret) {
                Ok(true) => break,
                Ok(false) => {}
                Err(message) => tracing::error!(
                    target: "gaplic",
                    gaplic = %self.name,
                    publisher = %publisher,
                    event = name,
                    %message,
                    "the owned-event filter panicked; the broadcast goes on"
                ),
            }
        }
        self.pubsub.recycle(deliveries);
        Ok(())
    }

    /// The gclass of a live gobj.
    fn live_meta(&self, id: GobjId) -> Result<&'static GclassMeta, GobjError> {
        self.registry
            .meta(id)
            .ok_or_else(|| ErrorKind::Destroyed { gobj: id }.into())
    }

    /// Subscribes `subscriber` to output event `event` of `publisher`
    /// (`None`: to all of them). Subscribing the same subscriber to the same
    /// event again updates the subscription in place: same id, same place
    /// in the order, the new options (a hard subscription stays hard).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Destroyed`] for a dead publisher or subscriber;
    /// [`ErrorKind::NotOutput`] when the publisher does not declare the
    /// event as output (nothing is stored).
    pub fn subscribe<'d>(
        &mut self,
        publisher: GobjId,
        event: Option<&str>,
        subscriber: impl Into<Dest<'d>>,
        options: SubscribeOptions,
    ) -> Result<SubscriptionId, GobjError> {
        let meta = self.live_meta(publisher)?;
        let event = event.map(|e| output_event(meta, e)).transpose()?;
        let subscriber = match subscriber.into().into_owned() {
            Dest::Remote(remote) if self.is_here(&remote) => Dest::Unique(remote.gobj),
            Dest::Remote(remote) => {
                return Err(ErrorKind::NotLocal {
                    dest: remote.to_string(),
                }
                .into());
            }
            other => other,
        };
        if let Dest::Gobj(gobj) = subscriber {
            self.registry.live(gobj)?;
        }
        let (id, notice) = self.pubsub.subscribe(publisher, event, subscriber, options);
        if let Some(notice) = notice
            && let Err(error) =
                self.send_from(None, Dest::Gobj(publisher), notice.event.into(), notice.kw)
        {
            self.trace_unreceived(publisher, notice.event, &error);
        }
        Ok(id)
    }

    /// Ends the subscription of `subscriber` to `event` of `publisher`
    /// (`None`: the one to all events); a hard one only with `force`.
    /// Returns the id it had.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Destroyed`] for a dead publisher,
    /// [`ErrorKind::NotOutput`] for an event it does not publish,
    /// [`ErrorKind::NoSubscription`] when there is no such subscription,
    /// [`ErrorKind::HardSubscription`] when it is hard and `force` is off.
    pub fn unsubscribe<'d>(
        &mut self,
        publisher: GobjId,
        event: Option<&str>,
        subscriber: impl Into<Dest<'d>>,
        force: bool,
    ) -> Result<SubscriptionId, GobjError> {
        let meta = self.live_meta(publisher)?;
        let event = event.map(|e| output_event(meta, e)).transpose()?;
        let id = self
            .pubsub
            .find(publisher, event, subscriber.into().into_owned())
            .ok_or_else(|| ErrorKind::NoSubscription {
                publisher: Some(publisher),
                event: event.map(str::to_owned),
            })?;
        self.delete_subscription(id, force)?;
        Ok(id)
    }

    /// Ends subscription `id`; a hard one only with `force`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NoSubscription`] when it ended already,
    /// [`ErrorKind::HardSubscription`] when it is hard and `force` is off.
    pub fn delete_subscription(
        &mut self,
        id: SubscriptionId,
        force: bool,
    ) -> Result<(), GobjError> {
        let described = self.pubsub.describe(id);
        match self.pubsub.delete(id, force) {
            Ok(()) => Ok(()),
            Err(Refusal::Missing) => Err(ErrorKind::NoSubscription {
                publisher: None,
                event: None,
            }
            .into()),
            Err(Refusal::Hard) => {
                let (publisher, event) = described.expect("a hard subscription exists");
                Err(ErrorKind::HardSubscription { publisher, event }.into())
            }
        }
    }

    /// Ends the subscriptions to `publisher`'s events (hard ones only with
    /// `force`); returns how many ended.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Destroyed`] for a dead publisher.
    pub fn delete_subscriptions(
        &mut self,
        publisher: GobjId,
        force: bool,
    ) -> Result<usize, GobjError> {
        self.registry.live(publisher)?;
        Ok(self.pubsub.delete_published(publisher, force))
    }

    /// How many subscriptions `publisher` has.
    pub fn subscription_count(&self, publisher: GobjId) -> usize {
        self.pubsub.count(publisher)
    }

    /// Sets `publisher`'s owned-event filter: after each sent delivery of a
    /// broadcast, it sees the result; `true` stops the broadcast there. A
    /// filter that panics is traced and stops nothing.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Destroyed`] for a dead publisher.
    pub fn set_owned_event_filter(
        &mut self,
        publisher: GobjId,
        filter: impl FnMut(&Ret) -> bool + 'static,
    ) -> Result<(), GobjError> {
        self.registry.live(publisher)?;
        self.pubsub.set_filter(publisher, Box::new(filter));
        Ok(())
    }

    /// Has `publisher` sent `event` (one of its input events) whenever a
    /// subscription to it is made, with keys `subscriber` and `event`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Destroyed`] for a dead publisher;
    /// [`ErrorKind::UnknownEvent`] when `event` is not one of its input
    /// events (checked now, not at the first subscription).
    pub fn set_new_subscriber_event(
        &mut self,
        publisher: GobjId,
        event: &str,
    ) -> Result<(), GobjError> {
        let meta = self.live_meta(publisher)?;
        let Some(declared) = meta.event(event).filter(|e| e.input()) else {
            return Err(ErrorKind::UnknownEvent {
                gclass: meta.name(),
                gobj: self
                    .name_of(publisher)
                    .map_or_else(|| publisher.to_string(), str::to_owned)
                    .into(),
                event: event.to_owned(),
            }
            .into());
        };
        self.pubsub.set_notice(publisher, declared.name());
        Ok(())
    }
}

/// The declared name of output event `event` of `meta`.
fn output_event(meta: &'static GclassMeta, event: &str) -> Result<&'static str, GobjError> {
    match meta.event(event) {
        Some(declared) if declared.output() => Ok(declared.name()),
        _ => Err(ErrorKind::NotOutput {
            gclass: meta.name(),
            event: event.to_owned(),
        }
        .into()),
    }
}
