//! A gobj as its gaplic holds it: any gclass behind one trait object, and
//! the key an event is addressed by.

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::fmt;

use crate::event::Origin;
use crate::{Event, Gaplic, Gclass, GclassMeta, GobjError, GobjId, Kw, Machine, Ret, Symbol};

/// How an event is named when it is sent or posted: by its generated enum
/// (checked at compile time, converted with no string compare when the
/// receiver is of that gclass) or by name (from config, other gaplics,
/// the network).
///
/// Every `<Gclass>Event` enum converts into it, and so do `&'static str`
/// and `String`.
///
/// # Examples
///
/// ```
/// use gaplic_runtime::EventKey;
///
/// let key = EventKey::from("EV_TIMEOUT");
/// assert_eq!(key.name(), "EV_TIMEOUT");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub enum EventKey {
    /// A variant of the event enum of one gclass.
    Typed {
        /// The gclass whose enum it is.
        gclass: TypeId,
        /// The variant's index.
        index: u16,
        /// The variant's name, for receivers of another gclass.
        name: &'static str,
    },
    /// A name.
    Name(Cow<'static, str>),
}

impl EventKey {
    /// The key of `event`, of gclass `G`.
    pub fn typed<G: Gclass + 'static>(event: G::Event) -> Self {
        EventKey::Typed {
            gclass: TypeId::of::<G>(),
            index: u16::try_from(event.index()).unwrap_or(u16::MAX),
            name: event.name(),
        }
    }

    /// The event's name.
    pub fn name(&self) -> &str {
        match self {
            EventKey::Typed { name, .. } => name,
            EventKey::Name(name) => name,
        }
    }
}

impl fmt::Debug for EventKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.name())
    }
}

impl From<&'static str> for EventKey {
    fn from(name: &'static str) -> Self {
        EventKey::Name(Cow::Borrowed(name))
    }
}

impl From<String> for EventKey {
    fn from(name: String) -> Self {
        EventKey::Name(Cow::Owned(name))
    }
}

/// A gobj of any gclass, as the registry stores it.
pub(crate) trait AnyGobj: Any {
    fn meta(&self) -> &'static GclassMeta;
    fn name(&self) -> &str;
    fn state_name(&self) -> &'static str;
    fn set_trace(&mut self, on: bool);
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

    fn name(&self) -> &str {
        Machine::name(self)
    }

    fn state_name(&self) -> &'static str {
        self.state().name()
    }

    fn set_trace(&mut self, on: bool) {
        Machine::set_trace(self, on);
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
        let found = match event {
            EventKey::Typed { gclass, index, .. } if *gclass == TypeId::of::<G>() => {
                G::Event::ALL.get(usize::from(*index)).copied()
            }
            other => G::Event::from_name(other.name()),
        };
        let Some(typed) = found.filter(|e| G::META.events()[e.index()].input()) else {
            return Err(self.unknown_event(event.name()));
        };
        let ev = Event::new(typed.name(), kw, source).with_boxed_origin(origin);
        self.run(Some(gaplic), Some(id), typed, &ev)
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
