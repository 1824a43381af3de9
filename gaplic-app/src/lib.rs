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
//!
//! [main.router]                 # optional: the gaplic's router (also [thread.router])
//! static_routes = "store, db, ws://10.0.0.5:2690"
//!
//! [[subprocess]]                # optional: gaplics each in a child process of its own
//! name = "indexer"
//! roles = ["index"]             # optional, as `batch`
//! restart = "on-failure"        # optional: never (default), on-failure
//! restart_delay = 1.0           # optional: seconds before the first restart, doubling...
//! max_restart_delay = 30.0      # optional: ...up to this
//! max_restarts = 10             # optional: restarts in a row, then it gives up
//! reset_after = 60.0            # optional: a run this long counts as a success
//! stop_timeout = 5.0            # optional: SIGTERM, then SIGKILL after this long
//! link_timeout = 10.0           # optional: the child stops without its link this long
//!
//! [subprocess.router]           # optional: the attrs of its router
//! window = 16
//!
//! [[subprocess.gobj]]
//! gclass = "Indexer"
//! name = "indexer"
//! unique = true
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
//! - `http` is reserved: it is refused as not available yet.
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
//! names, gaplic names and parents, the routers' attrs and the
//! subprocesses' keys. One reading reports every error, each as
//! `FILE:LINE:COLUMN: KEY.PATH: reason`.
//!
//! # Routers
//!
//! A `router` table in `[main]`, a `[[thread]]` or a `[[subprocess]]`
//! (`[main.router]`, `[thread.router]` after its `[[thread]]`,
//! `[subprocess.router]` after its `[[subprocess]]`) gives that gaplic a
//! router, as GinsFSM's `router_enabled` does: a gobj of the router gclass
//! (`gaplic::router::GRouter` with the `router` feature, on by default;
//! another with [`Launcher::router`]),
//! created under the unique name `router` before the gaplic's gobjs, with
//! the table's keys as its attrs (`static_routes`, `routes`, `server`,
//! `listen`, `secret`, the limits: whatever the router gclass declares;
//! `check` validates them as a gobj's attrs, with the settings that reach
//! the gobj `router`). Events for gaplics the process does not hold go
//! through it, by the gaplic's name or role (`roles` of the gaplic). The
//! name and roles of a gaplic with a router go into routes and identity
//! cards: no spaces, `,` or `+`, and no role starting with `=`, `^` or
//! `*`.
//!
//! # Subprocesses
//!
//! Each `[[subprocess]]` is a gaplic run in a child process: this same
//! binary, started again with the launcher's own arguments and hidden ones
//! naming the entry (so the gclasses it registers are there), builds only
//! that gaplic from the same file. The binary must therefore run the
//! launcher on its command line (as `main` calling [`Launcher::run`]
//! does); a subprocess writes no pid file.
//!
//! - **The link.** The main gaplic gets a router even without
//!   `[main.router]`, serving on `listen` (loopback, any free port, by
//!   default; `server = false` is refused); each subprocess's router gets
//!   a route to it, `MAIN_NAME, ROLE1+ROLE2, ws://ADDRESS`, with the
//!   address the main router listens on, and its `secret` (unless it sets
//!   the same one). So the main gaplic reaches a subprocess's unique gobjs
//!   by its name or roles (`Dest::in_role("worker", "ponger")`), once the
//!   route has opened (the router publishes `EV_ROUTE_OPENED`), and the
//!   subprocess reaches the main gaplic's the same way.
//! - **What happens to the child** is published by a [`GSubprocess`] gobj
//!   per entry in the main gaplic, made first of all under the unique name
//!   `subprocess.NAME`: `EV_SUBPROCESS_STARTED { name, pid, restarts }`
//!   and `EV_SUBPROCESS_EXITED { name, pid, code, signal, reason,
//!   restarting, gave_up, restarts }`. Each failure is also logged.
//! - **Restarts.** With `restart = "on-failure"`, a child that exits with
//!   a code other than 0, is killed by a signal, or cannot be started, is
//!   started again after `restart_delay` seconds, the delay doubling at
//!   each restart up to `max_restart_delay`; after `max_restarts`
//!   restarts in a row it is not (`gave_up` is true). A run that lasted
//!   `reset_after` seconds before it failed breaks the row: the count
//!   starts again from 0 and the delay from `restart_delay`.
//! - **Stopping.** When the main gaplic ends (stopped by one of its gobjs,
//!   or by SIGINT or SIGTERM to the launcher), each child is sent SIGTERM,
//!   which stops its gaplic gracefully, and SIGKILL if it still runs
//!   `stop_timeout` seconds later; the launcher waits for each. Children
//!   are in a process group of their own: Ctrl-C reaches only the
//!   launcher, which stops them in order.
//! - **The parent's death.** A child asks the system for SIGTERM when its
//!   parent dies, even by SIGKILL (Linux's parent-death signal), and
//!   refuses to run if its parent is already another process. It also
//!   stops when its route to the main gaplic is not open for
//!   `link_timeout` seconds (at start, or after it closed), or at once
//!   when that route closes and its parent is gone; it then exits with
//!   code 1 and says why.
//! - **Output.** The child's standard output and standard error go to the
//!   launcher's, each line prefixed with `[NAME] `.
//! - With no gobj in `[main]`, the application ends when every thread
//!   gaplic and every subprocess has ended for good.
//!
//! # Exit codes
//!
//! See [`exit_code`].
#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations)]

mod build;
mod child;
mod describe;
pub mod draw;
mod file;
mod launcher;
mod logging;
mod pidfile;
mod registry;
mod serve;
mod subprocess;
mod tables;

pub use build::{builder, create_gobjs};
pub use draw::{DrawError, DrawFormat};
pub use file::{
    AppError, AppErrors, AppFile, GaplicSpec, GobjSpec, LogFormat, Logging, Position, Restart,
    SubprocessSpec,
};
pub use launcher::Launcher;
pub use registry::{DuplicateGclass, GclassEntry, Gclasses};
pub use subprocess::{GSubprocess, GSubprocessEvent, GSubprocessState};

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
