//! A gobj as its gaplic holds it: any gclass behind one trait object, and
//! the key an event is addressed by.

use std::any::{Any, TypeId};
use std::fmt;
use std::sync::Arc;

use crate::error::{GobjError, Ret};
use crate::event::Event;
use crate::event::Origin;
use crate::gaplic::Gaplic;
use crate::id::GobjId;
use crate::kw::Kw;
use crate::machine::{Gclass, Machine, Symbol};
use crate::meta::GclassMeta;
use crate::value::Value;

/// How an event is named when it is sent or posted: by its generated enum
/// (checked at compile time, converted with no string compare when the
/// receiver is of that gclass) or by name (from config, other gaplics,
/// the network).
///
/// Every `<Gclass>Event` enum converts into it, and so do `&'static str`,
/// `String` and `Arc<str>`. It is opaque: only those conversions make one.
///
/// # Examples
///
/// ```
/// use gaplic::EventKey;
///
/// let key = EventKey::from("EV_TIMEOUT");
/// assert_eq!(key.name(), "EV_TIMEOUT");
/// assert_eq!(key, EventKey::from(String::from("EV_TIMEOUT")));
/// ```
#[derive(Clone)]
pub struct EventKey(Key);

#[derive(Clone)]
enum Key {
    /// Variant `index` of the event enum of one gclass.
    Typed {
        gclass: &'static EventsOf,
        index: u32,
    },
    Static(&'static str),
    Shared(Arc<str>),
}

/// What a typed key needs of its gclass, through one pointer: a key is
/// three words instead of five, and a queued event, moved at every post,
/// two words smaller.
struct EventsOf {
    type_id: fn() -> TypeId,
    name: fn(u32) -> &'static str,
}

impl EventsOf {
    /// Whether these are the events of gclass `G`.
    #[inline]
    fn of<G: Gclass + 'static>(&'static self) -> bool {
        // The same table is the same gclass; a gclass's table may also
        // exist twice (one per codegen unit), so unequal ones compare ids.
        std::ptr::eq(self, Events::<G>::OF) || (self.type_id)() == TypeId::of::<G>()
    }

    #[inline]
    fn same(&'static self, other: &'static EventsOf) -> bool {
        std::ptr::eq(self, other) || (self.type_id)() == (other.type_id)()
    }
}

/// The [`EventsOf`] of gclass `G`.
struct Events<G>(std::marker::PhantomData<G>);

impl<G: Gclass + 'static> Events<G> {
    const OF: &'static EventsOf = &EventsOf {
        type_id: TypeId::of::<G>,
        name: event_name::<G>,
    };
}

fn event_name<G: Gclass>(index: u32) -> &'static str {
    G::Event::ALL
        .get(index as usize)
        .map_or("", |event| event.name())
}

impl EventKey {
    /// The key of `event`, of gclass `G`. Generated code calls it through
    /// `From<G::Event>`.
    ///
    /// # Panics
    ///
    /// Never for a gclass `gobj!` accepts: it has far fewer than `u32::MAX`
    /// events.
    #[doc(hidden)]
    pub fn typed<G: Gclass + 'static>(event: G::Event) -> Self {
        let index = u32::try_from(event.index()).expect("a gclass has fewer than 2^32 events");
        EventKey(Key::Typed {
            gclass: Events::<G>::OF,
            index,
        })
    }

    /// The event's name.
    pub fn name(&self) -> &str {
        match &self.0 {
            Key::Typed { gclass, index } => (gclass.name)(*index),
            Key::Static(name) => name,
            Key::Shared(name) => name,
        }
    }

    /// The event of gclass `G` this key names, found by index when it was
    /// made from `G`'s enum, by name otherwise.
    #[inline]
    pub(crate) fn resolve<G: Gclass + 'static>(&self) -> Option<G::Event> {
        match &self.0 {
            Key::Typed { gclass, index } if gclass.of::<G>() => {
                G::Event::ALL.get(*index as usize).copied()
            }
            _ => G::Event::from_name(self.name()),
        }
    }
}

impl PartialEq for EventKey {
    /// Keys are equal when they name the same event: a typed key equals
    /// the key of its name.
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (
                Key::Typed {
                    gclass: a,
                    index: i,
                },
                Key::Typed {
                    gclass: b,
                    index: j,
                },
            ) => i == j && a.same(b),
            _ => self.name() == other.name(),
        }
    }
}

impl Eq for EventKey {}

impl fmt::Debug for EventKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.name())
    }
}

impl From<&'static str> for EventKey {
    fn from(name: &'static str) -> Self {
        EventKey(Key::Static(name))
    }
}

impl From<String> for EventKey {
    fn from(name: String) -> Self {
        EventKey(Key::Shared(name.into()))
    }
}

impl From<Arc<str>> for EventKey {
    fn from(name: Arc<str>) -> Self {
        EventKey(Key::Shared(name))
    }
}

/// What a gobj is doing when a panic or an error reaches the gaplic: a
/// hook, or an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    StartUp,
    GoOut,
    Event,
}

/// A gobj of any gclass, as the registry stores it.
pub(crate) trait AnyGobj: Any {
    fn meta(&self) -> &'static GclassMeta;
    fn name(&self) -> &Arc<str>;
    fn state_name(&self) -> &'static str;
    fn set_trace(&mut self, on: bool);
    fn attr(&self, name: &str) -> Option<Value>;
    fn set_attr(&mut self, name: &str, value: &Value) -> Result<(), GobjError>;
    fn reset_attr(&mut self, name: &str) -> Result<(), GobjError>;
    /// Runs the machine for `event`.
    fn deliver(
        &mut self,
        gaplic: &mut Gaplic,
        id: GobjId,
        event: &EventKey,
        kw: Kw,
        source: Option<GobjId>,
        origin: Option<Box<Origin>>,
    ) -> Ret;
    fn start_up(&mut self, gaplic: &mut Gaplic, id: GobjId) -> Result<(), GobjError>;
    fn go_out(&mut self, gaplic: &mut Gaplic, id: GobjId);
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<G: Gclass + 'static> AnyGobj for Machine<G> {
    fn meta(&self) -> &'static GclassMeta {
        G::META
    }

    fn name(&self) -> &Arc<str> {
        self.shared_name()
    }

    fn state_name(&self) -> &'static str {
        self.state().name()
    }

    fn set_trace(&mut self, on: bool) {
        Machine::set_trace(self, on);
    }

    fn attr(&self, name: &str) -> Option<Value> {
        self.gobj().attr(name)
    }

    fn set_attr(&mut self, name: &str, value: &Value) -> Result<(), GobjError> {
        self.gobj_mut().set_attr(name, value)
    }

    fn reset_attr(&mut self, name: &str) -> Result<(), GobjError> {
        self.gobj_mut().reset_attr(name)
    }

    #[inline]
    fn deliver(
        &mut self,
        gaplic: &mut Gaplic,
        id: GobjId,
        event: &EventKey,
        kw: Kw,
        source: Option<GobjId>,
        origin: Option<Box<Origin>>,
    ) -> Ret {
        let Some(typed) = event.resolve::<G>().filter(|e| G::is_input(*e)) else {
            return Err(self.unknown_event(event.name()));
        };
        let ev = Event::new(typed.name(), kw, source).with_boxed_origin(origin);
        let ret = self.run(Some(gaplic), Some(id), typed, &ev);
        ev.release();
        ret
    }

    fn start_up(&mut self, gaplic: &mut Gaplic, id: GobjId) -> Result<(), GobjError> {
        Machine::start_up(self, Some(gaplic), Some(id))
    }

    fn go_out(&mut self, gaplic: &mut Gaplic, id: GobjId) {
        Machine::go_out(self, Some(gaplic), Some(id));
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gtimer::{GTimer, GTimerEvent};
    use crate::sock::{GConnex, GConnexEvent, GSock, GSockEvent};

    #[test]
    fn a_key_is_three_words() {
        assert_eq!(size_of::<EventKey>(), 3 * size_of::<usize>());
    }

    #[test]
    fn a_typed_key_names_its_event_and_resolves_by_index_in_its_gclass() {
        let key = EventKey::from(GSockEvent::EV_CONNECTED);
        assert_eq!(key.name(), "EV_CONNECTED");
        assert_eq!(key.resolve::<GSock>(), Some(GSockEvent::EV_CONNECTED));
        // In another gclass, by name.
        assert_eq!(key.resolve::<GConnex>(), Some(GConnexEvent::EV_CONNECTED));
        assert_eq!(key.resolve::<GTimer>(), None);
        let timeout = EventKey::from(GTimerEvent::EV_TIMEOUT);
        assert_eq!(timeout.name(), "EV_TIMEOUT");
        assert_eq!(timeout.resolve::<GTimer>(), Some(GTimerEvent::EV_TIMEOUT));
    }

    #[test]
    fn keys_are_equal_when_they_name_the_same_event() {
        let typed = EventKey::from(GSockEvent::EV_CONNECTED);
        assert_eq!(typed, EventKey::from(GSockEvent::EV_CONNECTED));
        assert_eq!(typed, EventKey::from("EV_CONNECTED"));
        assert_eq!(EventKey::from("EV_CONNECTED"), typed);
        assert_eq!(typed, EventKey::from(String::from("EV_CONNECTED")));
        assert_ne!(typed, EventKey::from(GSockEvent::EV_DISCONNECTED));
        // The same name in two gclasses: two events.
        assert_ne!(typed, EventKey::from(GConnexEvent::EV_CONNECTED));
        assert_ne!(typed, EventKey::from("EV_DISCONNECTED"));
    }
}
