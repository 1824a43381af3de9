//! Reading the application file's document tree into its sections, with
//! the place of every key and value kept: sections and keys that exist,
//! the type of each value, required keys. What needs the gclasses (names,
//! attrs, parents) is checked afterwards, in `check`.

use std::ops::Range;
use std::path::Path;

use gaplic_runtime::Value;
use toml::Spanned;
use toml::de::{DeTable, DeValue};
use tracing::level_filters::LevelFilter;

use super::error::AppError;
use super::value::{kind, to_value};
use super::{LogFormat, Logging, Restart};

/// A TOML value and its place.
type Node<'i> = Spanned<DeValue<'i>>;

/// Collects the errors of one file.
pub(crate) struct Report<'a> {
    file: &'a Path,
    source: &'a str,
    pub(crate) errors: Vec<AppError>,
}

impl<'a> Report<'a> {
    pub(crate) fn new(file: &'a Path, source: &'a str) -> Self {
        Report {
            file,
            source,
            errors: Vec::new(),
        }
    }

    /// An error at byte range `span`, about key path `path`.
    pub(crate) fn error(&mut self, span: Range<usize>, path: &str, reason: impl Into<String>) {
        self.errors.push(AppError::at(
            self.file,
            self.source,
            Some(span),
            path.to_owned(),
            reason.into(),
        ));
    }

    /// An error about the whole file.
    pub(crate) fn whole_file(&mut self, reason: impl Into<String>) {
        self.errors.push(AppError::whole_file(self.file, reason));
    }

    /// The position of byte `offset`, for messages that point elsewhere.
    pub(crate) fn line_of(&self, offset: usize) -> usize {
        super::Position::of(self.source, offset).line
    }
}

/// `path.key`, quoting a key that is not a bare TOML key.
pub(crate) fn key_path(path: &str, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let key = if bare {
        key.to_owned()
    } else {
        format!("{key:?}")
    };
    if path.is_empty() {
        key
    } else {
        format!("{path}.{key}")
    }
}

/// A value read from the file, and where.
#[derive(Clone, Debug)]
pub(crate) struct Located<T> {
    pub value: T,
    pub span: Range<usize>,
}

/// The file's sections, read; `None` where a required part was missing or
/// wrong (that was reported).
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub application: Option<String>,
    pub logging: Logging,
    pub settings: Vec<Setting>,
    pub main: Option<ParsedGaplic>,
    pub threads: Vec<ParsedGaplic>,
    pub subprocesses: Vec<ParsedSubprocess>,
}

/// One entry of `[settings]`, flattened to the runtime's `scope.attr` key.
#[derive(Debug)]
pub(crate) struct Setting {
    /// `attr` or `scope.attr`.
    pub key: String,
    pub value: Value,
    pub path: String,
    pub key_span: Range<usize>,
    pub value_span: Range<usize>,
}

impl Setting {
    /// The scope (gclass or gobj name) and the attr.
    pub(crate) fn scope_and_attr(&self) -> (Option<&str>, &str) {
        match self.key.rsplit_once('.') {
            Some((scope, attr)) => (Some(scope), attr),
            None => (None, &self.key),
        }
    }
}

#[derive(Debug)]
pub(crate) struct ParsedGaplic {
    /// `main`, `thread[N]` or `subprocess[N]`.
    pub path: String,
    /// The whole section.
    pub span: Range<usize>,
    pub name: Option<Located<String>>,
    pub roles: Vec<Located<String>>,
    pub batch: Option<usize>,
    pub stack_size: Option<usize>,
    pub gobjs: Vec<ParsedGobj>,
    pub router: Option<ParsedRouter>,
}

/// The `router` table of a gaplic: the attrs of its router.
#[derive(Debug)]
pub(crate) struct ParsedRouter {
    /// `main.router`, `thread[N].router` or `subprocess[N].router`.
    pub path: String,
    /// The key `router`.
    pub span: Range<usize>,
    pub attrs: Vec<Attr>,
}

/// A `[[subprocess]]` entry: its gaplic, and how it is run.
#[derive(Debug)]
pub(crate) struct ParsedSubprocess {
    pub gaplic: ParsedGaplic,
    pub restart: Restart,
    pub restart_delay: Option<f64>,
    pub max_restart_delay: Option<f64>,
    pub max_restarts: Option<u32>,
    pub reset_after: Option<f64>,
    pub stop_timeout: Option<f64>,
    pub link_timeout: Option<f64>,
}

#[derive(Debug)]
pub(crate) struct ParsedGobj {
    /// `main.gobj[N]`.
    pub path: String,
    pub span: Range<usize>,
    pub gclass: Option<Located<String>>,
    pub name: Option<Located<String>>,
    pub unique: bool,
    pub parent: Option<Located<String>>,
    pub attrs: Vec<Attr>,
}

/// One attr of a gobj.
#[derive(Debug)]
pub(crate) struct Attr {
    pub name: String,
    pub value: Value,
    pub key_span: Range<usize>,
    pub value_span: Range<usize>,
}

const SECTIONS: &[&str] = &[
    "application",
    "logging",
    "settings",
    "main",
    "thread",
    "subprocess",
];
const APPLICATION_KEYS: &[&str] = &["name"];
const LOGGING_KEYS: &[&str] = &["level", "filter", "format"];
const MAIN_KEYS: &[&str] = &["name", "roles", "batch", "router", "gobj"];
const THREAD_KEYS: &[&str] = &["name", "roles", "batch", "stack_size", "router", "gobj"];
const SUBPROCESS_KEYS: &[&str] = &[
    "name",
    "roles",
    "batch",
    "restart",
    "restart_delay",
    "max_restart_delay",
    "max_restarts",
    "reset_after",
    "stop_timeout",
    "link_timeout",
    "router",
    "gobj",
];
const RESTARTS: &[&str] = &["never", "on-failure"];
const GOBJ_KEYS: &[&str] = &["gclass", "name", "unique", "parent", "attrs"];
const LEVELS: &[&str] = &["trace", "debug", "info", "warn", "error", "off"];
const FORMATS: &[&str] = &["full", "compact", "pretty"];

/// A thread's stack, in bytes: below this the loop cannot run.
pub(crate) const MIN_STACK_SIZE: i64 = 64 * 1024;
/// A thread's stack, in bytes: more is surely a mistake, and is refused
/// before the system is asked for it.
pub(crate) const MAX_STACK_SIZE: i64 = 1024 * 1024 * 1024;

/// The longest `restart_delay`, `stop_timeout` and `link_timeout`, in
/// seconds: an hour.
pub(crate) const MAX_DELAY: f64 = 3600.0;
/// The longest `max_restart_delay`, in seconds: a day.
pub(crate) const MAX_RESTART_DELAY: f64 = 86_400.0;
/// The shortest `reset_after`, in seconds.
pub(crate) const MIN_RESET_AFTER: f64 = 0.01;
/// The shortest `link_timeout`, in seconds.
pub(crate) const MIN_LINK_TIMEOUT: f64 = 0.01;
/// The most `max_restarts`.
pub(crate) const MAX_RESTARTS: i64 = 1_000_000;

/// Reads the whole document.
pub(crate) fn read_document(report: &mut Report<'_>, root: &Spanned<DeTable<'_>>) -> Parsed {
    let mut parsed = Parsed::default();
    for (key, node) in root.get_ref().iter() {
        let name = key.get_ref().as_ref();
        match name {
            "application" => {
                if let Some(table) = as_table(report, node, "application") {
                    parsed.application = read_application(report, table, node.span());
                }
            }
            "logging" => {
                if let Some(table) = as_table(report, node, "logging") {
                    parsed.logging = read_logging(report, table);
                }
            }
            "settings" => {
                if let Some(table) = as_table(report, node, "settings") {
                    parsed.settings = read_settings(report, table);
                }
            }
            "main" => {
                if let Some(table) = as_table(report, node, "main") {
                    parsed.main = Some(read_gaplic(
                        report,
                        table,
                        node.span(),
                        "main".into(),
                        MAIN_KEYS,
                    ));
                }
            }
            "thread" => {
                for (i, item) in array_of_tables(report, node, "thread")
                    .into_iter()
                    .enumerate()
                {
                    let path = format!("thread[{i}]");
                    if let Some(table) = as_table(report, item, &path) {
                        parsed.threads.push(read_gaplic(
                            report,
                            table,
                            item.span(),
                            path,
                            THREAD_KEYS,
                        ));
                    }
                }
            }
            "subprocess" => {
                for (i, item) in array_of_tables(report, node, "subprocess")
                    .into_iter()
                    .enumerate()
                {
                    let path = format!("subprocess[{i}]");
                    if let Some(table) = as_table(report, item, &path) {
                        parsed
                            .subprocesses
                            .push(read_subprocess(report, table, item.span(), path));
                    }
                }
            }
            "router" => report.error(
                key.span(),
                name,
                "a router belongs to a gaplic: write [main.router], [thread.router] (after its \
                 [[thread]]) or [subprocess.router] (after its [[subprocess]])",
            ),
            "http" => report.error(
                key.span(),
                name,
                "`[http]` is not available yet: serving HTTP comes in a later version",
            ),
            _ => report.error(
                key.span(),
                &key_path("", name),
                format!(
                    "unknown section `{name}` (sections: {})",
                    SECTIONS.join(", ")
                ),
            ),
        }
    }
    if parsed.application.is_none() && !root.get_ref().contains_key("application") {
        report.whole_file("missing section [application] (it gives the application's `name`)");
    }
    if parsed.main.is_none() && !root.get_ref().contains_key("main") {
        report.whole_file("missing section [main] (the main gaplic, run on the launcher's thread)");
    }
    parsed
}

/// `node` as a table, or an error.
fn as_table<'t, 'i>(
    report: &mut Report<'_>,
    node: &'t Node<'i>,
    path: &str,
) -> Option<&'t DeTable<'i>> {
    match node.get_ref() {
        DeValue::Table(table) => Some(table),
        other => {
            report.error(
                node.span(),
                path,
                format!("expected a table, found {}", kind(other)),
            );
            None
        }
    }
}

/// `node` as an array of tables (`[[path]]`), or an error.
fn array_of_tables<'t, 'i>(
    report: &mut Report<'_>,
    node: &'t Node<'i>,
    path: &str,
) -> Vec<&'t Node<'i>> {
    match node.get_ref() {
        DeValue::Array(items) => items.iter().collect(),
        DeValue::Table(_) => {
            report.error(
                node.span(),
                path,
                format!("`{path}` is a list: write each entry as [[{path}]]"),
            );
            Vec::new()
        }
        other => {
            report.error(
                node.span(),
                path,
                format!(
                    "expected an array of tables ([[{path}]]), found {}",
                    kind(other)
                ),
            );
            Vec::new()
        }
    }
}

/// The entries of `table` whose keys are in `known`; the others are
/// reported, with the list of the keys that exist.
fn known_entries<'t, 'i>(
    report: &mut Report<'_>,
    table: &'t DeTable<'i>,
    path: &str,
    known: &[&str],
) -> Vec<(&'t str, &'t Node<'i>)> {
    let mut entries = Vec::new();
    for (key, node) in table.iter() {
        let name = key.get_ref().as_ref();
        if known.contains(&name) {
            entries.push((name, node));
        } else {
            report.error(
                key.span(),
                &key_path(path, name),
                format!(
                    "unknown key `{name}` (keys of {}: {})",
                    describe(path),
                    known.join(", ")
                ),
            );
        }
    }
    entries
}

/// How a message names the table at `path`.
fn describe(path: &str) -> String {
    if path.ends_with(']') && path.contains(".gobj[") {
        "a gobj".to_owned()
    } else if path.starts_with("thread[") {
        "a [[thread]]".to_owned()
    } else if path.starts_with("subprocess[") {
        "a [[subprocess]]".to_owned()
    } else {
        format!("[{path}]")
    }
}

fn string(report: &mut Report<'_>, node: &Node<'_>, path: &str) -> Option<Located<String>> {
    match node.get_ref() {
        DeValue::String(s) => Some(Located {
            value: s.to_string(),
            span: node.span(),
        }),
        other => {
            report.error(
                node.span(),
                path,
                format!("expected a string, found {}", kind(other)),
            );
            None
        }
    }
}

/// A string that names something: not empty, no control characters.
fn name(report: &mut Report<'_>, node: &Node<'_>, path: &str) -> Option<Located<String>> {
    let name = string(report, node, path)?;
    if name.value.trim().is_empty() {
        report.error(name.span, path, "a name cannot be empty");
        return None;
    }
    if name.value.chars().any(char::is_control) {
        report.error(name.span, path, "a name cannot hold control characters");
        return None;
    }
    Some(name)
}

fn boolean(report: &mut Report<'_>, node: &Node<'_>, path: &str) -> Option<bool> {
    match node.get_ref() {
        DeValue::Boolean(b) => Some(*b),
        other => {
            report.error(
                node.span(),
                path,
                format!("expected a boolean, found {}", kind(other)),
            );
            None
        }
    }
}

/// An integer within `min..=max`.
fn integer(
    report: &mut Report<'_>,
    node: &Node<'_>,
    path: &str,
    min: i64,
    max: i64,
) -> Option<i64> {
    let DeValue::Integer(i) = node.get_ref() else {
        report.error(
            node.span(),
            path,
            format!("expected an integer, found {}", kind(node.get_ref())),
        );
        return None;
    };
    match i64::from_str_radix(i.as_str(), i.radix()) {
        Ok(value) if (min..=max).contains(&value) => Some(value),
        _ => {
            report.error(
                node.span(),
                path,
                format!("{i} is out of range, expected {min} to {max}"),
            );
            None
        }
    }
}

/// A list of names.
fn names(report: &mut Report<'_>, node: &Node<'_>, path: &str) -> Vec<Located<String>> {
    let DeValue::Array(items) = node.get_ref() else {
        report.error(
            node.span(),
            path,
            format!(
                "expected an array of strings, found {}",
                kind(node.get_ref())
            ),
        );
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| name(report, item, &format!("{path}[{i}]")))
        .collect()
}

fn read_application(
    report: &mut Report<'_>,
    table: &DeTable<'_>,
    span: Range<usize>,
) -> Option<String> {
    let mut app_name = None;
    for (key, node) in known_entries(report, table, "application", APPLICATION_KEYS) {
        if key == "name" {
            app_name = name(report, node, "application.name").map(|n| n.value);
        }
    }
    if app_name.is_none() && !table.contains_key("name") {
        report.error(span, "application", "missing key `name`");
    }
    app_name
}

fn read_logging(report: &mut Report<'_>, table: &DeTable<'_>) -> Logging {
    let mut logging = Logging::default();
    for (key, node) in known_entries(report, table, "logging", LOGGING_KEYS) {
        let path = key_path("logging", key);
        let Some(text) = string(report, node, &path) else {
            continue;
        };
        match key {
            "level" => match text.value.to_ascii_lowercase().as_str() {
                "trace" => logging.level = LevelFilter::TRACE,
                "debug" => logging.level = LevelFilter::DEBUG,
                "info" => logging.level = LevelFilter::INFO,
                "warn" => logging.level = LevelFilter::WARN,
                "error" => logging.level = LevelFilter::ERROR,
                "off" => logging.level = LevelFilter::OFF,
                _ => report.error(
                    text.span,
                    &path,
                    format!(
                        "unknown level `{}` (levels: {})",
                        text.value,
                        LEVELS.join(", ")
                    ),
                ),
            },
            "filter" => match crate::logging::check_filter(&text.value) {
                Ok(()) => logging.filter = Some(text.value),
                Err(reason) => report.error(text.span, &path, reason),
            },
            "format" => match text.value.as_str() {
                "full" => logging.format = LogFormat::Full,
                "compact" => logging.format = LogFormat::Compact,
                "pretty" => logging.format = LogFormat::Pretty,
                _ => report.error(
                    text.span,
                    &path,
                    format!(
                        "unknown format `{}` (formats: {})",
                        text.value,
                        FORMATS.join(", ")
                    ),
                ),
            },
            _ => {}
        }
    }
    logging
}

/// `[settings]`: `attr = v` and `"Scope.attr" = v` as they are; a table
/// `Scope = { attr = v }` (or the dotted key `Scope.attr = v`, which is the
/// same in TOML) becomes `Scope.attr`. Tables deeper down are values.
fn read_settings(report: &mut Report<'_>, table: &DeTable<'_>) -> Vec<Setting> {
    let mut settings: Vec<Setting> = Vec::new();
    let mut add = |report: &mut Report<'_>,
                   key: String,
                   path: String,
                   key_span: Range<usize>,
                   node: &Node<'_>| {
        let (scope, attr) = match key.rsplit_once('.') {
            Some((scope, attr)) => (Some(scope), attr),
            None => (None, key.as_str()),
        };
        if attr.is_empty() || scope.is_some_and(str::is_empty) {
            report.error(
                key_span,
                &path,
                format!("`{key}` is not `attr`, `Gclass.attr` or `gobj_name.attr`"),
            );
            return;
        }
        if let Some(first) = settings.iter().find(|s| s.key == key) {
            let line = report.line_of(first.key_span.start);
            report.error(
                key_span,
                &path,
                format!("`{key}` is set twice (first on line {line})"),
            );
            return;
        }
        if let Some(value) = to_value(report, node, &path) {
            settings.push(Setting {
                key,
                value,
                path,
                key_span,
                value_span: node.span(),
            });
        }
    };
    for (key, node) in table.iter() {
        let scope = key.get_ref().as_ref();
        match node.get_ref() {
            DeValue::Table(inner) if !scope.contains('.') => {
                for (attr, value) in inner.iter() {
                    let path = key_path(&key_path("settings", scope), attr.get_ref());
                    add(
                        report,
                        format!("{scope}.{}", attr.get_ref()),
                        path,
                        attr.span(),
                        value,
                    );
                }
            }
            _ => add(
                report,
                scope.to_owned(),
                key_path("settings", scope),
                key.span(),
                node,
            ),
        }
    }
    settings
}

fn read_gaplic(
    report: &mut Report<'_>,
    table: &DeTable<'_>,
    span: Range<usize>,
    path: String,
    keys: &[&str],
) -> ParsedGaplic {
    let mut gaplic = ParsedGaplic {
        path: path.clone(),
        span: span.clone(),
        name: None,
        roles: Vec::new(),
        batch: None,
        stack_size: None,
        gobjs: Vec::new(),
        router: None,
    };
    for (key, node) in known_entries(report, table, &path, keys) {
        let key_path = key_path(&path, key);
        match key {
            "router" => {
                let key_span = table
                    .get_key_value("router")
                    .map_or_else(|| node.span(), |(key, _)| key.span());
                if let Some(attrs) = as_table(report, node, &key_path) {
                    gaplic.router = Some(ParsedRouter {
                        attrs: read_attrs(report, attrs, &key_path),
                        path: key_path,
                        span: key_span,
                    });
                }
            }
            "name" => gaplic.name = name(report, node, &key_path),
            "roles" => gaplic.roles = names(report, node, &key_path),
            "batch" => {
                gaplic.batch = integer(report, node, &key_path, 1, i64::from(u32::MAX))
                    .and_then(|b| usize::try_from(b).ok());
            }
            "stack_size" => {
                gaplic.stack_size =
                    integer(report, node, &key_path, MIN_STACK_SIZE, MAX_STACK_SIZE)
                        .and_then(|b| usize::try_from(b).ok());
            }
            "gobj" => {
                for (i, item) in array_of_tables(report, node, &key_path)
                    .into_iter()
                    .enumerate()
                {
                    let gobj_path = format!("{key_path}[{i}]");
                    if let Some(gobj) = as_table(report, item, &gobj_path) {
                        gaplic
                            .gobjs
                            .push(read_gobj(report, gobj, item.span(), gobj_path));
                    }
                }
            }
            _ => {}
        }
    }
    if gaplic.name.is_none() && !table.contains_key("name") {
        report.error(span, &path, "missing key `name` (the gaplic's name)");
    }
    gaplic
}

fn read_gobj(
    report: &mut Report<'_>,
    table: &DeTable<'_>,
    span: Range<usize>,
    path: String,
) -> ParsedGobj {
    let mut gobj = ParsedGobj {
        path: path.clone(),
        span: span.clone(),
        gclass: None,
        name: None,
        unique: false,
        parent: None,
        attrs: Vec::new(),
    };
    for (key, node) in known_entries(report, table, &path, GOBJ_KEYS) {
        let key_path = key_path(&path, key);
        match key {
            "gclass" => gobj.gclass = name(report, node, &key_path),
            "name" => gobj.name = name(report, node, &key_path),
            "unique" => gobj.unique = boolean(report, node, &key_path).unwrap_or(false),
            "parent" => gobj.parent = name(report, node, &key_path),
            "attrs" => {
                if let Some(attrs) = as_table(report, node, &key_path) {
                    gobj.attrs = read_attrs(report, attrs, &key_path);
                }
            }
            _ => {}
        }
    }
    for (required, what) in [
        ("gclass", "the gclass to create"),
        ("name", "the gobj's name"),
    ] {
        if !table.contains_key(required) {
            report.error(
                span.clone(),
                &path,
                format!("missing key `{required}` ({what})"),
            );
        }
    }
    gobj
}

/// The entries of a table of attrs, as gaplic values.
fn read_attrs(report: &mut Report<'_>, table: &DeTable<'_>, path: &str) -> Vec<Attr> {
    let mut attrs = Vec::new();
    for (attr, value_node) in table.iter() {
        let attr_name = attr.get_ref().to_string();
        let value_path = key_path(path, &attr_name);
        if let Some(value) = to_value(report, value_node, &value_path) {
            attrs.push(Attr {
                name: attr_name,
                value,
                key_span: attr.span(),
                value_span: value_node.span(),
            });
        }
    }
    attrs
}

/// A number (integer or float) within `min..=max`.
fn number(report: &mut Report<'_>, node: &Node<'_>, path: &str, min: f64, max: f64) -> Option<f64> {
    let value = match node.get_ref() {
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
            .ok()
            .map(|i| i as f64),
        DeValue::Float(f) => f.as_str().parse::<f64>().ok(),
        other => {
            report.error(
                node.span(),
                path,
                format!("expected a number of seconds, found {}", kind(other)),
            );
            return None;
        }
    };
    match value {
        Some(value) if (min..=max).contains(&value) => Some(value),
        _ => {
            report.error(
                node.span(),
                path,
                format!("out of range: expected {min} to {max} seconds"),
            );
            None
        }
    }
}

/// A `[[subprocess]]` entry: a gaplic's keys, then how it is run.
fn read_subprocess(
    report: &mut Report<'_>,
    table: &DeTable<'_>,
    span: Range<usize>,
    path: String,
) -> ParsedSubprocess {
    let gaplic = read_gaplic(report, table, span, path.clone(), SUBPROCESS_KEYS);
    let mut subprocess = ParsedSubprocess {
        gaplic,
        restart: Restart::Never,
        restart_delay: None,
        max_restart_delay: None,
        max_restarts: None,
        reset_after: None,
        stop_timeout: None,
        link_timeout: None,
    };
    let mut delays = (None, None);
    for (key, node) in table.iter() {
        let key = key.get_ref().as_ref();
        let key_path = key_path(&path, key);
        match key {
            "restart" => {
                let Some(text) = string(report, node, &key_path) else {
                    continue;
                };
                match text.value.as_str() {
                    "never" => subprocess.restart = Restart::Never,
                    "on-failure" => subprocess.restart = Restart::OnFailure,
                    _ => report.error(
                        text.span,
                        &key_path,
                        format!(
                            "unknown restart policy `{}` (policies: {})",
                            text.value,
                            RESTARTS.join(", ")
                        ),
                    ),
                }
            }
            "restart_delay" => {
                subprocess.restart_delay = number(report, node, &key_path, 0.0, MAX_DELAY);
                delays.0 = subprocess.restart_delay.map(|d| (d, node.span()));
            }
            "max_restart_delay" => {
                subprocess.max_restart_delay =
                    number(report, node, &key_path, 0.0, MAX_RESTART_DELAY);
                delays.1 = subprocess.max_restart_delay.map(|d| (d, node.span()));
            }
            "max_restarts" => {
                subprocess.max_restarts = integer(report, node, &key_path, 0, MAX_RESTARTS)
                    .and_then(|n| u32::try_from(n).ok());
            }
            "reset_after" => {
                subprocess.reset_after =
                    number(report, node, &key_path, MIN_RESET_AFTER, MAX_RESTART_DELAY);
            }
            "stop_timeout" => {
                subprocess.stop_timeout = number(report, node, &key_path, 0.0, MAX_DELAY);
            }
            "link_timeout" => {
                subprocess.link_timeout =
                    number(report, node, &key_path, MIN_LINK_TIMEOUT, MAX_DELAY);
            }
            _ => {}
        }
    }
    if let (Some((first, _)), Some((longest, span))) = delays
        && longest < first
    {
        report.error(
            span,
            &key_path(&path, "max_restart_delay"),
            format!(
                "the longest delay between restarts ({longest} s) is shorter than the first \
                 (restart_delay = {first} s)"
            ),
        );
    }
    subprocess
}
