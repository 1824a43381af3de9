//! The gclass registry: the gclasses an application file may name.

use std::any::TypeId;
use std::fmt;

use gaplic_runtime::{
    GConnex, GServerSock, GSock, GTimer, Gaplic, Gclass, GclassMeta, GobjError, GobjId, Kw,
};

use crate::tables;

/// Creates a gobj of one gclass: gaplic, name, parent, creation keywords,
/// whether its name is registered as unique.
type Create = fn(&mut Gaplic, &str, Option<GobjId>, Kw, bool) -> Result<GobjId, GobjError>;

/// Builds the struct of one gclass from creation keywords and drops it:
/// checks attr names, types and validators without running anything.
type Check = fn(&Kw) -> Result<(), GobjError>;

/// One registered gclass: its metadata, and how to create and check a gobj
/// of it when all that is known is its name.
#[derive(Clone, Copy)]
pub struct GclassEntry {
    meta: &'static GclassMeta,
    type_id: TypeId,
    create: Create,
    check: Check,
}

impl GclassEntry {
    /// The entry of gclass `G`.
    pub fn of<G: Gclass + 'static>() -> Self {
        GclassEntry {
            meta: G::META,
            type_id: TypeId::of::<G>(),
            create: create_gobj::<G>,
            check: check_attrs::<G>,
        }
    }

    /// The gclass's name.
    pub fn name(&self) -> &'static str {
        tables::gclass_name(self.meta)
    }

    /// The gclass's metadata.
    pub fn meta(&self) -> &'static GclassMeta {
        self.meta
    }

    /// Creates a gobj of this gclass in `gaplic` (see
    /// [`Gaplic::create_gobj`] and [`Gaplic::create_unique_gobj`]).
    ///
    /// # Errors
    ///
    /// Those of [`Gaplic::create_gobj`], and of
    /// [`Gaplic::create_unique_gobj`] when `unique`.
    pub fn create(
        &self,
        gaplic: &mut Gaplic,
        name: &str,
        parent: Option<GobjId>,
        kw: Kw,
        unique: bool,
    ) -> Result<GobjId, GobjError> {
        (self.create)(gaplic, name, parent, kw, unique)
    }

    /// Checks creation keywords as creating a gobj would (with
    /// [`Gclass::create`]), without creating one: unknown attrs, wrong
    /// types, values the gclass refuses.
    ///
    /// # Errors
    ///
    /// Those of [`Gclass::create`].
    pub fn check(&self, kw: &Kw) -> Result<(), GobjError> {
        (self.check)(kw)
    }
}

impl fmt::Debug for GclassEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GclassEntry")
            .field("name", &self.name())
            .finish_non_exhaustive()
    }
}

fn create_gobj<G: Gclass + 'static>(
    gaplic: &mut Gaplic,
    name: &str,
    parent: Option<GobjId>,
    kw: Kw,
    unique: bool,
) -> Result<GobjId, GobjError> {
    if unique {
        gaplic.create_unique_gobj::<G>(name, parent, kw)
    } else {
        gaplic.create_gobj::<G>(name, parent, kw)
    }
}

fn check_attrs<G: Gclass>(kw: &Kw) -> Result<(), GobjError> {
    G::create(kw).map(drop)
}

/// The gclasses an application file may name, by name.
///
/// [`Gclasses::new`] holds the built-in gclasses (`GTimer`, `GSock`,
/// `GServerSock`, `GConnex`); an application adds its own with
/// [`add`](Gclasses::add), usually through
/// [`Launcher::gclass`](crate::Launcher::gclass).
///
/// # Examples
///
/// ```
/// use gaplic::app::Gclasses;
/// use gaplic::{GTimer, Kw};
///
/// let mut gclasses = Gclasses::new();
/// assert!(gclasses.get("GTimer").is_some());
/// assert_eq!(
///     gclasses.add::<GTimer>().unwrap_err().to_string(),
///     "gclass `GTimer` is registered twice"
/// );
/// let timer = gclasses.get("GTimer").unwrap();
/// assert!(timer.check(&Kw::new().with("seconds", 2.5)).is_ok());
/// assert!(timer.check(&Kw::new().with("seconds", "soon")).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct Gclasses {
    entries: Vec<GclassEntry>,
    /// The name of the gclass `[….router]` sections create, if one is
    /// registered as the router.
    router: Option<&'static str>,
}

impl Gclasses {
    /// The built-in gclasses: `GTimer`, `GSock`, `GServerSock`, `GConnex`,
    /// and with the `router` feature `GRouter`, registered as the router.
    pub fn new() -> Self {
        let mut gclasses = Gclasses {
            entries: vec![
                GclassEntry::of::<GTimer>(),
                GclassEntry::of::<GSock>(),
                GclassEntry::of::<GServerSock>(),
                GclassEntry::of::<GConnex>(),
            ],
            router: None,
        };
        #[cfg(feature = "router")]
        {
            let router = GclassEntry::of::<gaplic_router::GRouter>();
            gclasses.router = Some(router.name());
            gclasses.entries.push(router);
        }
        gclasses
    }

    /// No gclass at all, not even the built-in ones.
    pub fn empty() -> Self {
        Gclasses {
            entries: Vec::new(),
            router: None,
        }
    }

    /// Registers gclass `G` under its name.
    ///
    /// # Errors
    ///
    /// [`DuplicateGclass`] when a gclass of that name is registered
    /// already (nothing changes).
    pub fn add<G: Gclass + 'static>(&mut self) -> Result<(), DuplicateGclass> {
        self.add_entry(GclassEntry::of::<G>())
    }

    /// Registers a gclass by its entry.
    ///
    /// # Errors
    ///
    /// As [`add`](Gclasses::add).
    pub fn add_entry(&mut self, entry: GclassEntry) -> Result<(), DuplicateGclass> {
        if self.get(entry.name()).is_some() {
            return Err(DuplicateGclass { name: entry.name() });
        }
        self.entries.push(entry);
        Ok(())
    }

    /// Registers gclass `G` (unless it is registered already) as the
    /// router: the gclass of the unique gobj `router` that a `[….router]`
    /// section creates, and through which `[[subprocess]]` gaplics talk to
    /// the main gaplic. That is `gaplic_router::GRouter` (registered by
    /// [`new`](Gclasses::new) with the `router` feature), or a gclass with
    /// its attrs and events.
    ///
    /// # Errors
    ///
    /// [`DuplicateGclass`] when another gclass is registered under `G`'s
    /// name (nothing changes).
    pub fn set_router<G: Gclass + 'static>(&mut self) -> Result<(), DuplicateGclass> {
        let entry = GclassEntry::of::<G>();
        match self.get(entry.name()) {
            Some(known) if known.type_id != entry.type_id => {
                return Err(DuplicateGclass { name: entry.name() });
            }
            Some(_) => {}
            None => self.entries.push(entry),
        }
        self.router = Some(entry.name());
        Ok(())
    }

    /// The router's gclass, if one is registered (see
    /// [`set_router`](Gclasses::set_router)).
    pub fn router(&self) -> Option<&GclassEntry> {
        self.router.and_then(|name| self.get(name))
    }

    /// The gclass called `name`.
    pub fn get(&self, name: &str) -> Option<&GclassEntry> {
        self.entries.iter().find(|e| e.name() == name)
    }

    /// Every registered gclass, in registration order.
    pub fn iter(&self) -> impl Iterator<Item = &GclassEntry> {
        self.entries.iter()
    }

    /// The registered names, sorted, for messages that list them.
    pub fn names(&self) -> Vec<&'static str> {
        let mut names: Vec<_> = self.entries.iter().map(GclassEntry::name).collect();
        names.sort_unstable();
        names
    }
}

impl Default for Gclasses {
    /// As [`Gclasses::new`]: the built-in gclasses.
    fn default() -> Self {
        Gclasses::new()
    }
}

/// A gclass was registered under a name that is taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateGclass {
    /// The name.
    pub name: &'static str,
}

impl fmt::Display for DuplicateGclass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "gclass `{}` is registered twice", self.name)
    }
}

impl std::error::Error for DuplicateGclass {}
