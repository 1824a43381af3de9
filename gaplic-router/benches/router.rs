//! The router on loopback, between gobjs of two gaplics of one process:
//! - round trip (a ping through the router, its answer back) beside a raw
//!   TCP ping-pong of the same JSON message between two threads;
//! - one-way events per second between two gaplic routers (a window of
//!   events in flight) beside the same between two routers held to
//!   GinsFSM's stop-and-wait (extensions off).
//!
//! Prints both ratios. `cargo bench -p gaplic-router --bench router`

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use gaplic::prelude::*;
use gaplic::{GaplicHandle, spawn_with};
use gaplic_router::wire::{self, IntraEvent, Message, Roles};
use gaplic_router::{GRouter, ROUTER};

const ROUND_TRIPS: u64 = 2_000;
const ONE_WAY: u64 = 20_000;
const STOP_AND_WAIT: u64 = 2_000;
const RUNS: usize = 3;

gobj! {
    /// Both ends of the bench: pings and answers, blasts and counts.
    pub struct Bench {
        tx: Option<Sender<Report>>,
        peer: String,
        left: u64,
        started: Option<Instant>,
        received: u64,
        expected: u64,
    }
    events {
        EV_ROUND_TRIPS: input top { n: u64 },
        EV_BLAST: input top { n: u64 },
        EV_PING: input bottom,
        EV_PONG: input bottom,
        EV_NOTE: input bottom,
        EV_ROUTE_OPENED: input bottom,
        EV_SEND_FAILED: input bottom,
    }
    states { ST_IDLE }
    machine {
        ST_IDLE {
            EV_ROUND_TRIPS => round_trips,
            EV_BLAST => blast,
            EV_PING => ping,
            EV_PONG => pong,
            EV_NOTE => note,
            EV_ROUTE_OPENED => opened,
            EV_SEND_FAILED => failed,
        }
    }
}

#[derive(Debug)]
enum Report {
    Opened,
    Done(Duration),
}

fn payload() -> Kw {
    kw! { "data" => "0123456789abcdef0123456789abcdef" }
}

impl Bench {
    fn report(&self, report: Report) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(report);
        }
    }

    fn opened(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.report(Report::Opened);
        Ok(Value::Null)
    }

    fn failed(&mut self, _cx: &mut Cx<Self>, ev: &Event) -> Ret {
        panic!("a bench event failed: {}", ev.kw());
    }

    fn round_trips(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.left = ev.get("n")?;
        self.started = Some(Instant::now());
        let peer = self.peer.clone();
        gaplic_router::send_outside(cx, Some(&peer), None, "bench", "EV_PING", payload())?;
        Ok(Value::Null)
    }

    fn ping(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        // Both gaplics run in this process: the answer is sent through the
        // router explicitly, as it would go between processes.
        let origin = ev
            .origin()
            .cloned()
            .ok_or_else(|| GobjError::failed("a ping with no origin"))?;
        gaplic_router::send_outside(
            cx,
            Some(&origin.gaplic),
            None,
            &origin.gobj,
            "EV_PONG",
            payload(),
        )?;
        Ok(Value::Null)
    }

    fn pong(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.left -= 1;
        if self.left == 0 {
            let elapsed = self.started.map(|s| s.elapsed()).unwrap_or_default();
            self.report(Report::Done(elapsed));
            return Ok(Value::Null);
        }
        let peer = self.peer.clone();
        gaplic_router::send_outside(cx, Some(&peer), None, "bench", "EV_PING", payload())?;
        Ok(Value::Null)
    }

    fn blast(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let n: u64 = ev.get("n")?;
        let peer = self.peer.clone();
        for _ in 0..n {
            gaplic_router::send_outside(cx, Some(&peer), None, "bench", "EV_NOTE", payload())?;
        }
        Ok(Value::Null)
    }

    fn note(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        if self.received == 0 {
            self.started = Some(Instant::now());
        }
        self.received += 1;
        if self.received == self.expected {
            self.received = 0;
            let elapsed = self.started.map(|s| s.elapsed()).unwrap_or_default();
            self.report(Report::Done(elapsed));
        }
        Ok(Value::Null)
    }
}

/// A gaplic with a router and a `bench` gobj that talks to `peer`.
fn start(
    name: &str,
    peer: &str,
    router_kw: Kw,
    expected: u64,
) -> (GaplicHandle, Receiver<Report>, Option<String>) {
    let (tx, rx) = channel();
    let (addr_tx, addr_rx) = channel();
    let peer = peer.to_owned();
    let handle = spawn_with(Gaplic::builder(name), move |gaplic| {
        let router = gaplic.create_unique_gobj::<GRouter>(ROUTER, None, router_kw)?;
        let bench = gaplic.create_unique_gobj::<Bench>("bench", None, Kw::new())?;
        let state = gaplic.gobj_mut::<Bench>(bench).unwrap();
        state.tx = Some(tx);
        state.peer = peer;
        state.expected = expected;
        gaplic.subscribe(
            router,
            Some("EV_ROUTE_OPENED"),
            bench,
            SubscribeOptions::new(),
        )?;
        let listen = gaplic
            .gobj::<GRouter>(router)
            .and_then(|r| r.listen_address(gaplic));
        let _ = addr_tx.send(listen);
        Ok(())
    })
    .expect("the bench gaplic starts");
    let listen = addr_rx.recv().unwrap();
    (handle, rx, listen)
}

fn wait_opened(rx: &Receiver<Report>) {
    match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(Report::Opened) => {}
        other => panic!("the route did not open: {other:?}"),
    }
}

fn wait_done(rx: &Receiver<Report>) -> Duration {
    match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(Report::Done(elapsed)) => elapsed,
        other => panic!("the run did not end: {other:?}"),
    }
}

/// Two connected gaplics; `extensions` off holds them to stop-and-wait.
struct Pair {
    server: (GaplicHandle, Receiver<Report>),
    client: (GaplicHandle, Receiver<Report>),
}

fn pair(tag: &str, extensions: bool, expected: u64) -> Pair {
    let (a, b) = (format!("bench-a-{tag}"), format!("bench-b-{tag}"));
    let common = kw! { "extensions" => extensions, "queue_limit" => 1_000_000, "window" => 256 };
    let mut server_kw = common.clone();
    server_kw.insert("server", true);
    let (sh, srx, listen) = start(&a, &b, server_kw, expected);
    let mut client_kw = common;
    client_kw.insert("static_routes", format!("{a}, , ws://{}", listen.unwrap()));
    let (ch, crx, _) = start(&b, &a, client_kw, expected);
    wait_opened(&crx);
    wait_opened(&srx);
    Pair {
        server: (sh, srx),
        client: (ch, crx),
    }
}

impl Pair {
    fn stop(self) {
        for (handle, _) in [self.client, self.server] {
            handle.stop().ok();
            handle.join().expect("the bench gaplic ends cleanly");
        }
    }
}

/// Mean round trip through the routers, best of the runs.
fn router_round_trip() -> Duration {
    let pair = pair("rtt", true, u64::MAX);
    let best = (0..RUNS)
        .map(|_| {
            pair.client
                .0
                .post("bench", "EV_ROUND_TRIPS", kw! { "n" => ROUND_TRIPS })
                .unwrap();
            wait_done(&pair.client.1) / ROUND_TRIPS as u32
        })
        .min()
        .unwrap();
    pair.stop();
    best
}

/// One-way events per second, best of the runs.
fn one_way(extensions: bool, n: u64) -> f64 {
    let tag = if extensions { "window" } else { "stopwait" };
    let pair = pair(tag, extensions, n);
    let best = (0..RUNS)
        .map(|_| {
            pair.client
                .0
                .post("bench", "EV_BLAST", kw! { "n" => n })
                .unwrap();
            n as f64 / wait_done(&pair.server.1).as_secs_f64()
        })
        .fold(0.0, f64::max);
    pair.stop();
    best
}

/// The JSON message a ping is on the wire.
fn ping_message() -> Vec<u8> {
    let event = IntraEvent {
        serial: Some(1),
        event_name: "EV_PING".into(),
        destination_gaplic: Some("bench-a-rtt".into()),
        destination_role: None,
        destination_gobj: "bench".into(),
        origin_gaplic: Some("bench-b-rtt".into()),
        origin_role: Roles::None,
        origin_gobj: Some("bench".into()),
        kw: payload(),
    };
    let mut text = wire::encode(&Message::Event(event)).unwrap();
    text.push(b'\n');
    text
}

/// Mean round trip of the same JSON message over raw TCP between two
/// threads (newline-framed, Nagle off), best of the runs.
fn tcp_round_trip() -> Duration {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let echo = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream.set_nodelay(true).unwrap();
        let mut writer = stream.try_clone().unwrap();
        let mut reader = BufReader::new(stream);
        let mut line = Vec::new();
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line).unwrap() == 0 {
                return;
            }
            writer.write_all(&line).unwrap();
        }
    });
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_nodelay(true).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let message = ping_message();
    let mut line = Vec::new();
    let best = (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..ROUND_TRIPS {
                writer.write_all(&message).unwrap();
                line.clear();
                reader.read_until(b'\n', &mut line).unwrap();
            }
            started.elapsed() / ROUND_TRIPS as u32
        })
        .min()
        .unwrap();
    drop(writer);
    drop(reader);
    echo.join().unwrap();
    best
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if std::env::args().any(|a| a == "--list") {
        println!("round-trip: bench");
        println!("one-way: bench");
        return;
    }
    // `cargo bench -p gaplic-router --bench router -- one-way` runs one part.
    let wanted = |part: &str| args.is_empty() || args.iter().any(|a| part.contains(a.as_str()));
    if wanted("round-trip") {
        let tcp = tcp_round_trip();
        let router = router_round_trip();
        println!(
            "ratio router/round-trip gaplic/raw-tcp = {:.2} (router {:.1} us, raw TCP {:.1} us; target <= 2)",
            router.as_secs_f64() / tcp.as_secs_f64(),
            router.as_secs_f64() * 1e6,
            tcp.as_secs_f64() * 1e6
        );
    }
    if wanted("one-way") {
        let window = one_way(true, ONE_WAY);
        let stop_and_wait = one_way(false, STOP_AND_WAIT);
        println!(
            "ratio router/one-way gaplic-window/stop-and-wait = {:.1} (window {:.0} events/s, stop-and-wait {:.0} events/s; target >= 10)",
            window / stop_and_wait,
            window,
            stop_and_wait
        );
    }
}
