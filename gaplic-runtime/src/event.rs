//! `Event`: what an action receives.

use crate::{FromValue, GobjId, Kw, KwError};

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
/// use gaplic_runtime::{kw, Event};
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
    source: Option<GobjId>,
    origin: Option<Box<Origin>>,
}

/// Where an event that came from another gaplic was sent from: the
/// address to reply to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Origin {
    /// The sending gaplic's name.
    pub gaplic: String,
    /// The sending gobj's name (its unique name when it has one).
    pub gobj: String,
}

impl Event {
    /// Makes an event.
    pub const fn new(name: &'static str, kw: Kw, source: Option<GobjId>) -> Self {
        Self {
            name,
            kw,
            source,
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

    /// The gobj that sent the event; `None` when it came from outside any
    /// gobj (a test, the launcher, another process).
    pub const fn source(&self) -> Option<GobjId> {
        self.source
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
