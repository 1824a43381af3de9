//! `serve`, `stop` and `status` as processes, stopped by signals.
//!
//! This test binary is also the application it serves: started with
//! `GAPLIC_TEST_LAUNCHER` set, it is the launcher of an application
//! binary with the examples' gclasses and a `Witness` that prints its
//! `start_up` and `go_out`. The tests start it with `serve`, `stop` and
//! `status` and signal it, so no example binary is built for them. The
//! harness is `launched`, shared with `app_subprocess`.

mod launched;
#[path = "../examples/gclasses/ontimer.rs"]
mod ontimer_gclass;
#[path = "../examples/gclasses/pingpong.rs"]
mod pingpong_gclasses;

use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use gaplic::app::Launcher;
use gaplic::app::exit_code::{FAILURE, FORCED, NOT_RUNNING, STALE, SUCCESS};
use gaplic::prelude::*;
use launched::{Served, launch, position, test_dir, write};
use ontimer_gclass::OnTimer;
use pingpong_gclasses::{Pinger, Ponger};
use rustix::process::Signal;

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
    let (code, lines) = served.exit();
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
    let (code, lines) = served.exit();
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
    let (code, lines) = served.exit();
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
    let (code, lines) = served.exit();
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
    let (code, _) = served.exit();
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
    let (code, lines) = served.exit();
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
    let (code, _) = served.exit();
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
    launched::run(TESTS, launcher)
}
