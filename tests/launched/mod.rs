//! The harness of the test binaries that are their own application:
//! started with [`CHILD`] set, such a binary is the launcher of the
//! application its tests serve; otherwise [`run`] runs its tests in turn.
//! Such a binary has no libtest harness (`harness = false`): [`run`] runs
//! the tests whose name contains the first argument (all without one) and
//! ends with `N passed, M failed`.
//!
//! [`Served`] is one launcher process with its output read as it comes;
//! dropped, it is killed, with every subprocess it said it started.
//!
//! Every test binary uses a part of this module only.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use gaplic::app::Launcher;
use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::process::{Pid, PidfdFlags, Signal, kill_process, pidfd_open};

/// Set in the environment of the launcher processes (and so inherited by
/// the subprocesses they start).
pub const CHILD: &str = "GAPLIC_TEST_LAUNCHER";

/// The longest any step may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// The `main` of a test binary: the launcher of `launcher` in a child
/// process, else each test of `tests` (by name) in turn.
pub fn run(tests: &[(&str, fn())], launcher: impl FnOnce() -> Launcher) -> ExitCode {
    if std::env::var_os(CHILD).is_some() {
        return launcher().run();
    }
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let chosen: Vec<_> = tests
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

/// A launcher running as a child process, its output read as it comes.
/// Dropped, it is killed, and so is every subprocess it said it started
/// (a line `started NAME pid=PID ...`).
pub struct Served {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
    stderr: Arc<Mutex<String>>,
    stderr_reader: Option<JoinHandle<()>>,
    status: Option<ExitStatus>,
}

impl Served {
    /// Starts the launcher with `args`.
    pub fn start(args: &[&str]) -> Served {
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
            status: None,
        }
    }

    /// The lines of standard output read so far.
    pub fn seen(&self) -> &[String] {
        &self.seen
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for a line of standard output that starts with `prefix`
    /// (one seen already counts); returns it.
    pub fn wait_for(&mut self, prefix: &str) -> String {
        self.wait_for_line(&format!("`{prefix}...`"), |l| l.starts_with(prefix))
    }

    /// Waits for a line of standard output that `pick` accepts (one seen
    /// already counts); returns it.
    pub fn wait_for_line(&mut self, what: &str, pick: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(line) = self.seen.iter().find(|l| pick(l)) {
                return line.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => panic!(
                    "no line {what} within {PATIENCE:?}; saw {:#?}; stderr:\n{}",
                    self.seen,
                    self.stderr()
                ),
            }
        }
    }

    /// The pid in the line `started NAME pid=PID ...`, waiting for it.
    pub fn child_pid(&mut self, name: &str) -> u32 {
        let line = self.wait_for(&format!("started {name} pid="));
        field(&line, "pid").parse().expect("a pid")
    }

    pub fn signal(&self, signal: Signal) {
        kill(self.pid(), signal);
    }

    /// Waits for the process to end; how it ended, and every line it
    /// printed.
    pub fn end(&mut self) -> (ExitStatus, Vec<String>) {
        assert!(
            ends_within(self.pid(), PATIENCE),
            "still running after {PATIENCE:?}; saw {:#?}; stderr:\n{}",
            self.seen,
            self.stderr()
        );
        let status = self.child.wait().expect("wait");
        self.status = Some(status);
        // The readers end with the pipes.
        while let Ok(line) = self.lines.recv_timeout(PATIENCE) {
            self.seen.push(line);
        }
        if let Some(reader) = self.stderr_reader.take() {
            let _ = reader.join();
        }
        (status, self.seen.clone())
    }

    /// Waits for the process to end with an exit code; the code, and
    /// every line it printed.
    pub fn exit(&mut self) -> (i32, Vec<String>) {
        let (status, lines) = self.end();
        let code = status.code().unwrap_or_else(|| {
            panic!(
                "ended by a signal: {status}; saw {:#?}; stderr:\n{}",
                self.seen,
                self.stderr()
            )
        });
        (code, lines)
    }

    /// Its exit code, once it ended with one.
    pub fn code(&mut self) -> i32 {
        self.exit().0
    }

    /// What it wrote to standard error so far (all of it once it ended).
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if self.status.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
        for line in self.seen.iter().filter(|l| l.starts_with("started ")) {
            if let Some(pid) = try_field(line, "pid").and_then(|pid| pid.parse().ok()) {
                kill(pid, Signal::KILL);
            }
        }
    }
}

/// The command that runs this binary as the launcher with `args`.
pub fn child_command(args: &[&str]) -> Command {
    let mut command = Command::new(std::env::current_exe().expect("the test binary"));
    command.env(CHILD, "1").args(args).stdin(Stdio::null());
    command
}

/// Runs the launcher with `args` to its end: exit code, stdout, stderr.
pub fn launch(args: &[&str]) -> (i32, String, String) {
    let output = child_command(args).output().expect("the launcher runs");
    (
        output.status.code().expect("an exit code"),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Whether process `pid` (not necessarily a child of this one) has ended
/// within `bound`: it is gone, or it becomes a zombie, as its pidfd says.
pub fn ends_within(pid: u32, bound: Duration) -> bool {
    let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) else {
        return true;
    };
    let fd = match pidfd_open(pid, PidfdFlags::empty()) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::SRCH) => return true,
        Err(error) => panic!("pidfd_open: {error}"),
    };
    let deadline = Instant::now() + bound;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let timeout = Timespec {
            tv_sec: left.as_secs() as _,
            tv_nsec: left.subsec_nanos() as _,
        };
        let mut fds = [PollFd::new(&fd, PollFlags::IN)];
        match rustix::event::poll(&mut fds, Some(&timeout)) {
            Ok(0) => return false,
            Ok(_) => return true,
            Err(rustix::io::Errno::INTR) => continue,
            Err(error) => panic!("poll: {error}"),
        }
    }
}

/// Sends `signal` to process `pid`, if it still runs.
pub fn kill(pid: u32, signal: Signal) {
    if let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) {
        let _ = kill_process(pid, signal);
    }
}

/// The value of `key=value` in `line` (up to the next space).
pub fn field<'a>(line: &'a str, key: &str) -> &'a str {
    try_field(line, key).unwrap_or_else(|| panic!("no `{key}=` in `{line}`"))
}

/// The value of `key=value` in `line`, if it has one.
pub fn try_field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let start = line.find(&format!(" {key}="))? + key.len() + 2;
    line[start..].split(' ').next()
}

/// A directory of its own for one test.
pub fn test_dir(test: &str) -> PathBuf {
    let binary = std::env::current_exe().expect("the test binary");
    let stem = binary
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("test");
    let dir = std::env::temp_dir().join(format!("gaplic-{stem}-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

/// Writes `text` to file `name` of `dir`; its path.
pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("a file");
    path.to_str().expect("a UTF-8 path").to_owned()
}

/// Where `line` is among `lines`.
pub fn position(lines: &[String], line: &str) -> usize {
    lines
        .iter()
        .position(|l| l == line)
        .unwrap_or_else(|| panic!("no line `{line}` in {lines:?}"))
}
