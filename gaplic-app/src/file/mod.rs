//! The application file: its model, reading it (`read`), converting its
//! values (`value`), checking it against the gclasses (`check`), and its
//! errors (`error`).

mod check;
mod error;
mod read;
mod value;

use std::path::{Path, PathBuf};
use std::time::Duration;

use gaplic_runtime::Kw;
use toml::de::DeTable;
use tracing::level_filters::LevelFilter;

pub use error::{AppError, AppErrors, Position};

use crate::registry::Gclasses;
use read::{Parsed, ParsedGaplic, ParsedSubprocess, Report};

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
///      clock.toml:14:14: main.gobj[1].gclass: unknown gclass `GTimmer` (registered: GConnex, GRouter, GServerSock, GSock, GTimer)"
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
    /// `[[subprocess]]`: gaplics each run in a child process of its own,
    /// in file order.
    pub subprocesses: Vec<SubprocessSpec>,
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

/// A gaplic of the application: `[main]`, one `[[thread]]` or the gaplic
/// of one `[[subprocess]]`.
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
    /// `[….router]`: the attrs of its router, the unique gobj `router`
    /// created before its gobjs; `None`: no router. The main gaplic of an
    /// application with subprocesses always has one, with `server = true`
    /// (its subprocesses dial it), and so does the gaplic of every
    /// subprocess (with the main router's `secret` unless it sets its
    /// own); the route of a subprocess to the main gaplic is added when it
    /// starts.
    pub router: Option<Kw>,
}

/// A gaplic run in a child process of its own: one `[[subprocess]]`.
///
/// The child is the application's binary again, which builds only this
/// gaplic; it reaches the main gaplic through the routers (see the
/// [crate documentation](crate)).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SubprocessSpec {
    /// The gaplic: `name`, `roles`, `batch`, `[subprocess.router]`,
    /// `[[subprocess.gobj]]`.
    pub gaplic: GaplicSpec,
    /// `restart`: whether it is started again after it fails.
    pub restart: Restart,
    /// `restart_delay`: the wait before the first restart (1 s by
    /// default); it doubles at each restart, up to `max_restart_delay`.
    pub restart_delay: Duration,
    /// `max_restart_delay`: the longest wait between restarts (30 s by
    /// default, or `restart_delay` if that is longer).
    pub max_restart_delay: Duration,
    /// `max_restarts`: how many times in a row it is restarted before the
    /// launcher gives up (10 by default).
    pub max_restarts: u32,
    /// `reset_after`: a run that lasts this long before it fails counts
    /// as a success for the restart policy: the restart count and the
    /// delay start again from zero and `restart_delay` (60 s by default).
    pub reset_after: Duration,
    /// `stop_timeout`: when the application stops, how long the child has
    /// after SIGTERM before SIGKILL (5 s by default).
    pub stop_timeout: Duration,
    /// `link_timeout`: how long the child waits for its route to the main
    /// gaplic to open, at start or after it closed, before it stops (10 s
    /// by default).
    pub link_timeout: Duration,
}

/// `restart` of a `[[subprocess]]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Restart {
    /// `never` (the default): a child that ends stays ended.
    Never,
    /// `on-failure`: a child that exits with a code other than 0, or is
    /// killed by a signal it was not sent by the launcher, or cannot be
    /// started, is started again.
    OnFailure,
}

impl SubprocessSpec {
    /// The default `restart_delay`.
    pub const DEFAULT_RESTART_DELAY: Duration = Duration::from_secs(1);
    /// The default `max_restart_delay`.
    pub const DEFAULT_MAX_RESTART_DELAY: Duration = Duration::from_secs(30);
    /// The default `max_restarts`.
    pub const DEFAULT_MAX_RESTARTS: u32 = 10;
    /// The default `reset_after`.
    pub const DEFAULT_RESET_AFTER: Duration = Duration::from_secs(60);
    /// The default `stop_timeout`.
    pub const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(5);
    /// The default `link_timeout`.
    pub const DEFAULT_LINK_TIMEOUT: Duration = Duration::from_secs(10);
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
            roles: parsed.roles.into_iter().map(|r| r.value).collect(),
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
            router: parsed
                .router
                .map(|r| r.attrs.into_iter().map(|a| (a.name, a.value)).collect()),
        };
        let main = parsed.main.map(&mut gaplic);
        let threads = parsed.threads.into_iter().map(&mut gaplic).collect();
        let subprocesses: Vec<SubprocessSpec> = parsed
            .subprocesses
            .into_iter()
            .map(|parsed: ParsedSubprocess| {
                let restart_delay = parsed.restart_delay.map_or(
                    SubprocessSpec::DEFAULT_RESTART_DELAY,
                    Duration::from_secs_f64,
                );
                SubprocessSpec {
                    gaplic: gaplic(parsed.gaplic),
                    restart: parsed.restart,
                    restart_delay,
                    max_restart_delay: parsed.max_restart_delay.map_or_else(
                        || SubprocessSpec::DEFAULT_MAX_RESTART_DELAY.max(restart_delay),
                        Duration::from_secs_f64,
                    ),
                    max_restarts: parsed
                        .max_restarts
                        .unwrap_or(SubprocessSpec::DEFAULT_MAX_RESTARTS),
                    reset_after: parsed
                        .reset_after
                        .map_or(SubprocessSpec::DEFAULT_RESET_AFTER, Duration::from_secs_f64),
                    stop_timeout: parsed.stop_timeout.map_or(
                        SubprocessSpec::DEFAULT_STOP_TIMEOUT,
                        Duration::from_secs_f64,
                    ),
                    link_timeout: parsed.link_timeout.map_or(
                        SubprocessSpec::DEFAULT_LINK_TIMEOUT,
                        Duration::from_secs_f64,
                    ),
                }
            })
            .collect();
        // A file without [main] has an error, so it never gets here.
        let mut main = main.unwrap_or_else(|| GaplicSpec {
            name: String::new(),
            roles: Vec::new(),
            batch: None,
            stack_size: None,
            gobjs: Vec::new(),
            router: None,
        });
        let mut subprocesses = subprocesses;
        if !subprocesses.is_empty() {
            let router = main.router.get_or_insert_with(Kw::new);
            if !router.contains("server") {
                router.insert("server", true);
            }
            let secret = router.value("secret").cloned();
            for subprocess in &mut subprocesses {
                let router = subprocess.gaplic.router.get_or_insert_with(Kw::new);
                if let Some(secret) = &secret
                    && !router.contains("secret")
                {
                    router.insert("secret", secret.clone());
                }
            }
        }
        AppFile {
            path: path.to_owned(),
            name: parsed.application.unwrap_or_default(),
            logging: parsed.logging,
            settings: parsed
                .settings
                .into_iter()
                .map(|s| (s.key, s.value))
                .collect(),
            main,
            threads,
            subprocesses,
        }
    }

    /// Every gaplic: the main one, then the threads, then the gaplics of
    /// the subprocesses.
    pub fn gaplics(&self) -> impl Iterator<Item = &GaplicSpec> {
        std::iter::once(&self.main)
            .chain(&self.threads)
            .chain(self.subprocesses.iter().map(|s| &s.gaplic))
    }

    /// The `[[subprocess]]` entry whose gaplic is called `name`.
    pub fn subprocess(&self, name: &str) -> Option<&SubprocessSpec> {
        self.subprocesses.iter().find(|s| s.gaplic.name == name)
    }
}

/// A TOML syntax error's message, as one line.
fn syntax_message(message: &str) -> String {
    let message = message.trim().replace('\n', "; ");
    format!("TOML syntax: {message}")
}
