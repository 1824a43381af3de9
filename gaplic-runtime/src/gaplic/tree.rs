//! The tree of gobjs: creation, destruction, lookups.

use std::any::Any;
use std::sync::Arc;

use super::Gaplic;
use crate::dest::Dest;
use crate::error::ErrorKind;
use crate::error::GobjError;
use crate::gobj::Phase;
use crate::id::GobjId;
use crate::kw::Kw;
use crate::machine::{Gclass, Machine};
use crate::meta::GclassMeta;

impl Gaplic {
    /// Global attr settings, applied to every gobj created afterwards,
    /// after its defaults and its creation keywords (so they win, as in
    /// GinsFSM). A key `attr` (or GinsFSM's `GObj.attr`) applies to every
    /// gclass with that attr; `Gclass.attr` to one gclass;
    /// `gobj_name.attr` to one gobj. Settings for attrs a gclass lacks are
    /// ignored; a later key wins over an earlier one.
    pub fn set_settings(&mut self, settings: Kw) {
        self.settings = settings;
    }

    /// Creates a gobj of gclass `G` called `name`, child of `parent` (or of
    /// the gaplic), with its attrs from their defaults, `kw` and the global
    /// settings; then runs its `start_up`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Destroyed`] for a dead parent; the errors of
    /// [`Gclass::create`]; the error `start_up` returns (the gobj and the
    /// children it made are destroyed again); [`ErrorKind::Stopped`] once
    /// the gaplic has stopped, and while its gobjs go out at its end (a
    /// `go_out` cannot make a gobj that would outlive the gaplic).
    pub fn create_gobj<G: Gclass + 'static>(
        &mut self,
        name: &str,
        parent: Option<GobjId>,
        kw: Kw,
    ) -> Result<GobjId, GobjError> {
        self.create::<G>(name, parent, kw, false)
    }

    /// As [`create_gobj`](Gaplic::create_gobj), and registers `name` as a
    /// unique name, by which events can be addressed to it.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::DuplicateName`] when the name is taken (nothing is
    /// created), and those of [`create_gobj`](Gaplic::create_gobj).
    pub fn create_unique_gobj<G: Gclass + 'static>(
        &mut self,
        name: &str,
        parent: Option<GobjId>,
        kw: Kw,
    ) -> Result<GobjId, GobjError> {
        self.create::<G>(name, parent, kw, true)
    }

    fn create<G: Gclass + 'static>(
        &mut self,
        name: &str,
        parent: Option<GobjId>,
        kw: Kw,
        unique: bool,
    ) -> Result<GobjId, GobjError> {
        if matches!(self.life, super::Life::Ending | super::Life::Stopped) {
            return Err(self.stopped());
        }
        if let Some(parent) = parent {
            self.registry.live(parent)?;
        }
        if unique && self.registry.is_unique_taken(name) {
            return Err(ErrorKind::DuplicateName {
                name: name.to_owned(),
            }
            .into());
        }
        let kw = self.with_settings(G::META, name, kw);
        let name: Arc<str> = if name.is_empty() {
            // Unnamed gobjs share one name instead of allocating each.
            self.unnamed.clone()
        } else {
            name.into()
        };
        let machine = Machine::<G>::from_parts(name.clone(), G::create(&kw)?);
        let id = self
            .registry
            .insert(Box::new(machine), parent, unique.then_some(name))?;
        if let Err(error) = self.run_hook(id, Phase::StartUp) {
            // It never started, so it gets no `go_out`; the children it
            // made in `start_up` go with it.
            self.destroy_children(id);
            self.remove_gobj(id);
            return Err(error);
        }
        Ok(id)
    }

    /// `kw` with the global settings that concern gobj `name` of `meta`.
    fn with_settings(&self, meta: &'static GclassMeta, name: &str, mut kw: Kw) -> Kw {
        for (key, value) in self.settings.iter() {
            let (scope, attr) = match key.rsplit_once('.') {
                Some((scope, attr)) => (Some(scope), attr),
                None => (None, key),
            };
            let concerned = scope.is_none_or(|s| s == name || s == meta.name() || s == "GObj");
            if concerned && meta.attr(attr).is_some() {
                kw.insert(attr.to_owned(), value.clone());
            }
        }
        kw
    }

    /// Destroys a gobj: its children first (each the same way), then its
    /// `go_out`; then its subscriptions (both ways) and timers end, events
    /// still pending for it are dropped with a trace, and its unique name is
    /// freed. A gobj that is mid-action is destroyed as soon as the action
    /// returns. Destroying a gobj whose destruction is under way does
    /// nothing more: `go_out` runs once.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Destroyed`] when it is gone already.
    pub fn destroy_gobj(&mut self, id: GobjId) -> Result<(), GobjError> {
        self.registry.live(id)?;
        if self.registry.is_busy(id) {
            self.registry.request_destroy(id);
            return Ok(());
        }
        if !self.registry.begin_dying(id) {
            return Ok(());
        }
        // Depth first, children before parents, with a stack of our own:
        // a deep tree cannot overflow the thread's.
        let mut stack = vec![id];
        while let Some(&top) = stack.last() {
            match self.next_child_to_destroy(top) {
                Some(child) => stack.push(child),
                None => {
                    stack.pop();
                    self.go_out_and_remove(top);
                }
            }
        }
        Ok(())
    }

    /// The first child of `parent` to destroy now, marked dying. A child
    /// that is mid-action (it asked for the destruction of an ancestor) is
    /// left to be destroyed when its action returns, as a child of the
    /// gaplic meanwhile.
    fn next_child_to_destroy(&mut self, parent: GobjId) -> Option<GobjId> {
        loop {
            let child = self.registry.first_child(Some(parent))?;
            if self.registry.is_busy(child) {
                self.registry.request_destroy(child);
            } else if self.registry.begin_dying(child) {
                return Some(child);
            }
            self.registry.detach(child);
        }
    }

    /// Runs the `go_out` of a dying gobj whose children are gone, destroys
    /// what it created meanwhile, and takes it out.
    fn go_out_and_remove(&mut self, id: GobjId) {
        if let Err(error) = self.run_hook(id, Phase::GoOut) {
            tracing::warn!(target: "gaplic", gaplic = %self.name, %error, "go_out failed");
        }
        self.destroy_children(id);
        self.remove_gobj(id);
    }

    /// Destroys every child of `id` (children it made in a hook).
    fn destroy_children(&mut self, id: GobjId) {
        while let Some(child) = self.registry.first_child(Some(id)) {
            if self.registry.is_busy(child) {
                self.registry.request_destroy(child);
                self.registry.detach(child);
            } else if self.destroy_gobj(child).is_err() || self.registry.contains(child) {
                // Its destruction is under way elsewhere: not ours to wait for.
                self.registry.detach(child);
            }
        }
    }

    /// Takes gobj `id` out of the registry and everything that refers to it.
    pub(super) fn remove_gobj(&mut self, id: GobjId) {
        self.driver.cancel_owned(id);
        self.pubsub.remove_gobj(id);
        let Some(pending) = self.registry.remove(id) else {
            return;
        };
        for pending in &pending {
            tracing::warn!(
                target: "gaplic",
                gaplic = %self.name,
                gobj = %id,
                event = pending.event.name(),
                "event dropped: its gobj was destroyed before it could be delivered"
            );
        }
    }

    /// Destroys every gobj, children before parents, each root in creation
    /// order (the end of a gaplic).
    pub(super) fn destroy_all(&mut self) {
        loop {
            let roots: Vec<GobjId> = self.registry.children(None).collect();
            if roots.is_empty() {
                return;
            }
            let before = self.registry.len();
            for root in roots {
                let _ = self.destroy_gobj(root);
            }
            if self.registry.len() >= before {
                // Nothing can be made meanwhile, so only busy gobjs are
                // left (a stop from inside an action of a loop driven by
                // hand): they go when they return.
                return;
            }
        }
    }

    /// The gobj registered under `name`.
    pub fn find_unique_gobj(&self, name: &str) -> Option<GobjId> {
        self.registry.find_unique(name)
    }

    /// The unique names, sorted.
    pub fn unique_names(&self) -> Vec<&str> {
        self.registry.unique_names()
    }

    /// How many gobjs live.
    pub fn len(&self) -> usize {
        self.registry.len()
    }

    /// Whether no gobj lives.
    pub fn is_empty(&self) -> bool {
        self.registry.len() == 0
    }

    /// Every live gobj.
    pub fn gobj_ids(&self) -> impl Iterator<Item = GobjId> + '_ {
        self.registry.ids()
    }

    /// Whether `id` is a live gobj.
    pub fn contains(&self, id: GobjId) -> bool {
        self.registry.contains(id)
    }

    /// The struct of gobj `id`, if it lives, is of gclass `G` and is not
    /// mid-action.
    pub fn gobj<G: Gclass + 'static>(&self, id: GobjId) -> Option<&G> {
        let any: &dyn Any = self.registry.gobj(id)?.as_any();
        any.downcast_ref::<Machine<G>>().map(Machine::gobj)
    }

    /// The struct of gobj `id`, to change it between events.
    pub fn gobj_mut<G: Gclass + 'static>(&mut self, id: GobjId) -> Option<&mut G> {
        self.registry
            .gobj_mut(id)?
            .as_any_mut()
            .downcast_mut::<Machine<G>>()
            .map(Machine::gobj_mut)
    }

    /// The name of gobj `id` (`None` while it is mid-action).
    pub fn name_of(&self, id: GobjId) -> Option<&str> {
        self.registry.gobj(id).map(|g| &**g.name())
    }

    /// The gclass of gobj `id`.
    pub fn gclass_of(&self, id: GobjId) -> Option<&'static GclassMeta> {
        self.registry.meta(id)
    }

    /// The name of the state gobj `id` is in (`None` while it is
    /// mid-action).
    pub fn state_of(&self, id: GobjId) -> Option<&'static str> {
        self.registry.gobj(id).map(|g| g.state_name())
    }

    /// The parent of gobj `id` (`None` for a child of the gaplic).
    pub fn parent_of(&self, id: GobjId) -> Option<GobjId> {
        self.registry.parent(id)
    }

    /// The children of gobj `id`, in creation order.
    pub fn children_of(&self, id: GobjId) -> impl Iterator<Item = GobjId> + '_ {
        self.registry.children(Some(id))
    }

    /// The gobjs with no parent (the children of the gaplic), in creation
    /// order.
    pub fn top_gobjs(&self) -> impl Iterator<Item = GobjId> + '_ {
        self.registry.children(None)
    }

    /// Turns the machine trace of gobj `id` on or off.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Destroyed`] when it is gone.
    pub fn set_trace(&mut self, id: GobjId, on: bool) -> Result<(), GobjError> {
        self.registry.live(id)?;
        if let Some(gobj) = self.registry.gobj_mut(id) {
            gobj.set_trace(on);
        }
        Ok(())
    }

    /// The gobj `dst` names.
    #[inline]
    pub(super) fn resolve(&self, dst: &Dest<'_>) -> Result<GobjId, GobjError> {
        match dst {
            Dest::Gobj(id) => {
                self.registry.live(*id)?;
                Ok(*id)
            }
            Dest::Unique(name) => self.find_here(name),
            Dest::Remote(remote) if self.is_here(remote) => self.find_here(&remote.gobj),
            Dest::Remote(remote) => Err(ErrorKind::NotLocal {
                dest: remote.to_string(),
            }
            .into()),
        }
    }

    /// The gobj with unique name `name` here.
    fn find_here(&self, name: &str) -> Result<GobjId, GobjError> {
        match self.registry.find_unique(name) {
            Some(id) => Ok(id),
            None => Err(ErrorKind::UnknownGobj {
                name: name.to_owned(),
            }
            .into()),
        }
    }
}
