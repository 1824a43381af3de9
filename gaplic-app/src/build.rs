//! Building gaplics from an application file: their options, then their
//! gobjs, in file order.

use gaplic_runtime::{Gaplic, GaplicBuilder, GobjError, GobjId, Kw};

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

/// Creates the gobjs of `spec` in `gaplic`, in file order, each child of
/// its parent (or of the gaplic); returns their ids, in the same order.
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
