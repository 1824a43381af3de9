//! Attrs at run time: read, write, reset and list a live gobj's attrs by
//! name, and apply dotted settings to a subtree.

use super::Gaplic;
use crate::error::{ErrorKind, GobjError};
use crate::gobj::AnyGobj;
use crate::id::GobjId;
use crate::kw::Kw;
use crate::meta::AttrMeta;
use crate::value::Value;

/// One attr of a live gobj: what its gclass declares, and its value now.
#[derive(Clone, Debug)]
pub struct AttrValue {
    /// The declaration: name, type, default, doc, rules.
    pub meta: &'static AttrMeta,
    /// The value now.
    pub value: Value,
}

impl Gaplic {
    /// The gobj, to reach its attrs: alive and not mid-action.
    fn attr_holder(&self, id: GobjId) -> Result<&dyn AnyGobj, GobjError> {
        self.registry.live(id)?;
        self.registry
            .gobj(id)
            .ok_or_else(|| ErrorKind::Busy { gobj: id }.into())
    }

    fn attr_holder_mut(&mut self, id: GobjId) -> Result<&mut dyn AnyGobj, GobjError> {
        self.registry.live(id)?;
        match self.registry.gobj_mut(id) {
            Some(gobj) => Ok(gobj),
            None => Err(ErrorKind::Busy { gobj: id }.into()),
        }
    }

    /// The value of attr `name` of gobj `id`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Destroyed`], [`ErrorKind::Busy`] (mid-action: the
    /// gobj reads its own fields), [`ErrorKind::UnknownAttr`].
    pub fn attr(&self, id: GobjId, name: &str) -> Result<Value, GobjError> {
        let gobj = self.attr_holder(id)?;
        gobj.attr(name)
            .ok_or_else(|| crate::support::unknown_attr(gobj.meta().name(), name))
    }

    /// Writes attr `name` of gobj `id`, checked against its type and its
    /// rules as at creation (the same errors); on error the attr keeps its
    /// value. A gobj writes its own attrs through its fields.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Destroyed`], [`ErrorKind::Busy`],
    /// [`ErrorKind::UnknownAttr`], [`ErrorKind::BadAttr`].
    pub fn set_attr(
        &mut self,
        id: GobjId,
        name: &str,
        value: impl Into<Value>,
    ) -> Result<(), GobjError> {
        self.attr_holder_mut(id)?.set_attr(name, &value.into())
    }

    /// Sets attr `name` of gobj `id` back to its default.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Destroyed`], [`ErrorKind::Busy`],
    /// [`ErrorKind::UnknownAttr`].
    pub fn reset_attr(&mut self, id: GobjId, name: &str) -> Result<(), GobjError> {
        self.attr_holder_mut(id)?.reset_attr(name)
    }

    /// Every attr of gobj `id`, in declaration order, with its value.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Destroyed`], [`ErrorKind::Busy`].
    pub fn attrs(&self, id: GobjId) -> Result<Vec<AttrValue>, GobjError> {
        let gobj = self.attr_holder(id)?;
        Ok(gobj
            .meta()
            .attrs()
            .iter()
            .filter_map(|meta| {
                let value = gobj.attr(meta.name())?;
                Some(AttrValue { meta, value })
            })
            .collect())
    }

    /// Applies dotted `settings` to gobj `id` and its descendants down to
    /// `depth` levels (0: `id` alone; `usize::MAX`: the whole subtree), as
    /// GinsFSM's `overwrite_parameters`. A key `attr` or `GObj.attr`
    /// concerns every gobj with that attr, `Gclass.attr` the gobjs of that
    /// gclass, `name.attr` the gobjs of that name; a gobj without the attr
    /// is left alone, and among keys for the same attr the later one wins.
    /// Returns how many attrs were written.
    ///
    /// Each value is checked as [`set_attr`](Gaplic::set_attr) checks it.
    /// A refused one leaves its attr as it was and the others are still
    /// applied; the first refusal is returned after all were tried. A gobj
    /// that is mid-action is skipped (its action owns its fields), which
    /// is also reported.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Destroyed`] for `id`; the first refusal.
    pub fn overwrite_attrs(
        &mut self,
        id: GobjId,
        depth: usize,
        settings: &Kw,
    ) -> Result<usize, GobjError> {
        self.registry.live(id)?;
        let mut targets = vec![(id, 0_usize)];
        let mut at = 0;
        while at < targets.len() {
            let (gobj, level) = targets[at];
            at += 1;
            if level < depth {
                let children = self.registry.children(Some(gobj));
                targets.extend(children.map(|child| (child, level + 1)));
            }
        }
        let mut written = 0;
        let mut first_error = None;
        for (gobj, _) in targets {
            match self.overwrite_one(gobj, settings) {
                Ok(count) => written += count,
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        match first_error {
            Some(error) => Err(error),
            None => Ok(written),
        }
    }

    /// Applies the settings that concern gobj `id`; returns how many were
    /// written, or the first refusal (after trying them all).
    fn overwrite_one(&mut self, id: GobjId, settings: &Kw) -> Result<usize, GobjError> {
        let name = self.name_of(id).map(str::to_owned);
        let gobj = self.attr_holder_mut(id)?;
        let gclass = gobj.meta().name();
        let (mut written, mut first_error) = (0, None);
        for (key, value) in settings.iter() {
            let (scope, attr) = match key.rsplit_once('.') {
                Some((scope, attr)) => (Some(scope), attr),
                None => (None, key),
            };
            let concerned =
                scope.is_none_or(|s| s == "GObj" || s == gclass || Some(s) == name.as_deref());
            if !concerned || gobj.attr(attr).is_none() {
                continue;
            }
            match gobj.set_attr(attr, value) {
                Ok(()) => written += 1,
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        match first_error {
            Some(error) => Err(error),
            None => Ok(written),
        }
    }
}
