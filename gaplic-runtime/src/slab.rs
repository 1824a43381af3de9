//! A generational slab: a `Vec` of slots with a free list, where a key is a
//! slot index plus the generation of that slot.
//!
//! Gobjs, subscriptions and IO sources live in one each. When a value is
//! removed its slot goes back to the free list with the next generation, so
//! a key kept by someone else never reaches the value that reuses the slot:
//! every lookup with a stale key answers `None`. A slot whose generation
//! reaches `u32::MAX` is retired instead of reused, so no generation ever
//! wraps around to match an old key.

use std::fmt;
use std::marker::PhantomData;

/// A key of a [`Slab`]: a slot index and a generation.
pub(crate) trait SlabKey: Copy {
    fn from_parts(index: u32, generation: u32) -> Self;
    fn index(self) -> u32;
    fn generation(self) -> u32;
}

struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

/// Values of type `T` under generational keys of type `K`.
pub(crate) struct Slab<K, T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    len: usize,
    key: PhantomData<K>,
}

impl<K, T> Default for Slab<K, T> {
    fn default() -> Self {
        Slab {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
            key: PhantomData,
        }
    }
}

impl<K, T> fmt::Debug for Slab<K, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slab")
            .field("len", &self.len)
            .field("slots", &self.slots.len())
            .finish()
    }
}

impl<K: SlabKey, T> Slab<K, T> {
    /// Stores `value` in a free slot, or a new one, and returns its key.
    ///
    /// # Panics
    ///
    /// When `u32::MAX` slots are in use, the most a key can name.
    pub(crate) fn insert(&mut self, value: T) -> K {
        self.len += 1;
        if let Some(index) = self.free.pop() {
            let slot = &mut self.slots[index as usize];
            debug_assert!(slot.value.is_none(), "free slot {index} is occupied");
            slot.value = Some(value);
            return K::from_parts(index, slot.generation);
        }
        let index = u32::try_from(self.slots.len())
            .ok()
            .filter(|&index| index != u32::MAX)
            .expect("a slab holds fewer than u32::MAX values");
        self.slots.push(Slot {
            generation: 0,
            value: Some(value),
        });
        K::from_parts(index, 0)
    }

    /// The value of `key`, if it is still there.
    #[inline]
    pub(crate) fn get(&self, key: K) -> Option<&T> {
        let slot = self.slots.get(key.index() as usize)?;
        if slot.generation != key.generation() {
            return None;
        }
        slot.value.as_ref()
    }

    /// The value of `key`, to change it.
    #[inline]
    pub(crate) fn get_mut(&mut self, key: K) -> Option<&mut T> {
        let slot = self.slots.get_mut(key.index() as usize)?;
        if slot.generation != key.generation() {
            return None;
        }
        slot.value.as_mut()
    }

    /// Whether `key` names a value.
    #[inline]
    pub(crate) fn contains(&self, key: K) -> bool {
        self.get(key).is_some()
    }

    /// Takes the value of `key` out; its slot's next occupant gets a new
    /// generation.
    pub(crate) fn remove(&mut self, key: K) -> Option<T> {
        let slot = self.slots.get_mut(key.index() as usize)?;
        if slot.generation != key.generation() {
            return None;
        }
        let value = slot.value.take()?;
        self.len -= 1;
        if slot.generation < u32::MAX - 1 {
            slot.generation += 1;
            self.free.push(key.index());
        } else {
            // Retired: the next generation would be the last one a key can
            // carry, and wrapping would let the oldest keys match again.
            slot.generation = u32::MAX;
        }
        Some(value)
    }

    /// The key of the value in slot `index`, if one is there.
    #[inline]
    pub(crate) fn key_at(&self, index: u32) -> Option<K> {
        let slot = self.slots.get(index as usize)?;
        slot.value
            .as_ref()
            .map(|_| K::from_parts(index, slot.generation))
    }

    /// How many values are stored.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Every key and value, in slot order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (K, &T)> {
        self.slots.iter().enumerate().filter_map(|(index, slot)| {
            let value = slot.value.as_ref()?;
            Some((K::from_parts(index as u32, slot.generation), value))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    struct Key(u32, u32);

    impl SlabKey for Key {
        fn from_parts(index: u32, generation: u32) -> Self {
            Key(index, generation)
        }
        fn index(self) -> u32 {
            self.0
        }
        fn generation(self) -> u32 {
            self.1
        }
    }

    #[test]
    fn a_reused_slot_gets_a_new_generation_and_stale_keys_miss() {
        let mut slab = Slab::<Key, &str>::default();
        let a = slab.insert("a");
        let b = slab.insert("b");
        assert_eq!(slab.remove(a), Some("a"));
        assert_eq!(slab.remove(a), None);
        let c = slab.insert("c");
        assert_eq!(c.index(), a.index());
        assert_ne!(c, a);
        assert_eq!(slab.get(a), None);
        assert_eq!(slab.get(c), Some(&"c"));
        assert_eq!(slab.key_at(b.index()), Some(b));
        assert_eq!(slab.len(), 2);
        let all: Vec<_> = slab.iter().map(|(_, v)| *v).collect();
        assert_eq!(all, ["c", "b"]);
    }

    #[test]
    fn a_slot_at_its_last_generation_is_retired() {
        let mut slab = Slab::<Key, u8>::default();
        let first = slab.insert(1);
        slab.slots[0].generation = u32::MAX - 1;
        let old = Key(0, u32::MAX - 1);
        assert_eq!(slab.remove(old), Some(1));
        let next = slab.insert(2);
        assert_ne!(
            next.index(),
            first.index(),
            "the retired slot is not reused"
        );
        assert_eq!(slab.get(old), None);
        assert_eq!(slab.get(Key(0, u32::MAX)), None);
    }
}
