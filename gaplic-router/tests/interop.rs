//! gaplic's router against the real GinsFSM 0.7.3 router, on loopback: as
//! websocket client and as server, by gaplic name and by role, events both
//! ways (the Python side speaking first too), answers, action returns,
//! external subscriptions, nacks.
//!
//! The GinsFSM side runs in the virtual environment `tests/interop/setup.sh`
//! makes under `target/` (cached). Without Python or that environment
//! these tests say so and pass, except under `CI=true`, where they must
//! run.

mod support;
#[path = "interop/venv.rs"]
mod venv;

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use gaplic::prelude::*;
use serde_json::Value as Json;
use support::{Peer, WAIT, is, text};

/// The Python of the GinsFSM environment, made on first use; `None` (with
/// the reason printed) when it cannot be had outside CI.
fn python() -> Option<PathBuf> {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let found = PYTHON.get_or_init(venv::ginsfsm_python);
    match found {
        Ok(python) => Some(python.clone()),
        Err(reason) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("GinsFSM interop tests must run under CI: {reason}")
        }
        Err(reason) => {
            eprintln!("skipped: GinsFSM 0.7.3 is not available ({reason})");
            None
        }
    }
}

/// One at a time: each GinsFSM gaplic polls in 0.1-0.5 s turns, and two
/// cores are shared by everything else.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// A GinsFSM gaplic in a child process. Its log (standard error) is
/// printed if the test fails.
struct Ginsfsm {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<Json>,
    log: Arc<Mutex<Vec<String>>>,
}

impl Ginsfsm {
    fn start(python: &PathBuf, args: &[&str]) -> Ginsfsm {
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop/ginsfsm_peer.py");
        let mut child = Command::new(python)
            .arg(script)
            .args(args)
            .args(["--lifetime", "60"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the GinsFSM peer starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // GinsFSM prints a line of its own at import; only JSON counts.
                if let Ok(json) = serde_json::from_str::<Json>(&line) {
                    let _ = tx.send(json);
                }
            }
        });
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                kept.lock().unwrap_or_else(|e| e.into_inner()).push(line);
            }
        });
        let stdin = child.stdin.take();
        let peer = Ginsfsm {
            child,
            stdin,
            lines,
            log,
        };
        peer.wait("ready", |j| j["what"] == "ready");
        peer
    }

    fn command(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    fn wait(&self, what: &str, pick: impl Fn(&Json) -> bool) -> Json {
        let deadline = Instant::now() + WAIT;
        let mut skipped = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(json) if pick(&json) => return json,
                Ok(json) => skipped.push(json.to_string()),
                Err(_) => panic!(
                    "GinsFSM: no {what}; saw instead:\n  {}",
                    skipped.join("\n  ")
                ),
            }
        }
    }
}

impl Drop for Ginsfsm {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
            eprintln!("GinsFSM's log:\n{}", log.join("\n"));
        }
        support::end_child(&mut self.child, self.stdin.take(), Duration::from_secs(3));
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn recv_event(json: &Json, event: &str) -> bool {
    json["what"] == "recv" && json["event"] == event
}

#[test]
fn gaplic_dials_a_ginsfsm_server() {
    let Some(python) = python() else { return };
    let _one = one_at_a_time();
    let port = free_port();
    let port_text = port.to_string();
    let mut toto = Ginsfsm::start(
        &python,
        &[
            "--name",
            "TOTO",
            "--roles",
            "toto",
            "--listen",
            &port_text,
            "--hello",
            "rcli,,probe,EV_NOTE",
        ],
    );
    let cli = Peer::start(
        "rcli",
        &["rrole"],
        kw! { "static_routes" => format!("TOTO, toto, ws://127.0.0.1:{port}") },
        &["probe"],
    );
    let opened = cli.wait(WAIT, "route opened", |s| is(s, "probe", "EV_ROUTE_OPENED"));
    assert_eq!(text(&opened.kw, "mode"), "ginsfsm", "{}", opened.kw);
    toto.wait("the new dynamic route", |j| {
        j["what"] == "new_dynamic_route" && j["gaplic"] == "rcli"
    });

    // GinsFSM speaks first.
    let hello = cli.wait(WAIT, "GinsFSM's hello", |s| is(s, "probe", "EV_NOTE"));
    assert_eq!(text(&hello.kw, "data"), "hello");
    let origin = hello.origin.expect("GinsFSM's hello has its origin");
    assert_eq!((&*origin.gaplic, &*origin.gobj), ("TOTO", "pyecho"));
    assert_eq!(origin.role.as_deref(), Some("toto"));

    // By name, with the answer back.
    cli.post("probe", "EV_SEND", kw! { "gaplic" => "TOTO", "gobj" => "pyecho", "event" => "EV_QUERY", "kw" => kw! { "data" => "café <\\/ 😀" } });
    let got = toto.wait("the query", |j| recv_event(j, "EV_QUERY"));
    assert_eq!(got["kw"]["data"], "café <\\/ 😀");
    assert_eq!(got["origin_gaplic"], "rcli");
    assert_eq!(got["origin_gobj"], "probe");
    let answer = cli.wait(WAIT, "the answer", |s| is(s, "probe", "EV_QUERY_ANSWER"));
    assert_eq!(text(&answer.kw, "data"), "café <\\/ 😀");

    // By role.
    cli.post("probe", "EV_SEND", kw! { "role" => "toto", "gobj" => "pyecho", "event" => "EV_QUERY", "kw" => kw! { "data" => "by role" } });
    toto.wait("the query by role", |j| {
        recv_event(j, "EV_QUERY") && j["kw"]["data"] == "by role"
    });
    let answer = cli.wait(WAIT, "the answer by role", |s| {
        is(s, "probe", "EV_QUERY_ANSWER")
    });
    assert_eq!(text(&answer.kw, "data"), "by role");

    // The action's return, asked with __subscribe_response__.
    cli.post("probe", "EV_SEND", kw! { "gaplic" => "TOTO", "gobj" => "pyecho", "event" => "EV_QUERY", "kw" => kw! { "data" => "ret", "__subscribe_response__" => true } });
    let ret = cli.wait(WAIT, "the action return", |s| {
        is(s, "probe", "EV_QUERY") && s.kw.contains("__action_return__")
    });
    let returned: Kw = ret.kw.get("__action_return__").unwrap();
    assert_eq!(text(&returned, "echo"), "ret");

    // External subscription: GinsFSM's broadcasts come back under their
    // own name.
    cli.post(
        "probe",
        "EV_SUBSCRIBE",
        kw! { "gaplic" => "TOTO", "gobj" => "pyecho", "event" => "EV_EMITTED" },
    );
    cli.post("probe", "EV_SEND", kw! { "gaplic" => "TOTO", "gobj" => "pyecho", "event" => "EV_QUERY", "kw" => kw! { "data" => "sync" } });
    toto.wait("the query after the subscription", |j| {
        recv_event(j, "EV_QUERY") && j["kw"]["data"] == "sync"
    });
    toto.command("emit broadcast-1");
    let emitted = cli.wait(WAIT, "the broadcast", |s| is(s, "probe", "EV_EMITTED"));
    assert_eq!(text(&emitted.kw, "data"), "broadcast-1");
    assert_eq!(text(&emitted.kw, "original_event_name"), "EV_EMITTED");
    assert!(!text(&emitted.kw, "__subscription_reference__").is_empty());

    // An unknown gobj is nacked, and the sender is told.
    cli.post(
        "probe",
        "EV_SEND",
        kw! { "gaplic" => "TOTO", "gobj" => "nobody", "event" => "EV_QUERY" },
    );
    let failed = cli.wait(WAIT, "the nack", |s| is(s, "probe", "EV_SEND_FAILED"));
    assert!(
        text(&failed.kw, "reason").contains("GObj 'nobody' UNKNOWN"),
        "{}",
        failed.kw
    );
    cli.stop();
}

#[test]
fn a_ginsfsm_client_dials_gaplic() {
    let Some(python) = python() else { return };
    let _one = one_at_a_time();
    let srv = Peer::start("rsrv", &["rrole"], kw! { "server" => true }, &["probe"]);
    let url = format!("ws://{}", srv.listen.clone().unwrap());
    let route = format!("rsrv, rrole, {url}");
    let mut titi = Ginsfsm::start(
        &python,
        &[
            "--name",
            "TITI",
            "--roles",
            "titi",
            "--route",
            &route,
            "--hello",
            "rsrv,,probe,EV_NOTE",
        ],
    );
    let opened = srv.wait(WAIT, "route opened", |s| is(s, "probe", "EV_ROUTE_OPENED"));
    assert_eq!(text(&opened.kw, "mode"), "ginsfsm", "{}", opened.kw);
    assert_eq!(text(&opened.kw, "gaplic"), "TITI");
    titi.wait("the route opened", |j| {
        j["what"] == "route_opened" && j["gaplic"] == "rsrv"
    });

    // GinsFSM speaks first, right after the card exchange.
    let hello = srv.wait(WAIT, "GinsFSM's hello", |s| is(s, "probe", "EV_NOTE"));
    assert_eq!(text(&hello.kw, "data"), "hello");

    // GinsFSM queries by name; the answer goes back over the dynamic route.
    titi.command(r#"send rsrv - probe EV_QUERY {"data": "from python"}"#);
    let query = srv.wait(WAIT, "the query", |s| is(s, "probe", "EV_QUERY"));
    assert_eq!(text(&query.kw, "data"), "from python");
    let answer = titi.wait("the answer", |j| recv_event(j, "EV_QUERY_ANSWER"));
    assert_eq!(answer["kw"]["data"], "from python");
    assert_eq!(answer["origin_gaplic"], "rsrv");

    // By role, the other way: gaplic reaches GinsFSM's role over the
    // dynamic route.
    srv.post("probe", "EV_SEND", kw! { "role" => "titi", "gobj" => "pyecho", "event" => "EV_QUERY", "kw" => kw! { "data" => "to titi" } });
    titi.wait("the query by role", |j| {
        recv_event(j, "EV_QUERY") && j["kw"]["data"] == "to titi"
    });
    let answer = srv.wait(WAIT, "GinsFSM's answer", |s| {
        is(s, "probe", "EV_QUERY_ANSWER")
    });
    assert_eq!(text(&answer.kw, "data"), "to titi");

    // GinsFSM subscribes to a gaplic gobj's output event.
    titi.command("subscribe rsrv - probe EV_EMITTED");
    titi.command(r#"send rsrv - probe EV_NOTE {"data": "sync"}"#);
    srv.wait(WAIT, "the note after the subscription", |s| {
        is(s, "probe", "EV_NOTE") && text(&s.kw, "data") == "sync"
    });
    srv.post("probe", "EV_EMIT", kw! { "data" => "from gaplic" });
    let emitted = titi.wait("the broadcast", |j| recv_event(j, "EV_EMITTED"));
    assert_eq!(emitted["kw"]["data"], "from gaplic");
    assert_eq!(emitted["kw"]["original_event_name"], "EV_EMITTED");
    srv.stop();
}
