//! The launcher: the command line of an application's own binary.

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use gaplic_runtime::Gclass;

use crate::child::ChildOptions;
use crate::draw::{self, DrawFormat};
use crate::exit_code::{FAILURE, NOT_RUNNING, STALE, SUCCESS, UNKNOWN, USAGE};
use crate::file::AppFile;
use crate::pidfile::{self, PidState};
use crate::registry::{DuplicateGclass, Gclasses};
use crate::serve::{ServeOptions, serve};

/// The command line of an application: `serve`, `stop`, `status`,
/// `check`, `gclasses`, `draw`, over the gclasses it registers.
///
/// The application's `main` builds one, registers its gclasses (the
/// built-in ones are there already) and runs it:
///
/// ```no_run
/// use std::process::ExitCode;
/// # use gaplic::prelude::*;
/// # gobj! {
/// #     /// A gclass.
/// #     pub struct OnTimer {}
/// #     events { EV_TIMEOUT }
/// #     states { ST_IDLE }
/// #     machine { ST_IDLE { EV_TIMEOUT -> ST_IDLE } }
/// # }
///
/// fn main() -> ExitCode {
///     gaplic::app::Launcher::new("my-app")
///         .about("Runs a command every few seconds")
///         .gclass::<OnTimer>()
///         .run()
/// }
/// ```
///
/// # Examples
///
/// [`run_with_output`](Launcher::run_with_output) runs a command line with
/// its output captured:
///
/// ```
/// use gaplic::app::{Launcher, exit_code};
///
/// let launcher = Launcher::new("my-app");
/// let (mut out, mut err) = (Vec::new(), Vec::new());
/// let code = launcher.run_with_output(["my-app", "gclasses", "GTimer"], &mut out, &mut err);
/// assert_eq!(code, exit_code::SUCCESS);
/// assert!(String::from_utf8(out)?.starts_with("GTimer\n"));
///
/// let code = launcher.run_with_output(["my-app", "draw", "GTimr"], &mut Vec::new(), &mut err);
/// assert_eq!(code, exit_code::FAILURE);
/// # Ok::<(), std::string::FromUtf8Error>(())
/// ```
#[derive(Debug)]
pub struct Launcher {
    name: String,
    about: Option<String>,
    version: Option<String>,
    gclasses: Gclasses,
    /// Registrations refused (a name taken twice), reported when it runs.
    refused: Vec<DuplicateGclass>,
}

impl Launcher {
    /// The launcher of the application `name` (the name its help shows),
    /// with the built-in gclasses registered.
    pub fn new(name: impl Into<String>) -> Self {
        Launcher {
            name: name.into(),
            about: None,
            version: None,
            gclasses: Gclasses::new(),
            refused: Vec::new(),
        }
    }

    /// One line saying what the application does, for its help.
    #[must_use]
    pub fn about(mut self, about: impl Into<String>) -> Self {
        self.about = Some(about.into());
        self
    }

    /// The application's version, shown by `--version` (usually
    /// `env!("CARGO_PKG_VERSION")`).
    #[must_use]
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// Registers gclass `G`, so that application files may name it. A name
    /// registered twice is an error that every command reports.
    #[must_use]
    pub fn gclass<G: Gclass + 'static>(mut self) -> Self {
        if let Err(refused) = self.gclasses.add::<G>() {
            self.refused.push(refused);
        }
        self
    }

    /// Registers gclass `G` as the router: the gclass of the unique gobj
    /// `router` that a `[main.router]`, `[thread.router]` or
    /// `[subprocess.router]` section creates, and through which the
    /// gaplics of `[[subprocess]]` entries talk to the main gaplic.
    ///
    /// With the `router` feature (on by default in `gaplic`), that is
    /// `gaplic::router::GRouter` already, and nothing needs registering;
    /// this puts another gclass in its place (one with `GRouter`'s attrs
    /// and events, a wrapper for instance):
    ///
    /// ```no_run
    /// fn main() -> std::process::ExitCode {
    ///     gaplic::app::Launcher::new("my-app")
    ///         .router::<gaplic::router::GRouter>()
    ///         .run()
    /// }
    /// ```
    ///
    /// Without a router (the feature off and none registered), a file with
    /// a router section or a subprocess is refused, saying so.
    #[must_use]
    pub fn router<G: Gclass + 'static>(mut self) -> Self {
        if let Err(refused) = self.gclasses.set_router::<G>() {
            self.refused.push(refused);
        }
        self
    }

    /// The registered gclasses.
    pub fn gclasses(&self) -> &Gclasses {
        &self.gclasses
    }

    /// Runs the command line of this process ([`std::env::args_os`]).
    pub fn run(&self) -> ExitCode {
        self.run_from(std::env::args_os())
    }

    /// Runs the command line `args`, whose first item is the program's
    /// name, writing to standard output and standard error.
    pub fn run_from<I, T>(&self, args: I) -> ExitCode
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let code = self.run_with_output(args, &mut io::stdout(), &mut io::stderr());
        ExitCode::from(code)
    }

    /// Runs the command line `args`, whose first item is the program's
    /// name, writing what it prints to `out` and its errors to `err`;
    /// returns the [exit code](crate::exit_code). (`serve` logs to the
    /// process's standard error whatever `err` is.)
    pub fn run_with_output<I, T>(&self, args: I, out: &mut dyn Write, err: &mut dyn Write) -> u8
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        if !self.refused.is_empty() {
            for refused in &self.refused {
                let _ = writeln!(err, "{}: {refused}", self.name);
            }
            return FAILURE;
        }
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        let mut command = Cli::command()
            .name(self.name.clone())
            .bin_name(self.name.clone());
        if let Some(about) = &self.about {
            command = command.about(about.clone());
        }
        if let Some(version) = &self.version {
            command = command.version(version.clone());
        }
        let cli = match command
            .try_get_matches_from(&args)
            .and_then(|matches| Cli::from_arg_matches(&matches))
        {
            Ok(cli) => cli,
            Err(error) => {
                let text = error.render().to_string();
                return if error.use_stderr() {
                    let _ = write!(err, "{text}");
                    USAGE
                } else {
                    let _ = write!(out, "{text}");
                    SUCCESS
                };
            }
        };
        match cli.command {
            Command::Serve {
                config,
                pid_file,
                stop_timeout,
                subprocess,
                parent_pid,
                parent_router,
            } => {
                let subprocess = match (subprocess, parent_pid, parent_router) {
                    (Some(name), Some(parent_pid), Some(parent_router)) => Some(ChildOptions {
                        name,
                        parent_pid,
                        parent_router,
                    }),
                    _ => None,
                };
                let options = ServeOptions {
                    config,
                    pid_file,
                    stop_timeout,
                    args: args.into_iter().skip(1).collect(),
                    subprocess,
                };
                serve(&self.name, &self.gclasses, &options, err)
            }
            Command::Stop { pid_file, timeout } => self.stop(&pid_file, timeout, out, err),
            Command::Status { pid_file } => self.status(&pid_file, out, err),
            Command::Check { config } => self.check(&config, out, err),
            Command::Gclasses { gclass } => self.list(gclass.as_deref(), out, err),
            Command::Draw {
                gclass,
                format,
                output,
            } => self.draw(&gclass, format.into(), output.as_deref(), out, err),
        }
    }

    fn check(&self, config: &Path, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
        match AppFile::load(config, &self.gclasses) {
            Ok(app) => {
                let gobjs: usize = app.gaplics().map(|g| g.gobjs.len()).sum();
                let in_subprocesses = match app.subprocesses.len() {
                    0 => String::new(),
                    1 => " (1 in a subprocess)".to_owned(),
                    n => format!(" ({n} in subprocesses)"),
                };
                let _ = writeln!(
                    out,
                    "{}: application `{}` is valid: {} gaplic(s){in_subprocesses}, {gobjs} gobj(s)",
                    config.display(),
                    app.name,
                    app.gaplics().count()
                );
                SUCCESS
            }
            Err(errors) => {
                let _ = writeln!(err, "{}", errors.render());
                FAILURE
            }
        }
    }

    fn list(&self, gclass: Option<&str>, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
        let entries: Vec<_> = match gclass {
            Some(name) => match self.gclasses.get(name) {
                Some(entry) => vec![entry],
                None => return self.unknown_gclass(name, err),
            },
            None => self.gclasses.iter().collect(),
        };
        for (i, entry) in entries.iter().enumerate() {
            if i > 0 {
                let _ = writeln!(out);
            }
            let _ = write!(out, "{}", crate::describe::describe(entry.meta()));
        }
        SUCCESS
    }

    fn draw(
        &self,
        gclass: &str,
        format: DrawFormat,
        output: Option<&Path>,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> u8 {
        let Some(entry) = self.gclasses.get(gclass) else {
            return self.unknown_gclass(gclass, err);
        };
        let diagram = match draw::draw(entry.meta(), format) {
            Ok(diagram) => diagram,
            Err(error) => {
                let _ = writeln!(err, "{}: cannot draw `{gclass}`: {error}", self.name);
                return FAILURE;
            }
        };
        match output {
            None => {
                let _ = write!(out, "{diagram}");
                SUCCESS
            }
            Some(path) => match std::fs::write(path, diagram) {
                Ok(()) => SUCCESS,
                Err(error) => {
                    let _ = writeln!(
                        err,
                        "{}: cannot write {}: {error}",
                        self.name,
                        path.display()
                    );
                    FAILURE
                }
            },
        }
    }

    fn unknown_gclass(&self, name: &str, err: &mut dyn Write) -> u8 {
        let _ = writeln!(
            err,
            "{}: unknown gclass `{name}` (registered: {})",
            self.name,
            self.gclasses.names().join(", ")
        );
        FAILURE
    }

    fn status(&self, pid_file: &Path, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
        match pidfile::state(pid_file) {
            Ok(PidState::Running(pid)) => {
                let _ = writeln!(out, "running (pid {pid})");
                SUCCESS
            }
            Ok(PidState::Absent) => {
                let _ = writeln!(out, "not running (no pid file {})", pid_file.display());
                NOT_RUNNING
            }
            Ok(PidState::Stale(pid)) => {
                let _ = writeln!(
                    out,
                    "not running: stale pid file {} (process {pid} is gone)",
                    pid_file.display()
                );
                STALE
            }
            Err(error) => {
                let _ = writeln!(err, "{}: cannot tell: {error}", self.name);
                UNKNOWN
            }
        }
    }

    fn stop(
        &self,
        pid_file: &Path,
        timeout: Duration,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> u8 {
        let pid = match pidfile::state(pid_file) {
            Ok(PidState::Running(pid)) => pid,
            Ok(PidState::Absent) => {
                let _ = writeln!(out, "not running (no pid file {})", pid_file.display());
                return SUCCESS;
            }
            Ok(PidState::Stale(pid)) => {
                let removed = match std::fs::remove_file(pid_file) {
                    Ok(()) => "removed it",
                    Err(_) => "could not remove it",
                };
                let _ = writeln!(
                    out,
                    "not running: stale pid file {} (process {pid} is gone); {removed}",
                    pid_file.display()
                );
                return SUCCESS;
            }
            Err(error) => {
                let _ = writeln!(err, "{}: cannot stop: {error}", self.name);
                return FAILURE;
            }
        };
        if let Err(error) = pidfile::terminate(pid) {
            let _ = writeln!(
                err,
                "{}: cannot send SIGTERM to process {pid}: {error}",
                self.name
            );
            return FAILURE;
        }
        if pidfile::wait_for_end(pid, timeout) {
            let _ = writeln!(out, "stopped (pid {pid})");
            SUCCESS
        } else {
            let _ = writeln!(
                err,
                "{}: process {pid} is still running {} s after SIGTERM",
                self.name,
                timeout.as_secs_f64()
            );
            FAILURE
        }
    }
}

/// The command line, as clap reads it. Doc comments are the help texts.
#[derive(Parser, Debug)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Runs an application file in the foreground
    ///
    /// Runs until SIGINT or SIGTERM, or until its main gaplic stops. The
    /// first signal stops it gracefully: what was posted is delivered and
    /// every gobj's go_out runs, children first; the subprocesses get
    /// SIGTERM (SIGKILL after their stop_timeout). A second signal, or the
    /// stop timeout, ends it at once (exit code 5).
    Serve {
        /// The application file (TOML).
        #[arg(short, long, value_name = "FILE")]
        config: PathBuf,
        /// Writes the process id there while it runs; refuses to start if
        /// it names a running process (a stale one is replaced).
        #[arg(long, value_name = "FILE")]
        pid_file: Option<PathBuf>,
        /// Seconds a graceful stop may take before the exit is forced.
        #[arg(long, value_name = "SECS", default_value = "10", value_parser = seconds)]
        stop_timeout: Duration,
        /// Runs only the gaplic of this `[[subprocess]]`: what `serve`
        /// asks of the child processes it starts.
        #[arg(long, hide = true, value_name = "NAME", requires_all = ["parent_pid", "parent_router"])]
        subprocess: Option<String>,
        /// The main process of a subprocess.
        #[arg(long, hide = true, value_name = "PID", requires = "subprocess")]
        parent_pid: Option<u32>,
        /// Where the main gaplic's router listens, for a subprocess.
        #[arg(long, hide = true, value_name = "HOST:PORT", requires = "subprocess")]
        parent_router: Option<String>,
    },
    /// Stops the process of a pid file
    ///
    /// Sends it SIGTERM and waits for it to end. Exit code 0 when it ended
    /// or was not running (a stale pid file is removed and said so), 1 when
    /// it could not be stopped.
    Stop {
        /// The pid file `serve --pid-file` wrote.
        #[arg(long, value_name = "FILE")]
        pid_file: PathBuf,
        /// Seconds to wait for the process to end.
        #[arg(long, value_name = "SECS", default_value = "30", value_parser = seconds)]
        timeout: Duration,
    },
    /// Says whether the process of a pid file runs
    ///
    /// Exit code 0: running; 1: stale pid file (its process is gone); 3:
    /// not running (no pid file); 4: the pid file cannot be read.
    Status {
        /// The pid file `serve --pid-file` wrote.
        #[arg(long, value_name = "FILE")]
        pid_file: PathBuf,
    },
    /// Checks an application file without running anything
    ///
    /// Checks sections, keys, types, gclass names, every gobj's attrs with
    /// the settings that reach it (built as creating the gobj would),
    /// unique names, gaplic names and parents, the routers' attrs and the
    /// subprocesses' keys, and reports every error.
    Check {
        /// The application file (TOML).
        #[arg(short, long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Lists the registered gclasses: events, states, machine, attrs
    Gclasses {
        /// Only this gclass.
        gclass: Option<String>,
    },
    /// Draws a gclass's machine as DOT, Mermaid or SVG
    ///
    /// States are the nodes (the initial one marked), each machine row an
    /// edge labelled `EV_X / action`. SVG is made by Graphviz's `dot`
    /// program, which must be on PATH.
    Draw {
        /// The gclass.
        gclass: String,
        /// The diagram's format.
        #[arg(long, value_enum, default_value_t = Format::Dot)]
        format: Format,
        /// Writes the diagram to this file instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// The diagram formats on the command line.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    /// Graphviz DOT.
    Dot,
    /// A Mermaid state diagram.
    Mermaid,
    /// SVG, through Graphviz's `dot` program (needs Graphviz on PATH).
    Svg,
}

impl From<Format> for DrawFormat {
    fn from(format: Format) -> Self {
        match format {
            Format::Dot => DrawFormat::Dot,
            Format::Mermaid => DrawFormat::Mermaid,
            Format::Svg => DrawFormat::Svg,
        }
    }
}

/// A number of seconds: positive and finite.
fn seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if seconds.is_nan() || seconds <= 0.0 {
        return Err(format!("{text} s: a number of seconds must be above 0"));
    }
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("{text} s is too long"))
}
