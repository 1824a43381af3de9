//! The router between two processes on loopback, and against GinsFSM:
//! - `round-trip`: an event and its answer between gobjs of two processes
//!   (this bench and a child process, the bench binary started again),
//!   beside a raw TCP ping-pong of the same JSON message between the same
//!   two kinds of process;
//! - `one-way`: events per second from one process to the other between
//!   two gaplic routers (a window of events in flight), beside the same
//!   held to GinsFSM's stop-and-wait (extensions off);
//! - `ginsfsm`: the round trip against the real GinsFSM 0.7.3 (Python, in
//!   the virtual environment of `tests/interop/setup.sh`), beside the same
//!   round trip against a gaplic peer. Skipped, with a line saying why,
//!   when Python or that environment cannot be had.
//!
//! Prints each ratio. `cargo bench -p gaplic-router --bench processes`
//! (add `-- round-trip`, `-- one-way` or `-- ginsfsm` for one part).

#[path = "../tests/interop/venv.rs"]
mod venv;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use gaplic::prelude::*;
use gaplic::{Dest, GaplicHandle, spawn_with};
use gaplic_router::wire::{self, IntraEvent, Message, Roles};
use gaplic_router::{GRouter, ROUTER};
use venv::ginsfsm_python;

const ROUND_TRIPS: u64 = 2_000;
const ONE_WAY: u64 = 20_000;
const STOP_AND_WAIT: u64 = 2_000;
/// GinsFSM moves an event in milliseconds, not microseconds.
const GINSFSM_ROUND_TRIPS: u64 = 100;
const RUNS: usize = 3;
/// Long enough for any run on a loaded machine.
const RUN_LIMIT: Duration = Duration::from_secs(120);
/// How a child process says where it listens, on standard output.
const LISTENING: &str = "listening ";

fn payload() -> Kw {
    kw! { "data" => "0123456789abcdef0123456789abcdef" }
}

// ----- this process's side -------------------------------------------------------

gobj! {
    /// This process's end: queries and waits for the answers, or blasts
    /// notes and waits for the far end's count.
    pub struct Near {
        tx: Option<Sender<Report>>,
        /// The far gaplic's name, and the unique name of its gobj.
        peer: String,
        peer_gobj: String,
        left: u64,
        started: Option<Instant>,
    }
    events {
        EV_ROUND_TRIPS: input top { n: u64 },
        EV_BLAST: input top { n: u64 },
        EV_QUERY_ANSWER: input bottom,
        EV_DONE: input bottom { micros: u64 },
        EV_ROUTE_OPENED: input bottom,
        EV_SEND_FAILED: input bottom,
    }
    states { ST_IDLE }
    machine {
        ST_IDLE {
            EV_ROUND_TRIPS => round_trips,
            EV_BLAST => blast,
            EV_QUERY_ANSWER => answer,
            EV_DONE => done,
            EV_ROUTE_OPENED => opened,
            EV_SEND_FAILED => failed,
        }
    }
}

#[derive(Debug)]
enum Report {
    Opened,
    Done(Duration),
    Failed(String),
}

impl Near {
    fn report(&self, report: Report) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(report);
        }
    }

    fn query(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        let dest = Dest::in_gaplic(self.peer.as_str(), self.peer_gobj.as_str());
        cx.post(dest, "EV_QUERY", payload())
    }

    fn opened(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.report(Report::Opened);
        Ok(Value::Null)
    }

    fn failed(&mut self, _cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.report(Report::Failed(ev.kw().to_string()));
        Ok(Value::Null)
    }

    fn round_trips(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.left = ev.get("n")?;
        self.started = Some(Instant::now());
        self.query(cx)?;
        Ok(Value::Null)
    }

    fn answer(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.left = self.left.saturating_sub(1);
        if self.left == 0 {
            let elapsed = self.started.map(|s| s.elapsed()).unwrap_or_default();
            self.report(Report::Done(elapsed));
            return Ok(Value::Null);
        }
        self.query(cx)?;
        Ok(Value::Null)
    }

    fn blast(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let n: u64 = ev.get("n")?;
        let dest = Dest::in_gaplic(self.peer.as_str(), self.peer_gobj.as_str());
        cx.post(dest.clone(), "EV_EXPECT", kw! { "n" => n })?;
        for _ in 0..n {
            cx.post(dest.clone(), "EV_NOTE", payload())?;
        }
        Ok(Value::Null)
    }

    fn done(&mut self, _cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let micros: u64 = ev.get("micros")?;
        self.report(Report::Done(Duration::from_micros(micros)));
        Ok(Value::Null)
    }
}

/// This process's gaplic: a router dialing `url`, where the gaplic called
/// `peer` listens, and a `Near` named `bench` talking to its `peer_gobj`.
struct NearGaplic {
    handle: GaplicHandle,
    reports: Receiver<Report>,
}

impl NearGaplic {
    fn start(name: &str, peer: &str, peer_gobj: &str, url: &str, router_kw: Kw) -> NearGaplic {
        let (tx, reports) = channel();
        let (peer, peer_gobj) = (peer.to_owned(), peer_gobj.to_owned());
        let mut router_kw = router_kw;
        router_kw.insert("static_routes", format!("{peer}, , {url}"));
        let handle = spawn_with(Gaplic::builder(name), move |gaplic| {
            let router = gaplic.create_unique_gobj::<GRouter>(ROUTER, None, router_kw)?;
            let near = gaplic.create_unique_gobj::<Near>("bench", None, Kw::new())?;
            if let Some(state) = gaplic.gobj_mut::<Near>(near) {
                state.tx = Some(tx);
                state.peer = peer;
                state.peer_gobj = peer_gobj;
            }
            gaplic.subscribe(
                router,
                Some("EV_ROUTE_OPENED"),
                near,
                SubscribeOptions::new(),
            )?;
            Ok(())
        })
        .expect("the bench gaplic starts");
        let near = NearGaplic { handle, reports };
        match near.reports.recv_timeout(Duration::from_secs(30)) {
            Ok(Report::Opened) => {}
            other => panic!("the route to the far gaplic did not open: {other:?}"),
        }
        near
    }

    /// Runs `event` `RUNS` times; the shortest time each took.
    fn best_of_runs(&self, event: &str, n: u64) -> Duration {
        (0..RUNS)
            .map(|_| {
                self.handle
                    .post("bench", event, kw! { "n" => n })
                    .expect("the bench gaplic runs");
                match self.reports.recv_timeout(RUN_LIMIT) {
                    Ok(Report::Done(elapsed)) => elapsed,
                    Ok(Report::Failed(reason)) => panic!("an event of {event} failed: {reason}"),
                    other => panic!("{event} did not end: {other:?}"),
                }
            })
            .min()
            .unwrap_or_default()
    }

    fn stop(self) {
        let _ = self.handle.stop();
        self.handle.join().expect("the bench gaplic ends cleanly");
    }
}

/// A child process that prints where it listens on its first line, and
/// ends when its standard input closes (or is killed, if it does not).
struct ChildPeer {
    child: Child,
    stdin: Option<ChildStdin>,
    address: String,
}

impl ChildPeer {
    fn start(mut command: Command, what: &str) -> ChildPeer {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            // Read on to the end, so the child never blocks on a full pipe.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(address) = line.split_once(LISTENING).map(|(_, a)| a.trim()) {
                    let _ = tx.send(address.to_owned());
                } else if let Some(port) = line
                    .contains("\"what\": \"ready\"")
                    .then(|| serde_json::from_str::<serde_json::Value>(&line).ok())
                    .flatten()
                    .and_then(|json| json["listen"].as_u64())
                {
                    let _ = tx.send(format!("127.0.0.1:{port}"));
                }
            }
        });
        let address = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("{what} did not say where it listens"));
        let stdin = child.stdin.take();
        ChildPeer {
            child,
            stdin,
            address,
        }
    }

    /// This bench binary as a child of the given kind.
    fn bench(args: &[&str]) -> ChildPeer {
        let exe = std::env::current_exe().expect("the bench binary's path");
        let mut command = Command::new(exe);
        command.args(args);
        ChildPeer::start(command, &format!("the child process `{}`", args.join(" ")))
    }
}

impl Drop for ChildPeer {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ----- the child processes ------------------------------------------------------

gobj! {
    /// The far end, in the child process: answers queries, counts notes
    /// and says how long they took to come.
    pub struct Far {
        expected: u64,
        received: u64,
        started: Option<Instant>,
    }
    events {
        EV_QUERY: input top,
        EV_EXPECT: input top { n: u64 },
        EV_NOTE: input top,
    }
    states { ST_IDLE }
    machine {
        ST_IDLE {
            EV_QUERY => query,
            EV_EXPECT => expect,
            EV_NOTE => note,
        }
    }
}

impl Far {
    fn query(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        cx.reply(ev, "EV_QUERY_ANSWER", payload())?;
        Ok(Value::Null)
    }

    fn expect(&mut self, _cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.expected = ev.get("n")?;
        self.received = 0;
        Ok(Value::Null)
    }

    fn note(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        if self.received == 0 {
            self.started = Some(Instant::now());
        }
        self.received += 1;
        if self.received == self.expected {
            let elapsed = self.started.map(|s| s.elapsed()).unwrap_or_default();
            let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
            cx.reply(ev, "EV_DONE", kw! { "micros" => micros })?;
        }
        Ok(Value::Null)
    }
}

/// `--peer-gaplic NAME EXTENSIONS`: a gaplic called NAME whose router
/// listens on loopback, with extensions on (`true`) or off, and a `Far`
/// named `bench`; it ends when standard input closes.
fn peer_gaplic(args: &[String]) {
    let [name, extensions] = args else {
        panic!("--peer-gaplic takes NAME and EXTENSIONS (true or false)");
    };
    let extensions = extensions == "true";
    let (tx, rx) = channel();
    let handle = spawn_with(Gaplic::builder(name.as_str()), move |gaplic| {
        let router = gaplic.create_unique_gobj::<GRouter>(
            ROUTER,
            None,
            kw! { "server" => true, "extensions" => extensions, "queue_limit" => 1_000_000, "window" => 256 },
        )?;
        gaplic.create_unique_gobj::<Far>("bench", None, Kw::new())?;
        let _ = tx.send(
            gaplic
                .gobj::<GRouter>(router)
                .and_then(|r| r.listen_address(gaplic)),
        );
        Ok(())
    })
    .expect("the far gaplic starts");
    let address = rx.recv().ok().flatten().expect("the far router listens");
    println!("{LISTENING}{address}");
    wait_for_end_of_input();
    let _ = handle.stop();
    let _ = handle.join();
}

/// `--peer-tcp`: echoes each line of one connection on loopback; ends
/// when the connection or standard input closes.
fn peer_tcp() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind on loopback");
    println!("{LISTENING}{}", listener.local_addr().expect("bound"));
    std::thread::spawn(|| {
        wait_for_end_of_input();
        std::process::exit(0);
    });
    let (stream, _) = listener.accept().expect("the bench connects");
    stream.set_nodelay(true).expect("nodelay");
    let mut writer = stream.try_clone().expect("a second handle");
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                if writer.write_all(&line).is_err() {
                    return;
                }
            }
        }
    }
}

fn wait_for_end_of_input() {
    let mut sink = Vec::new();
    let _ = std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut sink);
}

// ----- the parts -----------------------------------------------------------------

/// The JSON message a query is on the wire.
fn query_message() -> Vec<u8> {
    let event = IntraEvent {
        serial: Some(1),
        event_name: "EV_QUERY".into(),
        destination_gaplic: Some("bench-far".into()),
        destination_role: None,
        destination_gobj: "bench".into(),
        origin_gaplic: Some("bench-near".into()),
        origin_role: Roles::None,
        origin_gobj: Some("bench".into()),
        kw: payload(),
    };
    let mut text = wire::encode(&Message::Event(event)).expect("the query encodes");
    text.push(b'\n');
    text
}

/// Mean round trip of the query's JSON over raw TCP to a child process
/// that echoes lines (Nagle off), best of the runs.
fn tcp_round_trip() -> Duration {
    let echo = ChildPeer::bench(&["--peer-tcp"]);
    let stream = TcpStream::connect(&echo.address).expect("connect to the echo");
    stream.set_nodelay(true).expect("nodelay");
    let mut writer = stream.try_clone().expect("a second handle");
    let mut reader = BufReader::new(stream);
    let message = query_message();
    let mut line = Vec::new();
    (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..ROUND_TRIPS {
                writer.write_all(&message).expect("write to the echo");
                line.clear();
                reader.read_until(b'\n', &mut line).expect("read the echo");
                assert_eq!(line.len(), message.len(), "the echo is whole");
            }
            started.elapsed() / ROUND_TRIPS as u32
        })
        .min()
        .unwrap_or_default()
}

/// Mean round trip of a query and its answer between this process and a
/// gaplic child process, best of the runs.
fn gaplic_round_trip(tag: &str) -> Duration {
    let far_name = format!("bench-far-{tag}");
    let far = ChildPeer::bench(&["--peer-gaplic", &far_name, "true"]);
    let near = NearGaplic::start(
        &format!("bench-near-{tag}"),
        &far_name,
        "bench",
        &format!("ws://{}", far.address),
        Kw::new(),
    );
    let best = near.best_of_runs("EV_ROUND_TRIPS", ROUND_TRIPS) / ROUND_TRIPS as u32;
    near.stop();
    best
}

/// One-way events per second into a gaplic child process, best of the runs.
fn one_way(extensions: bool, n: u64) -> f64 {
    let tag = if extensions { "window" } else { "stopwait" };
    let far_name = format!("bench-far-{tag}");
    let far = ChildPeer::bench(&["--peer-gaplic", &far_name, &extensions.to_string()]);
    let near = NearGaplic::start(
        &format!("bench-near-{tag}"),
        &far_name,
        "bench",
        &format!("ws://{}", far.address),
        kw! { "extensions" => extensions, "queue_limit" => 1_000_000, "window" => 256 },
    );
    let best = near.best_of_runs("EV_BLAST", n);
    near.stop();
    n as f64 / best.as_secs_f64()
}

/// Mean round trip of a query and its answer between this process and
/// GinsFSM's `pyecho` (which answers `EV_QUERY` with `EV_QUERY_ANSWER`),
/// best of the runs.
fn ginsfsm_round_trip(python: &PathBuf) -> Duration {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop/ginsfsm_peer.py");
    let mut command = Command::new(python);
    command
        .arg(script)
        .args(["--name", "BENCHPY", "--roles", "benchpy", "--listen"])
        .arg(port.to_string())
        .args(["--lifetime", "600"])
        .stderr(Stdio::null());
    let far = ChildPeer::start(command, "the GinsFSM peer");
    let near = NearGaplic::start(
        "bench-near-ginsfsm",
        "BENCHPY",
        "pyecho",
        &format!("ws://{}", far.address),
        Kw::new(),
    );
    let best =
        near.best_of_runs("EV_ROUND_TRIPS", GINSFSM_ROUND_TRIPS) / GINSFSM_ROUND_TRIPS as u32;
    near.stop();
    best
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--peer-gaplic") => return peer_gaplic(&args[1..]),
        Some("--peer-tcp") => return peer_tcp(),
        _ => {}
    }
    if args.iter().any(|a| a == "--list") {
        for part in ["round-trip", "one-way", "ginsfsm"] {
            println!("{part}: bench");
        }
        return;
    }
    let parts: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    // `cargo bench -p gaplic-router --bench processes -- one-way` runs one part.
    let wanted = |part: &str| parts.is_empty() || parts.iter().any(|a| part.contains(a.as_str()));
    if wanted("round-trip") {
        let tcp = tcp_round_trip();
        let router = gaplic_round_trip("rtt");
        println!(
            "ratio processes/round-trip gaplic/raw-tcp = {:.2} (router {:.1} us, raw TCP {:.1} us, two processes on loopback; target <= 2)",
            router.as_secs_f64() / tcp.as_secs_f64(),
            micros(router),
            micros(tcp)
        );
    }
    if wanted("one-way") {
        let window = one_way(true, ONE_WAY);
        let stop_and_wait = one_way(false, STOP_AND_WAIT);
        println!(
            "ratio processes/one-way gaplic-window/stop-and-wait = {:.1} (window {window:.0} events/s, stop-and-wait {stop_and_wait:.0} events/s, two processes on loopback; target >= 10)",
            window / stop_and_wait
        );
    }
    if wanted("ginsfsm") {
        match ginsfsm_python() {
            Err(reason) => println!("ginsfsm: skipped: GinsFSM 0.7.3 is not available ({reason})"),
            Ok(python) => {
                let ginsfsm = ginsfsm_round_trip(&python);
                let gaplic = gaplic_round_trip("vs-ginsfsm");
                println!(
                    "ratio processes/round-trip ginsfsm-peer/gaplic-peer = {:.1} (GinsFSM peer {:.1} us, gaplic peer {:.1} us, two processes on loopback)",
                    ginsfsm.as_secs_f64() / gaplic.as_secs_f64(),
                    micros(ginsfsm),
                    micros(gaplic)
                );
            }
        }
    }
}
