//! `Dest`: who an event or a subscription is for.

use std::borrow::Cow;
use std::fmt;

use crate::id::GobjId;

/// Who an event is for, or who a subscription delivers to: a gobj by id,
/// the gobj registered under a unique name (resolved when the event is
/// delivered, as GinsFSM resolves a string subscriber), or a gobj of
/// another gaplic, named by that gaplic's name or by one of its roles.
///
/// Every method that addresses a gobj takes `impl Into<Dest>`, so a
/// [`GobjId`], a `&str` or a `String` can be given directly. Where a
/// [`Dest::Remote`] event goes is the runtime's business, not the
/// caller's: this gaplic, another gaplic of the process, or another
/// process or host through this gaplic's router (see
/// [`Gaplic::post`](crate::Gaplic::post)).
///
/// # Examples
///
/// ```
/// use gaplic::{Dest, GobjId};
///
/// assert_eq!(Dest::from(GobjId::new(1, 0)), Dest::Gobj(GobjId::new(1, 0)));
/// assert_eq!(Dest::from("timer").to_string(), "`timer`");
/// assert_eq!(Dest::in_gaplic("bank", "teller").to_string(), "`teller` of gaplic `bank`");
/// assert_eq!(Dest::in_role("exchange", "quotes").to_string(), "`quotes` of role `exchange`");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dest<'a> {
    /// A gobj of this gaplic.
    Gobj(GobjId),
    /// The gobj registered under this unique name in this gaplic.
    Unique(Cow<'a, str>),
    /// The gobj registered under a unique name in another gaplic.
    Remote(Remote<'a>),
}

/// A gobj of another gaplic: its unique name there, and the gaplic by name
/// or by role (the first gaplic found with that role).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Remote<'a> {
    /// The gaplic's name, if it is named.
    pub gaplic: Option<Cow<'a, str>>,
    /// A role of the gaplic, if it is found by role.
    pub role: Option<Cow<'a, str>>,
    /// The gobj's unique name in that gaplic.
    pub gobj: Cow<'a, str>,
}

impl<'a> Dest<'a> {
    /// The gobj registered as `gobj` in the gaplic called `gaplic`.
    pub fn in_gaplic(gaplic: impl Into<Cow<'a, str>>, gobj: impl Into<Cow<'a, str>>) -> Self {
        Dest::Remote(Remote {
            gaplic: Some(gaplic.into()),
            role: None,
            gobj: gobj.into(),
        })
    }

    /// The gobj registered as `gobj` in a gaplic with role `role`.
    pub fn in_role(role: impl Into<Cow<'a, str>>, gobj: impl Into<Cow<'a, str>>) -> Self {
        Dest::Remote(Remote {
            gaplic: None,
            role: Some(role.into()),
            gobj: gobj.into(),
        })
    }
}

impl Dest<'_> {
    /// The same destination, owning its names.
    pub fn into_owned(self) -> Dest<'static> {
        let owned = |name: Cow<'_, str>| Cow::Owned(name.into_owned());
        match self {
            Dest::Gobj(id) => Dest::Gobj(id),
            Dest::Unique(name) => Dest::Unique(owned(name)),
            Dest::Remote(remote) => Dest::Remote(Remote {
                gaplic: remote.gaplic.map(owned),
                role: remote.role.map(owned),
                gobj: owned(remote.gobj),
            }),
        }
    }
}

impl fmt::Display for Dest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dest::Gobj(id) => write!(f, "{id}"),
            Dest::Unique(name) => write!(f, "`{name}`"),
            Dest::Remote(remote) => fmt::Display::fmt(remote, f),
        }
    }
}

impl fmt::Display for Remote<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`", self.gobj)?;
        match (&self.gaplic, &self.role) {
            (Some(gaplic), _) => write!(f, " of gaplic `{gaplic}`"),
            (None, Some(role)) => write!(f, " of role `{role}`"),
            (None, None) => Ok(()),
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
