//! Building gaplics from an application file: their options, then their
//! gobjs, in file order.

use gaplic_runtime::{Gaplic, GaplicBuilder, GobjError, GobjId, Kw, ROUTER};

use crate::file::GaplicSpec;
use crate::registry::Gclasses;

/// The builder of the gaplic `spec` describes, with the application's
/// global `settings`.
pub fn builder(spec: &GaplicSpec, settings: &Kw) -> GaplicBuilder {
    let mut builder = Gaplic::builder(spec.name.clone()).settings(settings.clone());
    for role in &spec.roles {
        builder = builder.role(role.clone());
    }
    if let Some(batch) = spec.batch {
        builder = builder.batch(batch);
    }
    if let Some(bytes) = spec.stack_size {
        builder = builder.stack_size(bytes);
    }
    builder
}

/// Creates the router of `spec` if it has one (see
/// [`GaplicSpec::router`]), then its gobjs in `gaplic`, in file order, each
/// child of its parent (or of the gaplic); returns the ids of the gobjs,
/// in the same order.
///
/// # Errors
///
/// The first creation that fails (an unknown gclass, attrs the gclass
/// refuses, a `start_up` that fails...), naming the gobj and where it is
/// in the file; the gobjs created before it stay.
pub fn create_gobjs(
    gaplic: &mut Gaplic,
    spec: &GaplicSpec,
    gclasses: &Gclasses,
) -> Result<Vec<GobjId>, GobjError> {
    if let Some(attrs) = &spec.router {
        create_router(gaplic, &spec.name, attrs.clone(), gclasses)?;
    }
    create_listed_gobjs(gaplic, spec, gclasses)
}

/// Creates the router of gaplic `name` with `attrs`: the unique gobj
/// `router` of the registered router gclass.
pub(crate) fn create_router(
    gaplic: &mut Gaplic,
    name: &str,
    attrs: Kw,
    gclasses: &Gclasses,
) -> Result<GobjId, GobjError> {
    let entry = gclasses.router().ok_or_else(|| {
        GobjError::failed(format!(
            "cannot create the router of gaplic `{name}`: no router gclass is registered"
        ))
    })?;
    entry
        .create(gaplic, ROUTER, None, attrs, true)
        .map_err(|error| {
            GobjError::failed(format!(
                "cannot create the router of gaplic `{name}` ({}): {error}",
                entry.name()
            ))
        })
}

/// Creates the `[[….gobj]]`s of `spec`, without its router.
pub(crate) fn create_listed_gobjs(
    gaplic: &mut Gaplic,
    spec: &GaplicSpec,
    gclasses: &Gclasses,
) -> Result<Vec<GobjId>, GobjError> {
    let mut ids: Vec<GobjId> = Vec::with_capacity(spec.gobjs.len());
    for (i, gobj) in spec.gobjs.iter().enumerate() {
        let place = format!(
            "gobj `{}` of `{}` (gobj[{i}] of gaplic `{}`)",
            gobj.name, gobj.gclass, spec.name
        );
        let entry = gclasses.get(&gobj.gclass).ok_or_else(|| {
            GobjError::failed(format!(
                "cannot create {place}: the gclass is not registered"
            ))
        })?;
        let parent = match gobj.parent {
            Some(at) => Some(*ids.get(at).ok_or_else(|| {
                GobjError::failed(format!(
                    "cannot create {place}: its parent must be listed before it"
                ))
            })?),
            None => None,
        };
        let id = entry
            .create(gaplic, &gobj.name, parent, gobj.attrs.clone(), gobj.unique)
            .map_err(|error| GobjError::failed(format!("cannot create {place}: {error}")))?;
        ids.push(id);
    }
    Ok(ids)
}
