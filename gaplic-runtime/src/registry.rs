//! The gobjs of a gaplic: a generational slab of entries, the tree, the
//! unique names, and run to completion.
//!
//! Run to completion is a check-out / check-in of a gobj: while one of its
//! actions (or hooks) runs, the gobj is out of its entry, and events sent
//! to it wait in the entry's pending queue. Checking it back in says what
//! comes next: nothing, the next pending event (the gobj stays out and the
//! caller runs it), or its destruction, asked for meanwhile. The caller
//! loops on that answer, so a long pending queue is drained iteratively,
//! one event at a time, never by recursion.
//!
//! The tree is kept as intrusive sibling lists through the entries (slot
//! indices), so attaching and detaching a child are O(1) and children stay
//! in creation order. Unique names live in a hash map: registering and
//! freeing a name are O(1).

use std::collections::VecDeque;
use std::sync::Arc;

use crate::error::ErrorKind;
use crate::error::GobjError;
use crate::gobj::AnyGobj;
use crate::id::GobjId;
use crate::meta::GclassMeta;
use crate::names::FastMap;
use crate::queue::Queued;
use crate::slab::Slab;

/// No slot: the end of a sibling list, or no parent.
const NIL: u32 = u32::MAX;

/// One live gobj and what the gaplic keeps about it.
struct Entry {
    /// The gobj; `None` while one of its actions or hooks runs.
    gobj: Option<Box<dyn AnyGobj>>,
    /// Its gclass, known even while it is checked out.
    meta: &'static GclassMeta,
    /// Slot of the parent, or [`NIL`] for a child of the gaplic.
    parent: u32,
    first_child: u32,
    last_child: u32,
    prev_sibling: u32,
    next_sibling: u32,
    /// Events sent while it was checked out, delivered when it is back.
    pending: VecDeque<Queued>,
    /// Registered under its name in the unique-name index.
    unique: bool,
    /// Destruction was asked while it was checked out.
    destroy_requested: bool,
    /// Its destruction has begun.
    dying: bool,
}

/// What [`Registry::check_out`] found.
pub(crate) enum CheckOut {
    /// The gobj, now out of its entry.
    Ready(Box<dyn AnyGobj>),
    /// The gobj is out already (one of its actions is running).
    Busy,
}

/// What comes after [`Registry::check_in`].
pub(crate) enum CheckIn {
    /// Nothing: the gobj is back.
    Idle,
    /// An event that was sent to it meanwhile: the gobj stays out, for the
    /// caller to run it on this event and check it in again.
    Next(Box<dyn AnyGobj>, Queued),
    /// Its destruction was asked meanwhile: the gobj is back, to be
    /// destroyed now.
    Destroy,
}

/// All gobjs of a gaplic, by generational id.
#[derive(Default)]
pub(crate) struct Registry {
    gobjs: Slab<GobjId, Entry>,
    unique: FastMap<Arc<str>, GobjId>,
    first_root: u32,
    last_root: u32,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("gobjs", &self.gobjs.len())
            .field("unique", &self.unique.len())
            .finish()
    }
}

impl Registry {
    pub(crate) fn new() -> Self {
        Registry {
            gobjs: Slab::default(),
            unique: FastMap::default(),
            first_root: NIL,
            last_root: NIL,
        }
    }

    fn entry(&self, id: GobjId) -> Result<&Entry, GobjError> {
        self.gobjs
            .get(id)
            .ok_or_else(|| ErrorKind::Destroyed { gobj: id }.into())
    }

    fn entry_mut(&mut self, id: GobjId) -> Result<&mut Entry, GobjError> {
        self.gobjs
            .get_mut(id)
            .ok_or_else(|| ErrorKind::Destroyed { gobj: id }.into())
    }

    /// `Ok` when `id` lives.
    pub(crate) fn live(&self, id: GobjId) -> Result<(), GobjError> {
        self.entry(id).map(|_| ())
    }

    pub(crate) fn contains(&self, id: GobjId) -> bool {
        self.gobjs.contains(id)
    }

    /// Whether `name` is taken in the unique-name index.
    pub(crate) fn is_unique_taken(&self, name: &str) -> bool {
        self.unique.contains_key(name)
    }

    // ----- the tree ---------------------------------------------------------

    /// Stores a gobj as the last child of `parent` (or of the gaplic), and
    /// registers `unique` as its unique name.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Destroyed`] for a dead parent, [`ErrorKind::DuplicateName`]
    /// for a taken name; nothing is stored then.
    pub(crate) fn insert(
        &mut self,
        gobj: Box<dyn AnyGobj>,
        parent: Option<GobjId>,
        unique: Option<Arc<str>>,
    ) -> Result<GobjId, GobjError> {
        if let Some(parent) = parent {
            self.live(parent)?;
        }
        if let Some(name) = &unique
            && self.unique.contains_key(name)
        {
            return Err(ErrorKind::DuplicateName {
                name: name.to_string(),
            }
            .into());
        }
        let meta = gobj.meta();
        let id = self.gobjs.insert(Entry {
            gobj: Some(gobj),
            meta,
            parent: NIL,
            first_child: NIL,
            last_child: NIL,
            prev_sibling: NIL,
            next_sibling: NIL,
            pending: VecDeque::new(),
            unique: unique.is_some(),
            destroy_requested: false,
            dying: false,
        });
        self.link(id.index(), parent.map_or(NIL, GobjId::index));
        if let Some(name) = unique {
            self.unique.insert(name, id);
        }
        Ok(id)
    }

    /// Takes a gobj out of the registry: out of the tree (any children it
    /// still has become children of the gaplic) and of the unique names.
    /// Returns the events that were pending for it.
    pub(crate) fn remove(&mut self, id: GobjId) -> Option<VecDeque<Queued>> {
        self.gobjs.get(id)?;
        self.unlink(id.index());
        while let Some(child) = self.first_child_index(id.index()) {
            self.unlink(child);
            self.link(child, NIL);
        }
        let entry = self.gobjs.remove(id)?;
        if entry.unique
            && let Some(gobj) = &entry.gobj
        {
            let name = gobj.name();
            if self.unique.get(&**name) == Some(&id) {
                self.unique.remove(&**name);
            }
        }
        Some(entry.pending)
    }

    /// Makes `id` a child of the gaplic (it stays alive).
    pub(crate) fn detach(&mut self, id: GobjId) {
        if self.gobjs.contains(id) {
            self.unlink(id.index());
            self.link(id.index(), NIL);
        }
    }

    /// Appends slot `index` to the children of slot `parent` ([`NIL`]: the
    /// gaplic's).
    fn link(&mut self, index: u32, parent: u32) {
        let last = if parent == NIL {
            self.last_root
        } else {
            self.slot(parent).last_child
        };
        {
            let entry = self.slot_mut(index);
            entry.parent = parent;
            entry.prev_sibling = last;
            entry.next_sibling = NIL;
        }
        if last == NIL {
            self.set_first(parent, index);
        } else {
            self.slot_mut(last).next_sibling = index;
        }
        self.set_last(parent, index);
    }

    /// Takes slot `index` out of its parent's children.
    fn unlink(&mut self, index: u32) {
        let (parent, prev, next) = {
            let entry = self.slot(index);
            (entry.parent, entry.prev_sibling, entry.next_sibling)
        };
        if prev == NIL {
            self.set_first(parent, next);
        } else {
            self.slot_mut(prev).next_sibling = next;
        }
        if next == NIL {
            self.set_last(parent, prev);
        } else {
            self.slot_mut(next).prev_sibling = prev;
        }
        let entry = self.slot_mut(index);
        entry.parent = NIL;
        entry.prev_sibling = NIL;
        entry.next_sibling = NIL;
    }

    fn set_first(&mut self, parent: u32, index: u32) {
        if parent == NIL {
            self.first_root = index;
        } else {
            self.slot_mut(parent).first_child = index;
        }
    }

    fn set_last(&mut self, parent: u32, index: u32) {
        if parent == NIL {
            self.last_root = index;
        } else {
            self.slot_mut(parent).last_child = index;
        }
    }

    /// The entry in slot `index`, which the tree links say is occupied.
    fn slot(&self, index: u32) -> &Entry {
        let id = self
            .gobjs
            .key_at(index)
            .expect("tree links name live slots");
        self.gobjs.get(id).expect("tree links name live slots")
    }

    fn slot_mut(&mut self, index: u32) -> &mut Entry {
        let id = self
            .gobjs
            .key_at(index)
            .expect("tree links name live slots");
        self.gobjs.get_mut(id).expect("tree links name live slots")
    }

    fn first_child_index(&self, index: u32) -> Option<u32> {
        let first = self.slot(index).first_child;
        (first != NIL).then_some(first)
    }

    fn id_at(&self, index: u32) -> Option<GobjId> {
        (index != NIL).then(|| self.gobjs.key_at(index)).flatten()
    }

    /// The parent of `id`; `None` for a child of the gaplic or a dead gobj.
    pub(crate) fn parent(&self, id: GobjId) -> Option<GobjId> {
        self.id_at(self.gobjs.get(id)?.parent)
    }

    /// The first child of `id` (of the gaplic for `None`).
    pub(crate) fn first_child(&self, id: Option<GobjId>) -> Option<GobjId> {
        match id {
            Some(id) => self.id_at(self.gobjs.get(id)?.first_child),
            None => self.id_at(self.first_root),
        }
    }

    /// The children of `id` (of the gaplic for `None`), in creation order.
    pub(crate) fn children(&self, id: Option<GobjId>) -> impl Iterator<Item = GobjId> + '_ {
        std::iter::successors(self.first_child(id), |&child| {
            self.id_at(self.gobjs.get(child)?.next_sibling)
        })
    }

    // ----- lookups ------------------------------------------------------------

    pub(crate) fn meta(&self, id: GobjId) -> Option<&'static GclassMeta> {
        self.gobjs.get(id).map(|e| e.meta)
    }

    /// The gobj, unless it is checked out.
    pub(crate) fn gobj(&self, id: GobjId) -> Option<&dyn AnyGobj> {
        self.gobjs.get(id)?.gobj.as_deref()
    }

    pub(crate) fn gobj_mut(&mut self, id: GobjId) -> Option<&mut (dyn AnyGobj + 'static)> {
        self.gobjs.get_mut(id)?.gobj.as_deref_mut()
    }

    /// How many gobjs live.
    pub(crate) fn len(&self) -> usize {
        self.gobjs.len()
    }

    /// Every live gobj, in slot order.
    pub(crate) fn ids(&self) -> impl Iterator<Item = GobjId> + '_ {
        self.gobjs.iter().map(|(id, _)| id)
    }

    pub(crate) fn find_unique(&self, name: &str) -> Option<GobjId> {
        self.unique.get(name).copied()
    }

    /// The unique names, sorted.
    pub(crate) fn unique_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.unique.keys().map(|name| &**name).collect();
        names.sort_unstable();
        names
    }

    // ----- run to completion --------------------------------------------------

    /// Takes gobj `id` out of its entry, for an action or a hook.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Destroyed`] when it is gone.
    #[inline]
    pub(crate) fn check_out(&mut self, id: GobjId) -> Result<CheckOut, GobjError> {
        let entry = self.entry_mut(id)?;
        Ok(match entry.gobj.take() {
            Some(gobj) => CheckOut::Ready(gobj),
            None => CheckOut::Busy,
        })
    }

    /// Keeps `queued` for gobj `id`, which is checked out, until it is
    /// back. A gobj that is gone gets nothing: the event is returned.
    pub(crate) fn defer(&mut self, id: GobjId, queued: Queued) -> Result<(), Queued> {
        match self.gobjs.get_mut(id) {
            Some(entry) => {
                entry.pending.push_back(queued);
                Ok(())
            }
            None => Err(queued),
        }
    }

    /// Puts gobj `id` back after an action or `start_up`, and says what
    /// comes next.
    #[inline]
    pub(crate) fn check_in(&mut self, id: GobjId, gobj: Box<dyn AnyGobj>) -> CheckIn {
        let Some(entry) = self.gobjs.get_mut(id) else {
            // Taken out of the registry meanwhile: nothing comes next.
            return CheckIn::Idle;
        };
        if entry.destroy_requested {
            entry.destroy_requested = false;
            entry.gobj = Some(gobj);
            return CheckIn::Destroy;
        }
        match entry.pending.pop_front() {
            Some(next) => CheckIn::Next(gobj, next),
            None => {
                entry.gobj = Some(gobj);
                CheckIn::Idle
            }
        }
    }

    /// Puts gobj `id` back without delivering what waits (after its
    /// `go_out`: it is about to be removed).
    pub(crate) fn put_back(&mut self, id: GobjId, gobj: Box<dyn AnyGobj>) {
        if let Some(entry) = self.gobjs.get_mut(id) {
            entry.gobj = Some(gobj);
        }
    }

    /// Asks for the destruction of a checked-out gobj when it is back.
    pub(crate) fn request_destroy(&mut self, id: GobjId) {
        if let Some(entry) = self.gobjs.get_mut(id) {
            entry.destroy_requested = true;
        }
    }

    /// Marks the destruction of `id` as begun; `false` when it had begun
    /// already (or the gobj is gone).
    pub(crate) fn begin_dying(&mut self, id: GobjId) -> bool {
        match self.gobjs.get_mut(id) {
            Some(entry) if !entry.dying => {
                entry.dying = true;
                true
            }
            _ => false,
        }
    }

    /// Whether the destruction of `id` was asked while it was checked out.
    pub(crate) fn is_destroy_requested(&self, id: GobjId) -> bool {
        self.gobjs.get(id).is_some_and(|e| e.destroy_requested)
    }

    /// Whether `id` is checked out.
    pub(crate) fn is_busy(&self, id: GobjId) -> bool {
        self.gobjs.get(id).is_some_and(|e| e.gobj.is_none())
    }
}
