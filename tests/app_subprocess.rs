//! `[[subprocess]]` with real processes: the main gaplic and its children
//! exchange events through their routers; children that fail are
//! restarted as their policy says; stopping the application stops and
//! reaps them; a parent killed with SIGKILL leaves none running; a child
//! cut off from its parent stops.
//!
//! This test binary is also the application: started with
//! `GAPLIC_TEST_LAUNCHER` set, it is the launcher of an application
//! binary with the router, the examples' gclasses, a `Witness` (in the
//! children: prints its `start_up` and `go_out`, may exit at once or be
//! slow to go out) and a `Watcher` (in the main gaplic: prints what the
//! `GSubprocess` gobjs publish). `serve` starts its children from the same
//! binary, which inherit the variable. The harness is `launched`,
//! shared with `app_serve`. Every process a test starts is killed when the
//! test ends, passed or failed.

mod launched;
#[path = "../examples/gclasses/pingpong.rs"]
mod pingpong_gclasses;
#[path = "../examples/gclasses/role_pinger.rs"]
mod role_pinger_gclass;

use std::net::TcpListener;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use gaplic::app::exit_code::{FAILURE, SUCCESS};
use gaplic::app::{GSubprocess, Launcher};
use gaplic::prelude::*;
use launched::{Served, child_command, ends_within, field, kill, test_dir, write};
use pingpong_gclasses::Ponger;
use role_pinger_gclass::RolePinger;
use rustix::process::Signal;

gobj! {
    /// In a subprocess: prints `start_up NAME pid=PID` and `go_out NAME`.
    pub struct Witness {
        /// Seconds its `go_out` takes: a child slow to stop.
        #[attr(default = 0.0)]
        go_out_delay: f64,
        /// Ends the process with this exit code at start-up (-1: does not).
        #[attr(default = -1)]
        exit_code: i64,
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
        println!("start_up {} pid={}", cx.name(), std::process::id());
        if self.exit_code >= 0 {
            std::process::exit(i32::try_from(self.exit_code).unwrap_or(1));
        }
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

gobj! {
    /// In the main gaplic: prints what the gobjs of the subprocesses
    /// `subprocesses` publish, one line each; after `stop_after` children
    /// ended for good (not restarting), stops its gaplic (0: never).
    pub struct Watcher {
        /// The `[[subprocess]]` entries to watch.
        #[attr]
        subprocesses: Vec<String>,
        /// Children ended for good before the gaplic stops.
        #[attr(default = 0)]
        stop_after: u32,
        ended: u32,
    }
    events {
        EV_SUBPROCESS_STARTED: input bottom,
        EV_SUBPROCESS_EXITED: input bottom,
    }
    states { ST_WATCHING }
    machine {
        ST_WATCHING {
            EV_SUBPROCESS_STARTED => started,
            EV_SUBPROCESS_EXITED => exited,
        }
    }
    hooks { start_up }
}

impl Watcher {
    fn start_up(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        for name in self.subprocesses.clone() {
            let gobj = cx
                .gaplic()?
                .find_unique_gobj(&GSubprocess::unique_name(&name))
                .ok_or_else(|| GobjError::failed(format!("no gobj for subprocess `{name}`")))?;
            cx.subscribe(gobj, Some("EV_SUBPROCESS_STARTED"), SubscribeOptions::new())?;
            cx.subscribe(gobj, Some("EV_SUBPROCESS_EXITED"), SubscribeOptions::new())?;
        }
        Ok(())
    }

    fn started(&mut self, _cx: &mut Cx<Self>, ev: &Event) -> Ret {
        println!(
            "started {} pid={} restarts={}",
            ev.get::<String>("name")?,
            ev.get::<u32>("pid")?,
            ev.get::<u32>("restarts")?
        );
        Ok(Value::Null)
    }

    fn exited(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let optional = |key: &str| -> Result<String, GobjError> {
            Ok(ev
                .get::<Option<i64>>(key)?
                .map_or_else(|| "-".to_owned(), |v| v.to_string()))
        };
        let restarting: bool = ev.get("restarting")?;
        println!(
            "exited {} pid={} code={} signal={} restarting={restarting} gave_up={} restarts={} reason={}",
            ev.get::<String>("name")?,
            optional("pid")?,
            optional("code")?,
            optional("signal")?,
            ev.get::<bool>("gave_up")?,
            ev.get::<u32>("restarts")?,
            ev.get::<String>("reason")?,
        );
        if !restarting {
            self.ended += 1;
            if self.stop_after > 0 && self.ended >= self.stop_after {
                cx.gaplic()?.stop();
            }
        }
        Ok(Value::Null)
    }
}

/// The application binary the launcher processes are.
fn launcher() -> Launcher {
    Launcher::new("served")
        .gclass::<Witness>()
        .gclass::<Watcher>()
        .gclass::<Ponger>()
        .gclass::<RolePinger>()
}

fn the_two_process_example_plays_by_role_and_ends_by_itself() {
    let example = include_str!("../examples/apps/two_process.toml");
    assert!(example.contains("rounds = 1000"));
    let dir = test_dir("example");
    let config = write(
        &dir,
        "two_process.toml",
        &example
            .replace("rounds = 1000", "rounds = 200")
            .replace("timeout = 30.0", "timeout = 15.0"),
    );
    let mut served = Served::start(&["serve", "-c", &config]);
    let code = served.code();
    assert_eq!(code, i32::from(SUCCESS), "stderr:\n{}", served.stderr());
    let result = served.wait_for("200 round trips with ");
    assert!(
        result.starts_with("200 round trips with `ponger` of role `worker` (gaplic `worker1`) in "),
        "{result}"
    );
}

const RESTARTS: &str = r#"[application]
name = "restarts"

[logging]
level = "warn"

[main]
name = "main"

[[main.gobj]]
gclass = "Watcher"
name = "watcher"
attrs = { subprocesses = ["crasher", "once"], stop_after = 2 }

[[subprocess]]
name = "crasher"
restart = "on-failure"
restart_delay = 0.01
max_restart_delay = 0.02
max_restarts = 2

[[subprocess.gobj]]
gclass = "Witness"
name = "crashing"
attrs = { exit_code = 3 }

[[subprocess]]
name = "once"

[[subprocess.gobj]]
gclass = "Witness"
name = "failing"
attrs = { exit_code = 4 }
"#;

fn a_failing_child_is_restarted_until_max_restarts_and_the_exits_are_published() {
    let dir = test_dir("restarts");
    let config = write(&dir, "app.toml", RESTARTS);
    let mut served = Served::start(&["serve", "-c", &config]);
    let code = served.code();
    assert_eq!(code, i32::from(SUCCESS), "stderr:\n{}", served.stderr());
    let lines = served.seen().to_vec();
    let of = |name: &str, what: &str| -> Vec<String> {
        lines
            .iter()
            .filter(|l| l.starts_with(&format!("{what} {name} ")))
            .cloned()
            .collect()
    };
    let started = of("crasher", "started");
    let restarts: Vec<&str> = started.iter().map(|l| field(l, "restarts")).collect();
    assert_eq!(restarts, ["0", "1", "2"], "{lines:#?}");
    let exited = of("crasher", "exited");
    assert_eq!(exited.len(), 3, "{lines:#?}");
    for (i, line) in exited.iter().enumerate() {
        assert_eq!(field(line, "code"), "3", "{line}");
        assert_eq!(field(line, "signal"), "-", "{line}");
        assert_eq!(field(line, "restarts"), i.to_string(), "{line}");
        let last = i == 2;
        assert_eq!(field(line, "restarting"), (!last).to_string(), "{line}");
        assert_eq!(field(line, "gave_up"), last.to_string(), "{line}");
    }
    assert!(
        exited[2].ends_with(
            "reason=exited with code 3; not restarted: restarted 2 time(s) already (max_restarts = 2)"
        ),
        "{}",
        exited[2]
    );
    // Each run printed its start-up, prefixed with its name.
    let witnessed = lines
        .iter()
        .filter(|l| l.starts_with("[crasher] start_up crashing pid="))
        .count();
    assert_eq!(witnessed, 3, "{lines:#?}");

    let once = of("once", "exited");
    assert_eq!(once.len(), 1, "restart = \"never\": {lines:#?}");
    assert_eq!(field(&once[0], "code"), "4");
    assert_eq!(field(&once[0], "restarting"), "false");
    assert_eq!(field(&once[0], "gave_up"), "false");
    assert!(
        once[0].ends_with("reason=exited with code 4"),
        "{}",
        once[0]
    );

    let stderr = served.stderr();
    assert_eq!(
        stderr.matches("subprocess failed; restarting").count(),
        2,
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("subprocess failed ").count()
            + stderr.matches("subprocess failed\n").count(),
        2,
        "the crasher's last failure and the other's: {stderr}"
    );
}

const VICTIM: &str = r#"[application]
name = "victim"

[logging]
level = "warn"

[main]
name = "main"

[[main.gobj]]
gclass = "Watcher"
name = "watcher"
attrs = { subprocesses = ["victim"] }

[[subprocess]]
name = "victim"
restart = "on-failure"
restart_delay = 0.01

[[subprocess.gobj]]
gclass = "Witness"
name = "w"
"#;

fn a_child_killed_from_outside_is_restarted_and_the_signal_is_published() {
    let dir = test_dir("victim");
    let config = write(&dir, "app.toml", VICTIM);
    let mut served = Served::start(&["serve", "-c", &config]);
    let first = served.child_pid("victim");
    served.wait_for("[victim] start_up w pid=");
    kill(first, Signal::KILL);
    let exited = served.wait_for("exited victim ");
    assert_eq!(field(&exited, "pid"), first.to_string(), "{exited}");
    assert_eq!(field(&exited, "code"), "-", "{exited}");
    assert_eq!(field(&exited, "signal"), "9", "{exited}");
    assert_eq!(field(&exited, "restarting"), "true", "{exited}");
    assert!(exited.ends_with("reason=killed by SIGKILL"), "{exited}");
    let restarted = served.wait_for_line("the restarted victim", |l| {
        l.starts_with("started victim ") && field(l, "restarts") == "1"
    });
    let second: u32 = field(&restarted, "pid").parse().expect("a pid");
    assert_ne!(second, first);
    served.signal(Signal::TERM);
    assert_eq!(
        served.code(),
        i32::from(SUCCESS),
        "stderr:\n{}",
        served.stderr()
    );
    assert!(
        ends_within(second, Duration::ZERO),
        "the second child was reaped"
    );
}

/// Restarted once at most in a row, and a run of 2 s breaks the row.
const STEADY: &str = r#"[application]
name = "steady"

[logging]
level = "error"

[main]
name = "main"

[[main.gobj]]
gclass = "Watcher"
name = "watcher"
attrs = { subprocesses = ["steady"] }

[[subprocess]]
name = "steady"
restart = "on-failure"
restart_delay = 0.01
max_restarts = 1
reset_after = 2

[[subprocess.gobj]]
gclass = "Witness"
name = "w"
"#;

fn a_run_that_lasts_reset_after_starts_the_restart_count_again() {
    let dir = test_dir("steady");
    let config = write(&dir, "app.toml", STEADY);
    let mut served = Served::start(&["serve", "-c", &config]);
    // A failure at once: restarted, the first of a row of one.
    let first = served.child_pid("steady");
    served.wait_for("[steady] start_up w pid=");
    kill(first, Signal::KILL);
    let restarted = served.wait_for_line("the first restart", |l| {
        l.starts_with("started steady ") && field(l, "restarts") == "1"
    });
    let second: u32 = field(&restarted, "pid").parse().expect("a pid");
    // A failure after a steady run: not the second of the row (which
    // would give up), but the first of a new one.
    std::thread::sleep(Duration::from_millis(2_500));
    kill(second, Signal::KILL);
    let exited = served.wait_for_line("the end of the steady run", |l| {
        l.starts_with("exited steady ") && field(l, "pid") == second.to_string()
    });
    assert_eq!(field(&exited, "restarting"), "true", "{exited}");
    assert_eq!(field(&exited, "gave_up"), "false", "{exited}");
    assert_eq!(field(&exited, "restarts"), "0", "{exited}");
    let third = served.wait_for_line("the restart after the steady run", |l| {
        l.starts_with("started steady ")
            && field(l, "pid") != second.to_string()
            && field(l, "pid") != first.to_string()
    });
    assert_eq!(field(&third, "restarts"), "1", "{third}");
    // A failure at once again: the second of the new row, given up.
    served.wait_for(&format!("[steady] start_up w pid={}", field(&third, "pid")));
    kill(field(&third, "pid").parse().expect("a pid"), Signal::KILL);
    let given_up = served.wait_for_line("giving up", |l| {
        l.starts_with("exited steady ") && field(l, "gave_up") == "true"
    });
    assert_eq!(field(&given_up, "restarts"), "1", "{given_up}");
    served.signal(Signal::TERM);
    assert_eq!(
        served.code(),
        i32::from(SUCCESS),
        "stderr:\n{}",
        served.stderr()
    );
}

const TWO_CHILDREN: &str = r#"[application]
name = "family"

[logging]
level = "info"

[main]
name = "main"

[[main.gobj]]
gclass = "Watcher"
name = "watcher"
attrs = { subprocesses = ["calm", "stubborn"] }

[[subprocess]]
name = "calm"

[[subprocess.gobj]]
gclass = "Witness"
name = "w1"

[[subprocess]]
name = "stubborn"
stop_timeout = 0.3

[[subprocess.gobj]]
gclass = "Witness"
name = "w2"
attrs = { go_out_delay = 60.0 }
"#;

fn stopping_the_parent_stops_and_reaps_every_child() {
    let dir = test_dir("stop");
    let config = write(&dir, "app.toml", TWO_CHILDREN);
    let mut served = Served::start(&["serve", "-c", &config]);
    let calm = served.child_pid("calm");
    let stubborn = served.child_pid("stubborn");
    served.wait_for("[calm] start_up w1 pid=");
    served.wait_for("[stubborn] start_up w2 pid=");
    let started = Instant::now();
    served.signal(Signal::TERM);
    let code = served.code();
    assert_eq!(code, i32::from(SUCCESS), "stderr:\n{}", served.stderr());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the stubborn child was killed after its stop_timeout"
    );
    let lines = served.seen();
    assert!(
        lines.contains(&"[calm] go_out w1".to_owned()),
        "the calm child stopped gracefully: {lines:#?}"
    );
    assert!(
        lines.contains(&"[stubborn] go_out w2 begins".to_owned())
            && !lines.contains(&"[stubborn] go_out w2".to_owned()),
        "the stubborn one was killed in its go_out: {lines:#?}"
    );
    let stderr = served.stderr();
    assert!(
        stderr.contains("still running stop_timeout seconds after SIGTERM: SIGKILL sent")
            && stderr.contains("subprocess=stubborn"),
        "{stderr}"
    );
    // Reaped by the parent before it ended: gone at once.
    for pid in [calm, stubborn] {
        assert!(ends_within(pid, Duration::ZERO), "child {pid} still runs");
    }
}

const ORPHAN: &str = r#"[application]
name = "orphan"

[logging]
level = "warn"

[main]
name = "main"

[[main.gobj]]
gclass = "Watcher"
name = "watcher"
attrs = { subprocesses = ["orphan"] }

[[subprocess]]
name = "orphan"

[[subprocess.gobj]]
gclass = "Witness"
name = "w"
"#;

fn sigkill_of_the_parent_leaves_no_child_running() {
    let dir = test_dir("sigkill");
    let config = write(&dir, "app.toml", ORPHAN);
    let mut served = Served::start(&["serve", "-c", &config]);
    let child = served.child_pid("orphan");
    served.wait_for("[orphan] start_up w pid=");
    served.signal(Signal::KILL);
    let (status, _) = served.end();
    assert_eq!(status.code(), None, "killed: {status}");
    assert!(
        ends_within(child, Duration::from_secs(5)),
        "child {child} still runs 5 s after its parent was killed"
    );
}

const CUT_OFF: &str = r#"[application]
name = "cut_off"

[logging]
level = "warn"

[main]
name = "main"

[[subprocess]]
name = "alone"
link_timeout = 0.3

[[subprocess.gobj]]
gclass = "Witness"
name = "w"
"#;

fn a_child_whose_link_to_the_parent_does_not_open_stops() {
    let dir = test_dir("cut-off");
    let config = write(&dir, "app.toml", CUT_OFF);
    // Connections wait in its backlog: no websocket handshake, no route.
    let silent = TcpListener::bind("127.0.0.1:0").expect("a listener");
    let address = silent.local_addr().expect("its address").to_string();
    let parent = std::process::id().to_string();
    let mut alone = Served::start(&[
        "serve",
        "-c",
        &config,
        "--subprocess",
        "alone",
        "--parent-pid",
        &parent,
        "--parent-router",
        &address,
    ]);
    let code = alone.code();
    assert_eq!(code, i32::from(FAILURE));
    assert!(
        alone.seen().iter().any(|l| l.starts_with("go_out w")),
        "it stopped gracefully: {:#?}",
        alone.seen()
    );
    let stderr = alone.stderr();
    assert!(
        stderr.ends_with(
            "served: subprocess `alone` stopped: no route to the main gaplic `main` for 0.3 s (link_timeout)\n"
        ),
        "{stderr}"
    );
}

fn a_child_of_another_parent_refuses_to_run() {
    let dir = test_dir("not-mine");
    let config = write(&dir, "app.toml", CUT_OFF);
    let output = child_command(&[
        "serve",
        "-c",
        &config,
        "--subprocess",
        "alone",
        "--parent-pid",
        "1",
        "--parent-router",
        "127.0.0.1:9",
    ])
    .output()
    .expect("the launcher runs");
    assert_eq!(output.status.code(), Some(i32::from(FAILURE)));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "served: subprocess `alone`: the main process (pid 1) is gone, or did not start this one\n"
    );
    assert!(output.stdout.is_empty(), "nothing ran");
}

/// The tests, by name.
const TESTS: &[(&str, fn())] = &[
    (
        "the_two_process_example_plays_by_role_and_ends_by_itself",
        the_two_process_example_plays_by_role_and_ends_by_itself,
    ),
    (
        "a_failing_child_is_restarted_until_max_restarts_and_the_exits_are_published",
        a_failing_child_is_restarted_until_max_restarts_and_the_exits_are_published,
    ),
    (
        "a_child_killed_from_outside_is_restarted_and_the_signal_is_published",
        a_child_killed_from_outside_is_restarted_and_the_signal_is_published,
    ),
    (
        "a_run_that_lasts_reset_after_starts_the_restart_count_again",
        a_run_that_lasts_reset_after_starts_the_restart_count_again,
    ),
    (
        "stopping_the_parent_stops_and_reaps_every_child",
        stopping_the_parent_stops_and_reaps_every_child,
    ),
    (
        "sigkill_of_the_parent_leaves_no_child_running",
        sigkill_of_the_parent_leaves_no_child_running,
    ),
    (
        "a_child_whose_link_to_the_parent_does_not_open_stops",
        a_child_whose_link_to_the_parent_does_not_open_stops,
    ),
    (
        "a_child_of_another_parent_refuses_to_run",
        a_child_of_another_parent_refuses_to_run,
    ),
];

fn main() -> ExitCode {
    launched::run(TESTS, launcher)
}
