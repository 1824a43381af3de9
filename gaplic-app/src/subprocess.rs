//! `[[subprocess]]` in the main process: a keeper thread per entry starts
//! the child (the application's binary again, told which gaplic to run),
//! waits for it, restarts it as its policy says, and stops it with the
//! application; a [`GSubprocess`] gobj per entry in the main gaplic
//! publishes what happens to the child.
//!
//! A keeper thread starts its child and lives as long as it: the child's
//! parent-death signal (set by the child at start-up) fires when the thread
//! that started it ends, so the thread must not end first. It waits for
//! the child without reaping it (`waitid` with `WNOWAIT`), then takes it,
//! under the lock that a stop takes to signal it, from where the stop
//! finds it, and reaps it: a signal is sent only to a child that has not
//! been reaped, never to a process that took its pid after it.

use std::ffi::OsString;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use gaplic_macros::gobj;
use gaplic_runtime::{
    Cx, Event, GServerSock, Gaplic, GaplicHandle, GobjError, GobjId, Kw, Ret, Value,
};
use rustix::process::{Pid, Signal, WaitId, WaitIdOptions};

use crate::file::{Restart, SubprocessSpec};

/// The unique name of the [`GSubprocess`] of the `[[subprocess]]` entry
/// called `subprocess`, in the main gaplic.
pub(crate) fn gobj_name(subprocess: &str) -> String {
    format!("subprocess.{subprocess}")
}

/// The longest wait for a child's output to be written out after it ended
/// (a grandchild may hold its pipes open).
const OUTPUT_DRAIN: Duration = Duration::from_millis(500);

gobj! {
    #[gobj(crate = "gaplic_runtime")]
    /// One `[[subprocess]]` entry of the application, in the main gaplic:
    /// the launcher creates it, under the unique name
    /// `subprocess.NAME` ([`GSubprocess::unique_name`]), before the
    /// router and the gobjs of `[main]`, and tells it what happens to the
    /// child process, which it publishes:
    ///
    /// - `EV_SUBPROCESS_STARTED { name, pid, restarts }`: the child runs
    ///   (`restarts`: how many times it was restarted before);
    /// - `EV_SUBPROCESS_EXITED { name, pid, code, signal, reason,
    ///   restarting, gave_up, restarts }`: it ended (`code`: its exit
    ///   code, or null; `signal`: the signal that killed it, or null;
    ///   `pid` null when it could not be started; `reason` in words);
    ///   `restarting`: it will be started again after the restart delay;
    ///   `gave_up`: it failed and was restarted `max_restarts` times
    ///   already, so it is not.
    ///
    /// A gobj of `[main]` subscribes to them in its `start_up`:
    ///
    /// ```text
    /// let worker = cx.gaplic()?.find_unique_gobj(&GSubprocess::unique_name("worker"));
    /// cx.subscribe(worker.unwrap(), Some("EV_SUBPROCESS_EXITED"), SubscribeOptions::new())?;
    /// ```
    ///
    /// When the main gaplic ends, each `GSubprocess` asks its child to
    /// stop as it goes out (first of the main gaplic's gobjs: the child
    /// hears it before its link closes), and the launcher waits for the
    /// children: no event of that stop is published.
    #[derive(Debug)]
    pub struct GSubprocess {
        /// The name of its `[[subprocess]]` entry (and of the child's
        /// gaplic).
        #[attr(default = "")]
        subprocess: String,
        pid: Option<u32>,
        restarts: u32,
        /// Its keeper, told to stop the child when this gobj goes out.
        keeper: Option<Arc<Shared>>,
    }
    events {
        /// The child process runs.
        EV_SUBPROCESS_STARTED: input output { name: String, pid: u32, restarts: u32 },
        /// The child process ended, or could not be started.
        EV_SUBPROCESS_EXITED: input output {
            name: String,
            reason: String,
            restarting: bool,
            gave_up: bool,
            restarts: u32,
        },
    }
    states {
        /// No child runs: not started yet, waiting to restart, or ended.
        ST_STOPPED,
        /// The child runs.
        ST_RUNNING,
    }
    machine {
        ST_STOPPED {
            EV_SUBPROCESS_STARTED => started -> ST_RUNNING,
            EV_SUBPROCESS_EXITED => exited,
        }
        ST_RUNNING {
            EV_SUBPROCESS_STARTED => started,
            EV_SUBPROCESS_EXITED => exited -> ST_STOPPED,
        }
    }
    hooks { go_out }
}

impl GSubprocess {
    /// The unique name of the gobj of the `[[subprocess]]` entry called
    /// `subprocess`: `subprocess.NAME`.
    pub fn unique_name(subprocess: &str) -> String {
        gobj_name(subprocess)
    }

    /// The name of its `[[subprocess]]` entry.
    pub fn subprocess(&self) -> &str {
        &self.subprocess
    }

    /// The child's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// How many times the child was restarted.
    pub fn restarts(&self) -> u32 {
        self.restarts
    }

    /// The main gaplic is ending: the child is asked to stop now, while
    /// the rest of the application goes out (the launcher waits for it
    /// after).
    fn go_out(&mut self, _cx: &mut Cx<Self>) {
        if let Some(keeper) = &self.keeper {
            request_stop(&self.subprocess, keeper);
        }
    }

    fn started(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.pid = Some(ev.get("pid")?);
        self.restarts = ev.get("restarts")?;
        cx.broadcast(GSubprocessEvent::EV_SUBPROCESS_STARTED, ev.kw().clone())?;
        Ok(Value::Null)
    }

    fn exited(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.pid = None;
        self.restarts = ev.get("restarts")?;
        cx.broadcast(GSubprocessEvent::EV_SUBPROCESS_EXITED, ev.kw().clone())?;
        Ok(Value::Null)
    }
}

/// Creates the [`GSubprocess`] of each entry in `gaplic` (the main one),
/// first of all its gobjs, so that they are the first to go out: the
/// children are stopped before the main gaplic's router closes their
/// links.
pub(crate) fn create_gobjs(
    gaplic: &mut Gaplic,
    subprocesses: &[SubprocessSpec],
) -> Result<(), GobjError> {
    for spec in subprocesses {
        let name = &spec.gaplic.name;
        gaplic
            .create_unique_gobj::<GSubprocess>(
                &gobj_name(name),
                None,
                Kw::new().with("subprocess", name.as_str()),
            )
            .map_err(|error| {
                GobjError::failed(format!(
                    "cannot create the gobj of subprocess `{name}`: {error}"
                ))
            })?;
    }
    Ok(())
}

/// The address the router of `gaplic` listens on, as a child dials it:
/// its server socket's address, with loopback for an address that means
/// any.
pub(crate) fn router_address(gaplic: &Gaplic, router: GobjId) -> Result<String, String> {
    let local = gaplic
        .children_of(router)
        .find_map(|child| gaplic.gobj::<GServerSock>(child))
        .map(|server| server.local_address().to_owned())
        .ok_or_else(|| {
            format!(
                "the router of gaplic `{}` listens on no socket: its subprocesses cannot reach it",
                gaplic.name()
            )
        })?;
    let mut address: SocketAddr = local.parse().map_err(|_| {
        format!(
            "the router of gaplic `{}` listens on `{local}`, which a subprocess cannot dial",
            gaplic.name()
        )
    })?;
    if address.ip().is_unspecified() {
        address.set_ip(match address {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    Ok(address.to_string())
}

/// How a child is started: the application's binary, the launcher's own
/// arguments, and the hidden ones that make it one subprocess.
#[derive(Clone, Debug)]
pub(crate) struct ChildCommand {
    pub exe: PathBuf,
    /// The launcher's arguments, without the program's name.
    pub args: Vec<OsString>,
    /// Where the main gaplic's router listens.
    pub router: String,
}

impl ChildCommand {
    fn command(&self, name: &str) -> Command {
        let mut command = Command::new(&self.exe);
        command
            .args(&self.args)
            .arg("--subprocess")
            .arg(name)
            .arg("--parent-pid")
            .arg(std::process::id().to_string())
            .arg("--parent-router")
            .arg(&self.router)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Out of the terminal's process group: Ctrl-C reaches the
            // launcher, which stops the children itself, in order.
            .process_group(0);
        command
    }
}

/// What a keeper and the threads that stop it share.
#[derive(Debug, Default)]
struct KeeperState {
    /// The application is stopping: no more starts.
    stopping: bool,
    /// SIGTERM was sent to the current child (a second one would force
    /// its exit).
    term_sent: bool,
    /// When the stop was asked: `stop_timeout` counts from there.
    stop_asked: Option<Instant>,
    /// The child, from its start until it is reaped.
    child: Option<Child>,
    /// The keeper's loop has ended.
    done: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Shared {
    state: Mutex<KeeperState>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, KeeperState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// No more starts; SIGTERM to the child that runs, once.
fn request_stop(name: &str, shared: &Shared) {
    let mut state = shared.lock();
    state.stopping = true;
    state.stop_asked.get_or_insert_with(Instant::now);
    if !state.term_sent && signal_child(&mut state, Signal::TERM) {
        state.term_sent = true;
        tracing::debug!(target: "gaplic::app", subprocess = %name, "SIGTERM sent");
    }
    shared.changed.notify_all();
}

/// Sends `signal` to the child of `state` if it has not been reaped;
/// whether it was sent.
fn signal_child(state: &mut KeeperState, signal: Signal) -> bool {
    let Some(child) = state.child.as_mut() else {
        return false;
    };
    // Reaps it if it ended: then it is not signalled, and its pid may be
    // someone else's already.
    if !matches!(child.try_wait(), Ok(None)) {
        return false;
    }
    let Some(pid) = i32::try_from(child.id()).ok().and_then(Pid::from_raw) else {
        return false;
    };
    rustix::process::kill_process(pid, signal).is_ok()
}

/// Counts what keeps an application whose main gaplic holds nothing
/// alive: its thread gaplics and subprocesses. When the last one ends,
/// the main gaplic is stopped.
#[derive(Clone, Debug)]
pub(crate) struct Remaining {
    count: Arc<AtomicUsize>,
    main: GaplicHandle,
    main_is_empty: bool,
}

impl Remaining {
    pub(crate) fn new(count: usize, main: GaplicHandle, main_is_empty: bool) -> Self {
        Remaining {
            count: Arc::new(AtomicUsize::new(count)),
            main,
            main_is_empty,
        }
    }

    /// One of them ended.
    pub(crate) fn ended(&self) {
        if self.count.fetch_sub(1, Ordering::AcqRel) == 1 && self.main_is_empty {
            let _ = self.main.stop();
        }
    }
}

/// The children of the application, one keeper thread each.
#[derive(Debug)]
pub(crate) struct Subprocesses {
    keepers: Vec<Keeper>,
}

#[derive(Debug)]
struct Keeper {
    name: String,
    stop_timeout: Duration,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Subprocesses {
    /// No subprocess.
    pub(crate) fn none() -> Subprocesses {
        Subprocesses {
            keepers: Vec::new(),
        }
    }

    /// Starts a keeper thread per entry, which starts its child; the
    /// events go to the [`GSubprocess`] gobjs of `main`.
    ///
    /// # Errors
    ///
    /// A keeper thread that cannot be made: those made before are
    /// stopped.
    pub(crate) fn start(
        specs: &[SubprocessSpec],
        command: &ChildCommand,
        main: &GaplicHandle,
        remaining: &Remaining,
    ) -> Result<Subprocesses, String> {
        let mut subprocesses = Subprocesses {
            keepers: Vec::with_capacity(specs.len()),
        };
        for spec in specs {
            let shared = Arc::new(Shared::default());
            let run = Run {
                spec: spec.clone(),
                command: command.clone(),
                main: main.clone(),
                gobj: gobj_name(&spec.gaplic.name),
                shared: shared.clone(),
                remaining: remaining.clone(),
            };
            let thread = std::thread::Builder::new()
                .name(format!("{}-keeper", spec.gaplic.name))
                .spawn(move || run.run());
            match thread {
                Ok(thread) => subprocesses.keepers.push(Keeper {
                    name: spec.gaplic.name.clone(),
                    stop_timeout: spec.stop_timeout,
                    shared,
                    thread: Some(thread),
                }),
                Err(error) => {
                    subprocesses.stop();
                    subprocesses.wait();
                    return Err(format!(
                        "cannot start a thread for subprocess `{}`: {error}",
                        spec.gaplic.name
                    ));
                }
            }
        }
        Ok(subprocesses)
    }

    /// Asks every child to stop: no more restarts, SIGTERM to those that
    /// run. Returns at once; [`wait`](Subprocesses::wait) waits.
    pub(crate) fn stop(&mut self) {
        for keeper in &self.keepers {
            request_stop(&keeper.name, &keeper.shared);
        }
    }

    /// Gives each [`GSubprocess`] of `main` its keeper, so that it stops
    /// the child when it goes out.
    pub(crate) fn attach(&self, main: &mut Gaplic) {
        for keeper in &self.keepers {
            let id = main.find_unique_gobj(&gobj_name(&keeper.name));
            if let Some(gobj) = id.and_then(|id| main.gobj_mut::<GSubprocess>(id)) {
                gobj.keeper = Some(keeper.shared.clone());
            }
        }
    }

    /// Waits for every child to end, killing with SIGKILL those still
    /// running `stop_timeout` after they were asked to stop (by their
    /// [`GSubprocess`] going out, or [`stop`](Subprocesses::stop)), and
    /// for their keepers.
    pub(crate) fn wait(&mut self) {
        for keeper in &mut self.keepers {
            let mut state = keeper.shared.lock();
            let asked = *state.stop_asked.get_or_insert_with(Instant::now);
            let deadline = asked + keeper.stop_timeout;
            while !state.done {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                state = keeper
                    .shared
                    .changed
                    .wait_timeout(state, left)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            if !state.done && signal_child(&mut state, Signal::KILL) {
                tracing::warn!(
                    target: "gaplic::app",
                    subprocess = %keeper.name,
                    stop_timeout = keeper.stop_timeout.as_secs_f64(),
                    "still running stop_timeout seconds after SIGTERM: SIGKILL sent"
                );
            }
            drop(state);
            if let Some(thread) = keeper.thread.take()
                && thread.join().is_err()
            {
                tracing::error!(target: "gaplic::app", subprocess = %keeper.name, "its keeper thread panicked");
            }
        }
    }
}

impl Drop for Subprocesses {
    /// No child outlives the launcher's stop, even on an early return.
    fn drop(&mut self) {
        if self.keepers.iter().any(|k| k.thread.is_some()) {
            self.stop();
            self.wait();
        }
    }
}

/// How a run of a child ended.
#[derive(Debug)]
struct Ending {
    pid: Option<u32>,
    code: Option<i32>,
    signal: Option<i32>,
    /// In words.
    reason: String,
    failed: bool,
}

impl Ending {
    fn of_status(pid: u32, status: ExitStatus) -> Ending {
        let (reason, failed) = match (status.code(), status.signal()) {
            (Some(0), _) => ("exited with code 0".to_owned(), false),
            (Some(code), _) => (format!("exited with code {code}"), true),
            (None, Some(signal)) => (format!("killed by {}", signal_name(signal)), true),
            (None, None) => (format!("ended: {status}"), true),
        };
        Ending {
            pid: Some(pid),
            code: status.code(),
            signal: status.signal(),
            reason,
            failed,
        }
    }

    fn not_started(reason: String) -> Ending {
        Ending {
            pid: None,
            code: None,
            signal: None,
            reason,
            failed: true,
        }
    }
}

/// A signal's name, for messages.
fn signal_name(signal: i32) -> String {
    let name = match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        _ => return format!("signal {signal}"),
    };
    name.to_owned()
}

/// A keeper thread's work.
struct Run {
    spec: SubprocessSpec,
    command: ChildCommand,
    main: GaplicHandle,
    /// The unique name of its [`GSubprocess`].
    gobj: String,
    shared: Arc<Shared>,
    remaining: Remaining,
}

impl Run {
    fn name(&self) -> &str {
        &self.spec.gaplic.name
    }

    fn run(self) {
        let mut restarts: u32 = 0;
        let mut delay = self.spec.restart_delay;
        let stopped = loop {
            let started = Instant::now();
            let Some(ending) = self.run_once(restarts) else {
                break true;
            };
            if started.elapsed() >= self.spec.reset_after {
                // It ran long enough to count as a success: the failures
                // before it no longer count towards giving up.
                restarts = 0;
                delay = self.spec.restart_delay;
            }
            let stopping = self.shared.lock().stopping;
            let wanted = ending.failed && self.spec.restart == Restart::OnFailure && !stopping;
            let gave_up = wanted && restarts >= self.spec.max_restarts;
            let restarting = wanted && !gave_up;
            self.report_end(&ending, restarting, gave_up, restarts);
            if !restarting {
                break stopping;
            }
            if !self.pause(delay) {
                break true;
            }
            restarts += 1;
            delay = (delay * 2).min(self.spec.max_restart_delay);
        };
        let mut state = self.shared.lock();
        state.done = true;
        self.shared.changed.notify_all();
        drop(state);
        if !stopped {
            self.remaining.ended();
        }
    }

    /// Starts the child and waits for its end; `None` when the
    /// application is stopping and it was not started.
    fn run_once(&self, restarts: u32) -> Option<Ending> {
        let mut state = self.shared.lock();
        if state.stopping {
            return None;
        }
        let mut child = match self.command.command(self.name()).spawn() {
            Ok(child) => child,
            Err(error) => {
                drop(state);
                return Some(Ending::not_started(format!(
                    "cannot start {}: {error}",
                    self.command.exe.display()
                )));
            }
        };
        let pid = child.id();
        let output = forward_output(self.name(), &mut child);
        state.child = Some(child);
        state.term_sent = false;
        drop(state);
        tracing::info!(target: "gaplic::app", subprocess = %self.name(), pid, "subprocess started");
        self.post(
            "EV_SUBPROCESS_STARTED",
            Kw::new()
                .with("name", self.name())
                .with("pid", pid)
                .with("restarts", restarts),
        );
        let ending = self.wait_for_end(pid);
        // What it wrote last, before its end is told.
        output.drain(Instant::now() + OUTPUT_DRAIN);
        Some(ending)
    }

    /// Waits for the child `pid` to end, without reaping it, then reaps it
    /// under the lock.
    fn wait_for_end(&self, pid: u32) -> Ending {
        let raw = i32::try_from(pid).ok().and_then(Pid::from_raw);
        let waited = match raw {
            Some(raw) => loop {
                match rustix::process::waitid(
                    WaitId::Pid(raw),
                    WaitIdOptions::EXITED | WaitIdOptions::NOWAIT,
                ) {
                    Err(rustix::io::Errno::INTR) => continue,
                    other => break other.map(drop),
                }
            },
            None => Err(rustix::io::Errno::INVAL),
        };
        let mut state = self.shared.lock();
        let Some(mut child) = state.child.take() else {
            return Ending::not_started("lost track of the child".to_owned());
        };
        drop(state);
        // After a `waitid` that failed (a child reaped meanwhile by
        // `stop`, whose status the `Child` keeps), this waits as usual.
        if let Err(error) = waited {
            tracing::debug!(target: "gaplic::app", subprocess = %self.name(), %error, "waitid");
        }
        match child.wait() {
            Ok(status) => Ending::of_status(pid, status),
            Err(error) => Ending {
                pid: Some(pid),
                code: None,
                signal: None,
                reason: format!("cannot wait for it: {error}"),
                failed: true,
            },
        }
    }

    /// Waits `delay` before a restart; `false` when the application
    /// stopped meanwhile.
    fn pause(&self, delay: Duration) -> bool {
        let deadline = Instant::now() + delay;
        let mut state = self.shared.lock();
        while !state.stopping {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        false
    }

    /// Traces the end of a run and tells the [`GSubprocess`].
    fn report_end(&self, ending: &Ending, restarting: bool, gave_up: bool, restarts: u32) {
        let name = self.name();
        let reason = if gave_up {
            format!(
                "{}; not restarted: restarted {restarts} time(s) already (max_restarts = {})",
                ending.reason, self.spec.max_restarts
            )
        } else {
            ending.reason.clone()
        };
        let pid = ending
            .pid
            .map_or_else(|| "-".to_owned(), |pid| pid.to_string());
        let stopping = self.shared.lock().stopping;
        match (ending.failed, restarting, stopping) {
            (false, _, false) => {
                tracing::info!(target: "gaplic::app", subprocess = %name, %pid, %reason, "subprocess ended")
            }
            (false, _, true) => {
                tracing::info!(target: "gaplic::app", subprocess = %name, %pid, %reason, "subprocess stopped")
            }
            (true, _, true) => {
                tracing::warn!(target: "gaplic::app", subprocess = %name, %pid, %reason, "subprocess stopped, failing")
            }
            (true, true, false) => {
                tracing::warn!(target: "gaplic::app", subprocess = %name, %pid, %reason, "subprocess failed; restarting")
            }
            (true, false, false) => {
                tracing::error!(target: "gaplic::app", subprocess = %name, %pid, %reason, "subprocess failed")
            }
        }
        let optional = |value: Option<i64>| value.map_or(Value::Null, Value::Int);
        self.post(
            "EV_SUBPROCESS_EXITED",
            Kw::new()
                .with("name", name)
                .with("pid", optional(ending.pid.map(i64::from)))
                .with("code", optional(ending.code.map(i64::from)))
                .with("signal", optional(ending.signal.map(i64::from)))
                .with("reason", reason)
                .with("restarting", restarting)
                .with("gave_up", gave_up)
                .with("restarts", restarts),
        );
    }

    fn post(&self, event: &str, kw: Kw) {
        if let Err(error) = self.main.post(&self.gobj, event, kw) {
            // The main gaplic stopped: the application is stopping.
            tracing::debug!(target: "gaplic::app", subprocess = %self.name(), event, %error, "not told");
        }
    }
}

/// The threads copying a child's output.
struct Output {
    /// One message from each when its pipe closes.
    done: Receiver<()>,
    threads: usize,
}

impl Output {
    /// Waits, until `deadline` at most, for every pipe to close.
    fn drain(self, deadline: Instant) {
        for _ in 0..self.threads {
            let left = deadline.saturating_duration_since(Instant::now());
            if self.done.recv_timeout(left).is_err() {
                return;
            }
        }
    }
}

/// Starts a thread per output pipe of `child` that copies its lines to
/// this process's, each prefixed with `[name] `.
fn forward_output(name: &str, child: &mut Child) -> Output {
    let (done_tx, done) = mpsc::channel();
    let mut threads = 0;
    let pipes: [(Option<Box<dyn Read + Send>>, bool); 2] = [
        (child.stdout.take().map(|p| Box::new(p) as _), false),
        (child.stderr.take().map(|p| Box::new(p) as _), true),
    ];
    for (pipe, is_stderr) in pipes {
        let Some(pipe) = pipe else { continue };
        let prefix = format!("[{name}] ");
        let done_tx = done_tx.clone();
        let forwarder = std::thread::Builder::new()
            .name(format!("{name}-output"))
            .spawn(move || {
                copy_lines(pipe, &prefix, is_stderr);
                let _ = done_tx.send(());
            });
        match forwarder {
            Ok(_) => threads += 1,
            Err(error) => {
                tracing::error!(target: "gaplic::app", subprocess = %name, %error, "cannot forward its output");
            }
        }
    }
    Output { done, threads }
}

/// Copies the lines of `pipe` to standard output or standard error, each
/// after `prefix`, until the pipe closes.
fn copy_lines(pipe: impl Read, prefix: &str, is_stderr: bool) {
    let mut reader = BufReader::new(pipe);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {
                while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                    line.pop();
                }
                let text = format!("{prefix}{}\n", String::from_utf8_lossy(&line));
                // A closed output is nobody's to tell.
                let _ = if is_stderr {
                    io::stderr().lock().write_all(text.as_bytes())
                } else {
                    let mut out = io::stdout().lock();
                    out.write_all(text.as_bytes()).and_then(|()| out.flush())
                };
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
}
