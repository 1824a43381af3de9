//! `serve`, `stop` and `status` as processes, stopped by signals.
//!
//! This test binary is also the application it serves: started with
//! `GAPLIC_APP_SERVE_CHILD` set, it is the launcher of an application
//! binary with the examples' gclasses and a `Witness` that prints its
//! `start_up` and `go_out`. The tests start it with `serve`, `stop` and
//! `status` and signal it, so no example binary is built for them. It has
//! no libtest harness (`harness = false`): `main` runs each test in turn
//! (those whose name contains the first argument, if one is given) and
//! ends with `N passed, M failed`.

#[path = "../examples/gclasses/ontimer.rs"]
mod ontimer_gclass;
#[path = "../examples/gclasses/pingpong.rs"]
mod pingpong_gclasses;

use std::io::{BufRead, BufReader, Read};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use gaplic::app::Launcher;
use gaplic::app::exit_code::{FAILURE, FORCED, NOT_RUNNING, STALE, SUCCESS};
use gaplic::prelude::*;
use ontimer_gclass::OnTimer;
use pingpong_gclasses::{Pinger, Ponger};
use rustix::process::{Pid, Signal, kill_process};

/// Set in the environment of the child process: it runs the launcher.
const CHILD: &str = "GAPLIC_APP_SERVE_CHILD";

/// The longest any step may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(20);

gobj! {
    /// Prints `start_up NAME` and `go_out NAME` on standard output.
    pub struct Witness {
        /// Seconds its `go_out` takes: a stop that hangs.
        #[attr(default = 0.0)]
        go_out_delay: f64,
        /// Its `start_up` fails.
        #[attr(default = false)]
        fail_start: bool,
    }
    events {
        /// Does nothing.
        EV_NOTHING,
    }
    states { ST_IDLE }
    machine { ST_IDLE { EV_NOTHING => nothing } }
    hooks { start_up, go_out }
}

impl Witness {
    fn start_up(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        if self.fail_start {
            return Err(GobjError::failed("the witness refuses to start"));
        }
        println!("start_up {}", cx.name());
        Ok(())
    }

    fn go_out(&mut self, cx: &mut Cx<Self>) {
        if self.go_out_delay > 0.0 {
            println!("go_out {} begins", cx.name());
            std::thread::sleep(Duration::from_secs_f64(self.go_out_delay));
        }
        println!("go_out {}", cx.name());
    }

    fn nothing(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        Ok(Value::Null)
    }
}

/// The application binary the child process is.
fn launcher() -> Launcher {
    Launcher::new("served")
        .gclass::<Witness>()
        .gclass::<OnTimer>()
        .gclass::<Pinger>()
        .gclass::<Ponger>()
}

/// A `serve` running as a child process, its output read as it comes.
struct Served {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
    stderr: Arc<Mutex<String>>,
    stderr_reader: Option<JoinHandle<()>>,
}

impl Served {
    fn start(args: &[&str]) -> Served {
        let mut child = child_command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the test binary starts again as the launcher");
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().expect("piped");
        let collected = stderr.clone();
        let stderr_reader = std::thread::spawn(move || {
            let mut chunk = [0; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut chunk) {
                collected
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&chunk[..n]));
            }
        });
        Served {
            child,
            lines,
            seen: Vec::new(),
            stderr,
            stderr_reader: Some(stderr_reader),
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for a line of standard output that starts with `prefix`.
    fn wait_for(&mut self, prefix: &str) {
        let deadline = Instant::now() + PATIENCE;
        while !self.seen.iter().any(|l| l.starts_with(prefix)) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => panic!(
                    "no line `{prefix}...` within {PATIENCE:?}; saw {:?}; stderr:\n{}",
                    self.seen,
                    self.stderr()
                ),
            }
        }
    }

    fn signal(&self, signal: Signal) {
        let pid = Pid::from_raw(self.pid() as i32).expect("a process id");
        kill_process(pid, signal).expect("the server can be signalled");
    }

    /// Waits for the process to end; its exit code, and every line it
    /// printed.
    fn end(&mut self) -> (i32, Vec<String>) {
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!(
                    "still running after {PATIENCE:?}; saw {:?}; stderr:\n{}",
                    self.seen,
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        // The readers end with the pipes.
        while let Ok(line) = self.lines.recv_timeout(PATIENCE) {
            self.seen.push(line);
        }
        if let Some(reader) = self.stderr_reader.take() {
            let _ = reader.join();
        }
        let code = status
            .code()
            .unwrap_or_else(|| panic!("ended by a signal: {status}"));
        (code, self.seen.clone())
    }

    /// What it wrote to standard error so far (all of it once it ended).
    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The command that runs this binary as the launcher with `args`.
fn child_command(args: &[&str]) -> Command {
    let mut command = Command::new(std::env::current_exe().expect("the test binary"));
    command.env(CHILD, "1").args(args).stdin(Stdio::null());
    command
}

/// Runs the launcher with `args` to its end: exit code, stdout, stderr.
fn launch(args: &[&str]) -> (i32, String, String) {
    let output = child_command(args).output().expect("the launcher runs");
    (
        output.status.code().expect("an exit code"),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A directory of its own for one test.
fn test_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gaplic-serve-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("a file");
    path.to_str().expect("a UTF-8 path").to_owned()
}

/// Where `line` is among `lines`.
fn position(lines: &[String], line: &str) -> usize {
    lines
        .iter()
        .position(|l| l == line)
        .unwrap_or_else(|| panic!("no line `{line}` in {lines:?}"))
}

const WITNESSED: &str = r#"[application]
name = "witnessed"

[logging]
level = "warn"

[main]
name = "main"

[[main.gobj]]
gclass = "Witness"
name = "root"

[[main.gobj]]
gclass = "Witness"
name = "leaf"
parent = "root"

[[main.gobj]]
gclass = "Witness"
name = "sibling"

[[thread]]
name = "worker"

[[thread.gobj]]
gclass = "Witness"
name = "helper"

[[thread.gobj]]
gclass = "Witness"
name = "helper-child"
parent = "helper"
"#;

const SLOW: &str = r#"[application]
name = "slow"

[logging]
level = "off"

[main]
name = "main"

[[main.gobj]]
gclass = "Witness"
name = "slow"
attrs = { go_out_delay = 60.0 }
"#;

fn sigterm_stops_every_gaplic_and_runs_every_go_out() {
    let dir = test_dir("sigterm");
    let config = write(&dir, "app.toml", WITNESSED);
    let mut served = Served::start(&["serve", "-c", &config]);
    served.wait_for("start_up sibling");
    served.signal(Signal::TERM);
    let (code, lines) = served.end();
    assert_eq!(code, i32::from(SUCCESS), "stderr:\n{}", served.stderr());
    for name in ["root", "leaf", "sibling", "helper", "helper-child"] {
        let go_out = format!("go_out {name}");
        assert_eq!(
            lines.iter().filter(|l| **l == go_out).count(),
            1,
            "{go_out} once in {lines:?}"
        );
    }
    assert!(position(&lines, "go_out leaf") < position(&lines, "go_out root"));
    assert!(position(&lines, "go_out helper-child") < position(&lines, "go_out helper"));
    assert!(
        position(&lines, "start_up helper") < position(&lines, "start_up root"),
        "thread gaplics start first: {lines:?}"
    );
}

fn the_ontimer_example_is_served_and_stopped_by_sigint() {
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/apps/ontimer.toml");
    let mut served = Served::start(&["serve", "-c", config]);
    served.wait_for("run 1/10 ");
    served.signal(Signal::INT);
    let (code, lines) = served.end();
    let stderr = served.stderr();
    assert_eq!(code, i32::from(SUCCESS), "stderr:\n{stderr}");
    assert!(
        lines.iter().any(|l| l.starts_with("ontimer: out after ")),
        "OnTimer's go_out ran: {lines:?}"
    );
    assert!(
        stderr.contains("SIGINT received: stopping; a second signal forces the exit"),
        "{stderr}"
    );
}

fn the_pingpong_example_ends_with_its_threads() {
    let example = include_str!("../examples/apps/pingpong.toml");
    assert!(example.contains("Pinger.rounds = 100000"));
    let dir = test_dir("pingpong");
    let config = write(
        &dir,
        "pingpong.toml",
        &example.replace("Pinger.rounds = 100000", "Pinger.rounds = 300"),
    );
    let mut served = Served::start(&["serve", "-c", &config]);
    let (code, lines) = served.end();
    assert_eq!(code, i32::from(SUCCESS), "stderr:\n{}", served.stderr());
    assert!(
        lines.iter().any(|l| l.starts_with("300 round trips in ")),
        "{lines:?}"
    );
}

fn a_second_signal_forces_the_exit() {
    let dir = test_dir("second-signal");
    let config = write(&dir, "app.toml", SLOW);
    let mut served = Served::start(&["serve", "-c", &config]);
    served.wait_for("start_up slow");
    served.signal(Signal::TERM);
    served.wait_for("go_out slow begins");
    let started = Instant::now();
    served.signal(Signal::INT);
    let (code, lines) = served.end();
    assert_eq!(code, i32::from(FORCED), "{lines:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        !lines.contains(&"go_out slow".to_owned()),
        "the go_out did not finish"
    );
    assert_eq!(
        served.stderr(),
        "served: forced exit: SIGINT received while stopping\n"
    );
}

fn the_stop_timeout_forces_the_exit_and_removes_the_pid_file() {
    let dir = test_dir("stop-timeout");
    let config = write(&dir, "app.toml", SLOW);
    let pid_file = dir.join("app.pid");
    let pid_path = pid_file.to_str().expect("UTF-8");
    let mut served = Served::start(&[
        "serve",
        "-c",
        &config,
        "--pid-file",
        pid_path,
        "--stop-timeout",
        "0.3",
    ]);
    served.wait_for("start_up slow");
    assert!(pid_file.exists());
    served.signal(Signal::TERM);
    let (code, _) = served.end();
    assert_eq!(code, i32::from(FORCED));
    assert_eq!(
        served.stderr(),
        "served: forced exit: the gaplics did not stop within 0.3 s (--stop-timeout)\n"
    );
    assert!(!pid_file.exists(), "a forced exit removes the pid file too");
}

fn status_and_stop_work_on_a_served_pid_file() {
    let dir = test_dir("pid-file");
    let config = write(&dir, "app.toml", WITNESSED);
    let pid_file = dir.join("app.pid");
    let pid_path = pid_file.to_str().expect("UTF-8");
    let mut served = Served::start(&["serve", "-c", &config, "--pid-file", pid_path]);
    served.wait_for("start_up sibling");
    let pid = served.pid();

    let (code, out, _) = launch(&["status", "--pid-file", pid_path]);
    assert_eq!(
        (code, out),
        (i32::from(SUCCESS), format!("running (pid {pid})\n"))
    );

    let (code, out, err) = launch(&["serve", "-c", &config, "--pid-file", pid_path]);
    assert_eq!(code, i32::from(FAILURE));
    assert!(!out.contains("start_up"), "nothing started: {out}");
    assert_eq!(
        err,
        format!(
            "served: cannot serve: pid file {pid_path}: process {pid} runs already; stop it first\n"
        )
    );

    let (code, out, err) = launch(&["stop", "--pid-file", pid_path]);
    assert_eq!(
        (code, out),
        (i32::from(SUCCESS), format!("stopped (pid {pid})\n")),
        "{err}"
    );
    let (code, lines) = served.end();
    assert_eq!(code, i32::from(SUCCESS));
    assert!(lines.contains(&"go_out root".to_owned()), "{lines:?}");
    assert!(!pid_file.exists(), "serve removes its pid file at exit");

    let (code, out, _) = launch(&["status", "--pid-file", pid_path]);
    assert_eq!(
        (code, out),
        (
            i32::from(NOT_RUNNING),
            format!("not running (no pid file {pid_path})\n")
        )
    );
}

fn a_stale_pid_file_is_reported_and_replaced() {
    let dir = test_dir("stale");
    let config = write(&dir, "app.toml", WITNESSED);
    let mut gone = Command::new("true").spawn().expect("`true` runs");
    let gone_pid = gone.id();
    gone.wait().expect("`true` ends");
    let pid_path = write(&dir, "app.pid", &format!("{gone_pid}\n"));

    let (code, out, _) = launch(&["status", "--pid-file", &pid_path]);
    assert_eq!(code, i32::from(STALE));
    assert_eq!(
        out,
        format!("not running: stale pid file {pid_path} (process {gone_pid} is gone)\n")
    );

    let mut served = Served::start(&["serve", "-c", &config, "--pid-file", &pid_path]);
    served.wait_for("start_up sibling");
    let (code, out, _) = launch(&["status", "--pid-file", &pid_path]);
    assert_eq!(
        (code, out),
        (
            i32::from(SUCCESS),
            format!("running (pid {})\n", served.pid())
        )
    );
    served.signal(Signal::TERM);
    let (code, _) = served.end();
    assert_eq!(code, i32::from(SUCCESS));
    let stderr = served.stderr();
    assert!(
        stderr.starts_with(&format!(
            "served: replaced the stale pid file {pid_path} (process {gone_pid} is gone)\n"
        )),
        "{stderr}"
    );
}

fn a_bad_file_is_refused_before_anything_runs() {
    let dir = test_dir("bad");
    let config = write(
        &dir,
        "app.toml",
        &WITNESSED.replace(
            "\"Witness\"\nname = \"leaf\"",
            "\"Witnes\"\nname = \"leaf\"",
        ),
    );
    let (code, out, err) = launch(&["serve", "-c", &config]);
    assert_eq!((code, out.as_str()), (i32::from(FAILURE), ""));
    assert!(
        err.starts_with(&format!(
            "error: {config}:15:10: main.gobj[1].gclass: unknown gclass `Witnes`"
        )),
        "{err}"
    );
}

fn a_gaplic_that_cannot_start_stops_those_started_before_it() {
    let dir = test_dir("cannot-start");
    let text = format!(
        "{WITNESSED}\n[[thread]]\nname = \"second\"\n\n[[thread.gobj]]\ngclass = \"Witness\"\n\
         name = \"broken\"\nattrs = {{ fail_start = true }}\n"
    );
    let config = write(&dir, "app.toml", &text);
    let (code, out, err) = launch(&["serve", "-c", &config]);
    assert_eq!(code, i32::from(FAILURE), "{out}");
    assert_eq!(
        err,
        "served: cannot start gaplic `second`: cannot create gobj `broken` of `Witness` \
         (gobj[0] of gaplic `second`): the witness refuses to start\n"
    );
    let lines: Vec<String> = out.lines().map(str::to_owned).collect();
    assert!(
        position(&lines, "go_out helper-child") < position(&lines, "go_out helper"),
        "the thread started before it was stopped and joined: {lines:?}"
    );
    assert!(
        !lines.contains(&"start_up root".to_owned()),
        "the main gaplic was not built: {lines:?}"
    );
}

/// The tests, by name.
const TESTS: &[(&str, fn())] = &[
    (
        "sigterm_stops_every_gaplic_and_runs_every_go_out",
        sigterm_stops_every_gaplic_and_runs_every_go_out,
    ),
    (
        "the_ontimer_example_is_served_and_stopped_by_sigint",
        the_ontimer_example_is_served_and_stopped_by_sigint,
    ),
    (
        "the_pingpong_example_ends_with_its_threads",
        the_pingpong_example_ends_with_its_threads,
    ),
    (
        "a_second_signal_forces_the_exit",
        a_second_signal_forces_the_exit,
    ),
    (
        "the_stop_timeout_forces_the_exit_and_removes_the_pid_file",
        the_stop_timeout_forces_the_exit_and_removes_the_pid_file,
    ),
    (
        "status_and_stop_work_on_a_served_pid_file",
        status_and_stop_work_on_a_served_pid_file,
    ),
    (
        "a_stale_pid_file_is_reported_and_replaced",
        a_stale_pid_file_is_reported_and_replaced,
    ),
    (
        "a_bad_file_is_refused_before_anything_runs",
        a_bad_file_is_refused_before_anything_runs,
    ),
    (
        "a_gaplic_that_cannot_start_stops_those_started_before_it",
        a_gaplic_that_cannot_start_stops_those_started_before_it,
    ),
];

fn main() -> ExitCode {
    if std::env::var_os(CHILD).is_some() {
        return launcher().run();
    }
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let chosen: Vec<_> = TESTS
        .iter()
        .filter(|(name, _)| filter.as_deref().is_none_or(|f| name.contains(f)))
        .collect();
    println!("\nrunning {} tests", chosen.len());
    let mut failed = Vec::new();
    for (name, test) in &chosen {
        let started = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(test));
        let verdict = if outcome.is_ok() { "ok" } else { "FAILED" };
        println!("test {name} ... {verdict} ({:.2?})", started.elapsed());
        if outcome.is_err() {
            failed.push(*name);
        }
    }
    if !failed.is_empty() {
        println!("\nfailures:");
        for name in &failed {
            println!("    {name}");
        }
    }
    println!(
        "\n{} passed, {} failed",
        chosen.len() - failed.len(),
        failed.len()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
