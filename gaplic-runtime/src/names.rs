//! Names shared instead of copied: the event and gobj names a gaplic sends
//! to other gaplics, interned once so a post across threads allocates no
//! string.
//!
//! Also the hasher of the runtime's indexes: `foldhash`, seeded per process,
//! which hashes the short keys they have (gobj ids, names) several times
//! faster than the standard library's SipHash.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// The hasher of the runtime's maps and sets.
pub(crate) type Hasher = foldhash::fast::RandomState;

/// A `HashMap` with the runtime's hasher.
pub(crate) type FastMap<K, V> = HashMap<K, V, Hasher>;

/// Interned names, at most [`Names::CAPACITY`] of them: past that, the set
/// starts again (names still in use stay valid; they are only not shared
/// with later ones).
#[derive(Debug, Default)]
pub(crate) struct Names {
    set: HashSet<Arc<str>, Hasher>,
}

impl Names {
    /// How many names are kept.
    const CAPACITY: usize = 4096;

    /// The shared copy of `name`.
    pub(crate) fn intern(&mut self, name: &str) -> Arc<str> {
        if let Some(shared) = self.set.get(name) {
            return shared.clone();
        }
        if self.set.len() >= Self::CAPACITY {
            self.set.clear();
        }
        let shared: Arc<str> = name.into();
        self.set.insert(shared.clone());
        shared
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_shared_and_the_set_stays_bounded() {
        let mut names = Names::default();
        let a = names.intern("EV_PING");
        assert!(Arc::ptr_eq(&a, &names.intern("EV_PING")));
        for i in 0..Names::CAPACITY * 2 {
            names.intern(&format!("name-{i}"));
        }
        assert!(names.set.len() <= Names::CAPACITY);
        assert_eq!(&*names.intern("EV_PING"), "EV_PING");
    }
}
