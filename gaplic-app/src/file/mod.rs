//! The application file: its model, reading it (`read`), converting its
//! values (`value`), checking it against the gclasses (`check`), and its
//! errors (`error`).

mod check;
mod error;
mod read;
mod value;

use std::path::{Path, PathBuf};

use gaplic_runtime::Kw;
use toml::de::DeTable;
use tracing::level_filters::LevelFilter;

pub use error::{AppError, AppErrors, Position};

use crate::registry::Gclasses;
use read::{Parsed, ParsedGaplic, Report};

/// An application: what one file says to run, read and checked.
///
/// The file is TOML; see the [crate documentation](crate) for its
/// sections. [`AppFile::load`] reports every error it finds in one go.
///
/// # Examples
///
/// ```
/// use gaplic::app::{AppFile, Gclasses};
///
/// let text = r#"
///     [application]
///     name = "clock"
///
///     [main]
///     name = "main"
///
///     [[main.gobj]]
///     gclass = "GTimer"
///     name = "tick"
///     attrs = { seconds = "often" }
///
///     [[main.gobj]]
///     gclass = "GTimmer"
///     name = "tock"
///     parent = "tick"
/// "#;
/// let errors = AppFile::parse(text, "clock.toml", &Gclasses::new()).unwrap_err();
/// assert_eq!(
///     errors.to_string(),
///     "clock.toml:11:25: main.gobj[0].attrs.seconds: bad attr of `GTimer`: key `seconds`: expected f64, found string\n\
///      clock.toml:14:14: main.gobj[1].gclass: unknown gclass `GTimmer` (registered: GConnex, GServerSock, GSock, GTimer)"
/// );
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AppFile {
    /// The file it was read from.
    pub path: PathBuf,
    /// `application.name`.
    pub name: String,
    /// `[logging]`.
    pub logging: Logging,
    /// `[settings]`, as the runtime takes them: keys `attr`,
    /// `Gclass.attr` or `gobj_name.attr`, in file order. Every gaplic gets
    /// them.
    pub settings: Kw,
    /// `[main]`: the gaplic run on the launcher's thread.
    pub main: GaplicSpec,
    /// `[[thread]]`: gaplics each run on a thread of its own, in file
    /// order.
    pub threads: Vec<GaplicSpec>,
}

/// `[logging]`: what the launcher's log subscriber lets through, and how it
/// writes it (to standard error).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Logging {
    /// `level`: the default level (`trace`, `debug`, `info`, `warn`,
    /// `error`, `off`); `info` when not given.
    pub level: LevelFilter,
    /// `filter`: more directives in `EnvFilter` syntax
    /// (`gaplic=debug,my_app::net=trace`), over the level.
    pub filter: Option<String>,
    /// `format`: `full` (the default), `compact` or `pretty`.
    pub format: LogFormat,
}

impl Default for Logging {
    fn default() -> Self {
        Logging {
            level: LevelFilter::INFO,
            filter: None,
            format: LogFormat::Full,
        }
    }
}

/// How log lines are written: the formats of `tracing-subscriber`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogFormat {
    /// One line per event, with its fields.
    Full,
    /// One shorter line per event.
    Compact,
    /// Several lines per event, for reading by a person.
    Pretty,
}

/// A gaplic of the application: `[main]` or one `[[thread]]`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct GaplicSpec {
    /// `name`: its name, unique in the application.
    pub name: String,
    /// `roles`.
    pub roles: Vec<String>,
    /// `batch`: the posted events it delivers per turn (the runtime's
    /// default when not given).
    pub batch: Option<usize>,
    /// `stack_size`: the stack of its thread, in bytes (threads only).
    pub stack_size: Option<usize>,
    /// `[[….gobj]]`: its gobjs, created in this order.
    pub gobjs: Vec<GobjSpec>,
}

/// A gobj to create when its gaplic starts.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct GobjSpec {
    /// `gclass`: the name of a registered gclass.
    pub gclass: String,
    /// `name`.
    pub name: String,
    /// `unique`: whether its name is registered as a unique name.
    pub unique: bool,
    /// `parent`, resolved: the position in the gaplic's
    /// [`gobjs`](GaplicSpec::gobjs) of its parent, always before it.
    pub parent: Option<usize>,
    /// `attrs`: its creation keywords.
    pub attrs: Kw,
}

impl AppFile {
    /// Reads and checks the application file at `path` against the
    /// registered `gclasses`.
    ///
    /// # Errors
    ///
    /// Every error found: a file that cannot be read, TOML syntax, unknown
    /// sections or keys, values of the wrong type, unknown gclasses or
    /// attrs, attr values the gclass refuses, duplicate gaplic or unique
    /// names, parents that are unknown or listed after their child.
    pub fn load(path: impl AsRef<Path>, gclasses: &Gclasses) -> Result<AppFile, AppErrors> {
        let path = path.as_ref();
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, path, gclasses),
            Err(error) => Err(AppErrors::one(AppError::whole_file(
                path,
                format!("cannot read the application file: {error}"),
            ))),
        }
    }

    /// Reads and checks application file text; `path` names it in errors.
    ///
    /// # Errors
    ///
    /// As [`load`](AppFile::load).
    pub fn parse(
        text: &str,
        path: impl AsRef<Path>,
        gclasses: &Gclasses,
    ) -> Result<AppFile, AppErrors> {
        let path = path.as_ref();
        let mut report = Report::new(path, text);
        let (root, syntax_errors) = DeTable::parse_recoverable(text);
        if syntax_errors.is_empty() {
            let parsed = read::read_document(&mut report, &root);
            let parents = check::check(&mut report, &parsed, gclasses);
            AppErrors::check(report.errors)?;
            return Ok(Self::from_parsed(path, parsed, parents));
        }
        // What follows a syntax error is a guess of the parser: checking it
        // would report errors that are not in the file.
        for error in syntax_errors {
            let span = error.span().unwrap_or(0..0);
            report.error(span, "", syntax_message(error.message()));
        }
        Err(AppErrors::sorted(report.errors))
    }

    /// The model of a file that has no errors.
    fn from_parsed(path: &Path, parsed: Parsed, parents: Vec<Vec<Option<usize>>>) -> AppFile {
        let mut parents = parents.into_iter();
        let mut gaplic = |parsed: ParsedGaplic| GaplicSpec {
            name: parsed.name.map(|n| n.value).unwrap_or_default(),
            roles: parsed.roles,
            batch: parsed.batch,
            stack_size: parsed.stack_size,
            gobjs: parsed
                .gobjs
                .into_iter()
                .zip(parents.next().unwrap_or_default())
                .map(|(gobj, parent)| GobjSpec {
                    gclass: gobj.gclass.map(|g| g.value).unwrap_or_default(),
                    name: gobj.name.map(|n| n.value).unwrap_or_default(),
                    unique: gobj.unique,
                    parent,
                    attrs: gobj.attrs.into_iter().map(|a| (a.name, a.value)).collect(),
                })
                .collect(),
        };
        let main = parsed.main.map(&mut gaplic);
        let threads = parsed.threads.into_iter().map(&mut gaplic).collect();
        AppFile {
            path: path.to_owned(),
            name: parsed.application.unwrap_or_default(),
            logging: parsed.logging,
            settings: parsed
                .settings
                .into_iter()
                .map(|s| (s.key, s.value))
                .collect(),
            // A file without [main] has an error, so it never gets here.
            main: main.unwrap_or_else(|| GaplicSpec {
                name: String::new(),
                roles: Vec::new(),
                batch: None,
                stack_size: None,
                gobjs: Vec::new(),
            }),
            threads,
        }
    }

    /// Every gaplic: the main one, then the threads.
    pub fn gaplics(&self) -> impl Iterator<Item = &GaplicSpec> {
        std::iter::once(&self.main).chain(&self.threads)
    }
}

/// A TOML syntax error's message, as one line.
fn syntax_message(message: &str) -> String {
    let message = message.trim().replace('\n', "; ");
    format!("TOML syntax: {message}")
}
