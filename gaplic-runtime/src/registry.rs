//! The gobjs of a gaplic: a generational slab of entries, the tree, and
//! the unique names.

use indexmap::IndexMap;

use crate::gobj::AnyGobj;
use crate::pubsub::SubscriptionId;
use crate::timer::TimerKey;
use crate::{EventKey, GclassMeta, GobjError, GobjId, Kw};

/// An event waiting for its gobj to finish the action in progress.
#[derive(Debug)]
pub(crate) struct Pending {
    pub(crate) event: EventKey,
    pub(crate) kw: Kw,
    pub(crate) source: Option<GobjId>,
}

/// One live gobj and what the gaplic keeps about it.
pub(crate) struct Entry {
    /// The gobj; `None` while one of its actions runs (run to completion).
    pub(crate) gobj: Option<Box<dyn AnyGobj>>,
    /// Its gclass, known even while it is mid-action.
    pub(crate) meta: &'static GclassMeta,
    pub(crate) parent: Option<GobjId>,
    pub(crate) children: Vec<GobjId>,
    /// Registered under its name in the unique-name registry.
    pub(crate) unique: bool,
    /// Events sent while it was mid-action, delivered when it returns.
    pub(crate) pending: Vec<Pending>,
    /// Timers it owns; they die with it.
    pub(crate) timers: Vec<TimerKey>,
    /// Subscriptions it publishes or holds; they die with it.
    pub(crate) subscriptions: Vec<SubscriptionId>,
    /// Destruction was asked while it was mid-action.
    pub(crate) destroy_requested: bool,
}

impl Entry {
    pub(crate) fn new(
        gobj: Box<dyn AnyGobj>,
        meta: &'static GclassMeta,
        parent: Option<GobjId>,
        unique: bool,
    ) -> Self {
        Entry {
            gobj: Some(gobj),
            meta,
            parent,
            children: Vec::new(),
            unique,
            pending: Vec::new(),
            timers: Vec::new(),
            subscriptions: Vec::new(),
            destroy_requested: false,
        }
    }
}

struct Slot {
    generation: u32,
    entry: Option<Entry>,
}

/// All gobjs of a gaplic, by generational id.
pub(crate) struct Registry {
    slots: Vec<Slot>,
    free: Vec<u32>,
    unique: IndexMap<String, GobjId>,
    live: usize,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("live", &self.live)
            .field("unique", &self.unique.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Registry {
    pub(crate) fn new() -> Self {
        Registry {
            slots: Vec::new(),
            free: Vec::new(),
            unique: IndexMap::new(),
            live: 0,
        }
    }

    /// Stores `entry`; its id is a free slot in its next generation.
    pub(crate) fn insert(&mut self, entry: Entry) -> GobjId {
        self.live += 1;
        match self.free.pop() {
            Some(index) => {
                let slot = &mut self.slots[index as usize];
                debug_assert!(slot.entry.is_none(), "free slot {index} is occupied");
                slot.entry = Some(entry);
                GobjId::new(index, slot.generation)
            }
            None => {
                let index = u32::try_from(self.slots.len()).expect("fewer than 2^32 gobjs");
                self.slots.push(Slot {
                    generation: 0,
                    entry: Some(entry),
                });
                GobjId::new(index, 0)
            }
        }
    }

    pub(crate) fn get(&self, id: GobjId) -> Option<&Entry> {
        let slot = self.slots.get(id.index() as usize)?;
        (slot.generation == id.generation())
            .then_some(slot.entry.as_ref())
            .flatten()
    }

    pub(crate) fn get_mut(&mut self, id: GobjId) -> Option<&mut Entry> {
        let slot = self.slots.get_mut(id.index() as usize)?;
        if slot.generation != id.generation() {
            return None;
        }
        slot.entry.as_mut()
    }

    /// The entry of `id`, or the error for a gobj that is gone.
    pub(crate) fn live(&mut self, id: GobjId) -> Result<&mut Entry, GobjError> {
        self.get_mut(id).ok_or(GobjError::Destroyed { gobj: id })
    }

    /// Frees the slot of `id`; its next occupant gets a new generation.
    pub(crate) fn remove(&mut self, id: GobjId) -> Option<Entry> {
        let slot = self.slots.get_mut(id.index() as usize)?;
        if slot.generation != id.generation() {
            return None;
        }
        let entry = slot.entry.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(id.index());
        self.live -= 1;
        Some(entry)
    }

    /// How many gobjs live.
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// Every live gobj, in slot order.
    pub(crate) fn ids(&self) -> impl Iterator<Item = GobjId> + '_ {
        self.slots.iter().enumerate().filter_map(|(i, slot)| {
            slot.entry
                .as_ref()
                .map(|_| GobjId::new(i as u32, slot.generation))
        })
    }

    /// Registers `name` for `id`.
    pub(crate) fn register_unique(&mut self, name: &str, id: GobjId) -> Result<(), GobjError> {
        if self.unique.contains_key(name) {
            return Err(GobjError::DuplicateName {
                name: name.to_owned(),
            });
        }
        self.unique.insert(name.to_owned(), id);
        Ok(())
    }

    pub(crate) fn unregister_unique(&mut self, name: &str) {
        self.unique.shift_remove(name);
    }

    pub(crate) fn find_unique(&self, name: &str) -> Option<GobjId> {
        self.unique.get(name).copied()
    }

    pub(crate) fn is_unique_taken(&self, name: &str) -> bool {
        self.unique.contains_key(name)
    }

    /// The unique names, in registration order.
    pub(crate) fn unique_names(&self) -> impl Iterator<Item = &str> {
        self.unique.keys().map(String::as_str)
    }
}
