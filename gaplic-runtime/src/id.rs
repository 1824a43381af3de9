//! Identities: of gobjs, subscriptions and timers.
//!
//! Each is a small `Copy` value naming a slot of a generational store plus
//! the generation of that slot, so an id kept after its object is gone
//! never reaches the object that reuses the slot.

use std::fmt;

use crate::slab::SlabKey;
use crate::timer::TimerKey;

/// The identity of a gobj inside its gaplic.
///
/// An id is a slot index plus the generation of that slot. When a gobj is
/// destroyed its slot may be reused, but with the next generation, so an id
/// kept by someone else never reaches the new occupant: events addressed to
/// it fail with an error instead.
///
/// Ids are small `Copy` values; compare them, hash them, put them in event
/// payloads ([`Value::Gobj`](crate::Value::Gobj)).
///
/// # Examples
///
/// ```
/// use gaplic::GobjId;
///
/// let first = GobjId::new(3, 0);
/// let reused = GobjId::new(3, 1);
/// assert_ne!(first, reused);
/// assert_eq!(first.index(), reused.index());
/// assert_eq!(reused.to_string(), "#3.1");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GobjId {
    /// The index in the high half, the generation in the low one: one
    /// word, written and read whole (ordered as (index, generation)).
    bits: u64,
}

impl GobjId {
    /// Makes the id of slot `index` in its `generation`.
    pub const fn new(index: u32, generation: u32) -> Self {
        Self {
            bits: ((index as u64) << 32) | generation as u64,
        }
    }

    /// The slot this gobj lives in.
    pub const fn index(self) -> u32 {
        (self.bits >> 32) as u32
    }

    /// How many gobjs held this slot before this one.
    pub const fn generation(self) -> u32 {
        self.bits as u32
    }
}

/// An optional [`GobjId`] in one word, for what the runtime builds and
/// moves per event (an event's source).
///
/// An `Option<GobjId>` is two words, the tag written apart from the id;
/// moving it then reads a word of which part was just written, a read the
/// processor cannot serve from its store buffer and stalls on (measured:
/// about 7 ns a dispatch, more than the rest of it). This is written and
/// read whole.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct MaybeGobj(u64);

impl MaybeGobj {
    /// No gobj: the id of slot `u32::MAX`, which no gaplic hands out (its
    /// slab holds fewer than `u32::MAX` slots).
    pub(crate) const NONE: MaybeGobj = MaybeGobj(u64::MAX);

    #[inline(always)]
    pub(crate) const fn of(id: Option<GobjId>) -> MaybeGobj {
        match id {
            Some(id) => MaybeGobj(id.bits),
            None => MaybeGobj::NONE,
        }
    }

    #[inline(always)]
    pub(crate) const fn get(self) -> Option<GobjId> {
        if self.0 == MaybeGobj::NONE.0 {
            None
        } else {
            Some(GobjId { bits: self.0 })
        }
    }
}

impl fmt::Debug for MaybeGobj {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
    }
}

impl SlabKey for GobjId {
    fn from_parts(index: u32, generation: u32) -> Self {
        GobjId::new(index, generation)
    }
    fn index(self) -> u32 {
        GobjId::index(self)
    }
    fn generation(self) -> u32 {
        GobjId::generation(self)
    }
}

impl fmt::Debug for GobjId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for GobjId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}.{}", self.index(), self.generation())
    }
}

/// The identity of one subscription, as
/// [`subscribe`](crate::Gaplic::subscribe) and
/// [`unsubscribe`](crate::Gaplic::unsubscribe) return it.
///
/// Re-subscribing the same subscriber to the same event of the same
/// publisher updates the subscription in place and returns the same id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct SubscriptionId {
    index: u32,
    generation: u32,
}

impl SlabKey for SubscriptionId {
    fn from_parts(index: u32, generation: u32) -> Self {
        SubscriptionId { index, generation }
    }
    fn index(self) -> u32 {
        self.index
    }
    fn generation(self) -> u32 {
        self.generation
    }
}

/// The identity of one timer of a gaplic, as
/// [`Gaplic::set_timer`](crate::Gaplic::set_timer) and
/// [`Cx::set_timer`](crate::Cx::set_timer) return it, to
/// [`cancel`](crate::Gaplic::cancel_timer) it.
///
/// An id of a timer that fired or was cancelled is harmless: cancelling
/// it again answers `false`, and never reaches a newer timer.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TimerId(pub(crate) TimerKey);
