//! Applications of gaplics described by one file, and the launcher that
//! serves, checks and draws them.
//!
//! Users reach this crate as `gaplic::app` (the `app` feature of `gaplic`,
//! on by default). An application's binary registers its gclasses with a
//! [`Launcher`] and runs it; the command line then says what to do:
//!
//! ```text
//! my-app serve -c app.toml [--pid-file FILE] [--stop-timeout SECS]
//! my-app stop --pid-file FILE [--timeout SECS]
//! my-app status --pid-file FILE
//! my-app check -c app.toml
//! my-app gclasses [GCLASS]
//! my-app draw GCLASS [--format dot|mermaid|svg] [-o FILE]
//! ```
//!
//! # The application file
//!
//! TOML, one application per file:
//!
//! ```toml
//! [application]
//! name = "ontimer"
//!
//! [logging]                     # optional
//! level = "info"                # trace, debug, info (default), warn, error, off
//! filter = "gaplic=warn"        # more EnvFilter directives, optional
//! format = "compact"            # full (default), compact, pretty
//!
//! [settings]                    # optional: attrs for every gaplic, over the gobjs' own
//! seconds = 2                   # every gobj whose gclass has an attr `seconds`
//! OnTimer.command = "date"      # every OnTimer (the same as [settings.OnTimer])
//! "ontimer.runs" = 10           # the gobj named `ontimer`
//!
//! [main]                        # the gaplic run on the launcher's thread
//! name = "main"
//! roles = ["clock"]             # optional
//! batch = 256                   # optional: posted events per turn
//!
//! [[main.gobj]]                 # created in file order
//! gclass = "OnTimer"            # a registered gclass
//! name = "ontimer"
//! unique = true                 # optional: register the name as unique
//! attrs = { seconds = 1.5 }     # optional: its creation keywords
//!
//! [[main.gobj]]
//! gclass = "GTimer"
//! name = "watchdog"
//! parent = "ontimer"            # optional: a gobj listed before it, same gaplic
//!
//! [[thread]]                    # optional: gaplics each on a thread of its own
//! name = "worker"
//! stack_size = 4194304          # optional, in bytes
//!
//! [[thread.gobj]]
//! gclass = "GTimer"
//! name = "heartbeat"
//! attrs = { seconds = 5.0, autostart = true }
//! ```
//!
//! - Settings apply as the runtime applies them: after each gobj's
//!   defaults and creation keywords, so they win (as in GinsFSM); a key
//!   `attr` reaches every gclass with that attr, `Gclass.attr` one gclass,
//!   `gobj_name.attr` one gobj. A table directly under `[settings]`
//!   (`OnTimer.seconds = 2`, which TOML reads as a table `OnTimer`) is a
//!   scope; tables deeper down are values.
//! - TOML values become gaplic [`Value`](gaplic_runtime::Value)s:
//!   strings, integers, floats, booleans, arrays (lists) and tables (maps).
//!   A datetime has no gaplic value: write it as a string.
//! - `subprocess`, `router` and `http` are reserved: they are refused as
//!   not available yet.
//! - Every thread gaplic starts, in file order, before the main gaplic; a
//!   gobj that posts to another gaplic at start-up should live after it in
//!   the file. The main gaplic runs until it stops (an action stops it) or
//!   a signal comes; with no gobj in `[main]`, the application ends when
//!   every thread gaplic has ended.
//! - The main gaplic runs on the launcher's thread, and the runtime lists
//!   by name only the gaplics it spawns: other gaplics cannot post to the
//!   main one by name. Gobjs that talk across gaplics by name live in
//!   `[[thread]]`s (as in `examples/apps/pingpong.toml`).
//!
//! [`AppFile::load`] reads a file and checks everything that can be known
//! without running: every section and key (an unknown one is reported
//! with the list of those that exist), every type, every gclass name,
//! every gobj's attrs together with the settings that reach it (built with
//! the gclass's own `create`, so its types and validators decide), unique
//! names, gaplic names and parents. One reading reports every error, each
//! as `FILE:LINE:COLUMN: KEY.PATH: reason`.
//!
//! # Exit codes
//!
//! See [`exit_code`].
#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations)]

mod build;
mod describe;
pub mod draw;
mod file;
mod launcher;
mod logging;
mod pidfile;
mod registry;
mod serve;
mod tables;

pub use build::{builder, create_gobjs};
pub use draw::{DrawError, DrawFormat};
pub use file::{AppError, AppErrors, AppFile, GaplicSpec, GobjSpec, LogFormat, Logging, Position};
pub use launcher::Launcher;
pub use registry::{DuplicateGclass, GclassEntry, Gclasses};

/// The launcher's exit codes, for scripts and service managers.
///
/// | code | command | meaning |
/// |---|---|---|
/// | 0 | all | done; for `status`, the process runs; for `stop`, it ended or was not running |
/// | 1 | all but `status` | failed: a bad application file, a gaplic that failed, a process that would not stop... |
/// | 1 | `status` | stale pid file: its process is gone |
/// | 2 | all | bad command line |
/// | 3 | `status` | not running: no pid file |
/// | 4 | `status` | the pid file cannot be read |
/// | 5 | `serve` | forced exit: a second signal, or the stop timeout, ended a graceful stop |
pub mod exit_code {
    /// Done.
    pub const SUCCESS: u8 = 0;
    /// The command failed.
    pub const FAILURE: u8 = 1;
    /// `status`: the pid file names a process that is gone.
    pub const STALE: u8 = 1;
    /// The command line is wrong.
    pub const USAGE: u8 = 2;
    /// `status`: there is no pid file.
    pub const NOT_RUNNING: u8 = 3;
    /// `status`: the pid file cannot be read.
    pub const UNKNOWN: u8 = 4;
    /// `serve`: a graceful stop was cut short by a second signal or by the
    /// stop timeout.
    pub const FORCED: u8 = 5;
}
