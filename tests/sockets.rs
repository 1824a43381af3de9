//! The socket gobjs on loopback TCP and Unix domain sockets: `GSock`
//! (one connection), `GServerSock` (a listener making a `GSock` per
//! connection) and `GConnex` (a client that dials again).
//!
//! Every test runs its own gaplic on its own thread, with `Recorder` gobjs
//! (see `sockets/harness.rs`) that log what the sockets publish and, for a
//! server, echo bytes back. The loop runs until a condition on that log
//! holds, under a watchdog timeout of the gaplic that fails the test; std
//! sockets read with deadlines. Nothing sleeps to wait for something, and
//! nothing leaves the machine. A test marked `#[ignore = "bug: ..."]`
//! asserts the documented behaviour the runtime does not have yet.

#[path = "sockets/harness.rs"]
mod harness;

use std::cell::{Cell, RefCell};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::rc::Rc;
use std::time::{Duration, Instant};

use gaplic::prelude::*;
use gaplic::{GConnex, GConnexEvent, GServerSock, GSock, GSockEvent};
use harness::{
    End, HEAVY_LIMIT, Harness, LIMIT, PROBE, TempDir, assert_same_bytes, pattern,
    read_to_end_within, std_client, unused_address,
};

/// How long a test waits for a peer thread, longer than the peer's own
/// read deadlines so that its failure, not a timeout here, is reported.
const PEER_LIMIT: Duration = Duration::from_secs(12);

/// How many connections `server` counts (`u64::MAX` when it is gone).
fn connections(gaplic: &Gaplic, server: GobjId) -> u64 {
    gaplic
        .gobj::<GServerSock>(server)
        .map_or(u64::MAX, GServerSock::connections)
}

/// The bytes `gsock` holds in its output buffer (`usize::MAX` when it is
/// gone or mid-action).
fn buffered(gaplic: &Gaplic, gsock: GobjId) -> usize {
    gaplic
        .gobj::<GSock>(gsock)
        .map_or(usize::MAX, GSock::buffered)
}

/// Settings for a socket that sends more than fits in the kernel's
/// buffers at once: a `tx_limit` of 16 MiB, past the 1 MiB default.
fn big_tx_limit() -> Kw {
    kw! { "tx_limit" => 16_u64 << 20 }
}

/// An echo server app, a client recorder and a server on a free loopback
/// port with `settings`: `(harness, app, user, server, address)`.
fn echo_setup(name: &str, settings: Kw) -> (Harness, GobjId, GobjId, GobjId, String) {
    let mut h = Harness::new(name);
    let app = h.recorder("app", true);
    let user = h.recorder("user", false);
    let (server, address) = h.server(app, "127.0.0.1:0", settings);
    (h, app, user, server, address)
}

/// Connects a new `GSock` child of `user` to `address` and runs until both
/// sides say so; returns the client and the server's `GSock` for it.
fn connected_pair(
    h: &mut Harness,
    app: GobjId,
    user: GobjId,
    name: &str,
    settings: Kw,
    address: &str,
) -> (GobjId, GobjId) {
    let client = h.gsock(user, name, settings);
    let (app_before, log) = (h.log.count(app, "EV_CONNECTED"), h.log.clone());
    h.connect(client, address).expect("the dial starts");
    h.run_until("both sides are connected", LIMIT, move |_| {
        log.select(|r| r.source == Some(client) && r.event == "EV_CONNECTED")
            .len()
            == 1
            && log.count(app, "EV_CONNECTED") == app_before + 1
    });
    let child = h.log.heard(app, "EV_CONNECTED")[app_before]
        .source
        .expect("the server's GSock as source");
    (client, child)
}

// ----- connect / echo / close --------------------------------------------------------

#[test]
fn gsock_clients_in_the_same_gaplic_connect_echo_and_close() {
    let (mut h, app, user, server, address) = echo_setup("gsock-echo", Kw::new());
    let port = address.parse::<SocketAddr>().expect("host:port").port();
    assert_ne!(port, 0, "local_address() gives the port the system chose");

    let clients: Vec<GobjId> = (0..2)
        .map(|i| h.gsock(user, &format!("client-{i}"), Kw::new()))
        .collect();
    for &client in &clients {
        h.connect(client, &address).expect("the dial starts");
    }
    let log = h.log.clone();
    h.run_until("both clients are connected", LIMIT, move |g| {
        log.count(user, "EV_CONNECTED") == 2
            && log.count(app, "EV_CONNECTED") == 2
            && connections(g, server) == 2
    });

    let mut expected = vec![Vec::new(); clients.len()];
    for round in 0..3 {
        for (i, &client) in clients.iter().enumerate() {
            let message = format!("client {i} says hello, round {round}\n").into_bytes();
            expected[i].extend_from_slice(&message);
            h.send_data(client, &message).expect("sent");
        }
        let (log, want) = (h.log.clone(), expected.clone());
        let clients2 = clients.clone();
        h.run_until(&format!("round {round} is echoed"), LIMIT, move |_| {
            clients2
                .iter()
                .zip(&want)
                .all(|(&c, w)| log.rx_from(c) == *w)
        });
    }

    for &client in &clients {
        h.gaplic
            .send(client, GSockEvent::EV_DROP, Kw::new())
            .expect("dropped");
    }
    let log = h.log.clone();
    h.run_until("the server's side is closed and cleaned", LIMIT, move |g| {
        log.count(app, "EV_DISCONNECTED") == 2
            && connections(g, server) == 0
            && g.children_of(server).next().is_none()
    });
    for r in h.log.heard(user, "EV_DISCONNECTED") {
        assert_eq!(r.text("reason"), "dropped");
    }
    for r in h.log.heard(app, "EV_DISCONNECTED") {
        assert_eq!(r.text("reason"), "closed by the peer");
    }
    for &client in &clients {
        assert_eq!(h.gaplic.state_of(client), Some("ST_IDLE"));
        assert_eq!(h.buffered(client), 0);
    }

    // A dropped GSock dials again.
    let again = clients[0];
    h.connect(again, &address).expect("the dial starts");
    h.send_data(again, b"back again")
        .expect("kept while connecting");
    let (log, before) = (h.log.clone(), h.log.rx_len_from(again));
    h.run_until("the second connection echoes", LIMIT, move |_| {
        log.rx_len_from(again) >= before + 10
    });
    assert_eq!(&h.log.rx_from(again)[before..], b"back again");
    assert_eq!(h.log.count(user, "EV_CONNECTED"), 3);
}

#[test]
fn std_client_in_a_thread_connects_echoes_and_closes() {
    let mut h = Harness::new("std-echo");
    let app = h.recorder("app", true);
    let (server, address) = h.server(app, "127.0.0.1:0", Kw::new());

    let target = address.clone();
    let peer = h.spawn_peer("std-client", move || {
        let mut stream = std_client(&target);
        let local = stream.local_addr().expect("its address").to_string();
        for i in 0..5 {
            let message = format!("std message {i}; ")
                .repeat(1 + 100 * i)
                .into_bytes();
            stream.write_all(&message).expect("written");
            let mut back = vec![0; message.len()];
            stream
                .read_exact(&mut back)
                .expect("the echo, within the deadline");
            assert_same_bytes(&back, &message, &format!("echo of message {i}"));
        }
        drop(stream);
        local
    });
    h.run_until("the std client is done", PEER_LIMIT, peer.ended());
    let local = peer.join();

    let log = h.log.clone();
    h.run_until("the server sees the close", LIMIT, move |g| {
        log.count(app, "EV_DISCONNECTED") == 1 && connections(g, server) == 0
    });
    let connected = h.log.first(app, "EV_CONNECTED");
    assert_eq!(connected.text("peername"), local);
    assert_eq!(connected.text("sockname"), address);
    assert_eq!(
        h.log.first(app, "EV_DISCONNECTED").text("reason"),
        "closed by the peer"
    );
}

// ----- load ------------------------------------------------------------------------

#[test]
fn two_hundred_connections_at_once_each_echo_their_own_bytes() {
    const N: usize = 200;
    let (mut h, app, user, server, address) = echo_setup("many", Kw::new());
    let clients: Vec<GobjId> = (0..N)
        .map(|i| h.gsock(user, &format!("client-{i}"), Kw::new()))
        .collect();
    for &client in &clients {
        h.connect(client, &address).expect("the dial starts");
    }
    let log = h.log.clone();
    h.run_until("all connect", HEAVY_LIMIT, move |g| {
        log.count(user, "EV_CONNECTED") == N && connections(g, server) == N as u64
    });

    let message = |i: usize, round: usize| {
        let len = 100 + (i * 37 + round * 11) % 900;
        pattern((i * 16 + round) as u64, 0, len)
    };
    let mut expected = vec![Vec::new(); N];
    for round in 0..3 {
        for (i, &client) in clients.iter().enumerate() {
            let m = message(i, round);
            expected[i].extend_from_slice(&m);
            h.send_data(client, &m).expect("sent");
        }
        let log = h.log.clone();
        let lens: Vec<(GobjId, usize)> = clients
            .iter()
            .zip(&expected)
            .map(|(&c, e)| (c, e.len()))
            .collect();
        h.run_until(
            &format!("round {round} is echoed"),
            HEAVY_LIMIT,
            move |_| lens.iter().all(|&(c, n)| log.rx_len_from(c) >= n),
        );
    }
    for (i, &client) in clients.iter().enumerate() {
        assert_same_bytes(&h.log.rx_from(client), &expected[i], &format!("client {i}"));
    }
    let server_side: usize = h
        .log
        .heard(app, "EV_CONNECTED")
        .iter()
        .map(|r| h.log.rx_len_from(r.source.expect("a source")))
        .sum();
    assert_eq!(server_side, expected.iter().map(Vec::len).sum::<usize>());
    assert_eq!(h.log.count(user, "EV_DISCONNECTED"), 0);

    for &client in &clients {
        h.gaplic
            .send(client, GSockEvent::EV_DROP, Kw::new())
            .expect("dropped");
    }
    let log = h.log.clone();
    h.run_until("every connection is closed", HEAVY_LIMIT, move |g| {
        log.count(app, "EV_DISCONNECTED") == N
            && connections(g, server) == 0
            && g.children_of(server).next().is_none()
    });
}

#[test]
fn a_ten_mib_message_is_echoed_back_intact() {
    // The server keeps its default tx_limit (1 MiB): it reads no faster
    // than its echo goes out, so the echo never waits past it.
    let (mut h, app, user, _server, address) = echo_setup("ten-mib", Kw::new());
    let (client, child) = connected_pair(&mut h, app, user, "client", big_tx_limit(), &address);
    let data = pattern(10, 0, 10 << 20);
    h.send_data(client, &data).expect("within the tx_limit");
    let (log, len) = (h.log.clone(), data.len());
    h.run_until("the whole echo is back", HEAVY_LIMIT, move |_| {
        log.rx_len_from(client) >= len
    });
    assert_same_bytes(&h.log.rx_from(child), &data, "what the server received");
    assert_same_bytes(&h.log.rx_from(client), &data, "the echo");
    assert_eq!(h.log.count(user, "EV_DISCONNECTED"), 0);
    assert_eq!(h.log.count(app, "EV_DISCONNECTED"), 0);
}

// ----- dialing: refused, reconnect, timeouts ---------------------------------------------

#[test]
fn a_refused_dial_publishes_connect_failed_with_the_address_and_reason() {
    let mut h = Harness::new("refused");
    let user = h.recorder("user", false);
    let address = unused_address().to_string();
    let client = h.gsock(user, "client", Kw::new());
    let direct = h.connect(client, &address);
    if let Err(error) = &direct {
        // Refused at once: the error says so too.
        assert!(
            matches!(error.kind(), ErrorKind::Socket { address: a, .. } if *a == address),
            "{error}"
        );
    }
    let log = h.log.clone();
    h.run_until("the dial fails", LIMIT, move |_| {
        log.count(user, "EV_CONNECT_FAILED") == 1
    });
    let failed = h.log.first(user, "EV_CONNECT_FAILED");
    assert_eq!(failed.source, Some(client));
    assert_eq!(failed.keys(), ["address", "reason"]);
    assert_eq!(failed.text("address"), address);
    let reason = failed.text("reason");
    assert!(reason.contains("refused"), "{reason}");
    assert!(reason.contains(&address), "{reason}");
    assert_eq!(h.gaplic.state_of(client), Some("ST_IDLE"));
    assert_eq!(h.log.names_from(client), ["EV_CONNECT_FAILED"]);
}

/// A `GConnex` child of `user` dialing `addresses`, with `settings`; and
/// its `GSock`.
fn gconnex(h: &mut Harness, user: GobjId, addresses: &[&str], settings: Kw) -> (GobjId, GobjId) {
    let mut kw = settings;
    kw.insert(
        "addresses",
        addresses
            .iter()
            .map(|a| (*a).to_owned())
            .collect::<Vec<String>>(),
    );
    let connex = h
        .gaplic
        .create_gobj::<GConnex>("connex", Some(user), kw)
        .expect("a GConnex");
    let gsock = h
        .gaplic
        .gobj::<GConnex>(connex)
        .and_then(GConnex::gsock)
        .expect("its GSock");
    (connex, gsock)
}

#[test]
fn gconnex_dials_until_the_server_appears_and_then_delivers_held_data() {
    let mut h = Harness::new("gconnex");
    let app = h.recorder("app", true);
    let user = h.recorder("user", false);
    let watcher = h.recorder("watcher", false);
    let address = unused_address().to_string();
    let (connex, gsock) = gconnex(
        &mut h,
        user,
        &[&address],
        kw! { "reconnect_delay" => 0.05, "max_reconnect_delay" => 0.2 },
    );
    h.gaplic
        .subscribe(
            gsock,
            Some("EV_CONNECT_FAILED"),
            watcher,
            SubscribeOptions::new(),
        )
        .expect("watch its dials");

    let first = b"held while refused; ".to_vec();
    h.gaplic
        .send(
            connex,
            GConnexEvent::EV_SEND_DATA,
            kw! { "data" => first.clone() },
        )
        .expect("held while disconnected");
    let log = h.log.clone();
    h.run_until("two dials are refused", LIMIT, move |_| {
        log.count(watcher, "EV_CONNECT_FAILED") >= 2
    });
    let second = b"and this too".to_vec();
    h.gaplic
        .send(
            connex,
            GConnexEvent::EV_SEND_DATA,
            kw! { "data" => second.clone() },
        )
        .expect("held while disconnected");

    // The server appears later, in the same gaplic.
    let created: Rc<RefCell<Option<Result<GobjId, String>>>> = Rc::default();
    let (slot, target) = (created.clone(), address.clone());
    h.gaplic.set_timer(Duration::from_millis(100), move |g| {
        let made = g
            .create_gobj::<GServerSock>("server", Some(app), kw! { "address" => target })
            .map_err(|e| e.to_string());
        *slot.borrow_mut() = Some(made);
        let _ = g.post(PROBE, "EV_POKE", Kw::new());
    });
    let want = [first, second].concat();
    let (log, made, w) = (h.log.clone(), created.clone(), want.clone());
    h.run_until(
        "GConnex connects and the held data comes back",
        LIMIT,
        move |_| matches!(*made.borrow(), Some(Err(_))) || log.rx_at(user) == w,
    );
    let server = created
        .borrow()
        .clone()
        .expect("the server was created")
        .expect("the server listens on the reserved port");
    assert_eq!(h.log.rx_at(user), want);

    for failure in h.log.heard(watcher, "EV_CONNECT_FAILED") {
        assert_eq!(failure.text("address"), address);
        let reason = failure.text("reason");
        assert!(reason.contains("refused"), "{reason}");
    }
    assert_eq!(
        h.log.count(user, "EV_CONNECT_FAILED"),
        0,
        "GConnex does not re-publish its failed dials"
    );
    assert_eq!(h.log.count(user, "EV_DISCONNECTED"), 0);
    assert_eq!(h.log.count(user, "EV_CONNECTED"), 1);
    assert_eq!(h.log.first(user, "EV_CONNECTED").text("peername"), address);
    assert_eq!(h.gaplic.state_of(connex), Some("ST_CONNECTED"));
    assert_eq!(connections(&h.gaplic, server), 1);

    // The server closes the connection: GConnex says so and dials again.
    let child = h
        .log
        .first(app, "EV_CONNECTED")
        .source
        .expect("the server's GSock");
    h.gaplic
        .send(child, GSockEvent::EV_DROP, Kw::new())
        .expect("dropped");
    let log = h.log.clone();
    h.run_until("GConnex is connected again", LIMIT, move |_| {
        log.count(user, "EV_CONNECTED") == 2
    });
    assert_eq!(h.log.count(user, "EV_DISCONNECTED"), 1);
    assert_eq!(
        h.log.first(user, "EV_DISCONNECTED").text("reason"),
        "closed by the peer"
    );
    h.gaplic
        .send(
            connex,
            GConnexEvent::EV_SEND_DATA,
            kw! { "data" => b"!".to_vec() },
        )
        .expect("sent");
    let (log, len) = (h.log.clone(), want.len() + 1);
    h.run_until("the new connection echoes", LIMIT, move |_| {
        log.rx_len_at(user) >= len
    });
    assert_eq!(h.log.rx_at(user), [want.as_slice(), b"!"].concat());
}

#[test]
fn gconnex_tries_its_addresses_in_turn() {
    let (mut h, _app, user, _server, address) = echo_setup("gconnex-turn", Kw::new());
    let watcher = h.recorder("watcher", false);
    let refused = unused_address().to_string();
    let (_connex, gsock) = gconnex(
        &mut h,
        user,
        &[&refused, &address],
        kw! { "reconnect_delay" => 0.02 },
    );
    h.gaplic
        .subscribe(
            gsock,
            Some("EV_CONNECT_FAILED"),
            watcher,
            SubscribeOptions::new(),
        )
        .expect("watch its dials");
    let log = h.log.clone();
    h.run_until("GConnex connects", LIMIT, move |_| {
        log.count(user, "EV_CONNECTED") == 1
    });
    assert_eq!(h.log.first(user, "EV_CONNECTED").text("peername"), address);
    let failures = h.log.heard(watcher, "EV_CONNECT_FAILED");
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].text("address"), refused);
}

#[test]
fn gconnex_holds_at_most_tx_limit_bytes_while_disconnected() {
    let mut h = Harness::new("gconnex-hold");
    let user = h.recorder("user", false);
    let nowhere = unused_address().to_string();
    let (connex, _) = gconnex(&mut h, user, &[&nowhere], kw! { "tx_limit" => 8 });
    let send = |h: &mut Harness, data: &[u8]| {
        h.gaplic
            .send(connex, GConnexEvent::EV_SEND_DATA, kw! { "data" => data })
    };
    send(&mut h, b"12345").expect("held");
    send(&mut h, b"678").expect("held, up to the limit");
    let refused = send(&mut h, b"9").expect_err("past the limit");
    assert!(refused.to_string().contains("8-byte limit"), "{refused}");
}

#[test]
fn gconnex_drop_closes_and_stops_dialing_until_connect() {
    let (mut h, app, user, server, address) = echo_setup("gconnex-drop", Kw::new());
    let (connex, _) = gconnex(&mut h, user, &[&address], kw! { "reconnect_delay" => 0.02 });
    let log = h.log.clone();
    h.run_until("GConnex connects", LIMIT, move |g| {
        log.count(user, "EV_CONNECTED") == 1 && connections(g, server) == 1
    });
    h.gaplic
        .send(connex, GConnexEvent::EV_DROP, Kw::new())
        .expect("dropped");
    let log = h.log.clone();
    h.run_until("the server sees the close", LIMIT, move |g| {
        log.count(app, "EV_DISCONNECTED") == 1 && connections(g, server) == 0
    });
    h.settle();
    assert_eq!(h.gaplic.state_of(connex), Some("ST_DISCONNECTED"));
    assert_eq!(h.gaplic.timer_count(), 0, "no dial is scheduled");

    h.gaplic
        .send(connex, GConnexEvent::EV_CONNECT, Kw::new())
        .expect("dialing again");
    let log = h.log.clone();
    h.run_until("GConnex connects again", LIMIT, move |_| {
        log.count(user, "EV_CONNECTED") == 2
    });
}

#[test]
fn gconnex_drop_publishes_disconnected() {
    let (mut h, _app, user, _server, address) = echo_setup("gconnex-drop-event", Kw::new());
    let (connex, _) = gconnex(&mut h, user, &[&address], Kw::new());
    let log = h.log.clone();
    h.run_until("GConnex connects", LIMIT, move |_| {
        log.count(user, "EV_CONNECTED") == 1
    });
    h.gaplic
        .send(connex, GConnexEvent::EV_DROP, Kw::new())
        .expect("dropped");
    h.settle();
    assert_eq!(h.gaplic.state_of(connex), Some("ST_DISCONNECTED"));
    assert_eq!(
        h.log.count(user, "EV_DISCONNECTED"),
        1,
        "the connection ended after it had succeeded: GConnex's parent is told"
    );
    assert_eq!(
        h.log.first(user, "EV_DISCONNECTED").text("reason"),
        "dropped"
    );
}

/// GConnex re-publishes its socket's events as their source, so its
/// subscribers answer through it; `GConnex::gsock` names the socket.
#[test]
fn gconnex_republishes_its_gsock_events_as_their_source() {
    let (mut h, _app, user, _server, address) = echo_setup("gconnex-source", Kw::new());
    let (connex, gsock) = gconnex(&mut h, user, &[&address], Kw::new());
    h.gaplic
        .send(
            connex,
            GConnexEvent::EV_SEND_DATA,
            kw! { "data" => b"ping".to_vec() },
        )
        .expect("held");
    let log = h.log.clone();
    h.run_until("the echo comes back", LIMIT, move |_| {
        log.rx_at(user) == b"ping"
    });
    let heard = h.log.select(|r| r.at == user);
    assert!(!heard.is_empty());
    for r in heard {
        assert_eq!(
            r.source,
            Some(connex),
            "{} re-published by GConnex {connex} (its GSock is {gsock})",
            r.event
        );
    }
}

/// A loopback listener that never accepts, with a backlog of 0 its one
/// queued connection (in `held`) fills: Linux then drops the SYN of any
/// further dial, which stays pending. `None` when this system completes a
/// second dial anyway (the test is then skipped, saying so).
fn saturated_listener() -> Option<(std::net::TcpListener, Vec<TcpStream>, String)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("a tokio runtime, only to call listen(0)");
    let listener = {
        let _inside = runtime.enter();
        let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
        socket
            .bind("127.0.0.1:0".parse().expect("an address"))
            .expect("bound");
        socket
            .listen(0)
            .expect("listening")
            .into_std()
            .expect("a std listener")
    };
    drop(runtime);
    let address = listener.local_addr().expect("its address");
    let mut held = Vec::new();
    for _ in 0..4 {
        match TcpStream::connect_timeout(&address, Duration::from_millis(300)) {
            Ok(stream) => held.push(stream),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                return Some((listener, held, address.to_string()));
            }
            Err(e) => panic!("filling the backlog of {address}: {e}"),
        }
    }
    None
}

#[test]
fn a_dial_to_a_listener_with_a_full_backlog_times_out() {
    let Some((_listener, _held, address)) = saturated_listener() else {
        eprintln!("skipped: this kernel completes dials past a full backlog");
        return;
    };
    let mut h = Harness::new("connect-timeout");
    let user = h.recorder("user", false);
    let client = h.gsock(user, "client", kw! { "connect_timeout" => 0.2 });
    let started = Instant::now();
    h.connect(client, &address).expect("the dial starts");
    assert_eq!(h.gaplic.state_of(client), Some("ST_CONNECTING"));
    let log = h.log.clone();
    h.run_until("the dial times out", LIMIT, move |_| {
        log.count(user, "EV_CONNECT_FAILED") == 1
    });
    let failed = h.log.first(user, "EV_CONNECT_FAILED");
    assert!(
        failed.when - started >= Duration::from_millis(190),
        "timed out after {:?}, before its 0.2 s",
        failed.when - started
    );
    assert_eq!(failed.text("address"), address);
    let reason = failed.text("reason");
    assert!(reason.contains("timed out"), "{reason}");
    assert!(reason.contains(&address), "{reason}");
    assert_eq!(h.gaplic.state_of(client), Some("ST_IDLE"));
    assert_eq!(h.log.names_from(client), ["EV_CONNECT_FAILED"]);
}

#[test]
fn dropping_a_dial_in_progress_publishes_connect_failed() {
    let (mut h, _app, user, _server, address) = echo_setup("drop-dialing", Kw::new());
    let client = h.gsock(user, "client", Kw::new());
    h.connect(client, &address).expect("the dial starts");
    assert_eq!(h.gaplic.state_of(client), Some("ST_CONNECTING"));
    h.gaplic
        .send(client, GSockEvent::EV_DROP, Kw::new())
        .expect("dropped");
    assert_eq!(h.gaplic.state_of(client), Some("ST_IDLE"));
    let failed = h.log.first(user, "EV_CONNECT_FAILED");
    assert_eq!(failed.source, Some(client));
    assert_eq!(failed.text("address"), address);
    assert_eq!(failed.text("reason"), "dropped while connecting");
    h.settle();
    assert_eq!(h.log.names_from(client), ["EV_CONNECT_FAILED"]);
}

// ----- sending before and while connecting ------------------------------------------------

#[test]
fn data_for_an_idle_gsock_is_refused_and_data_given_while_dialing_is_sent() {
    let (mut h, _app, user, _server, address) = echo_setup("send-early", Kw::new());
    let client = h.gsock(user, "client", Kw::new());
    let refused = h
        .send_data(client, b"too early")
        .expect_err("no connection to take it");
    assert!(refused.is_not_accepted(), "{refused}");

    h.connect(client, &address).expect("the dial starts");
    assert_eq!(h.gaplic.state_of(client), Some("ST_CONNECTING"));
    h.send_data(client, b"given while dialing")
        .expect("kept until connected");
    let log = h.log.clone();
    h.run_until("the echo comes back", LIMIT, move |_| {
        log.rx_len_from(client) >= 19
    });
    assert_eq!(h.log.rx_from(client), b"given while dialing");
}

// ----- peers that fail ---------------------------------------------------------------

/// Closes `stream` with a reset: SO_LINGER 0, then close. (std's
/// `set_linger` is unstable; tokio, a dev-dependency already, sets the
/// option on the same socket.)
fn reset(stream: TcpStream) {
    let socket = tokio::net::TcpSocket::from_std_stream(stream);
    socket.set_zero_linger().expect("SO_LINGER 0");
    drop(socket);
}

#[test]
fn a_peer_reset_mid_message_disconnects_with_a_reason() {
    let mut h = Harness::new("reset");
    let app = h.recorder("app", false);
    let (_server, address) = h.server(app, "127.0.0.1:0", Kw::new());
    let mut peer = std_client(&address);
    let log = h.log.clone();
    h.run_until("the server has the connection", LIMIT, move |_| {
        log.count(app, "EV_CONNECTED") == 1
    });
    let child = h.log.first(app, "EV_CONNECTED").source.expect("a source");

    peer.write_all(b"the first half of a mess")
        .expect("written");
    let log = h.log.clone();
    h.run_until("the first half arrives", LIMIT, move |_| {
        log.rx_len_from(child) == 24
    });
    reset(peer);

    let log = h.log.clone();
    h.run_until("the server sees the reset", LIMIT, move |_| {
        log.count(app, "EV_DISCONNECTED") == 1
    });
    let gone = h.log.first(app, "EV_DISCONNECTED");
    assert_eq!(gone.source, Some(child));
    let reason = gone.text("reason");
    assert!(reason.contains("reset"), "{reason}");
    assert_eq!(h.log.rx_from(child), b"the first half of a mess");
}

#[test]
fn a_peer_closing_mid_message_disconnects_with_a_reason() {
    let mut h = Harness::new("close-mid-message");
    let app = h.recorder("app", false);
    let (server, address) = h.server(app, "127.0.0.1:0", Kw::new());
    let mut peer = std_client(&address);
    peer.write_all(b"{\"half\": \"a js").expect("written");
    drop(peer);
    let log = h.log.clone();
    h.run_until("the server sees the close", LIMIT, move |g| {
        log.count(app, "EV_DISCONNECTED") == 1 && connections(g, server) == 0
    });
    let child = h.log.first(app, "EV_CONNECTED").source.expect("a source");
    assert_eq!(h.log.rx_from(child), b"{\"half\": \"a js");
    assert_eq!(
        h.log.first(app, "EV_DISCONNECTED").text("reason"),
        "closed by the peer"
    );
    assert!(!h.gaplic.contains(child), "the server destroys the GSock");
}

#[test]
fn a_peer_that_never_reads_is_disconnected_at_the_tx_limit() {
    const TX_LIMIT: usize = 1 << 20;
    const CHUNK: usize = 64 << 10;
    let mut h = Harness::new("never-reads");
    let app = h.recorder("app", false);
    let (server, address) = h.server(app, "127.0.0.1:0", kw! { "tx_limit" => TX_LIMIT as u64 });
    let mut peer = std_client(&address);
    let log = h.log.clone();
    h.run_until("the server has the connection", LIMIT, move |_| {
        log.count(app, "EV_CONNECTED") == 1
    });
    let child = h.log.first(app, "EV_CONNECTED").source.expect("a source");

    let (mut offset, mut last_buffered, mut peak) = (0, 0, 0);
    let refusal = loop {
        assert!(offset < 1 << 30, "1 GiB sent and the limit never reached");
        match h.send_data(child, &pattern(10, offset as u64, CHUNK)) {
            Ok(_) => {
                offset += CHUNK;
                last_buffered = h.buffered(child);
                assert!(
                    last_buffered <= TX_LIMIT,
                    "{last_buffered} bytes buffered, over the {TX_LIMIT}-byte limit"
                );
                peak = peak.max(last_buffered);
            }
            Err(error) => break error,
        }
    };
    assert!(peak > TX_LIMIT - CHUNK, "the buffer filled up to {peak}");
    assert!(refusal.to_string().contains("output buffer"), "{refusal}");
    assert_eq!(h.buffered(child), 0, "the buffer is freed");
    let gone = h.log.first(app, "EV_DISCONNECTED");
    assert_eq!(gone.source, Some(child));
    let reason = gone.text("reason");
    assert!(reason.contains("output buffer"), "{reason}");
    assert!(
        h.traces().contains("output buffer full"),
        "traced: {}",
        h.traces()
    );

    let log = h.log.clone();
    h.run_until("the server cleans up", LIMIT, move |g| {
        !g.contains(child) && connections(g, server) == 0 && log.count(app, "EV_DISCONNECTED") == 1
    });
    // The peer gets what the socket took, then the end.
    let (got, end) = read_to_end_within(&mut peer, LIMIT);
    assert_eq!(end, End::Eof);
    assert_eq!(got.len(), offset - last_buffered);
    assert_same_bytes(&got, &pattern(10, 0, got.len()), "what the peer got");
}

#[test]
fn a_connection_reset_before_the_server_accepts_it_still_ends_in_an_event() {
    let mut h = Harness::new("reset-before-accept");
    let app = h.recorder("app", false);
    let (server, address) = h.server(app, "127.0.0.1:0", Kw::new());
    // Connected and reset while the gaplic does not run: the server
    // accepts a connection that is dead already.
    reset(std_client(&address));
    let log = h.log.clone();
    h.run_until("the server is told and cleans up", LIMIT, move |g| {
        log.count(app, "EV_DISCONNECTED") == 1 && connections(g, server) == 0
    });
    let reason = h.log.first(app, "EV_DISCONNECTED").text("reason");
    assert!(reason.contains("reset"), "{reason}");
}

#[test]
fn a_connection_reset_before_accept_is_not_announced_without_its_peer() {
    let mut h = Harness::new("reset-before-accept-peer");
    let app = h.recorder("app", false);
    let (server, address) = h.server(app, "127.0.0.1:0", Kw::new());
    let peer = std_client(&address);
    let peer_address = peer.local_addr().expect("its address").to_string();
    reset(peer);
    let log = h.log.clone();
    h.run_until("the server is told and cleans up", LIMIT, move |g| {
        log.count(app, "EV_DISCONNECTED") == 1 && connections(g, server) == 0
    });
    // accept() gave the peer's address; an EV_CONNECTED, if any, names it.
    for connected in h.log.heard(app, "EV_CONNECTED") {
        assert_eq!(connected.text("peername"), peer_address);
    }
}

#[test]
fn a_peer_closing_with_data_queued_for_it_disconnects_with_a_reason() {
    let mut h = Harness::new("close-with-queued");
    let app = h.recorder("app", false);
    let (server, address) = h.server(app, "127.0.0.1:0", big_tx_limit());
    let peer = std_client(&address);
    let log = h.log.clone();
    h.run_until("the server has the connection", LIMIT, move |_| {
        log.count(app, "EV_CONNECTED") == 1
    });
    let child = h.log.first(app, "EV_CONNECTED").source.expect("a source");
    h.send_data(child, &pattern(20, 0, 12 << 20))
        .expect("within the tx_limit");
    assert!(h.buffered(child) > 0, "precondition: some stays queued");
    // Closing with unread data resets the connection.
    drop(peer);
    let log = h.log.clone();
    h.run_until("the server is told and cleans up", LIMIT, move |g| {
        log.count(app, "EV_DISCONNECTED") == 1 && connections(g, server) == 0
    });
    let reason = h.log.first(app, "EV_DISCONNECTED").text("reason");
    assert!(
        reason.contains("reset") || reason.contains("closed"),
        "{reason}"
    );
}

// ----- destroying ---------------------------------------------------------------------

#[test]
fn destroying_a_gsock_with_queued_data_closes_the_peer() {
    let mut h = Harness::new("destroy-queued");
    let app = h.recorder("app", false);
    let (server, address) = h.server(app, "127.0.0.1:0", big_tx_limit());
    let mut peer = std_client(&address);
    let log = h.log.clone();
    h.run_until("the server has the connection", LIMIT, move |_| {
        log.count(app, "EV_CONNECTED") == 1
    });
    let child = h.log.first(app, "EV_CONNECTED").source.expect("a source");

    let data = pattern(11, 0, 12 << 20);
    h.send_data(child, &data).expect("within the tx_limit");
    let queued = h.buffered(child);
    assert!(
        queued > 0,
        "precondition: the peer does not read, so some stays queued"
    );
    h.gaplic
        .post(
            child,
            GSockEvent::EV_SEND_DATA,
            kw! { "data" => b"late".to_vec() },
        )
        .expect("posted before the destruction");

    h.gaplic.destroy_gobj(child).expect("destroyed");
    assert!(!h.gaplic.contains(child));
    assert!(h.gaplic.children_of(server).next().is_none());
    assert!(matches!(
        h.send_data(child, b"later")
            .as_ref()
            .map_err(GobjError::kind),
        Err(ErrorKind::Destroyed { .. })
    ));
    h.settle();

    let (got, end) = read_to_end_within(&mut peer, LIMIT);
    assert_eq!(end, End::Eof);
    assert_eq!(got.len(), data.len() - queued, "what the socket had taken");
    assert_same_bytes(&got, &data[..got.len()], "what the peer got");
}

#[test]
fn destroying_a_server_connection_frees_its_slot() {
    let mut h = Harness::new("destroy-slot");
    let app = h.recorder("app", true);
    let (server, address) = h.server(app, "127.0.0.1:0", kw! { "max_connections" => 1 });
    let mut first = std_client(&address);
    let log = h.log.clone();
    h.run_until("the server has the connection", LIMIT, move |_| {
        log.count(app, "EV_CONNECTED") == 1
    });
    let child = h.log.first(app, "EV_CONNECTED").source.expect("a source");
    h.gaplic.destroy_gobj(child).expect("destroyed");
    let (_, end) = read_to_end_within(&mut first, LIMIT);
    assert_eq!(end, End::Eof);
    h.settle();
    assert_eq!(
        h.connections(server),
        0,
        "the destroyed connection is still counted"
    );

    let target = address.clone();
    let peer = h.spawn_peer("second-client", move || {
        let mut stream = std_client(&target);
        stream.write_all(b"second").expect("written");
        let mut back = [0; 6];
        stream.read_exact(&mut back).map(|()| back)
    });
    h.run_until("the second client is served", PEER_LIMIT, peer.ended());
    let back = peer.join().expect("the second client's echo");
    assert_eq!(&back, b"second");
}

// ----- the server -------------------------------------------------------------------

#[test]
fn past_max_connections_a_client_is_closed_at_once() {
    let (mut h, app, user, server, address) =
        echo_setup("max-connections", kw! { "max_connections" => 2 });
    let (c1, _) = connected_pair(&mut h, app, user, "c1", Kw::new(), &address);
    let (c2, _) = connected_pair(&mut h, app, user, "c2", Kw::new(), &address);
    assert_eq!(h.connections(server), 2);

    let c3 = h.gsock(user, "c3", Kw::new());
    h.connect(c3, &address).expect("the dial starts");
    let log = h.log.clone();
    h.run_until("the third client is closed", LIMIT, move |_| {
        log.select(|r| r.source == Some(c3) && r.event == "EV_DISCONNECTED")
            .len()
            == 1
    });
    let reason = h
        .log
        .select(|r| r.source == Some(c3) && r.event == "EV_DISCONNECTED")[0]
        .text("reason");
    assert!(
        reason == "closed by the peer" || reason.contains("reset"),
        "{reason}"
    );
    assert_eq!(
        h.log.count(app, "EV_CONNECTED"),
        2,
        "no GSock for the third"
    );
    assert_eq!(h.connections(server), 2);
    assert!(h.traces().contains("connection limit"), "{}", h.traces());

    // The first two work.
    for (client, text) in [(c1, &b"one"[..]), (c2, &b"two"[..])] {
        h.send_data(client, text).expect("sent");
    }
    let log = h.log.clone();
    h.run_until("both echo", LIMIT, move |_| {
        log.rx_from(c1) == b"one" && log.rx_from(c2) == b"two"
    });

    // A slot freed is taken again.
    h.gaplic
        .send(c1, GSockEvent::EV_DROP, Kw::new())
        .expect("dropped");
    let log = h.log.clone();
    h.run_until("the server frees the slot", LIMIT, move |g| {
        log.count(app, "EV_DISCONNECTED") == 1 && connections(g, server) == 1
    });
    let (c4, _) = connected_pair(&mut h, app, user, "c4", Kw::new(), &address);
    h.send_data(c4, b"four").expect("sent");
    let log = h.log.clone();
    h.run_until("the fourth echoes", LIMIT, move |_| {
        log.rx_from(c4) == b"four"
    });
    assert_eq!(h.connections(server), 2);
}

#[test]
fn a_second_server_on_an_address_in_use_fails_naming_it() {
    let mut h = Harness::new("in-use");
    let app = h.recorder("app", true);
    let (_first, address) = h.server(app, "127.0.0.1:0", Kw::new());
    let dir = TempDir::new("in-use");
    let unix = format!("unix:{}", dir.path().join("s.sock").display());
    let (_unix_first, _) = h.server(app, &unix, Kw::new());

    for taken in [&address, &unix] {
        let gobjs = h.gaplic.len();
        let error = h
            .try_server(app, taken, Kw::new())
            .expect_err("the address is taken");
        match error.kind() {
            ErrorKind::Socket {
                address: named,
                error: io_error,
                ..
            } => {
                assert_eq!(named.as_str(), taken.as_str());
                assert_eq!(io_error.kind(), io::ErrorKind::AddrInUse, "{error}");
            }
            other => panic!("expected GobjError::Socket, got {other:?}"),
        }
        assert!(error.to_string().contains(taken.as_str()), "{error}");
        assert_eq!(
            h.gaplic.len(),
            gobjs,
            "nothing is left of the failed server"
        );
    }

    // The first server still serves.
    let user = h.recorder("user", false);
    let (client, _) = connected_pair(&mut h, app, user, "client", Kw::new(), &address);
    h.send_data(client, b"still here").expect("sent");
    let log = h.log.clone();
    h.run_until("the echo", LIMIT, move |_| {
        log.rx_from(client) == b"still here"
    });
}

#[test]
fn invalid_addresses_are_refused_naming_them() {
    let mut h = Harness::new("bad-address");
    let app = h.recorder("app", false);
    let gobjs = h.gaplic.len();
    for bad in ["", "no port here", "127.0.0.1", "127.0.0.1:99999", "unix:"] {
        let error = h
            .try_server(app, bad, Kw::new())
            .expect_err("not an address");
        assert!(
            matches!(error.kind(), ErrorKind::BadAddress { address, .. } if address == bad),
            "`{bad}`: {error:?}"
        );
        assert!(error.to_string().contains(&format!("`{bad}`")), "{error}");
        assert_eq!(h.gaplic.len(), gobjs);
    }

    let user = h.recorder("user", false);
    let client = h.gsock(user, "client", Kw::new());
    let error = h
        .connect(client, "no port here")
        .expect_err("not an address");
    assert!(
        matches!(error.kind(), ErrorKind::BadAddress { address, .. } if address == "no port here"),
        "{error:?}"
    );
    let failed = h.log.first(user, "EV_CONNECT_FAILED");
    assert_eq!(failed.source, Some(client));
    assert_eq!(failed.text("address"), "no port here");
    assert!(failed.text("reason").contains("`no port here`"));
    assert_eq!(h.gaplic.state_of(client), Some("ST_IDLE"));
}

// ----- unix domain sockets -----------------------------------------------------------------

#[test]
fn unix_domain_socket_echo() {
    let dir = TempDir::new("echo");
    let path = dir.path().join("echo.sock");
    let address = format!("unix:{}", path.display());
    let mut h = Harness::new("unix-echo");
    let app = h.recorder("app", true);
    let user = h.recorder("user", false);
    let (server, local) = h.server(app, &address, Kw::new());
    assert_eq!(local, address);
    assert!(path.exists());

    let (client, child) = connected_pair(&mut h, app, user, "client", big_tx_limit(), &address);
    let connected = h.log.first(user, "EV_CONNECTED");
    assert_eq!(connected.text("peername"), address);
    assert_eq!(h.log.first(app, "EV_CONNECTED").text("sockname"), address);
    assert_eq!(h.log.first(app, "EV_CONNECTED").source, Some(child));

    let mut data = b"hello over a unix socket\n".to_vec();
    data.extend_from_slice(&pattern(16, 0, 1 << 20));
    h.send_data(client, &data).expect("sent");
    let (log, len) = (h.log.clone(), data.len());
    h.run_until("the echo", HEAVY_LIMIT, move |_| {
        log.rx_len_from(client) >= len
    });
    assert_same_bytes(&h.log.rx_from(client), &data, "the echo");

    h.gaplic
        .send(client, GSockEvent::EV_DROP, Kw::new())
        .expect("dropped");
    let log = h.log.clone();
    h.run_until("the server sees the close", LIMIT, move |g| {
        log.count(app, "EV_DISCONNECTED") == 1 && connections(g, server) == 0
    });
    assert_eq!(
        h.log.first(app, "EV_DISCONNECTED").text("reason"),
        "closed by the peer"
    );
    h.gaplic.destroy_gobj(server).expect("destroyed");
    assert!(!path.exists(), "the server removes its socket file");
}

// ----- half-close -------------------------------------------------------------------

#[test]
fn a_half_closed_client_still_gets_all_its_echo() {
    let mut h = Harness::new("half-close");
    let app = h.recorder("app", true);
    let (_server, address) = h.server(app, "127.0.0.1:0", Kw::new());
    // The message and the end of the client's writing arrive before the
    // server's first read (the gaplic does not run meanwhile).
    let mut client = std_client(&address);
    client.write_all(b"ping, then no more").expect("written");
    client.shutdown(Shutdown::Write).expect("half-closed");
    let log = h.log.clone();
    h.run_until("the server ends the connection", LIMIT, move |_| {
        log.count(app, "EV_DISCONNECTED") == 1
    });
    let (got, end) = read_to_end_within(&mut client, LIMIT);
    assert_eq!(end, End::Eof);
    assert_eq!(
        String::from_utf8_lossy(&got),
        "ping, then no more",
        "the echo the client got before the end"
    );
}

#[test]
fn a_client_that_half_closes_after_its_echo_sees_the_server_close() {
    let mut h = Harness::new("half-close-after");
    let app = h.recorder("app", true);
    let (server, address) = h.server(app, "127.0.0.1:0", Kw::new());
    let target = address.clone();
    let peer = h.spawn_peer("half-closing-client", move || {
        let mut stream = std_client(&target);
        let message = pattern(17, 0, 300_000);
        stream.write_all(&message).expect("written");
        let mut back = vec![0; message.len()];
        stream.read_exact(&mut back).expect("the echo");
        assert_same_bytes(&back, &message, "the echo");
        stream.shutdown(Shutdown::Write).expect("half-closed");
        read_to_end_within(&mut stream, LIMIT)
    });
    h.run_until("the client is done", PEER_LIMIT, peer.ended());
    let (rest, end) = peer.join();
    assert!(rest.is_empty(), "{} bytes after the echo", rest.len());
    assert_eq!(end, End::Eof);
    let log = h.log.clone();
    h.run_until("the server cleans up", LIMIT, move |g| {
        log.count(app, "EV_DISCONNECTED") == 1 && connections(g, server) == 0
    });
}

#[test]
fn a_small_rx_size_still_delivers_every_byte_in_order() {
    let (mut h, app, user, _server, address) = echo_setup("rx-size", Kw::new());
    let (client, _) = connected_pair(
        &mut h,
        app,
        user,
        "client",
        kw! { "rx_size" => 100 },
        &address,
    );
    let data = pattern(21, 0, 200_000);
    h.send_data(client, &data).expect("sent");
    let (log, len) = (h.log.clone(), data.len());
    h.run_until("the whole echo", HEAVY_LIMIT, move |_| {
        log.rx_len_from(client) >= len
    });
    assert_same_bytes(&h.log.rx_from(client), &data, "the echo");
    for r in h.log.heard(user, "EV_RX_DATA") {
        let len = r.kw.get::<u64>("len").expect("recorded");
        assert!((1..=100).contains(&len), "a read of {len} bytes");
    }
}

// ----- events and their payloads ---------------------------------------------------------

#[test]
fn gsock_events_carry_their_payloads_with_the_gsock_as_source() {
    let (mut h, app, user, server, address) = echo_setup("payloads", Kw::new());
    let (client, child) = connected_pair(&mut h, app, user, "client", Kw::new(), &address);

    let mine = h.log.first(user, "EV_CONNECTED");
    assert_eq!(mine.source, Some(client));
    assert_eq!(mine.keys(), ["peername", "sockname"]);
    assert_eq!(mine.text("peername"), address);
    let client_local = mine.text("sockname");
    let parsed: SocketAddr = client_local.parse().expect("host:port");
    assert_eq!(parsed.ip().to_string(), "127.0.0.1");
    assert_ne!(parsed, address.parse::<SocketAddr>().expect("host:port"));
    assert_eq!(
        h.gaplic.gobj::<GSock>(client).map(GSock::peer),
        Some(address.as_str())
    );

    let theirs = h.log.first(app, "EV_CONNECTED");
    assert_eq!(h.gaplic.parent_of(child), Some(server));
    assert_eq!(h.gaplic.gclass_of(child).map(|m| m.name()), Some("GSock"));
    assert_eq!(theirs.keys(), ["peername", "sockname"]);
    assert_eq!(theirs.text("peername"), client_local);
    assert_eq!(theirs.text("sockname"), address);
    assert_eq!(
        h.gaplic.gobj::<GSock>(child).map(GSock::peer),
        Some(client_local.as_str())
    );

    let bytes = b"payload \x00\x01\xfe\xff bytes".to_vec();
    h.send_data(client, &bytes).expect("sent");
    let (log, want) = (h.log.clone(), bytes.clone());
    h.run_until("the echo", LIMIT, move |_| log.rx_from(client) == want);
    assert_eq!(
        h.log.rx_from(child),
        bytes,
        "the server's GSock is the source"
    );
    for r in h.log.heard(user, "EV_RX_DATA") {
        assert_eq!(r.source, Some(client));
    }
    for r in h.log.heard(app, "EV_RX_DATA") {
        assert_eq!(r.source, Some(child));
    }
    let ready = h.log.first(user, "EV_TX_READY");
    assert_eq!(ready.source, Some(client));
    assert!(ready.keys().is_empty());

    h.gaplic
        .send(client, GSockEvent::EV_DROP, Kw::new())
        .expect("dropped");
    let log = h.log.clone();
    h.run_until("the server sees the close", LIMIT, move |_| {
        log.count(app, "EV_DISCONNECTED") == 1
    });
    let mine = h.log.first(user, "EV_DISCONNECTED");
    assert_eq!((mine.source, mine.keys()), (Some(client), vec!["reason"]));
    assert_eq!(mine.text("reason"), "dropped");
    let theirs = h.log.first(app, "EV_DISCONNECTED");
    assert_eq!(theirs.source, Some(child));
    assert_eq!(theirs.text("reason"), "closed by the peer");

    let order = h.log.names_from(client);
    assert_eq!(order.first(), Some(&"EV_CONNECTED"));
    assert_eq!(order.last(), Some(&"EV_DISCONNECTED"));
    assert_eq!(order.iter().filter(|e| **e == "EV_CONNECTED").count(), 1);
    assert_eq!(order.iter().filter(|e| **e == "EV_DISCONNECTED").count(), 1);
}

#[test]
fn tx_ready_is_published_when_a_buffered_write_drains() {
    let mut h = Harness::new("tx-ready");
    let app = h.recorder("app", false);
    let user = h.recorder("user", false);
    let (_server, address) = h.server(app, "127.0.0.1:0", Kw::new());
    let (client, child) = connected_pair(&mut h, app, user, "client", big_tx_limit(), &address);

    let data = pattern(19, 0, 12 << 20);
    h.send_data(client, &data).expect("within the tx_limit");
    assert!(
        h.buffered(client) > 0,
        "precondition: 12 MiB do not fit in the kernel's buffers at once"
    );
    assert_eq!(h.log.count(user, "EV_TX_READY"), 0, "not drained yet");

    let seen: Rc<Cell<Option<usize>>> = Rc::default();
    let (log, at_ready) = (h.log.clone(), seen.clone());
    h.run_until("EV_TX_READY", HEAVY_LIMIT, move |g| {
        let ready = log.count(user, "EV_TX_READY") > 0;
        if ready {
            at_ready.set(Some(buffered(g, client)));
        }
        ready
    });
    assert_eq!(seen.get(), Some(0), "buffered() when EV_TX_READY came");
    let ready = h.log.first(user, "EV_TX_READY");
    assert_eq!(ready.source, Some(client));

    let (log, len) = (h.log.clone(), data.len());
    h.run_until("the server has it all", HEAVY_LIMIT, move |_| {
        log.rx_len_from(child) >= len
    });
    assert_same_bytes(&h.log.rx_from(child), &data, "what the server received");
    assert_eq!(h.log.count(user, "EV_TX_READY"), 1);
}

#[test]
fn a_message_larger_than_tx_limit_goes_out_when_the_socket_takes_it() {
    let (mut h, app, user, _server, address) = echo_setup("over-limit", Kw::new());
    let (client, _) = connected_pair(
        &mut h,
        app,
        user,
        "client",
        kw! { "tx_limit" => 1024 },
        &address,
    );
    let data = pattern(24, 0, 4096);
    let sent = h.send_data(client, &data);
    assert!(
        sent.is_ok(),
        "4 KiB to an idle connection whose peer reads: the socket takes it at once, \
         nothing is buffered, so the 1 KiB tx_limit is not passed: {sent:?}"
    );
    assert_eq!(h.buffered(client), 0);
    let log = h.log.clone();
    h.run_until("the echo", LIMIT, move |_| log.rx_len_from(client) >= 4096);
    assert_eq!(h.log.rx_from(client), data);
    assert_eq!(h.log.count(user, "EV_DISCONNECTED"), 0);
}

// ----- idle timeout ------------------------------------------------------------------

#[test]
fn idle_timeout_disconnects_a_silent_connection_and_traffic_postpones_it() {
    const IDLE: f64 = 0.5;
    let (mut h, app, user, server, address) = echo_setup("idle", kw! { "idle_timeout" => IDLE });
    let (client, child) = connected_pair(&mut h, app, user, "client", Kw::new(), &address);
    h.gaplic.set_timer(Duration::from_millis(100), move |g| {
        let _ = g.send(
            client,
            GSockEvent::EV_SEND_DATA,
            kw! { "data" => b"still here".to_vec() },
        );
    });
    let log = h.log.clone();
    h.run_until("the server drops the idle connection", LIMIT, move |g| {
        log.count(app, "EV_DISCONNECTED") == 1
            && log.count(user, "EV_DISCONNECTED") == 1
            && connections(g, server) == 0
    });
    let last_traffic = h.log.first(app, "EV_RX_DATA").when;
    let gone = h.log.first(app, "EV_DISCONNECTED");
    assert_eq!(gone.source, Some(child));
    let reason = gone.text("reason");
    assert!(reason.contains("idle"), "{reason}");
    let quiet = gone.when - last_traffic;
    assert!(
        quiet >= Duration::from_secs_f64(IDLE - 0.01),
        "dropped after {quiet:?} of silence, before the {IDLE} s idle timeout"
    );
    assert_eq!(h.log.rx_from(client), b"still here");
    assert_eq!(
        h.log.first(user, "EV_DISCONNECTED").text("reason"),
        "closed by the peer"
    );
}
