//! The checks of an application file that need the gclasses: gaplic names,
//! gclass names, attrs (built with each gclass's own `create`, as creating
//! the gobj would, so types and validators are the gclass's), settings,
//! unique names and parents. Every rule runs; each error is reported at the
//! key or value it is about.

use std::collections::HashMap;

use gaplic_runtime::{ErrorKind, GobjError, Kw};

use super::read::{Parsed, ParsedGaplic, ParsedGobj, Report, Setting, key_path};
use crate::registry::{GclassEntry, Gclasses};
use crate::tables;

/// Checks `parsed`; returns, for each gaplic (main first, then the
/// threads), the position of each gobj's parent in that gaplic's list.
pub(crate) fn check(
    report: &mut Report<'_>,
    parsed: &Parsed,
    gclasses: &Gclasses,
) -> Vec<Vec<Option<usize>>> {
    let gaplics: Vec<&ParsedGaplic> = parsed.main.iter().chain(&parsed.threads).collect();
    check_gaplic_names(report, &gaplics);
    check_setting_scopes(report, &parsed.settings, gclasses);
    let mut parents = Vec::with_capacity(gaplics.len());
    for gaplic in gaplics {
        check_unique_names(report, gaplic);
        parents.push(resolve_parents(report, gaplic));
        for gobj in &gaplic.gobjs {
            check_gobj(report, gobj, &parsed.settings, gclasses);
        }
    }
    parents
}

/// Gaplics of a process know each other by name, so two with one name
/// cannot both run.
fn check_gaplic_names(report: &mut Report<'_>, gaplics: &[&ParsedGaplic]) {
    let mut seen: HashMap<&str, (&str, usize)> = HashMap::new();
    for gaplic in gaplics {
        let Some(name) = &gaplic.name else { continue };
        if let Some((first, start)) = seen.get(name.value.as_str()) {
            let line = report.line_of(*start);
            report.error(
                name.span.clone(),
                &key_path(&gaplic.path, "name"),
                format!(
                    "gaplic name `{}` is taken already by {first} (line {line})",
                    name.value
                ),
            );
        } else {
            seen.insert(&name.value, (&gaplic.path, name.span.start));
        }
    }
}

/// Unique names are registered per gaplic: a second one fails at creation.
fn check_unique_names(report: &mut Report<'_>, gaplic: &ParsedGaplic) {
    let mut seen: HashMap<&str, (&str, usize)> = HashMap::new();
    for gobj in gaplic.gobjs.iter().filter(|g| g.unique) {
        let Some(name) = &gobj.name else { continue };
        if let Some((first, start)) = seen.get(name.value.as_str()) {
            let line = report.line_of(*start);
            report.error(
                name.span.clone(),
                &key_path(&gobj.path, "name"),
                format!(
                    "unique name `{}` is taken already by {first} (line {line})",
                    name.value
                ),
            );
        } else {
            seen.insert(&name.value, (&gobj.path, name.span.start));
        }
    }
}

/// A parent names exactly one gobj listed before its child in the same
/// gaplic: gobjs are created in file order, so the parent must exist when
/// its child is made.
fn resolve_parents(report: &mut Report<'_>, gaplic: &ParsedGaplic) -> Vec<Option<usize>> {
    let mut parents = Vec::with_capacity(gaplic.gobjs.len());
    for (i, gobj) in gaplic.gobjs.iter().enumerate() {
        let Some(parent) = &gobj.parent else {
            parents.push(None);
            continue;
        };
        let path = key_path(&gobj.path, "parent");
        let named: Vec<usize> = gaplic
            .gobjs
            .iter()
            .enumerate()
            .filter(|(_, g)| g.name.as_ref().is_some_and(|n| n.value == parent.value))
            .map(|(j, _)| j)
            .collect();
        let before: Vec<usize> = named.iter().copied().filter(|&j| j < i).collect();
        let after: Vec<usize> = named.iter().copied().filter(|&j| j > i).collect();
        let found = match (before.as_slice(), after.first()) {
            ([j], _) => Some(*j),
            ([], Some(&j)) => {
                let line = report.line_of(gaplic.gobjs[j].span.start);
                report.error(
                    parent.span.clone(),
                    &path,
                    format!(
                        "parent `{}` is listed after its child: move {} (line {line}) before {}",
                        parent.value, gaplic.gobjs[j].path, gobj.path
                    ),
                );
                None
            }
            ([], None) if named.contains(&i) => {
                report.error(
                    parent.span.clone(),
                    &path,
                    "a gobj cannot be its own parent",
                );
                None
            }
            ([], None) => {
                report.error(
                    parent.span.clone(),
                    &path,
                    format!(
                        "unknown parent `{}`: no gobj of {} is named so",
                        parent.value, gaplic.path
                    ),
                );
                None
            }
            (several, _) => {
                let paths: Vec<&str> = several
                    .iter()
                    .map(|&j| gaplic.gobjs[j].path.as_str())
                    .collect();
                report.error(
                    parent.span.clone(),
                    &path,
                    format!(
                        "ambiguous parent `{}`: {} are all named so",
                        parent.value,
                        paths.join(", ")
                    ),
                );
                None
            }
        };
        parents.push(found);
    }
    parents
}

/// A setting scoped to a registered gclass names one of its attrs, with a
/// value the gclass takes, even when no gobj of the file is of that gclass
/// (its gobjs may be made at run time, as a `GTimer` child is). A scope
/// that is not a gclass is a gobj name, perhaps of a gobj made at run time,
/// and an unscoped attr may be meant for such gobjs: those are checked only
/// against the gobjs of the file they reach.
fn check_setting_scopes(report: &mut Report<'_>, settings: &[Setting], gclasses: &Gclasses) {
    for setting in settings {
        let (Some(scope), attr) = setting.scope_and_attr() else {
            continue;
        };
        let Some(entry) = gclasses.get(scope) else {
            continue;
        };
        if !tables::has_attr(entry.meta(), attr) {
            report.error(
                setting.key_span.clone(),
                &setting.path,
                format!("`{scope}` has no attr `{attr}` ({})", attrs_list(entry)),
            );
        } else if let Err(error) =
            entry.check(&Kw::new().with(attr.to_owned(), setting.value.clone()))
        {
            report.error(setting.value_span.clone(), &setting.path, error.to_string());
        }
    }
}

/// Whether `setting` reaches a gobj called `name` of `entry`'s gclass, as
/// the runtime decides when it creates the gobj.
fn applies(setting: &Setting, name: &str, entry: &GclassEntry) -> bool {
    let (scope, attr) = setting.scope_and_attr();
    scope.is_none_or(|s| s == name || s == entry.name() || s == "GObj")
        && tables::has_attr(entry.meta(), attr)
}

fn attrs_list(entry: &GclassEntry) -> String {
    let attrs = tables::attr_names(entry.meta());
    if attrs.is_empty() {
        "it has no attrs".to_owned()
    } else {
        format!("its attrs: {}", attrs.join(", "))
    }
}

/// The gclass exists; each attr on its own, then the attrs with the
/// settings that reach the gobj, build as the gclass's `create` would.
fn check_gobj(
    report: &mut Report<'_>,
    gobj: &ParsedGobj,
    settings: &[Setting],
    gclasses: &Gclasses,
) {
    let Some(gclass) = &gobj.gclass else { return };
    let Some(entry) = gclasses.get(&gclass.value) else {
        report.error(
            gclass.span.clone(),
            &key_path(&gobj.path, "gclass"),
            format!(
                "unknown gclass `{}` (registered: {})",
                gclass.value,
                gclasses.names().join(", ")
            ),
        );
        return;
    };
    let attrs_path = key_path(&gobj.path, "attrs");
    let mut attrs_ok = true;
    for attr in &gobj.attrs {
        let path = key_path(&attrs_path, &attr.name);
        if !tables::has_attr(entry.meta(), &attr.name) {
            report.error(
                attr.key_span.clone(),
                &path,
                format!(
                    "`{}` has no attr `{}` ({})",
                    entry.name(),
                    attr.name,
                    attrs_list(entry)
                ),
            );
            attrs_ok = false;
        } else if let Err(error) =
            entry.check(&Kw::new().with(attr.name.clone(), attr.value.clone()))
        {
            report.error(attr.value_span.clone(), &path, error.to_string());
            attrs_ok = false;
        }
    }
    let Some(name) = &gobj.name else { return };
    let reaching: Vec<&Setting> = settings
        .iter()
        .filter(|s| applies(s, &name.value, entry))
        .collect();
    let mut settings_ok = true;
    for setting in &reaching {
        let (_, attr) = setting.scope_and_attr();
        if let Err(error) = entry.check(&Kw::new().with(attr.to_owned(), setting.value.clone())) {
            report_setting(report, setting, gobj, &error);
            settings_ok = false;
        }
    }
    if !(attrs_ok && settings_ok) {
        return;
    }
    // Together: what a gclass refuses only in combination.
    let mut kw: Kw = gobj
        .attrs
        .iter()
        .map(|a| (a.name.clone(), a.value.clone()))
        .collect();
    for setting in &reaching {
        let (_, attr) = setting.scope_and_attr();
        kw.insert(attr.to_owned(), setting.value.clone());
    }
    if let Err(error) = entry.check(&kw) {
        let key = error_key(&error);
        let setting =
            key.and_then(|key| reaching.iter().rev().find(|s| s.scope_and_attr().1 == key));
        let attr = key.and_then(|key| gobj.attrs.iter().find(|a| a.name == key));
        match (setting, attr) {
            (Some(setting), _) => report_setting(report, setting, gobj, &error),
            (None, Some(attr)) => report.error(
                attr.value_span.clone(),
                &key_path(&attrs_path, &attr.name),
                error.to_string(),
            ),
            (None, None) => report.error(gobj.span.clone(), &gobj.path, error.to_string()),
        }
    }
}

/// A setting refused for one gobj it reaches.
fn report_setting(
    report: &mut Report<'_>,
    setting: &Setting,
    gobj: &ParsedGobj,
    error: &GobjError,
) {
    let name = gobj.name.as_ref().map_or("?", |n| n.value.as_str());
    let reason = format!("for gobj `{name}` ({}): {error}", gobj.path);
    let duplicate = report
        .errors
        .iter()
        .any(|e| e.path == setting.path && e.reason.ends_with(&error.to_string()));
    if !duplicate {
        report.error(setting.value_span.clone(), &setting.path, reason);
    }
}

/// The attr a creation error names, if any.
fn error_key(error: &GobjError) -> Option<&str> {
    match error.kind() {
        ErrorKind::UnknownAttr { attr, .. } => Some(attr),
        ErrorKind::BadAttr { error, .. } | ErrorKind::Kw(error) => Some(error.key()),
        _ => None,
    }
}
