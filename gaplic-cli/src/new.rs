//! `gaplic new`: writes a ready cargo project of a gaplic application from
//! the templates in `templates/`.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// What `gaplic new` was asked for.
#[derive(Debug)]
pub struct NewProject {
    /// The package name.
    pub name: String,
    /// The directory to create (`./NAME` when not given).
    pub path: Option<PathBuf>,
    /// The directory of the `gaplic` crate to depend on by path, instead
    /// of by version.
    pub gaplic_path: Option<PathBuf>,
}

/// Why no project was written.
#[derive(Debug)]
pub enum NewError {
    /// The name cannot be a package name.
    BadName {
        /// The name given.
        name: String,
        /// Why.
        reason: String,
    },
    /// Something is at the project's path already.
    Exists(PathBuf),
    /// `--gaplic-path` is not the directory of the `gaplic` crate.
    NotGaplic {
        /// The path given.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A file or directory could not be written.
    Io {
        /// What.
        path: PathBuf,
        /// The system's error.
        error: io::Error,
    },
}

impl fmt::Display for NewError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NewError::BadName { name, reason } => {
                write!(f, "`{name}` cannot be a package name: {reason}")
            }
            NewError::Exists(path) => write!(
                f,
                "{} exists already: a new project needs a path of its own",
                path.display()
            ),
            NewError::NotGaplic { path, reason } => {
                write!(f, "--gaplic-path {}: {reason}", path.display())
            }
            NewError::Io { path, error } => write!(f, "cannot write {}: {error}", path.display()),
        }
    }
}

impl std::error::Error for NewError {}

/// Rust's keywords, which a crate cannot be named (its library is
/// imported by that name).
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Crates every program links, which a package cannot be named.
const BUILT_IN: &[&str] = &["std", "core", "alloc", "proc_macro", "proc-macro", "test"];

/// gaplic's own crates: the project depends on them.
const GAPLIC_CRATES: &[&str] = &["gaplic", "gaplic-app", "gaplic-runtime", "gaplic-macros"];

/// Refuses a name cargo would refuse as a package name, or that clashes
/// with what the project depends on.
pub fn check_name(name: &str) -> Result<(), NewError> {
    let bad = |reason: &str| {
        Err(NewError::BadName {
            name: name.to_owned(),
            reason: reason.to_owned(),
        })
    };
    let Some(first) = name.chars().next() else {
        return bad("it is empty");
    };
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return bad(&format!(
            "`{c}` is not allowed (ASCII letters, digits, `-` and `_` are)"
        ));
    }
    if first.is_ascii_digit() {
        return bad("it starts with a digit");
    }
    if KEYWORDS.contains(&name) {
        return bad("it is a Rust keyword");
    }
    if BUILT_IN.contains(&name) {
        return bad("it is the name of a crate Rust itself provides");
    }
    let normalized = name.replace('_', "-");
    if GAPLIC_CRATES.contains(&normalized.as_str()) {
        return bad("the project depends on a gaplic crate of that name");
    }
    Ok(())
}

/// The `gaplic` dependency line for `--gaplic-path`: checks that `path`
/// holds the `gaplic` crate and names it absolutely.
fn path_dependency(path: &Path) -> Result<String, NewError> {
    let not_gaplic = |reason: String| NewError::NotGaplic {
        path: path.to_owned(),
        reason,
    };
    let manifest = path.join("Cargo.toml");
    let text = fs::read_to_string(&manifest)
        .map_err(|error| not_gaplic(format!("cannot read {}: {error}", manifest.display())))?;
    if !names_package(&text, "gaplic") {
        return Err(not_gaplic(format!(
            "{} is not the manifest of the `gaplic` package",
            manifest.display()
        )));
    }
    let absolute = path
        .canonicalize()
        .map_err(|error| not_gaplic(format!("cannot resolve it: {error}")))?;
    let absolute = absolute
        .to_str()
        .ok_or_else(|| not_gaplic("it is not UTF-8".to_owned()))?;
    Ok(format!("{{ path = {} }}", toml_string(absolute)))
}

/// Whether the manifest `text` declares package `name` (its `[package]`
/// table's `name = "..."`).
fn names_package(text: &str, name: &str) -> bool {
    let mut in_package = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package
            && let Some((key, value)) = line.split_once('=')
            && key.trim() == "name"
        {
            return value.trim() == toml_string(name);
        }
    }
    false
}

/// `text` as a TOML basic string.
fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The project's files: path in the project, template.
const FILES: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("../templates/Cargo.toml.tmpl")),
    (".gitignore", include_str!("../templates/gitignore.tmpl")),
    ("README.md", include_str!("../templates/README.md.tmpl")),
    ("app.toml", include_str!("../templates/app.toml.tmpl")),
    ("src/lib.rs", include_str!("../templates/lib.rs.tmpl")),
    ("src/main.rs", include_str!("../templates/main.rs.tmpl")),
    ("tests/ticker.rs", include_str!("../templates/test.rs.tmpl")),
];

/// The version of gaplic this command comes with, which a new project
/// depends on unless `--gaplic-path` is given.
const GAPLIC_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Writes the project; returns its directory.
///
/// # Errors
///
/// A bad name, a path that exists, a `--gaplic-path` that is not the
/// `gaplic` crate, or a file that cannot be written (the directory made so
/// far is removed again).
pub fn new_project(request: &NewProject) -> Result<PathBuf, NewError> {
    check_name(&request.name)?;
    let dir = request
        .path
        .clone()
        .unwrap_or_else(|| PathBuf::from(&request.name));
    if dir.symlink_metadata().is_ok() {
        return Err(NewError::Exists(dir));
    }
    let dependency = match &request.gaplic_path {
        Some(path) => path_dependency(path)?,
        None => toml_string(GAPLIC_VERSION),
    };
    let crate_name = request.name.replace('-', "_");
    let render = |template: &str| {
        template
            .replace("{{name}}", &request.name)
            .replace("{{crate}}", &crate_name)
            .replace("{{gaplic_dependency}}", &dependency)
    };
    let io = |path: &Path| {
        let path = path.to_owned();
        move |error| NewError::Io { path, error }
    };
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(io(parent))?;
    }
    fs::create_dir(&dir).map_err(io(&dir))?;
    let written = FILES.iter().try_for_each(|(file, template)| {
        let path = dir.join(file);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io(parent))?;
        }
        fs::write(&path, render(template)).map_err(io(&path))
    });
    if let Err(error) = written {
        let _ = fs::remove_dir_all(&dir);
        return Err(error);
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(name: &str) -> String {
        check_name(name).unwrap_err().to_string()
    }

    #[test]
    fn names_cargo_takes_are_taken() {
        for name in ["ticker", "my-app", "my_app", "app2", "Gaplic_demo"] {
            assert!(check_name(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn bad_names_are_refused_with_the_reason() {
        assert_eq!(refusal(""), "`` cannot be a package name: it is empty");
        assert_eq!(
            refusal("my app"),
            "`my app` cannot be a package name: ` ` is not allowed (ASCII letters, digits, `-` and `_` are)"
        );
        assert_eq!(
            refusal("café"),
            "`café` cannot be a package name: `é` is not allowed (ASCII letters, digits, `-` and `_` are)"
        );
        assert_eq!(
            refusal("2fast"),
            "`2fast` cannot be a package name: it starts with a digit"
        );
        assert_eq!(
            refusal("fn"),
            "`fn` cannot be a package name: it is a Rust keyword"
        );
        assert_eq!(
            refusal("test"),
            "`test` cannot be a package name: it is the name of a crate Rust itself provides"
        );
        assert_eq!(
            refusal("gaplic_app"),
            "`gaplic_app` cannot be a package name: the project depends on a gaplic crate of that name"
        );
    }

    #[test]
    fn the_package_name_is_read_from_its_own_table() {
        let manifest =
            "[workspace]\nname = \"x\"\n\n[package]\nname = \"gaplic\"\nversion = \"1\"\n";
        assert!(names_package(manifest, "gaplic"));
        assert!(!names_package(
            "[package]\nname = \"gaplic-app\"\n",
            "gaplic"
        ));
        assert!(!names_package(
            "[dependencies]\nname = \"gaplic\"\n",
            "gaplic"
        ));
    }

    #[test]
    fn toml_strings_are_escaped() {
        assert_eq!(toml_string(r#"C:\a "b""#), r#""C:\\a \"b\"""#);
        assert_eq!(toml_string("tab\there"), "\"tab\\u0009here\"");
    }
}
