//! Subscriptions: who gets a gobj's output events, and how.
//!
//! This room owns every subscription of a gaplic, indexed by publisher (in
//! subscription order, for delivery), by holder (so they die with their
//! subscriber) and by (publisher, event, subscriber) (so re-subscribing is
//! O(1) and updates in place); the publishers' owned-event filters and
//! new-subscriber notices; and the rule of a broadcast, which it hands
//! back as a [`Plan`]: the deliveries to make, fixed when the broadcast
//! starts, with renames, references, first shots and duplicates applied.
//!
//! Lists by publisher and by holder drop ended subscriptions lazily: an
//! ended one stays in its lists, skipped because its id is stale, until
//! they hold more stale ids than live ones and are compacted. Every
//! operation is O(1) amortized, whatever the number of subscribers.

use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use crate::dest::Dest;
use crate::error::Ret;
use crate::gobj::EventKey;
use crate::id::{GobjId, SubscriptionId};
use crate::kw::Kw;
use crate::names::{FastMap, Hasher};
use crate::slab::Slab;
use crate::value::Value;

/// How a subscription delivers: GinsFSM's subscription options.
///
/// # Examples
///
/// ```
/// use gaplic::SubscribeOptions;
///
/// let options = SubscribeOptions::new()
///     .post()
///     .rename("EV_CHILD_DONE")
///     .reference("child-1")
///     .hard();
/// assert!(options.post && options.hard);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct SubscribeOptions {
    /// Deliver through the queue instead of a direct send.
    pub post: bool,
    /// Deliver under this name; the payload gets `original_event_name`.
    pub rename: Option<String>,
    /// Survives `unsubscribe` and `delete_subscriptions` unless forced,
    /// and a later soft subscription of the same subscriber to the same
    /// event; only the death of either end, or force, removes it.
    pub hard: bool,
    /// Added to the payload as `subscription_reference`.
    pub reference: Option<Value>,
    /// Removed after its first delivery.
    pub first_shot: bool,
}

impl SubscribeOptions {
    /// Send, no rename, soft, no reference, not first-shot.
    pub fn new() -> Self {
        Self::default()
    }

    /// Deliver through the queue.
    #[must_use]
    pub fn post(mut self) -> Self {
        self.post = true;
        self
    }

    /// Deliver as `name`.
    #[must_use]
    pub fn rename(mut self, name: impl Into<String>) -> Self {
        self.rename = Some(name.into());
        self
    }

    /// A hard subscription.
    #[must_use]
    pub fn hard(mut self) -> Self {
        self.hard = true;
        self
    }

    /// Add `reference` to every delivered payload.
    #[must_use]
    pub fn reference(mut self, reference: impl Into<Value>) -> Self {
        self.reference = Some(reference.into());
        self
    }

    /// Deliver once, then end.
    #[must_use]
    pub fn first_shot(mut self) -> Self {
        self.first_shot = true;
        self
    }
}

/// A publisher's owned-event filter: `true` stops the broadcast.
pub(crate) type OwnedEventFilter = Box<dyn FnMut(&Ret) -> bool>;

/// One subscription.
struct Subscription {
    publisher: GobjId,
    /// The output event, or `None` for all of them.
    event: Option<&'static str>,
    subscriber: Dest<'static>,
    /// The name it delivers under, shared by every delivery.
    rename: Option<Arc<str>>,
    options: SubscribeOptions,
}

/// What identifies a subscription: re-subscribing the same key updates it.
#[derive(Clone, PartialEq, Eq, Hash)]
struct SubscriptionKey {
    publisher: GobjId,
    event: Option<&'static str>,
    subscriber: Dest<'static>,
}

impl Subscription {
    fn key(&self) -> SubscriptionKey {
        SubscriptionKey {
            publisher: self.publisher,
            event: self.event,
            subscriber: self.subscriber.clone(),
        }
    }
}

/// Ids in the order they were added; ended ones are dropped lazily.
#[derive(Default)]
struct IdList {
    ids: Vec<SubscriptionId>,
    /// How many of `ids` are stale.
    stale: usize,
}

/// One delivery of a broadcast.
pub(crate) struct Delivery {
    pub(crate) dst: GobjId,
    pub(crate) event: EventKey,
    pub(crate) post: bool,
    /// `original_event_name`, for a renamed subscription.
    pub(crate) original: Option<&'static str>,
    /// `subscription_reference`.
    pub(crate) reference: Option<Value>,
}

impl Delivery {
    /// The payload for this delivery: `kw` with what the subscription adds.
    pub(crate) fn payload(&mut self, mut kw: Kw) -> Kw {
        if let Some(original) = self.original {
            kw.insert("original_event_name", original);
        }
        if let Some(reference) = self.reference.take() {
            kw.insert("subscription_reference", reference);
        }
        kw
    }
}

/// The deliveries of one broadcast, fixed when it starts.
pub(crate) struct Plan {
    pub(crate) deliveries: Vec<Delivery>,
    /// Subscribers named by a unique name nobody holds now.
    pub(crate) unresolved: Vec<Dest<'static>>,
}

/// What a new subscription asks of the gaplic: a notice to send to the
/// publisher.
pub(crate) struct Notice {
    pub(crate) event: &'static str,
    pub(crate) kw: Kw,
}

/// Why a subscription could not be ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// There is no such subscription.
    Missing,
    /// It is hard and `force` was off.
    Hard,
}

/// Every subscription of a gaplic.
#[derive(Default)]
pub(crate) struct PubSub {
    subscriptions: Slab<SubscriptionId, Subscription>,
    by_key: FastMap<SubscriptionKey, SubscriptionId>,
    by_publisher: FastMap<GobjId, IdList>,
    by_holder: FastMap<GobjId, IdList>,
    filters: FastMap<GobjId, OwnedEventFilter>,
    notices: FastMap<GobjId, &'static str>,
    /// Plan buffers to reuse (broadcasts nest, so there may be several).
    spare: Vec<Vec<Delivery>>,
}

impl std::fmt::Debug for PubSub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PubSub")
            .field("subscriptions", &self.subscriptions.len())
            .field("filters", &self.filters.len())
            .finish_non_exhaustive()
    }
}

impl PubSub {
    /// Subscribes `subscriber` to `event` (`None`: all) of `publisher`. A
    /// subscription with the same three already there is updated in place
    /// and keeps its id; a hard one stays hard. Returns the id and, when the
    /// publisher asked for one, the notice to send it.
    pub(crate) fn subscribe(
        &mut self,
        publisher: GobjId,
        event: Option<&'static str>,
        subscriber: Dest<'static>,
        options: SubscribeOptions,
    ) -> (SubscriptionId, Option<Notice>) {
        let notice = self.notices.get(&publisher).map(|&notice| Notice {
            event: notice,
            kw: Kw::new()
                .with(
                    "subscriber",
                    match &subscriber {
                        Dest::Gobj(id) => Value::Gobj(*id),
                        Dest::Unique(name) => Value::from(&**name),
                        remote @ Dest::Remote(_) => Value::from(remote.to_string()),
                    },
                )
                .with("event", event),
        });
        let key = SubscriptionKey {
            publisher,
            event,
            subscriber,
        };
        let rename = options.rename.as_deref().map(Arc::from);
        if let Some(&id) = self.by_key.get(&key)
            && let Some(existing) = self.subscriptions.get_mut(id)
        {
            let hard = existing.options.hard || options.hard;
            existing.options = options;
            existing.options.hard = hard;
            existing.rename = rename;
            return (id, notice);
        }
        let holder = match key.subscriber {
            Dest::Gobj(gobj) if gobj != publisher => Some(gobj),
            _ => None,
        };
        let id = self.subscriptions.insert(Subscription {
            publisher,
            event,
            subscriber: key.subscriber.clone(),
            rename,
            options,
        });
        self.by_key.insert(key, id);
        self.by_publisher.entry(publisher).or_default().ids.push(id);
        if let Some(holder) = holder {
            self.by_holder.entry(holder).or_default().ids.push(id);
        }
        (id, notice)
    }

    /// The subscription of `subscriber` to `event` of `publisher`.
    pub(crate) fn find(
        &self,
        publisher: GobjId,
        event: Option<&'static str>,
        subscriber: Dest<'static>,
    ) -> Option<SubscriptionId> {
        let key = SubscriptionKey {
            publisher,
            event,
            subscriber,
        };
        self.by_key.get(&key).copied()
    }

    /// Ends subscription `id`, unless it is hard and `force` is off.
    pub(crate) fn delete(&mut self, id: SubscriptionId, force: bool) -> Result<(), Refusal> {
        match self.subscriptions.get(id) {
            None => Err(Refusal::Missing),
            Some(s) if s.options.hard && !force => Err(Refusal::Hard),
            Some(_) => {
                self.remove(id);
                Ok(())
            }
        }
    }

    /// Ends the subscriptions to `publisher`'s events (hard ones only with
    /// `force`); returns how many ended.
    pub(crate) fn delete_published(&mut self, publisher: GobjId, force: bool) -> usize {
        let ids = self.live_ids(&self.by_publisher, publisher);
        ids.into_iter()
            .filter(|&id| self.delete(id, force).is_ok())
            .count()
    }

    /// How many subscriptions `publisher` has.
    pub(crate) fn count(&self, publisher: GobjId) -> usize {
        self.by_publisher
            .get(&publisher)
            .map_or(0, |list| list.ids.len() - list.stale)
    }

    /// The event and hardness of subscription `id`.
    pub(crate) fn describe(&self, id: SubscriptionId) -> Option<(GobjId, Option<&'static str>)> {
        self.subscriptions.get(id).map(|s| (s.publisher, s.event))
    }

    /// Ends every subscription `gobj` publishes or holds, and forgets its
    /// filter and notice: it is gone.
    pub(crate) fn remove_gobj(&mut self, gobj: GobjId) {
        for index in [true, false] {
            let map = if index {
                &mut self.by_publisher
            } else {
                &mut self.by_holder
            };
            if let Some(list) = map.remove(&gobj) {
                for id in list.ids {
                    self.remove(id);
                }
            }
        }
        self.filters.remove(&gobj);
        self.notices.remove(&gobj);
    }

    fn remove(&mut self, id: SubscriptionId) -> Option<Subscription> {
        let subscription = self.subscriptions.remove(id)?;
        self.by_key.remove(&subscription.key());
        let holder = match subscription.subscriber {
            Dest::Gobj(gobj) if gobj != subscription.publisher => Some(gobj),
            _ => None,
        };
        Self::forget(
            &self.subscriptions,
            &mut self.by_publisher,
            subscription.publisher,
        );
        if let Some(holder) = holder {
            Self::forget(&self.subscriptions, &mut self.by_holder, holder);
        }
        Some(subscription)
    }

    /// Counts one more stale id in `owner`'s list, and compacts it when
    /// stale ids are the majority.
    fn forget(
        subscriptions: &Slab<SubscriptionId, Subscription>,
        lists: &mut FastMap<GobjId, IdList>,
        owner: GobjId,
    ) {
        let Some(list) = lists.get_mut(&owner) else {
            return;
        };
        list.stale += 1;
        if list.stale == list.ids.len() {
            lists.remove(&owner);
        } else if list.stale > 8 && list.stale * 2 > list.ids.len() {
            list.ids.retain(|&id| subscriptions.contains(id));
            list.stale = 0;
        }
    }

    fn live_ids(&self, lists: &FastMap<GobjId, IdList>, owner: GobjId) -> Vec<SubscriptionId> {
        lists.get(&owner).map_or_else(Vec::new, |list| {
            list.ids
                .iter()
                .copied()
                .filter(|&id| self.subscriptions.contains(id))
                .collect()
        })
    }

    /// The deliveries of a broadcast of `event` by `publisher`, in
    /// subscription order: each subscriber once (the first subscription
    /// that reaches it wins), unique names resolved by `find_unique` now.
    /// First-shot subscriptions end here: this is their delivery.
    pub(crate) fn plan(
        &mut self,
        publisher: GobjId,
        event: &'static str,
        find_unique: impl Fn(&str) -> Option<GobjId>,
    ) -> Plan {
        let mut deliveries = self.spare.pop().unwrap_or_default();
        let mut unresolved = Vec::new();
        let mut first_shots = Vec::new();
        if let Some(list) = self.by_publisher.get(&publisher) {
            // Tracked only when a duplicate is possible.
            let mut reached: Option<HashSet<GobjId, Hasher>> =
                (list.ids.len() - list.stale > 1).then(HashSet::default);
            for &id in &list.ids {
                let Some(s) = self.subscriptions.get(id) else {
                    continue;
                };
                if s.event.is_some_and(|e| e != event) {
                    continue;
                }
                let dst = match &s.subscriber {
                    Dest::Gobj(gobj) => Some(*gobj),
                    Dest::Unique(name) => find_unique(name),
                    // Refused by `Gaplic::subscribe`.
                    Dest::Remote(_) => None,
                };
                let Some(dst) = dst else {
                    unresolved.push(s.subscriber.clone());
                    continue;
                };
                if let Some(reached) = &mut reached
                    && !reached.insert(dst)
                {
                    continue;
                }
                deliveries.push(Delivery {
                    dst,
                    event: match &s.rename {
                        Some(rename) => EventKey::from(rename.clone()),
                        None => EventKey::from(event),
                    },
                    post: s.options.post,
                    original: s.rename.is_some().then_some(event),
                    reference: s.options.reference.clone(),
                });
                if s.options.first_shot {
                    first_shots.push(id);
                }
            }
        }
        for id in first_shots {
            self.remove(id);
        }
        Plan {
            deliveries,
            unresolved,
        }
    }

    /// Takes back the buffer of a finished plan.
    pub(crate) fn recycle(&mut self, mut deliveries: Vec<Delivery>) {
        deliveries.clear();
        self.spare.push(deliveries);
    }

    /// Sets `publisher`'s owned-event filter.
    pub(crate) fn set_filter(&mut self, publisher: GobjId, filter: OwnedEventFilter) {
        self.filters.insert(publisher, filter);
    }

    /// Asks `publisher`'s owned-event filter whether the result of a sent
    /// delivery stops its broadcast. A filter that panics stops nothing;
    /// the panic's message is returned for the caller to report.
    pub(crate) fn filter_stops(&mut self, publisher: GobjId, ret: &Ret) -> Result<bool, String> {
        let Some(filter) = self.filters.get_mut(&publisher) else {
            return Ok(false);
        };
        catch_unwind(AssertUnwindSafe(|| filter(ret))).map_err(|panic| panic_message(&*panic))
    }

    /// Has `publisher` sent `event` whenever a subscription to it is made.
    pub(crate) fn set_notice(&mut self, publisher: GobjId, event: &'static str) {
        self.notices.insert(publisher, event);
    }
}

/// The message of a caught panic.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(a panic without a message)".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u32) -> GobjId {
        GobjId::new(n, 0)
    }

    fn dsts(plan: &Plan) -> Vec<GobjId> {
        plan.deliveries.iter().map(|d| d.dst).collect()
    }

    #[test]
    fn a_plan_follows_subscription_order_and_reaches_each_subscriber_once() {
        let mut ps = PubSub::default();
        let p = id(0);
        ps.subscribe(p, Some("EV_A"), Dest::Gobj(id(2)), SubscribeOptions::new());
        ps.subscribe(p, None, Dest::Gobj(id(1)), SubscribeOptions::new());
        ps.subscribe(p, Some("EV_A"), Dest::Gobj(id(1)), SubscribeOptions::new());
        ps.subscribe(p, Some("EV_B"), Dest::Gobj(id(3)), SubscribeOptions::new());
        let plan = ps.plan(p, "EV_A", |_| None);
        assert_eq!(dsts(&plan), [id(2), id(1)]);
    }

    #[test]
    fn resubscribing_keeps_the_id_and_a_hard_subscription_stays_hard() {
        let mut ps = PubSub::default();
        let p = id(0);
        let (a, _) = ps.subscribe(p, None, Dest::Gobj(id(1)), SubscribeOptions::new().hard());
        let (b, _) = ps.subscribe(p, None, Dest::Gobj(id(1)), SubscribeOptions::new().post());
        assert_eq!(a, b);
        assert_eq!(ps.delete(a, false), Err(Refusal::Hard));
        assert_eq!(ps.count(p), 1);
        assert!(ps.plan(p, "EV_A", |_| None).deliveries[0].post);
        assert_eq!(ps.delete(a, true), Ok(()));
        assert_eq!(ps.delete(a, true), Err(Refusal::Missing));
    }

    #[test]
    fn lists_stay_compact_under_churn() {
        let mut ps = PubSub::default();
        let p = id(0);
        for round in 0..100 {
            let ids: Vec<_> = (1..=50)
                .map(|n| {
                    ps.subscribe(p, None, Dest::Gobj(id(n)), SubscribeOptions::new())
                        .0
                })
                .collect();
            for sub in ids {
                ps.delete(sub, false).unwrap();
            }
            assert!(!ps.by_publisher.contains_key(&p), "round {round}");
        }
        for n in 1..=50 {
            ps.subscribe(p, None, Dest::Gobj(id(n)), SubscribeOptions::new());
        }
        for n in 1..=40 {
            ps.remove_gobj(id(n));
        }
        assert_eq!(ps.count(p), 10);
        assert!(ps.by_publisher[&p].ids.len() <= 2 * 10 + 9);
    }
}
