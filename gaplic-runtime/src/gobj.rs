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
    /// A variant of the event enum of one gclass.
    Typed {
        gclass: TypeId,
        index: u32,
        name: &'static str,
    },
    Static(&'static str),
    Shared(Arc<str>),
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
            gclass: TypeId::of::<G>(),
            index,
            name: event.name(),
        })
    }

    /// The event's name.
    pub fn name(&self) -> &str {
        match &self.0 {
            Key::Typed { name, .. } | Key::Static(name) => name,
            Key::Shared(name) => name,
        }
    }

    /// The event of gclass `G` this key names, found by index when it was
    /// made from `G`'s enum, by name otherwise.
    #[inline]
    pub(crate) fn resolve<G: Gclass + 'static>(&self) -> Option<G::Event> {
        match &self.0 {
            Key::Typed { gclass, index, .. } if *gclass == TypeId::of::<G>() => {
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
                    ..
                },
                Key::Typed {
                    gclass: b,
                    index: j,
                    ..
                },
            ) => a == b && i == j,
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
