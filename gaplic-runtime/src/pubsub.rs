//! Subscriptions: who gets a gobj's output events, and how.
//!
//! A subscription is stored once, here, and listed in the entries of both
//! its ends, so it dies with either of them.

use crate::{GobjId, Value};

/// The identity of one subscription, as [`subscribe`](crate::Gaplic::subscribe)
/// returns it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct SubscriptionId {
    index: u32,
    generation: u32,
}

/// Who receives a subscription's events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subscriber {
    /// A gobj of the same gaplic.
    Gobj(GobjId),
    /// The gobj registered under this unique name when the event is
    /// published (GinsFSM's string subscriber).
    Unique(String),
}

impl From<GobjId> for Subscriber {
    fn from(id: GobjId) -> Self {
        Subscriber::Gobj(id)
    }
}

impl From<&str> for Subscriber {
    fn from(name: &str) -> Self {
        Subscriber::Unique(name.to_owned())
    }
}

/// How a subscription delivers: GinsFSM's subscription options.
///
/// # Examples
///
/// ```
/// use gaplic_runtime::SubscribeOptions;
///
/// let options = SubscribeOptions::new()
///     .post()
///     .rename("EV_CHILD_DONE")
///     .reference("child-1")
///     .hard();
/// assert!(options.post && options.hard);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SubscribeOptions {
    /// Deliver through the queue instead of a direct send.
    pub post: bool,
    /// Deliver under this name; the payload gets `original_event_name`.
    pub rename: Option<String>,
    /// Survives `unsubscribe` and `delete_subscriptions` unless forced;
    /// only the death of either end, or force, removes it.
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

/// One subscription.
#[derive(Clone, Debug)]
pub(crate) struct Subscription {
    pub(crate) publisher: GobjId,
    /// The output event, or `None` for all of them.
    pub(crate) event: Option<&'static str>,
    pub(crate) subscriber: Subscriber,
    pub(crate) options: SubscribeOptions,
}

struct Slot {
    generation: u32,
    subscription: Option<Subscription>,
}

/// Every subscription of a gaplic.
#[derive(Default)]
pub(crate) struct Subscriptions {
    slots: Vec<Slot>,
    free: Vec<u32>,
}

impl std::fmt::Debug for Subscriptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let live = self
            .slots
            .iter()
            .filter(|s| s.subscription.is_some())
            .count();
        f.debug_struct("Subscriptions")
            .field("live", &live)
            .finish()
    }
}

impl Subscriptions {
    pub(crate) fn insert(&mut self, subscription: Subscription) -> SubscriptionId {
        match self.free.pop() {
            Some(index) => {
                let slot = &mut self.slots[index as usize];
                slot.subscription = Some(subscription);
                SubscriptionId {
                    index,
                    generation: slot.generation,
                }
            }
            None => {
                let index = u32::try_from(self.slots.len()).expect("fewer than 2^32 subscriptions");
                self.slots.push(Slot {
                    generation: 0,
                    subscription: Some(subscription),
                });
                SubscriptionId {
                    index,
                    generation: 0,
                }
            }
        }
    }

    pub(crate) fn get(&self, id: SubscriptionId) -> Option<&Subscription> {
        let slot = self.slots.get(id.index as usize)?;
        (slot.generation == id.generation)
            .then_some(slot.subscription.as_ref())
            .flatten()
    }

    pub(crate) fn remove(&mut self, id: SubscriptionId) -> Option<Subscription> {
        let slot = self.slots.get_mut(id.index as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        let subscription = slot.subscription.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(id.index);
        Some(subscription)
    }
}
