//! `serve`: runs an application in the foreground. The thread gaplics
//! start first, in file order, each on its own thread; then the main
//! gaplic is built and run on the calling thread until it stops.
//!
//! A supervisor watches SIGINT and SIGTERM: the first stops every gaplic
//! gracefully (what was posted is delivered, every `go_out` runs, children
//! first, then the threads are joined); a second signal, or a stop that
//! takes longer than the stop timeout, ends the process at once with
//! [`FORCED`](crate::exit_code::FORCED).
//!
//! With `[[subprocess]]` entries, the main gaplic's router and a
//! `GSubprocess` per entry are made before its gobjs; once it is built, a
//! keeper thread per entry starts the child, and when the main gaplic has
//! ended the children are stopped with the threads. A child is this same
//! program with the same arguments and hidden ones naming its entry: it
//! builds only that gaplic (`serve_subprocess`).

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use gaplic_runtime::{Gaplic, GaplicHandle, GobjError, ROUTER};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::child::{self, ChildOptions};
use crate::exit_code::{FAILURE, FORCED, SUCCESS};
use crate::file::{AppFile, SubprocessSpec};
use crate::pidfile::{self, Created, PidFile};
use crate::registry::Gclasses;
use crate::subprocess::{self, ChildCommand, Remaining, Subprocesses};
use crate::{build, logging};

/// What `serve` was asked to do.
#[derive(Debug)]
pub(crate) struct ServeOptions {
    pub config: PathBuf,
    pub pid_file: Option<PathBuf>,
    pub stop_timeout: Duration,
    /// The launcher's arguments, without the program's name: a child
    /// process gets them again.
    pub args: Vec<OsString>,
    /// Set in a child process: the subprocess it runs.
    pub subprocess: Option<ChildOptions>,
}

/// Serves the application of `options.config`; returns the exit code.
pub(crate) fn serve(
    program: &str,
    gclasses: &Gclasses,
    options: &ServeOptions,
    err: &mut dyn Write,
) -> u8 {
    if let Some(child) = &options.subprocess {
        return serve_subprocess(program, gclasses, options, child, err);
    }
    let app = match AppFile::load(&options.config, gclasses) {
        Ok(app) => app,
        Err(errors) => {
            let _ = writeln!(err, "{}", errors.render());
            return FAILURE;
        }
    };
    if let Err(message) = logging::init(&app.logging) {
        let _ = writeln!(err, "{program}: {message}");
    }
    let pid_file = match &options.pid_file {
        None => None,
        Some(path) => match PidFile::create(path) {
            Ok(Created::Fresh(pid_file)) => Some(pid_file),
            Ok(Created::ReplacedStale(pid_file, old)) => {
                let _ = writeln!(
                    err,
                    "{program}: replaced the stale pid file {} (process {old} is gone)",
                    path.display()
                );
                Some(pid_file)
            }
            Err(error) => {
                let _ = writeln!(err, "{program}: cannot serve: {error}");
                return FAILURE;
            }
        },
    };
    let supervisor = match Supervisor::start(
        program,
        options.stop_timeout,
        pid_file.as_ref().map(PidFile::path),
    ) {
        Ok(supervisor) => supervisor,
        Err(error) => {
            let _ = writeln!(err, "{program}: cannot watch for signals: {error}");
            return FAILURE;
        }
    };
    tracing::info!(
        target: "gaplic::app",
        application = %app.name,
        file = %options.config.display(),
        pid = std::process::id(),
        "serving"
    );
    let code = run(program, &app, gclasses, options, &supervisor, err);
    supervisor.finish();
    drop(pid_file);
    code
}

/// Starts the threads, builds the main gaplic, starts the subprocesses,
/// runs the main gaplic, then stops the subprocesses and the threads and
/// waits for them; returns the exit code.
fn run(
    program: &str,
    app: &AppFile,
    gclasses: &Gclasses,
    options: &ServeOptions,
    supervisor: &Supervisor,
    err: &mut dyn Write,
) -> u8 {
    let Some(threads) = start_threads(program, app, gclasses, supervisor, err) else {
        return FAILURE;
    };
    let Some(mut main) = build_main(program, app, gclasses, supervisor, err) else {
        supervisor.stop_all();
        stop_and_join(&threads, supervisor);
        return FAILURE;
    };
    // With nothing in the main gaplic, nothing there could stop it: the
    // application lives as long as its threads and subprocesses.
    let main_is_empty = app.main.gobjs.is_empty();
    let remaining = Remaining::new(
        threads.len() + app.subprocesses.len(),
        main.handle(),
        main_is_empty,
    );
    let Some(mut subprocesses) = start_subprocesses(program, app, options, &main, &remaining, err)
    else {
        supervisor.stop_all();
        drop(main);
        stop_and_join(&threads, supervisor);
        return FAILURE;
    };
    subprocesses.attach(&mut main);
    if main_is_empty && threads.is_empty() && app.subprocesses.is_empty() {
        tracing::info!(target: "gaplic::app", "nothing to run: no gobj, no thread gaplic, no subprocess");
        main.stop();
    }
    let ended = watch_threads(program, &threads, &remaining, supervisor, err);
    tracing::info!(target: "gaplic::app", gaplic = %app.main.name, "main gaplic running");
    let mut failed = false;
    if let Err(error) = main.run() {
        tracing::error!(target: "gaplic::app", gaplic = %app.main.name, %error, "main gaplic failed");
        let _ = writeln!(err, "{program}: gaplic `{}` failed: {error}", app.main.name);
        failed = true;
    }
    drop(main);
    tracing::info!(target: "gaplic::app", gaplic = %app.main.name, "gaplic ended");
    supervisor.stopping();
    subprocesses.stop();
    for handle in &threads {
        // One that ended already says so: nothing to do.
        let _ = handle.stop();
    }
    subprocesses.wait();
    for (name, result) in ended.iter() {
        match result {
            Ok(()) => tracing::info!(target: "gaplic::app", gaplic = %name, "gaplic ended"),
            Err(error) => {
                tracing::error!(target: "gaplic::app", gaplic = %name, %error, "gaplic failed");
                let _ = writeln!(err, "{program}: gaplic `{name}` failed: {error}");
                failed = true;
            }
        }
    }
    tracing::info!(target: "gaplic::app", application = %app.name, "stopped");
    if failed { FAILURE } else { SUCCESS }
}

/// Starts a keeper per `[[subprocess]]`, each starting its child, which
/// dials the main gaplic's router; `None` (said on `err`) when they
/// cannot be started.
fn start_subprocesses(
    program: &str,
    app: &AppFile,
    options: &ServeOptions,
    main: &Gaplic,
    remaining: &Remaining,
    err: &mut dyn Write,
) -> Option<Subprocesses> {
    let started = (|| {
        if app.subprocesses.is_empty() {
            return Ok(Subprocesses::none());
        }
        let router = main
            .find_unique_gobj(ROUTER)
            .ok_or_else(|| format!("gaplic `{}` has no router", app.main.name))?;
        let address = subprocess::router_address(main, router)?;
        let exe = std::env::current_exe().map_err(|error| {
            format!("cannot find this program's file to start it again: {error}")
        })?;
        let command = ChildCommand {
            exe,
            args: options.args.clone(),
            router: address,
        };
        tracing::debug!(target: "gaplic::app", router = %command.router, "subprocesses dial the main gaplic's router");
        Subprocesses::start(&app.subprocesses, &command, &main.handle(), remaining)
    })();
    match started {
        Ok(subprocesses) => Some(subprocesses),
        Err(error) => {
            let _ = writeln!(err, "{program}: cannot start the subprocesses: {error}");
            None
        }
    }
}

/// Starts the thread gaplics in file order, each with its gobjs; `None`
/// (said on `err`) when one cannot start: those started before it are
/// stopped and joined.
fn start_threads(
    program: &str,
    app: &AppFile,
    gclasses: &Gclasses,
    supervisor: &Supervisor,
    err: &mut dyn Write,
) -> Option<Vec<GaplicHandle>> {
    let mut threads: Vec<GaplicHandle> = Vec::with_capacity(app.threads.len());
    for spec in &app.threads {
        let setup_spec = spec.clone();
        let setup_gclasses = gclasses.clone();
        let started = gaplic_runtime::spawn_with(build::builder(spec, &app.settings), move |g| {
            build::create_gobjs(g, &setup_spec, &setup_gclasses).map(drop)
        });
        match started {
            Ok(handle) => {
                tracing::info!(target: "gaplic::app", gaplic = %spec.name, "gaplic started on its own thread");
                supervisor.watch(handle.clone());
                threads.push(handle);
            }
            Err(error) => {
                let _ = writeln!(
                    err,
                    "{program}: cannot start gaplic `{}`: {error}",
                    spec.name
                );
                supervisor.stop_all();
                stop_and_join(&threads, supervisor);
                return None;
            }
        }
    }
    Some(threads)
}

/// The main gaplic with its gobjs, watched by the supervisor; `None` (said
/// on `err`) when it cannot be built.
fn build_main(
    program: &str,
    app: &AppFile,
    gclasses: &Gclasses,
    supervisor: &Supervisor,
    err: &mut dyn Write,
) -> Option<Gaplic> {
    let mut main = match build::builder(&app.main, &app.settings).build() {
        Ok(main) => main,
        Err(error) => {
            let _ = writeln!(
                err,
                "{program}: cannot build gaplic `{}`: {error}",
                app.main.name
            );
            return None;
        }
    };
    supervisor.watch(main.handle());
    let built = (|| {
        subprocess::create_gobjs(&mut main, &app.subprocesses)?;
        if let Some(attrs) = &app.main.router {
            build::create_router(&mut main, &app.main.name, attrs.clone(), gclasses)?;
        }
        build::create_listed_gobjs(&mut main, &app.main, gclasses)
    })();
    if let Err(error) = built {
        let _ = writeln!(err, "{program}: {error}");
        return None;
    }
    Some(main)
}

/// Joins each thread gaplic on a thread of its own, and says on the
/// returned channel when it ended and how; each counts as ended in
/// `remaining`.
fn watch_threads(
    program: &str,
    threads: &[GaplicHandle],
    remaining: &Remaining,
    supervisor: &Supervisor,
    err: &mut dyn Write,
) -> Receiver<(String, Result<(), GobjError>)> {
    let (ended_tx, ended) = mpsc::channel();
    for thread in threads {
        let handle = thread.clone();
        let ended_tx = ended_tx.clone();
        let remaining = remaining.clone();
        let watcher = std::thread::Builder::new()
            .name(format!("{}-watch", handle.name()))
            .spawn(move || {
                let result = handle.join();
                let _ = ended_tx.send((handle.name().to_owned(), result));
                remaining.ended();
            });
        if let Err(error) = watcher {
            let _ = writeln!(
                err,
                "{program}: cannot watch gaplic `{}`: {error}",
                thread.name()
            );
            supervisor.stop_all();
        }
    }
    ended
}

/// `serve` in a child process: only the gaplic of one `[[subprocess]]`,
/// linked to the main gaplic by their routers; no pid file.
fn serve_subprocess(
    program: &str,
    gclasses: &Gclasses,
    options: &ServeOptions,
    child: &ChildOptions,
    err: &mut dyn Write,
) -> u8 {
    let name = &child.name;
    // First of all: from now on, the main process's death ends this one.
    if let Err(reason) = child::bind_to_parent(child.parent_pid) {
        let _ = writeln!(err, "{program}: subprocess `{name}`: {reason}");
        return FAILURE;
    }
    let app = match AppFile::load(&options.config, gclasses) {
        Ok(app) => app,
        Err(errors) => {
            let _ = writeln!(err, "{}", errors.render());
            return FAILURE;
        }
    };
    let Some(spec) = app.subprocess(name) else {
        let _ = writeln!(
            err,
            "{program}: {}: no [[subprocess]] is called `{name}`",
            options.config.display()
        );
        return FAILURE;
    };
    if let Err(message) = logging::init(&app.logging) {
        let _ = writeln!(err, "{program}: {message}");
    }
    let supervisor = match Supervisor::start(program, options.stop_timeout, None) {
        Ok(supervisor) => supervisor,
        Err(error) => {
            let _ = writeln!(err, "{program}: cannot watch for signals: {error}");
            return FAILURE;
        }
    };
    tracing::info!(
        target: "gaplic::app",
        application = %app.name,
        subprocess = %name,
        pid = std::process::id(),
        parent = child.parent_pid,
        "serving a subprocess"
    );
    let code = run_subprocess(program, &app, spec, gclasses, child, &supervisor, err);
    supervisor.finish();
    code
}

/// Builds and runs the gaplic of a subprocess: its router with the route
/// to the main gaplic, the watch on that route, its gobjs.
fn run_subprocess(
    program: &str,
    app: &AppFile,
    spec: &SubprocessSpec,
    gclasses: &Gclasses,
    child: &ChildOptions,
    supervisor: &Supervisor,
    err: &mut dyn Write,
) -> u8 {
    let name = &spec.gaplic.name;
    let mut gaplic = match build::builder(&spec.gaplic, &app.settings).build() {
        Ok(gaplic) => gaplic,
        Err(error) => {
            let _ = writeln!(err, "{program}: cannot build gaplic `{name}`: {error}");
            return FAILURE;
        }
    };
    supervisor.watch(gaplic.handle());
    let built = (|| {
        let route = child::parent_route(&app.main, &child.parent_router);
        let router = child::router_attrs(spec.gaplic.router.as_ref(), route);
        build::create_router(&mut gaplic, name, router, gclasses)?;
        let lost = child::watch_parent_link(
            &mut gaplic,
            &app.main.name,
            child.parent_pid,
            spec.link_timeout,
        )?;
        build::create_listed_gobjs(&mut gaplic, &spec.gaplic, gclasses)?;
        Ok::<_, GobjError>(lost)
    })();
    let lost = match built {
        Ok(lost) => lost,
        Err(error) => {
            let _ = writeln!(err, "{program}: {error}");
            return FAILURE;
        }
    };
    tracing::info!(target: "gaplic::app", gaplic = %name, "subprocess gaplic running");
    let result = gaplic.run();
    drop(gaplic);
    supervisor.stopping();
    if let Err(error) = result {
        tracing::error!(target: "gaplic::app", gaplic = %name, %error, "gaplic failed");
        let _ = writeln!(err, "{program}: gaplic `{name}` failed: {error}");
        return FAILURE;
    }
    if let Some(reason) = lost.lock().unwrap_or_else(|e| e.into_inner()).take() {
        let _ = writeln!(err, "{program}: subprocess `{name}` stopped: {reason}");
        return FAILURE;
    }
    tracing::info!(target: "gaplic::app", gaplic = %name, "gaplic ended");
    SUCCESS
}

/// Stops the threads started so far and waits for them (under the stop
/// timeout).
fn stop_and_join(threads: &[GaplicHandle], supervisor: &Supervisor) {
    supervisor.stopping();
    for handle in threads {
        let _ = handle.stop();
    }
    for handle in threads {
        if let Err(error) = handle.join() {
            tracing::error!(target: "gaplic::app", gaplic = %handle.name(), %error, "gaplic failed");
        }
    }
}

/// What the supervisor hears about.
enum Control {
    /// A signal arrived.
    Signal(i32),
    /// The gaplics are stopping for another reason (the main gaplic
    /// stopped itself, or starting failed): the stop timeout runs.
    Stopping,
    /// Everything has stopped.
    Finished,
}

/// The gaplics a signal stops.
#[derive(Default)]
struct Targets {
    /// A stop was asked: a gaplic watched from now on is stopped at once.
    stop_asked: bool,
    handles: Vec<GaplicHandle>,
}

impl Targets {
    fn stop_all(&mut self) {
        self.stop_asked = true;
        for handle in &self.handles {
            // One that stopped already says so: nothing to do.
            let _ = handle.stop();
        }
    }
}

/// Watches the signals and the stop timeout on threads of its own.
struct Supervisor {
    control: Sender<Control>,
    targets: Arc<Mutex<Targets>>,
    signals: signal_hook::iterator::Handle,
    threads: Vec<JoinHandle<()>>,
}

impl Supervisor {
    fn start(program: &str, timeout: Duration, pid_file: Option<&Path>) -> std::io::Result<Self> {
        let (control, heard) = mpsc::channel();
        let targets = Arc::new(Mutex::new(Targets::default()));
        let mut signals = Signals::new([SIGINT, SIGTERM])?;
        let signals_handle = signals.handle();
        let forward = control.clone();
        let listener = std::thread::Builder::new()
            .name("signals".to_owned())
            .spawn(move || {
                for signal in signals.forever() {
                    if forward.send(Control::Signal(signal)).is_err() {
                        break;
                    }
                }
            })?;
        let force = ForcedExit {
            program: program.to_owned(),
            pid_file: pid_file.map(Path::to_owned),
        };
        let stop_targets = targets.clone();
        let controller = std::thread::Builder::new()
            .name("supervisor".to_owned())
            .spawn(move || supervise(&heard, &stop_targets, timeout, &force))?;
        Ok(Supervisor {
            control,
            targets,
            signals: signals_handle,
            threads: vec![listener, controller],
        })
    }

    /// Stops `handle` on the first signal (at once when one came already).
    fn watch(&self, handle: GaplicHandle) {
        let mut targets = self.targets.lock().unwrap_or_else(|e| e.into_inner());
        if targets.stop_asked {
            let _ = handle.stop();
        }
        targets.handles.push(handle);
    }

    /// Stops every watched gaplic.
    fn stop_all(&self) {
        self.targets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .stop_all();
    }

    /// The gaplics are stopping: the stop timeout runs.
    fn stopping(&self) {
        let _ = self.control.send(Control::Stopping);
    }

    /// Everything stopped: ends the supervisor's threads.
    fn finish(self) {
        let _ = self.control.send(Control::Finished);
        self.signals.close();
        for thread in self.threads {
            let _ = thread.join();
        }
    }
}

/// How the supervisor ends the process when a stop does not finish.
struct ForcedExit {
    program: String,
    pid_file: Option<PathBuf>,
}

impl ForcedExit {
    fn exit(&self, reason: &str) -> ! {
        tracing::error!(target: "gaplic::app", reason, "forced exit");
        eprintln!("{}: forced exit: {reason}", self.program);
        if let Some(path) = &self.pid_file {
            pidfile::remove_if_ours(path, std::process::id());
        }
        std::process::exit(i32::from(FORCED))
    }
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        _ => "a signal",
    }
}

/// The supervisor's loop: the first signal stops every gaplic; once they
/// are stopping, a second signal or the end of `timeout` forces the exit.
fn supervise(
    heard: &Receiver<Control>,
    targets: &Mutex<Targets>,
    timeout: Duration,
    force: &ForcedExit,
) {
    match heard.recv() {
        Ok(Control::Signal(signal)) => {
            tracing::info!(
                target: "gaplic::app",
                "{} received: stopping; a second signal forces the exit",
                signal_name(signal)
            );
            targets.lock().unwrap_or_else(|e| e.into_inner()).stop_all();
        }
        Ok(Control::Stopping) => {}
        Ok(Control::Finished) | Err(_) => return,
    }
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match heard.recv_timeout(left) {
            Ok(Control::Signal(signal)) => {
                force.exit(&format!("{} received while stopping", signal_name(signal)))
            }
            Ok(Control::Stopping) => {}
            Ok(Control::Finished) | Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => force.exit(&format!(
                "the gaplics did not stop within {} s (--stop-timeout)",
                timeout.as_secs_f64()
            )),
        }
    }
}
