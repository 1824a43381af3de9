//! `Dest`: who an event or a subscription is for.

use std::borrow::Cow;
use std::fmt;

use crate::id::GobjId;

/// Who an event is for, or who a subscription delivers to: a gobj by id,
/// or the gobj registered under a unique name (resolved when the event is
/// delivered, as GinsFSM resolves a string subscriber).
///
/// Every method that addresses a gobj takes `impl Into<Dest>`, so a
/// [`GobjId`], a `&str` or a `String` can be given directly.
///
/// # Examples
///
/// ```
/// use gaplic::{Dest, GobjId};
///
/// assert_eq!(Dest::from(GobjId::new(1, 0)), Dest::Gobj(GobjId::new(1, 0)));
/// assert_eq!(Dest::from("timer").to_string(), "`timer`");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dest<'a> {
    /// A gobj of this gaplic.
    Gobj(GobjId),
    /// The gobj registered under this unique name in this gaplic.
    Unique(Cow<'a, str>),
}

impl Dest<'_> {
    /// The same destination, owning its name.
    pub fn into_owned(self) -> Dest<'static> {
        match self {
            Dest::Gobj(id) => Dest::Gobj(id),
            Dest::Unique(name) => Dest::Unique(Cow::Owned(name.into_owned())),
        }
    }
}

impl fmt::Display for Dest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dest::Gobj(id) => write!(f, "{id}"),
            Dest::Unique(name) => write!(f, "`{name}`"),
        }
    }
}

impl From<GobjId> for Dest<'_> {
    fn from(id: GobjId) -> Self {
        Dest::Gobj(id)
    }
}

impl<'a> From<&'a str> for Dest<'a> {
    fn from(name: &'a str) -> Self {
        Dest::Unique(Cow::Borrowed(name))
    }
}

impl<'a> From<&'a String> for Dest<'a> {
    fn from(name: &'a String) -> Self {
        Dest::Unique(Cow::Borrowed(name))
    }
}

impl From<String> for Dest<'_> {
    fn from(name: String) -> Self {
        Dest::Unique(Cow::Owned(name))
    }
}
