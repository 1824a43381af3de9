//! Identities of gobjs.

use std::fmt;

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
/// use gaplic_runtime::GobjId;
///
/// let first = GobjId::new(3, 0);
/// let reused = GobjId::new(3, 1);
/// assert_ne!(first, reused);
/// assert_eq!(first.index(), reused.index());
/// assert_eq!(reused.to_string(), "#3.1");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GobjId {
    index: u32,
    generation: u32,
}

impl GobjId {
    /// Makes the id of slot `index` in its `generation`.
    pub const fn new(index: u32, generation: u32) -> Self {
        Self { index, generation }
    }

    /// The slot this gobj lives in.
    pub const fn index(self) -> u32 {
        self.index
    }

    /// How many gobjs held this slot before this one.
    pub const fn generation(self) -> u32 {
        self.generation
    }
}

impl fmt::Debug for GobjId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for GobjId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}.{}", self.index, self.generation)
    }
}
