//! Two gaplics in two processes, the second in a network namespace of its
//! own joined to the first by a veth pair, so that their route crosses a
//! real network interface: events both ways by name and by role, answers
//! with `cx.reply`, an external subscription receiving a broadcast.
//!
//! The test makes the namespace and the pair (`ip netns add`, `ip link add
//! ... type veth`, a /30 of 10.200.0.0/14), starts its own binary again in
//! the namespace (`ip netns exec`) as the far gaplic, and removes them when
//! it ends, whatever the outcome. Where namespaces cannot be made (no
//! `ip`, not root, a container that refuses them) it prints why and runs
//! the far gaplic as a process on loopback instead: the same exchange,
//! without the interface.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gaplic::prelude::*;
use gaplic::{Dest, GaplicHandle, spawn_with};
use gaplic_router::{GRouter, ROUTER};
use serde_json::{Value as Json, json};

/// Set in the far gaplic's environment: `name|role|listen address`.
const PEER_ENV: &str = "GAPLIC_CROSS_HOST_PEER";
/// The test the far gaplic's process runs (this one, in its far role).
const TEST_NAME: &str = "events_cross_a_real_interface";
/// How the far gaplic starts its lines on standard output.
const PEER_LINE: &str = "cross-host peer: ";
/// Generous: two cores shared with other work.
const WAIT: Duration = Duration::from_secs(30);
/// The far gaplic ends by itself after this long, whatever happens to
/// the test that started it.
const PEER_LIFETIME: Duration = Duration::from_secs(180);
/// Namespaces this test makes start with this, then the test's process
/// id.
const NAMESPACE_PREFIX: &str = "gaplic-xh-";

/// Something a `Side` received.
#[derive(Clone, Debug)]
struct Seen {
    event: String,
    /// The payload's `data`, or "".
    data: String,
    /// The gaplic it came from, for an event that came through the router.
    origin: String,
    /// The role that gaplic came with, or "".
    origin_role: String,
}

impl Seen {
    fn to_json(&self) -> Json {
        json!({
            "event": self.event,
            "data": self.data,
            "origin": self.origin,
            "origin_role": self.origin_role,
        })
    }

    fn from_json(json: &Json) -> Option<Seen> {
        Some(Seen {
            event: json["event"].as_str()?.to_owned(),
            data: json["data"].as_str()?.to_owned(),
            origin: json["origin"].as_str()?.to_owned(),
            origin_role: json["origin_role"].as_str()?.to_owned(),
        })
    }
}

gobj! {
    /// One end of the exchange: asks the other end, answers it, publishes
    /// what the test tells it to, and records what reaches it.
    pub struct Side {
        tx: Option<Sender<Seen>>,
    }
    events {
        /// Send `EV_QUERY { data }` to `side` of `gaplic`, or of `role`.
        EV_ASK: input top,
        /// Subscribe to `EV_EMITTED` of `side` of `gaplic`.
        EV_SUBSCRIBE: input top,
        /// Publish `EV_EMITTED { data }`.
        EV_EMIT: input top,
        /// Answered with `EV_ANSWER { data }`.
        EV_QUERY: input top,
        EV_ANSWER: input top,
        EV_EMITTED: input output top,
        EV_ROUTE_OPENED: input bottom,
        EV_ROUTE_CLOSED: input bottom,
        EV_SEND_FAILED: input bottom,
    }
    states { ST_IDLE }
    machine {
        ST_IDLE {
            EV_ASK => ask,
            EV_SUBSCRIBE => subscribe,
            EV_EMIT => emit,
            EV_QUERY => query,
            EV_ANSWER => record,
            EV_EMITTED => record,
            EV_ROUTE_OPENED => record,
            EV_ROUTE_CLOSED => record,
            EV_SEND_FAILED => record,
        }
    }
}

/// The gaplic an event that came through the router was sent from, and
/// its role ("" for none).
fn origin(ev: &Event) -> (String, String) {
    ev.origin().map_or_else(Default::default, |origin| {
        let role = origin.role.as_deref().unwrap_or_default();
        (origin.gaplic.to_string(), role.to_owned())
    })
}

/// A string of `ev`'s payload, or "".
fn text(ev: &Event, key: &str) -> String {
    ev.get::<Option<String>>(key)
        .ok()
        .flatten()
        .unwrap_or_default()
}

impl Side {
    fn record(&mut self, _cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let data = match ev.name() {
            // The route's peer, or the reason of a failure.
            "EV_ROUTE_OPENED" | "EV_ROUTE_CLOSED" => text(ev, "gaplic"),
            "EV_SEND_FAILED" => text(ev, "reason"),
            _ => text(ev, "data"),
        };
        let (origin, origin_role) = origin(ev);
        if let Some(tx) = &self.tx {
            let _ = tx.send(Seen {
                event: ev.name().to_owned(),
                data,
                origin,
                origin_role,
            });
        }
        Ok(Value::Null)
    }

    fn ask(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let data = text(ev, "data");
        let dest = match ev.get::<Option<String>>("gaplic")? {
            Some(gaplic) => Dest::in_gaplic(gaplic, "side"),
            None => Dest::in_role(ev.get::<String>("role")?, "side"),
        };
        cx.post(dest, "EV_QUERY", kw! { "data" => data })?;
        Ok(Value::Null)
    }

    fn subscribe(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let gaplic: String = ev.get("gaplic")?;
        gaplic_router::subscribe_outside(cx, Some(&gaplic), None, "side", "EV_EMITTED")?;
        Ok(Value::Null)
    }

    fn emit(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        cx.broadcast(SideEvent::EV_EMITTED, kw! { "data" => text(ev, "data") })?;
        Ok(Value::Null)
    }

    fn query(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.record(cx, ev)?;
        cx.reply(ev, "EV_ANSWER", kw! { "data" => text(ev, "data") })?;
        Ok(Value::Null)
    }
}

/// A gaplic on a thread of this process with a router made of
/// `router_kw` and a `Side` named `side`, told of the router's routes.
struct SideGaplic {
    handle: GaplicHandle,
    seen: Receiver<Seen>,
    listen: Option<String>,
}

fn start_gaplic(name: &str, role: &str, router_kw: Kw) -> SideGaplic {
    let (tx, seen) = channel();
    let (listen_tx, listen_rx) = channel();
    let handle = spawn_with(Gaplic::builder(name).role(role), move |gaplic| {
        let router = gaplic.create_unique_gobj::<GRouter>(ROUTER, None, router_kw)?;
        let side = gaplic.create_unique_gobj::<Side>("side", None, Kw::new())?;
        if let Some(state) = gaplic.gobj_mut::<Side>(side) {
            state.tx = Some(tx);
        }
        for event in ["EV_ROUTE_OPENED", "EV_ROUTE_CLOSED"] {
            gaplic.subscribe(router, Some(event), side, SubscribeOptions::new())?;
        }
        let listen = gaplic
            .gobj::<GRouter>(router)
            .and_then(|r| r.listen_address(gaplic));
        let _ = listen_tx.send(listen);
        Ok(())
    })
    .expect("the gaplic starts");
    let listen = listen_rx
        .recv_timeout(WAIT)
        .expect("the gaplic says where it listens");
    SideGaplic {
        handle,
        seen,
        listen,
    }
}

impl SideGaplic {
    fn post(&self, event: &str, kw: Kw) {
        self.handle
            .post("side", event, kw)
            .expect("the gaplic runs");
    }

    fn wait(&self, what: &str, pick: impl Fn(&Seen) -> bool) -> Seen {
        wait_for(&self.seen, what, pick, String::new)
    }

    fn stop(self) {
        let _ = self.handle.stop();
        self.handle.join().expect("the gaplic ends cleanly");
    }
}

/// Waits up to [`WAIT`] for what `pick` accepts, skipping the rest; the
/// panic says what came instead, and `log` what else helps.
fn wait_for(
    seen: &Receiver<Seen>,
    what: &str,
    pick: impl Fn(&Seen) -> bool,
    log: impl Fn() -> String,
) -> Seen {
    let deadline = Instant::now() + WAIT;
    let mut skipped = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match seen.recv_timeout(left) {
            Ok(seen) if pick(&seen) => return seen,
            Ok(seen) => skipped.push(format!("{seen:?}")),
            Err(_) => panic!(
                "no {what} within {WAIT:?}; came instead:\n  {}{}",
                skipped.join("\n  "),
                log()
            ),
        }
    }
}

// ----- the far gaplic, in its own process ---------------------------------------

/// The far gaplic's process: a gaplic listening where `spec` says, its
/// `Side` driven by commands on standard input (`ask gaplic NAME DATA`,
/// `ask role ROLE DATA`, `emit DATA`), what reaches it printed on standard
/// output. It ends at the end of its input, or after [`PEER_LIFETIME`].
fn run_far_gaplic(spec: &str) {
    let fields: Vec<&str> = spec.split('|').collect();
    let [name, role, listen] = fields.as_slice() else {
        panic!("{PEER_ENV} is `{spec}`: expected `name|role|listen address`");
    };
    std::thread::spawn(|| {
        std::thread::sleep(PEER_LIFETIME);
        eprintln!("the far gaplic ends: its lifetime is over");
        std::process::exit(3);
    });
    let far = start_gaplic(name, role, kw! { "server" => true, "listen" => *listen });
    let address = far.listen.clone().expect("the far router listens");
    let say = |line: String| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{PEER_LINE}{line}");
        let _ = out.flush();
    };
    say(format!("listening {address}"));
    let seen = far.seen;
    std::thread::spawn(move || {
        for seen in seen {
            let line = format!("seen {}", seen.to_json());
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{PEER_LINE}{line}");
            let _ = out.flush();
        }
    });
    for line in std::io::stdin().lock().lines().map_while(Result::ok) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let posted = match words.as_slice() {
            ["ask", "gaplic", gaplic, data] => far.handle.post(
                "side",
                "EV_ASK",
                kw! { "gaplic" => *gaplic, "data" => *data },
            ),
            ["ask", "role", role, data] => {
                far.handle
                    .post("side", "EV_ASK", kw! { "role" => *role, "data" => *data })
            }
            ["emit", data] => far.handle.post("side", "EV_EMIT", kw! { "data" => *data }),
            _ => panic!("the far gaplic cannot read the command `{line}`"),
        };
        posted.expect("the far gaplic runs");
    }
    let _ = far.handle.stop();
    far.handle.join().expect("the far gaplic ends cleanly");
}

/// The far gaplic's process, seen from the test.
struct FarGaplic {
    child: Child,
    stdin: Option<ChildStdin>,
    seen: Receiver<Seen>,
    /// Its standard error, and what it printed that was not a `Seen`.
    log: Arc<Mutex<Vec<String>>>,
    address: String,
}

impl FarGaplic {
    /// Starts this test binary again as the far gaplic called `name` with
    /// role `role`, listening on `ip` (port 0), in `namespace` when given.
    fn start(namespace: Option<&str>, name: &str, role: &str, ip: &str) -> FarGaplic {
        let exe = std::env::current_exe().expect("the test binary's path");
        let mut command = match namespace {
            Some(namespace) => {
                let mut command = Command::new("ip");
                command.args(["netns", "exec", namespace]).arg(&exe);
                command
            }
            None => Command::new(&exe),
        };
        let mut child = command
            .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
            .env(PEER_ENV, format!("{name}|{role}|{ip}:0"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the far gaplic's process starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (seen_tx, seen) = channel();
        let (address_tx, address_rx) = channel();
        let stdout = child.stdout.take().expect("piped");
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // The harness starts its line `test NAME ... ` before the
                // test prints.
                let Some((_, said)) = line.split_once(PEER_LINE) else {
                    kept.lock().unwrap_or_else(|e| e.into_inner()).push(line);
                    continue;
                };
                if let Some(address) = said.strip_prefix("listening ") {
                    let _ = address_tx.send(address.to_owned());
                } else if let Some(seen) = said
                    .strip_prefix("seen ")
                    .and_then(|json| serde_json::from_str::<Json>(json).ok())
                    .and_then(|json| Seen::from_json(&json))
                {
                    let _ = seen_tx.send(seen);
                } else {
                    kept.lock().unwrap_or_else(|e| e.into_inner()).push(line);
                }
            }
        });
        let stderr = child.stderr.take().expect("piped");
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                kept.lock().unwrap_or_else(|e| e.into_inner()).push(line);
            }
        });
        let stdin = child.stdin.take();
        let mut far = FarGaplic {
            child,
            stdin,
            seen,
            log,
            address: String::new(),
        };
        match address_rx.recv_timeout(WAIT) {
            Ok(address) => far.address = address,
            Err(_) => panic!(
                "the far gaplic did not say where it listens within {WAIT:?}{}",
                far.log_text()
            ),
        }
        far
    }

    fn log_text(&self) -> String {
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        format!("\nthe far gaplic's output:\n  {}", log.join("\n  "))
    }

    fn command(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("the far gaplic's input is open");
        writeln!(stdin, "{line}").expect("the far gaplic reads its commands");
        stdin.flush().expect("the far gaplic reads its commands");
    }

    fn wait(&self, what: &str, pick: impl Fn(&Seen) -> bool) -> Seen {
        wait_for(&self.seen, what, pick, || self.log_text())
    }
}

impl Drop for FarGaplic {
    /// Ends the far gaplic: the end of its input stops it; one that does
    /// not stop within a few seconds is killed.
    fn drop(&mut self) {
        support::end_child(&mut self.child, self.stdin.take(), Duration::from_secs(10));
    }
}

// ----- the network namespace ---------------------------------------------------

/// A network namespace joined to this one by a veth pair, removed on drop.
struct Veth {
    namespace: String,
    /// This side's interface.
    host_if: String,
    host_ip: String,
    /// The address inside the namespace.
    peer_ip: String,
    /// What was made, to be undone.
    made_namespace: bool,
    made_link: bool,
}

/// Runs `ip` with `args`; on failure, the command and what it said.
fn ip(args: &[&str]) -> Result<String, String> {
    let output = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run `ip`: {e}"))?;
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
    }
    Err(format!(
        "`ip {}` failed ({}): {}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    ))
}

/// Removes the namespaces that runs of this test killed before they could
/// clean up (their process is gone); the veth pairs go with them.
fn remove_stale_namespaces() {
    let Ok(list) = ip(&["netns", "list"]) else {
        return;
    };
    for name in list.lines().filter_map(|l| l.split_whitespace().next()) {
        let Some(pid) = name
            .strip_prefix(NAMESPACE_PREFIX)
            .and_then(|rest| rest.split('-').next())
        else {
            continue;
        };
        if !Path::new("/proc").join(pid).exists() {
            let _ = ip(&["netns", "del", name]);
        }
    }
}

impl Veth {
    /// Makes a namespace and a veth pair with a /30 on it, the host's end
    /// `.1` and the namespace's `.2`, and checks that a program can run in
    /// the namespace. The error says which step failed and why.
    fn create() -> Result<Veth, String> {
        static RUNS: AtomicU32 = AtomicU32::new(0);
        ip(&["-V"]).map_err(|e| format!("no usable `ip` command: {e}"))?;
        remove_stale_namespaces();
        let pid = std::process::id();
        // A /30 of 10.200.0.0/14 that no interface of this host has.
        let (n, subnet) = (0..64)
            .map(|_| RUNS.fetch_add(1, Ordering::Relaxed))
            .map(|n| {
                let block = (pid.wrapping_mul(64).wrapping_add(n)) % (1 << 16);
                let subnet = [
                    10,
                    200 + (block >> 14) as u8,
                    (block >> 6) as u8,
                    ((block & 63) << 2) as u8,
                ];
                (n, subnet)
            })
            .find(|(_, s)| {
                let cidr = format!("{}.{}.{}.{}/30", s[0], s[1], s[2], s[3]);
                ip(&["-o", "addr", "show", "to", &cidr]).is_ok_and(|out| out.trim().is_empty())
            })
            .ok_or("no free /30 in 10.200.0.0/14")?;
        let address = |last: u8| {
            format!(
                "{}.{}.{}.{}",
                subnet[0],
                subnet[1],
                subnet[2],
                subnet[3] + last
            )
        };
        let mut veth = Veth {
            namespace: format!("{NAMESPACE_PREFIX}{pid}-{n}"),
            host_if: format!("gx{pid}a{n}"),
            host_ip: address(1),
            peer_ip: address(2),
            made_namespace: false,
            made_link: false,
        };
        let peer_if = format!("gx{pid}b{n}");
        let ns = veth.namespace.clone();
        ip(&["netns", "add", &ns])?;
        veth.made_namespace = true;
        ip(&[
            "link",
            "add",
            &veth.host_if,
            "type",
            "veth",
            "peer",
            "name",
            &peer_if,
            "netns",
            &ns,
        ])?;
        veth.made_link = true;
        ip(&[
            "addr",
            "add",
            &format!("{}/30", veth.host_ip),
            "dev",
            &veth.host_if,
        ])?;
        ip(&["link", "set", &veth.host_if, "up"])?;
        ip(&[
            "-n",
            &ns,
            "addr",
            "add",
            &format!("{}/30", veth.peer_ip),
            "dev",
            &peer_if,
        ])?;
        ip(&["-n", &ns, "link", "set", &peer_if, "up"])?;
        ip(&["-n", &ns, "link", "set", "lo", "up"])?;
        ip(&["netns", "exec", &ns, "true"])?;
        Ok(veth)
    }

    /// Packets the host's end has received and sent.
    fn packets(&self) -> (u64, u64) {
        let read = |what: &str| {
            std::fs::read_to_string(format!(
                "/sys/class/net/{}/statistics/{what}_packets",
                self.host_if
            ))
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(0)
        };
        (read("rx"), read("tx"))
    }
}

impl Drop for Veth {
    fn drop(&mut self) {
        if self.made_link
            && let Err(error) = ip(&["link", "del", &self.host_if])
        {
            eprintln!("cross-host: {error}");
        }
        if self.made_namespace
            && let Err(error) = ip(&["netns", "del", &self.namespace])
        {
            eprintln!("cross-host: {error}");
        }
    }
}

// ----- the test ------------------------------------------------------------------

/// Prints `line` on standard error past the test harness's capture: where
/// the far gaplic runs is worth seeing on every run.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "cross-host: {line}");
}

#[test]
fn events_cross_a_real_interface() {
    if let Ok(spec) = std::env::var(PEER_ENV) {
        run_far_gaplic(&spec);
        return;
    }
    support::trace();
    let veth = match Veth::create() {
        Ok(veth) => {
            say(&format!(
                "the far gaplic runs in network namespace `{}` at {}, over veth `{}` ({})",
                veth.namespace, veth.peer_ip, veth.host_if, veth.host_ip
            ));
            Some(veth)
        }
        Err(reason) => {
            say(&format!(
                "no network namespace here ({reason}); the far gaplic runs on loopback instead"
            ));
            None
        }
    };
    let pid = std::process::id();
    let (near_name, far_name) = (format!("near-{pid}"), format!("far-{pid}"));
    let far_ip = veth.as_ref().map_or("127.0.0.1", |v| v.peer_ip.as_str());
    let mut far = FarGaplic::start(
        veth.as_ref().map(|v| v.namespace.as_str()),
        &far_name,
        "far-role",
        far_ip,
    );
    assert!(
        far.address.starts_with(&format!("{far_ip}:")),
        "the far gaplic listens on {}",
        far.address
    );
    let before = veth.as_ref().map(Veth::packets);
    let near = start_gaplic(
        &near_name,
        "near-role",
        kw! { "static_routes" => format!("{far_name}, far-role, ws://{}", far.address) },
    );
    let opened = near.wait("the route to the far gaplic", |s| {
        s.event == "EV_ROUTE_OPENED"
    });
    assert_eq!(opened.data, far_name);
    far.wait("the route from the near gaplic", |s| {
        s.event == "EV_ROUTE_OPENED" && s.data == near_name
    });

    // Near to far, by name then by role; the far side answers with
    // `cx.reply`, back over the same route.
    for (key, value, data) in [
        ("gaplic", far_name.as_str(), "to-far-by-name"),
        ("role", "far-role", "to-far-by-role"),
    ] {
        near.post("EV_ASK", kw! { key => value, "data" => data });
        let query = far.wait("the query from the near gaplic", |s| s.event == "EV_QUERY");
        assert_eq!(
            (query.data.as_str(), query.origin.as_str()),
            (data, near_name.as_str())
        );
        assert_eq!(
            query.origin_role, "near-role",
            "the origin's role came along"
        );
        let answer = near.wait("the far gaplic's answer", |s| s.event == "EV_ANSWER");
        assert_eq!(
            (answer.data.as_str(), answer.origin.as_str()),
            (data, far_name.as_str())
        );
    }

    // Far to near, by name then by role, started by the far side.
    for (how, to, data) in [
        ("gaplic", near_name.as_str(), "to-near-by-name"),
        ("role", "near-role", "to-near-by-role"),
    ] {
        far.command(&format!("ask {how} {to} {data}"));
        let query = near.wait("the query from the far gaplic", |s| s.event == "EV_QUERY");
        assert_eq!(
            (query.data.as_str(), query.origin.as_str()),
            (data, far_name.as_str())
        );
        assert_eq!(
            query.origin_role, "far-role",
            "the origin's role came along"
        );
        let answer = far.wait("the near gaplic's answer", |s| s.event == "EV_ANSWER");
        assert_eq!(
            (answer.data.as_str(), answer.origin.as_str()),
            (data, near_name.as_str())
        );
    }

    // An external subscription: made, then known to be in place once a
    // query sent after it on the same route is answered.
    near.post("EV_SUBSCRIBE", kw! { "gaplic" => far_name.as_str() });
    near.post(
        "EV_ASK",
        kw! { "gaplic" => far_name.as_str(), "data" => "after-subscribing" },
    );
    near.wait("the answer after subscribing", |s| {
        s.event == "EV_ANSWER" && s.data == "after-subscribing"
    });
    far.command("emit broadcast-across");
    let emitted = near.wait("the far gaplic's broadcast", |s| s.event == "EV_EMITTED");
    assert_eq!(
        (emitted.data.as_str(), emitted.origin.as_str()),
        ("broadcast-across", far_name.as_str())
    );

    if let (Some(veth), Some((rx_before, tx_before))) = (&veth, before) {
        let (rx, tx) = veth.packets();
        assert!(
            rx > rx_before && tx > tx_before,
            "the route crossed `{}`: packets in {rx_before} -> {rx}, out {tx_before} -> {tx}",
            veth.host_if
        );
    }
    near.stop();
    drop(far);
    drop(veth);
}
