//! The checks of an application file that need the gclasses: gaplic names,
//! gclass names, attrs (built with each gclass's own `create`, as creating
//! the gobj would, so types and validators are the gclass's), settings,
//! unique names and parents. Every rule runs; each error is reported at the
//! key or value it is about.

use std::collections::HashMap;

use std::ops::Range;

use gaplic_runtime::{ErrorKind, GobjError, Kw, ROUTER, Value};

use super::read::{Attr, Parsed, ParsedGaplic, ParsedGobj, Report, Setting, key_path};
use crate::registry::{GclassEntry, Gclasses};
use crate::tables;

/// Checks `parsed`; returns, for each gaplic (main first, then the
/// threads, then the subprocesses), the position of each gobj's parent in
/// that gaplic's list.
pub(crate) fn check(
    report: &mut Report<'_>,
    parsed: &Parsed,
    gclasses: &Gclasses,
) -> Vec<Vec<Option<usize>>> {
    let gaplics: Vec<&ParsedGaplic> = parsed
        .main
        .iter()
        .chain(&parsed.threads)
        .chain(parsed.subprocesses.iter().map(|s| &s.gaplic))
        .collect();
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
    check_routers(report, parsed, gclasses);
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
    check_attrs(
        report,
        &Attrs {
            entry,
            name: gobj.name.as_ref().map(|n| n.value.as_str()),
            path: &gobj.path,
            attrs_path: key_path(&gobj.path, "attrs"),
            span: gobj.span.clone(),
            attrs: &gobj.attrs,
        },
        settings,
    );
}

/// The attrs a gobj of the file is created with, and where they are.
struct Attrs<'a> {
    entry: &'a GclassEntry,
    /// The gobj's name, when the file gives one.
    name: Option<&'a str>,
    /// The gobj (`main.gobj[0]`) or router (`main.router`).
    path: &'a str,
    /// Where its attrs are (`main.gobj[0].attrs`, `main.router`).
    attrs_path: String,
    span: Range<usize>,
    attrs: &'a [Attr],
}

/// Each attr on its own, then the attrs with the settings that reach the
/// gobj, built as the gclass's `create` would.
fn check_attrs(report: &mut Report<'_>, gobj: &Attrs<'_>, settings: &[Setting]) {
    let entry = gobj.entry;
    let mut attrs_ok = true;
    for attr in gobj.attrs {
        let path = key_path(&gobj.attrs_path, &attr.name);
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
    let Some(name) = gobj.name else { return };
    let reaching: Vec<&Setting> = settings
        .iter()
        .filter(|s| applies(s, name, entry))
        .collect();
    let mut settings_ok = true;
    for setting in &reaching {
        let (_, attr) = setting.scope_and_attr();
        if let Err(error) = entry.check(&Kw::new().with(attr.to_owned(), setting.value.clone())) {
            report_setting(report, setting, name, gobj.path, &error);
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
            (Some(setting), _) => report_setting(report, setting, name, gobj.path, &error),
            (None, Some(attr)) => report.error(
                attr.value_span.clone(),
                &key_path(&gobj.attrs_path, &attr.name),
                error.to_string(),
            ),
            (None, None) => report.error(gobj.span.clone(), gobj.path, error.to_string()),
        }
    }
}

/// A setting refused for one gobj it reaches: the gobj `name` at `path`.
fn report_setting(
    report: &mut Report<'_>,
    setting: &Setting,
    name: &str,
    path: &str,
    error: &GobjError,
) {
    let reason = format!("for gobj `{name}` ({path}): {error}");
    let duplicate = report
        .errors
        .iter()
        .any(|e| e.path == setting.path && e.reason.ends_with(&error.to_string()));
    if !duplicate {
        report.error(setting.value_span.clone(), &setting.path, reason);
    }
}

/// What a gaplic is to its router.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// The main gaplic: with subprocesses, they dial its router.
    Main,
    /// A thread gaplic.
    Thread,
    /// The gaplic of a subprocess: its router dials the main one.
    Subprocess,
}

/// The attrs of the router a subprocess needs, which the launcher sets.
const LINK_ATTRS: &[&str] = &["server", "listen", "routes"];

/// The routers: explicit (`[….router]`) and implied (the main gaplic's
/// with subprocesses, each subprocess's). Their attrs are checked as a
/// gobj's; the names of routed gaplics must go into routes; the attrs the
/// launcher sets for the link between the processes are not overridden.
fn check_routers(report: &mut Report<'_>, parsed: &Parsed, gclasses: &Gclasses) {
    let with_subprocesses = !parsed.subprocesses.is_empty();
    let places = parsed
        .main
        .iter()
        .map(|g| (g, Place::Main))
        .chain(parsed.threads.iter().map(|g| (g, Place::Thread)))
        .chain(
            parsed
                .subprocesses
                .iter()
                .map(|s| (&s.gaplic, Place::Subprocess)),
        );
    for (gaplic, place) in places {
        // Whether the router links the processes: then it is made even
        // without a section, and the launcher sets some of its attrs.
        let linked = match place {
            Place::Main => with_subprocesses,
            Place::Thread => false,
            Place::Subprocess => true,
        };
        if gaplic.router.is_none() && !linked {
            continue;
        }
        let Some(entry) = gclasses.router() else {
            match (&gaplic.router, place) {
                (Some(router), _) => report.error(
                    router.span.clone(),
                    &router.path,
                    "no router gclass is registered: the application's binary registers \
                     one with `Launcher::router` (`gaplic::router::GRouter`, registered by default with the `router` feature)",
                ),
                (None, Place::Subprocess) => report.error(
                    gaplic.span.clone(),
                    &gaplic.path,
                    "a subprocess talks to the main gaplic through their routers, and no \
                     router gclass is registered: the application's binary registers one with \
                     `Launcher::router` (`gaplic::router::GRouter`, registered by default with the `router` feature)",
                ),
                // Said for each subprocess already.
                (None, _) => {}
            }
            continue;
        };
        let path = key_path(&gaplic.path, "router");
        let (span, attrs): (Range<usize>, &[Attr]) = match &gaplic.router {
            Some(router) => (router.span.clone(), &router.attrs),
            None => (gaplic.span.clone(), &[]),
        };
        check_attrs(
            report,
            &Attrs {
                entry,
                name: Some(ROUTER),
                path: &path,
                attrs_path: path.clone(),
                span: span.clone(),
                attrs,
            },
            &parsed.settings,
        );
        check_routed_names(report, gaplic);
        let owner = match &gaplic.router {
            Some(_) => format!("the gaplic's router ({})", router_section(&gaplic.path)),
            None => "the router the launcher makes for the link between the processes".to_owned(),
        };
        check_reserved_name(report, gaplic, ROUTER, &owner);
        if place == Place::Main {
            for subprocess in &parsed.subprocesses {
                if let Some(name) = &subprocess.gaplic.name {
                    let gobj = crate::subprocess::gobj_name(&name.value);
                    let owner = format!(
                        "the `GSubprocess` of subprocess `{}` ({})",
                        name.value, subprocess.gaplic.path
                    );
                    check_reserved_name(report, gaplic, &gobj, &owner);
                }
            }
        }
        if !linked {
            continue;
        }
        let missing: Vec<&str> = LINK_ATTRS
            .iter()
            .copied()
            .filter(|attr| !tables::has_attr(entry.meta(), attr))
            .collect();
        if !missing.is_empty() {
            report.error(
                span,
                &path,
                format!(
                    "the router gclass `{}` has no attr {}: the link between the processes \
                     needs `server`, `listen` and `routes`, as `GRouter` has them",
                    entry.name(),
                    missing
                        .iter()
                        .map(|a| format!("`{a}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            continue;
        }
        check_link_attrs(report, parsed, gaplic, place, entry);
    }
    check_secrets(report, parsed);
}

/// The attrs the launcher sets for the link: the main router serves (the
/// subprocesses dial it), and a subprocess's `routes` gets the route to
/// the main gaplic, which a setting would replace.
fn check_link_attrs(
    report: &mut Report<'_>,
    parsed: &Parsed,
    gaplic: &ParsedGaplic,
    place: Place,
    entry: &GclassEntry,
) {
    let (attr, whose, why) = match place {
        Place::Main => (
            "server",
            "the main gaplic's router".to_owned(),
            "the subprocesses dial it, so it serves",
        ),
        _ => (
            "routes",
            format!("the router of {}", gaplic.path),
            "the launcher adds the route to the main gaplic to a subprocess's `routes`, \
             which a setting would replace",
        ),
    };
    if place == Place::Main
        && let Some(router) = &gaplic.router
        && let Some(server) = router.attrs.iter().find(|a| a.name == "server")
        && server.value == Value::Bool(false)
    {
        report.error(
            server.value_span.clone(),
            &key_path(&router.path, "server"),
            "cannot be false with [[subprocess]] entries: the subprocesses dial the main \
             gaplic's router, so it serves",
        );
    }
    for setting in &parsed.settings {
        let (_, setting_attr) = setting.scope_and_attr();
        if setting_attr != attr || !applies(setting, ROUTER, entry) {
            continue;
        }
        let harmless = place == Place::Main && setting.value == Value::Bool(true);
        if !harmless {
            report.error(
                setting.key_span.clone(),
                &setting.path,
                format!(
                    "reaches `{attr}` of {whose}: {why}; set it in {} instead",
                    router_section(&gaplic.path)
                ),
            );
        }
    }
}

/// How messages name the router section of the gaplic at `path`.
fn router_section(path: &str) -> String {
    match path.split_once('[') {
        Some((kind, _)) => format!("the [{kind}.router] of {path}"),
        None => format!("[{path}.router]"),
    }
}

/// The name and roles of a routed gaplic go into routes (`name,
/// role1+role2, url`) and identity cards, where a name is its first word
/// and some roles are tokens.
fn check_routed_names(report: &mut Report<'_>, gaplic: &ParsedGaplic) {
    let bad = |text: &str| {
        text.chars()
            .any(|c| c.is_whitespace() || c == ',' || c == '+')
    };
    if let Some(name) = &gaplic.name
        && bad(&name.value)
    {
        report.error(
            name.span.clone(),
            &key_path(&gaplic.path, "name"),
            "the name of a gaplic with a router cannot hold spaces, `,` or `+`: routes are \
             written `name, role1+role2, url` and a gaplic is known by the first word of its name",
        );
    }
    for (i, role) in gaplic.roles.iter().enumerate() {
        let path = format!("{}[{i}]", key_path(&gaplic.path, "roles"));
        if bad(&role.value) {
            report.error(
                role.span.clone(),
                &path,
                "a role of a gaplic with a router cannot hold spaces, `,` or `+`: routes are \
                 written `name, role1+role2, url`",
            );
        } else if role.value.starts_with(['=', '^', '*']) {
            report.error(
                role.span.clone(),
                &path,
                "a role of a gaplic with a router cannot start with `=`, `^` or `*`: identity \
                 cards use those for tokens and the roles of other routes",
            );
        }
    }
}

/// `name` is taken by a gobj the launcher creates in `gaplic`.
fn check_reserved_name(report: &mut Report<'_>, gaplic: &ParsedGaplic, name: &str, owner: &str) {
    for gobj in gaplic.gobjs.iter().filter(|g| g.unique) {
        if let Some(gobj_name) = &gobj.name
            && gobj_name.value == name
        {
            report.error(
                gobj_name.span.clone(),
                &key_path(&gobj.path, "name"),
                format!("unique name `{name}` is taken already by {owner}"),
            );
        }
    }
}

/// A subprocess's router proves the same secret as the main one, or the
/// link between them never opens.
fn check_secrets(report: &mut Report<'_>, parsed: &Parsed) {
    let secret = |gaplic: &ParsedGaplic| {
        gaplic
            .router
            .as_ref()
            .and_then(|r| r.attrs.iter().find(|a| a.name == "secret"))
            .map(|a| (a.value.clone(), a.value_span.clone()))
    };
    let main = parsed.main.as_ref().and_then(secret);
    let main_value = main
        .as_ref()
        .map_or(Value::Str(String::new()), |m| m.0.clone());
    for subprocess in &parsed.subprocesses {
        if let Some((value, span)) = secret(&subprocess.gaplic)
            && value != main_value
        {
            report.error(
                span,
                &key_path(&key_path(&subprocess.gaplic.path, "router"), "secret"),
                "differs from the `secret` of [main.router]: the subprocess could not open its \
                 link to the main gaplic (leave it out: the main router's is used)",
            );
        }
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
