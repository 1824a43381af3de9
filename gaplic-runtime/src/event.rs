//! `Event`: what an action receives; `Sent`: what a direct send returns.

use std::sync::Arc;

use crate::dest::Dest;
use crate::id::{GobjId, MaybeGobj};
use crate::kw::{Kw, KwError};
use crate::value::{FromValue, Value};

/// An event as an action sees it: its name, its keyword payload and the
/// gobj that sent it.
///
/// The name is the one the receiving gclass declares (`"EV_TIMEOUT"`), so
/// one action can serve several events and still tell them apart. Payload
/// keys the gclass declares for the event have already been checked when
/// the action runs.
///
/// # Examples
///
/// ```
/// use gaplic::{kw, Event};
///
/// let ev = Event::new("EV_QUERY", kw! { "data" => "query1" }, None);
/// assert_eq!(ev.name(), "EV_QUERY");
/// assert_eq!(ev.get::<String>("data").unwrap(), "query1");
/// assert_eq!(ev.source(), None);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    name: &'static str,
    kw: Kw,
    source: MaybeGobj,
    origin: Option<Box<Origin>>,
}

/// Where an event that came from another gaplic was sent from: the
/// address to reply to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Origin {
    /// The sending gaplic's name (empty when it has none).
    pub gaplic: Arc<str>,
    /// A role of the sending gaplic, when it came with one: the way back
    /// to a gaplic with no name.
    pub role: Option<Arc<str>>,
    /// The sending gobj's name (its unique name when it has one).
    pub gobj: Arc<str>,
}

impl Origin {
    /// The gobj called `gobj` in the gaplic called `gaplic`.
    pub fn new(gaplic: impl Into<Arc<str>>, gobj: impl Into<Arc<str>>) -> Self {
        Origin {
            gaplic: gaplic.into(),
            role: None,
            gobj: gobj.into(),
        }
    }

    /// The same origin, in a gaplic with role `role`.
    #[must_use]
    pub fn with_role(mut self, role: impl Into<Arc<str>>) -> Self {
        self.role = Some(role.into());
        self
    }

    /// Where an answer goes: the gobj in the gaplic by its name, or else by
    /// its role; `None` when the origin names no gobj, or no gaplic either
    /// way.
    pub fn dest(&self) -> Option<Dest<'_>> {
        if self.gobj.is_empty() {
            return None;
        }
        match (&*self.gaplic, &self.role) {
            ("", None) => None,
            ("", Some(role)) => Some(Dest::in_role(&**role, &*self.gobj)),
            (gaplic, _) => Some(Dest::in_gaplic(gaplic, &*self.gobj)),
        }
    }
}

impl Event {
    /// Makes an event.
    pub const fn new(name: &'static str, kw: Kw, source: Option<GobjId>) -> Self {
        Self {
            name,
            kw,
            source: MaybeGobj::of(source),
            origin: None,
        }
    }

    /// `self`, marked as sent from `origin` in another gaplic.
    #[must_use]
    pub fn with_origin(mut self, origin: Option<Origin>) -> Self {
        self.origin = origin.map(Box::new);
        self
    }

    /// `self` with an origin already boxed.
    #[inline]
    pub(crate) fn with_boxed_origin(mut self, origin: Option<Box<Origin>>) -> Self {
        self.origin = origin;
        self
    }

    /// For an event from another gaplic, where it came from; `None` for a
    /// local one (see [`source`](Event::source)).
    pub fn origin(&self) -> Option<&Origin> {
        self.origin.as_deref()
    }

    /// The event's name as the receiving gclass declares it.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The keyword payload.
    pub const fn kw(&self) -> &Kw {
        &self.kw
    }

    /// The payload, to take values out without copying them.
    pub fn into_kw(self) -> Kw {
        self.kw
    }

    /// Drops the event; one that owns no memory (an empty payload, no
    /// origin: most events) is dropped without running the drop code of
    /// its parts, which costs more than the rest of a dispatch.
    #[inline(always)]
    pub(crate) fn release(self) {
        if self.origin.is_none() && self.kw.owns_nothing() {
            std::mem::forget(self);
        }
    }

    /// The gobj that sent the event; `None` when it came from outside any
    /// gobj (a test, the launcher, another process).
    pub const fn source(&self) -> Option<GobjId> {
        self.source.get()
    }

    /// Reads payload key `key` as a `T`: shorthand for `self.kw().get(key)`.
    ///
    /// # Errors
    ///
    /// As [`Kw::get`]: the key is missing or of another type.
    pub fn get<T: FromValue>(&self, key: &str) -> Result<T, KwError> {
        self.kw.get(key)
    }
}

/// What a direct send did: the receiver ran its action and returned a
/// value, or the receiver was in the middle of an action and the event
/// waits for that action to return (run to completion).
///
/// Deferring is not a failure: the event will be delivered, right after
/// the receiver's current action, before anything else reaches it. So
/// `cx.send(...)?` goes on in both cases; code that needs the receiver's
/// answer reads it with [`value`](Sent::value), and code that must not
/// wait for a busy receiver at all posts instead
/// ([`Gaplic::post`](crate::Gaplic::post)). The result of a deferred event
/// reaches nobody; if it is an error, it is traced.
///
/// # Examples
///
/// ```
/// use gaplic::{Sent, Value};
///
/// let done = Sent::Done(Value::from(3));
/// assert_eq!(done.value(), Some(&Value::Int(3)));
/// assert!(Sent::Queued.is_queued());
/// assert_eq!(Sent::Queued.into_value(), None);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Sent {
    /// The receiver's action ran and returned this.
    Done(Value),
    /// The receiver was mid-action: the event is delivered right after that
    /// action returns.
    Queued,
}

impl Sent {
    /// The receiver's answer; `None` when the event was queued.
    pub fn value(&self) -> Option<&Value> {
        match self {
            Sent::Done(value) => Some(value),
            Sent::Queued => None,
        }
    }

    /// The receiver's answer, by value; `None` when the event was queued.
    pub fn into_value(self) -> Option<Value> {
        match self {
            Sent::Done(value) => Some(value),
            Sent::Queued => None,
        }
    }

    /// Whether the event was queued.
    pub fn is_queued(&self) -> bool {
        matches!(self, Sent::Queued)
    }
}

/// A send that ran its receiver's action equals the value it returned, so
/// tests can write `assert_eq!(gaplic.send(...)?, Value::Int(1))`.
impl PartialEq<Value> for Sent {
    fn eq(&self, other: &Value) -> bool {
        self.value() == Some(other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_reads_back_as_it_was_given() {
        for source in [
            None,
            Some(GobjId::new(0, 0)),
            Some(GobjId::new(4, 2)),
            Some(GobjId::new(u32::MAX - 1, u32::MAX)),
            Some(GobjId::new(0, u32::MAX)),
        ] {
            let ev = Event::new("EV_X", Kw::new(), source);
            assert_eq!(ev.source(), source);
            assert_eq!(ev.clone(), ev);
            assert!(
                format!("{ev:?}").contains(&format!("source: {source:?}")),
                "{ev:?}"
            );
        }
    }

    #[test]
    fn an_event_is_no_larger_than_its_parts_need() {
        // name (2 words), kw (3), source (1), origin (1).
        assert_eq!(size_of::<Event>(), 7 * size_of::<usize>());
    }
}
