//! The socket gobjs at their limits: a listener out of file descriptors,
//! peers that never read, attrs that size buffers, silent connections that
//! hold a server's slots, warnings that repeat.
//!
//! A test that changes something for the whole process (the limit of open
//! files), or that would abort it without the check it tests, runs in a
//! child process of its own (`support::in_own_process`). Everything else follows
//! `tests/sockets.rs`: a gaplic per test on the test's thread, loops run
//! until a condition holds under a watchdog, nothing sleeps to wait.

#[path = "sockets/harness.rs"]
#[allow(dead_code)]
mod harness;
mod support;

use std::cell::Cell;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::rc::Rc;
use std::time::{Duration, Instant};

use gaplic::prelude::*;
use gaplic::{GConnex, GServerSock, GSock, GSockEvent, KwError};
use harness::{End, HEAVY_LIMIT, Harness, LIMIT, PROBE, Peer, read_to_end_within, std_client};
use support::in_own_process;

/// The warning and error lines traced since the `skip` first ones.
fn lines_after(h: &Harness, skip: usize) -> Vec<String> {
    h.traces().lines().skip(skip).map(str::to_owned).collect()
}

/// The source of the `index`-th `EV_CONNECTED` recorder `at` heard.
fn connected_source(h: &Harness, at: GobjId, index: usize) -> GobjId {
    h.log.heard(at, "EV_CONNECTED")[index]
        .source
        .expect("a GSock as the source")
}

// ----- out of file descriptors ---------------------------------------------------------

/// Lowers this process's limit of open files and opens `/dev/null` until
/// the system refuses: no descriptor is left. Returns the files; dropping
/// them frees the descriptors.
#[cfg(target_os = "linux")]
fn exhaust_descriptors() -> Vec<std::fs::File> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let highest = std::fs::read_dir("/proc/self/fd")
        .expect("the open descriptors")
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    let limit = getrlimit(Resource::Nofile);
    let low = (highest + 64).max(256);
    let low = limit.current.map_or(low, |current| current.min(low));
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(low),
            maximum: limit.maximum,
        },
    )
    .expect("a lower limit of open files");
    let mut files = Vec::new();
    loop {
        match std::fs::File::open("/dev/null") {
            Ok(file) => files.push(file),
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::MFILE.raw_os_error()) => {
                return files;
            }
            Err(e) => panic!("opening /dev/null {} times: {e}", files.len() + 1),
        }
        assert!(
            files.len() <= 1 << 16,
            "the limit of {low} files is not enforced"
        );
    }
}

#[cfg(target_os = "linux")]
#[test]
fn the_listener_accepts_again_once_descriptors_are_free() {
    if !in_own_process("the_listener_accepts_again_once_descriptors_are_free") {
        return;
    }
    const CLIENTS: usize = 40;
    /// How long the descriptors stay exhausted.
    const EXHAUSTED: Duration = Duration::from_millis(300);
    /// How long the server may take to serve every waiting client once
    /// descriptors are free: a few retry delays (0.1 s by default).
    const SERVED_WITHIN: Duration = Duration::from_secs(2);

    let mut h = Harness::new("out-of-descriptors");
    let app = h.recorder("app", true);
    let (server, address) = h.server(app, "127.0.0.1:0", Kw::new());
    // The clients connect and write while the gaplic does not run: their
    // connections wait in the listener's backlog.
    let mut clients: Vec<TcpStream> = (0..CLIENTS).map(|_| std_client(&address)).collect();
    for (i, client) in clients.iter_mut().enumerate() {
        client
            .write_all(format!("client {i:02}").as_bytes())
            .expect("written");
    }
    let spare = exhaust_descriptors();
    assert!(
        std::fs::File::open("/dev/null").is_err(),
        "precondition: no descriptor is left"
    );

    // The descriptors come back later, from the loop; nothing else
    // connects meanwhile.
    let freed_at: Rc<Cell<Option<Instant>>> = Rc::default();
    let freed = freed_at.clone();
    h.gaplic.set_timer(EXHAUSTED, move |g| {
        drop(spare);
        freed.set(Some(Instant::now()));
        let _ = g.post(PROBE, "EV_POKE", Kw::new());
    });
    let peer = h.spawn_peer("waiting-clients", move || {
        for (i, client) in clients.iter_mut().enumerate() {
            let mut echo = [0; 9];
            client
                .read_exact(&mut echo)
                .unwrap_or_else(|e| panic!("client {i} got no echo: {e}"));
            assert_eq!(echo, *format!("client {i:02}").as_bytes());
        }
        // Still open, so the server still counts them.
        (Instant::now(), clients)
    });
    h.run_until("every waiting client is echoed", HEAVY_LIMIT, peer.ended());
    let (served_at, _clients) = peer.join();
    let freed_at = freed_at.get().expect("the descriptors were freed");
    assert!(
        served_at - freed_at <= SERVED_WITHIN,
        "served {:?} after the descriptors were freed",
        served_at - freed_at
    );
    assert_eq!(h.connections(server), CLIENTS as u64);
    let traces = h.traces();
    let failures = traces
        .lines()
        .filter(|l| l.contains("cannot accept"))
        .count();
    assert!(
        failures >= 1,
        "precondition: accept failed while no descriptor was left:\n{traces}"
    );
    assert!(
        failures <= 1,
        "{failures} lines for one run of failed accepts (retried every 0.1 s):\n{traces}"
    );
    assert!(
        traces.contains("accepting again;") && traces.contains("not traced"),
        "the count of failures left out is traced when accepting again:\n{traces}"
    );
}

// ----- sizes and timeouts checked at creation ------------------------------------------

/// Creates a gobj of `gclass` with `key => value` (and what else it needs).
fn create(h: &mut Harness, gclass: &str, key: &str, value: Value) -> Result<GobjId, GobjError> {
    let mut kw = Kw::new().with(key.to_owned(), value);
    match gclass {
        "GSock" => h.gaplic.create_gobj::<GSock>("bad-gsock", None, kw),
        "GServerSock" => {
            kw.insert("address", "127.0.0.1:0");
            h.gaplic.create_gobj::<GServerSock>("bad-server", None, kw)
        }
        "GConnex" => {
            kw.insert("addresses", vec!["127.0.0.1:9".to_owned()]);
            h.gaplic.create_gobj::<GConnex>("bad-connex", None, kw)
        }
        other => panic!("no such gclass in this test: {other}"),
    }
}

#[test]
fn sizes_and_timeouts_out_of_range_are_refused_at_creation_naming_the_key() {
    let mut h = Harness::new("attrs-out-of-range");
    let sizes: &[(&str, &[&str])] = &[
        ("rx_size", &["GSock", "GServerSock", "GConnex"]),
        ("tx_limit", &["GSock", "GServerSock", "GConnex"]),
    ];
    // A `Value` keeps `u64::MAX` whole (`Value::Uint`): the error names it.
    let out_of_range = [
        (64_u64 << 30, "68719476736"),
        (u64::MAX, "18446744073709551615"),
        (0, "0"),
    ];
    let mut cases: Vec<(&str, &str, Value, String)> = Vec::new();
    for (key, gclasses) in sizes {
        for gclass in *gclasses {
            for (value, text) in out_of_range {
                cases.push((gclass, key, Value::from(value), text.to_owned()));
            }
        }
    }
    let timeouts: &[(&str, &str)] = &[
        ("GSock", "connect_timeout"),
        ("GSock", "idle_timeout"),
        ("GServerSock", "idle_timeout"),
        ("GConnex", "connect_timeout"),
        ("GConnex", "idle_timeout"),
        ("GConnex", "reconnect_delay"),
        ("GConnex", "max_reconnect_delay"),
        ("GServerSock", "accept_retry_delay"),
    ];
    for (gclass, key) in timeouts {
        for value in [-1.0, f64::NAN, f64::INFINITY, 1e12] {
            // As a `Value` shows a float: `-1.0`, `NaN`, `inf`, `1e12`.
            cases.push((gclass, key, Value::from(value), format!("{value:?}")));
        }
    }
    for delay in ["reconnect_delay", "max_reconnect_delay"] {
        cases.push(("GConnex", delay, Value::from(0.0), "0.0".to_owned()));
    }
    cases.push((
        "GServerSock",
        "accept_retry_delay",
        Value::from(0.0),
        "0.0".to_owned(),
    ));
    cases.push((
        "GServerSock",
        "max_connections",
        Value::from(0_u64),
        "0".to_owned(),
    ));

    let gobjs = h.gaplic.len();
    for (gclass, key, value, text) in cases {
        let error = create(&mut h, gclass, key, value)
            .expect_err(&format!("{gclass} with {key} = {text} is refused"));
        let expected = match error.kind() {
            ErrorKind::BadAttr {
                gclass: named,
                error:
                    KwError::OutOfRange {
                        key: k,
                        value: v,
                        expected,
                    },
            } => {
                assert_eq!(
                    (*named, k.as_str(), v.as_str()),
                    (gclass, key, text.as_str())
                );
                *expected
            }
            other => {
                panic!("{gclass} with {key} = {text}: expected BadAttr/OutOfRange, got {other:?}")
            }
        };
        let message = error.to_string();
        assert!(message.contains(&format!("`{key}`")), "{message}");
        assert!(message.contains(&text), "{message}");
        assert!(
            !expected.is_empty() && message.ends_with(&format!("expected {expected}")),
            "the range is named: {message}"
        );
        assert_eq!(
            h.gaplic.len(),
            gobjs,
            "nothing is left of a refused {gclass}"
        );
    }

    // The largest sizes and the longest timeouts are taken.
    let edges = [
        ("GSock", "rx_size", Value::from(GSock::MAX_RX_SIZE)),
        ("GSock", "tx_limit", Value::from(GSock::MAX_TX_LIMIT)),
        ("GSock", "rx_size", Value::from(1_u64)),
        ("GSock", "idle_timeout", Value::from(0.0)),
        ("GConnex", "reconnect_delay", Value::from(0.001)),
    ];
    for (gclass, key, value) in edges {
        let made = create(&mut h, gclass, key, value.clone())
            .unwrap_or_else(|e| panic!("{gclass} with {key} = {value}: {e}"));
        h.gaplic.destroy_gobj(made).expect("destroyed");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_64_gib_rx_size_is_refused_at_creation_instead_of_aborting_at_the_first_read() {
    if !in_own_process(
        "a_64_gib_rx_size_is_refused_at_creation_instead_of_aborting_at_the_first_read",
    ) {
        return;
    }
    let mut h = Harness::new("huge-rx-size");
    let app = h.recorder("app", true);
    let user = h.recorder("user", false);
    let (_server, address) = h.server(app, "127.0.0.1:0", Kw::new());
    let made =
        h.gaplic
            .create_gobj::<GSock>("client", Some(user), kw! { "rx_size" => 64_u64 << 30 });
    if let Ok(client) = made {
        // Unchecked, the size is allocated at the first read.
        h.connect(client, &address).expect("the dial starts");
        h.send_data(client, b"echo me").expect("sent");
        let log = h.log.clone();
        h.run_until("the client reads its echo", LIMIT, move |_| {
            log.rx_len_from(client) > 0
        });
        panic!("a GSock with a 64 GiB rx_size was created and read");
    }
    let error = made.expect_err("checked above");
    assert!(
        matches!(
            error.kind(),
            ErrorKind::BadAttr { gclass: "GSock", error: KwError::OutOfRange { key, .. } }
                if key == "rx_size"
        ),
        "{error:?}"
    );
}

// ----- peers that never read --------------------------------------------------------

/// The largest `buffered()` and `buffer_capacity()` of `server`'s
/// connections and `queued()` of the gaplic seen so far.
#[derive(Clone, Copy, Debug, Default)]
struct Peaks {
    buffered: usize,
    capacity: usize,
    queued: usize,
}

impl Peaks {
    fn sample(&mut self, g: &Gaplic, server: GobjId) {
        for child in g.children_of(server) {
            if let Some(gsock) = g.gobj::<GSock>(child) {
                self.buffered = self.buffered.max(gsock.buffered());
                self.capacity = self.capacity.max(gsock.buffer_capacity());
            }
        }
        self.queued = self.queued.max(g.queued());
    }
}

#[test]
fn peers_that_never_read_their_echo_are_read_no_further_than_the_default_tx_limit() {
    const PEERS: usize = 20;
    let limit = usize::try_from(GSock::DEFAULT_TX_LIMIT).expect("fits");
    let rx_size = usize::try_from(GSock::DEFAULT_RX_SIZE).expect("fits");
    let mut h = Harness::new("never-read-echo");
    let app = h.recorder("app", true);
    let (server, address) = h.server(app, "127.0.0.1:0", Kw::new());
    // Each peer writes and never reads its echo; the test keeps a second
    // handle to end it.
    let mut ends = Vec::new();
    let peers: Vec<Peer<usize>> = (0..PEERS)
        .map(|i| {
            let mut stream = std_client(&address);
            ends.push(stream.try_clone().expect("a second handle"));
            h.spawn_peer(&format!("writer-{i}"), move || {
                let chunk = vec![i as u8; 64 << 10];
                let mut sent = 0;
                while stream.write_all(&chunk).is_ok() {
                    sent += chunk.len();
                }
                sent
            })
        })
        .collect();

    // Each connection reads until its output buffer has no room for one
    // more read's echo, and then no more.
    let peaks: Rc<Cell<Peaks>> = Rc::default();
    let seen = peaks.clone();
    h.run_until(
        "every connection has stopped reading",
        HEAVY_LIMIT,
        move |g| {
            let mut p = seen.get();
            p.sample(g, server);
            seen.set(p);
            let children: Vec<GobjId> = g.children_of(server).collect();
            children.len() == PEERS
                && children.iter().all(|&c| {
                    g.gobj::<GSock>(c)
                        .is_some_and(|s| s.buffered() + rx_size > limit)
                })
        },
    );
    let p = peaks.get();
    assert!(
        p.buffered <= limit,
        "{} bytes buffered by one socket",
        p.buffered
    );
    assert!(
        p.capacity <= limit,
        "{} bytes allocated by one socket's buffer",
        p.capacity
    );
    // Each socket reads at most READS_AHEAD reads ahead of the echo: what
    // waits in the gaplic's queue is that, plus a few events of its own.
    let most_queued = PEERS * (GSock::READS_AHEAD + 4);
    assert!(
        p.queued <= most_queued,
        "{} events queued at once",
        p.queued
    );
    assert_eq!(h.log.count(app, "EV_DISCONNECTED"), 0);
    assert_eq!(h.traces(), "", "nothing to warn about");

    // The peers go: the server sees it and cleans up.
    for end in &ends {
        let _ = end.shutdown(std::net::Shutdown::Both);
    }
    drop(ends);
    let mut ended: Vec<_> = peers.iter().map(Peer::ended).collect();
    let log = h.log.clone();
    h.run_until("the server has cleaned up", HEAVY_LIMIT, move |g| {
        let mut all_ended = true;
        for e in &mut ended {
            all_ended &= e(g);
        }
        all_ended
            && log.count(app, "EV_DISCONNECTED") == PEERS
            && g.children_of(server).next().is_none()
    });
    for peer in peers {
        peer.join();
    }
}

#[test]
fn a_server_pushing_to_peers_that_never_read_keeps_memory_and_the_log_bounded() {
    const PEERS: usize = 20;
    const PUSHES: usize = 100;
    let limit = usize::try_from(GSock::DEFAULT_TX_LIMIT).expect("fits");
    let chunk = vec![b'x'; 64 << 10];
    let mut h = Harness::new("push-never-read");
    let app = h.recorder("app", false);
    let (server, address) = h.server(app, "127.0.0.1:0", Kw::new());
    let _peers: Vec<TcpStream> = (0..PEERS).map(|_| std_client(&address)).collect();
    let log = h.log.clone();
    h.run_until("every peer is connected", LIMIT, move |_| {
        log.count(app, "EV_CONNECTED") == PEERS
    });
    let children: Vec<GobjId> = (0..PEERS).map(|i| connected_source(&h, app, i)).collect();

    // 6.25 MiB for each peer, more than the kernel and the buffer hold.
    let mut refused = [0; PEERS];
    for _ in 0..PUSHES {
        for (i, &child) in children.iter().enumerate() {
            if h.send_data(child, &chunk).is_err() {
                refused[i] += 1;
            }
            let gsock = h.gaplic.gobj::<GSock>(child).expect("a GSock at rest");
            assert!(
                gsock.buffered() <= limit,
                "{} bytes buffered",
                gsock.buffered()
            );
            assert!(
                gsock.buffer_capacity() <= limit,
                "{} bytes allocated",
                gsock.buffer_capacity()
            );
        }
    }
    for (i, refused) in refused.iter().enumerate() {
        assert!(
            *refused > 1,
            "precondition: peer {i}'s connection ended and later sends were refused"
        );
    }
    let log = h.log.clone();
    h.run_until("the server has cleaned up", LIMIT, move |g| {
        log.count(app, "EV_DISCONNECTED") == PEERS && g.children_of(server).next().is_none()
    });
    for gone in h.log.heard(app, "EV_DISCONNECTED") {
        let reason = gone.text("reason");
        assert!(reason.contains("output buffer full"), "{reason}");
    }
    // Per connection: its full buffer, its first refused send, and the
    // count of the others when it goes.
    let traces = h.traces();
    let lines: Vec<&str> = traces.lines().collect();
    assert!(
        lines.len() <= 3 * PEERS,
        "{} warning lines for {PEERS} peers:\n{traces}",
        lines.len()
    );
    let counted: usize = lines
        .iter()
        .filter(|l| l.contains("refused without a connection"))
        .filter_map(|l| l.split_whitespace().nth(2)?.parse::<usize>().ok())
        .sum();
    let traced_one_by_one = lines.iter().filter(|l| l.contains("data refused")).count();
    assert_eq!(
        counted + traced_one_by_one,
        refused.iter().sum::<usize>() - PEERS,
        "every refused send after the full buffer is traced or counted:\n{traces}"
    );
}

#[test]
fn sends_refused_after_a_disconnect_are_traced_a_bounded_number_of_times() {
    const SENDS: usize = 1000;
    let mut h = Harness::new("refused-sends");
    let app = h.recorder("app", true);
    let user = h.recorder("user", false);
    let (_server, address) = h.server(app, "127.0.0.1:0", Kw::new());
    let client = h.gsock(user, "client", Kw::new());
    h.connect(client, &address).expect("the dial starts");
    let log = h.log.clone();
    h.run_until("both sides are connected", LIMIT, move |_| {
        log.count(user, "EV_CONNECTED") == 1 && log.count(app, "EV_CONNECTED") == 1
    });
    let child = connected_source(&h, app, 0);
    h.gaplic
        .send(child, GSockEvent::EV_DROP, Kw::new())
        .expect("the server drops it");
    let log = h.log.clone();
    h.run_until("the client sees the end", LIMIT, move |_| {
        log.count(user, "EV_DISCONNECTED") == 1
    });

    let before = h.traces().lines().count();
    for i in 0..SENDS {
        let refused = h
            .send_data(client, b"too late")
            .expect_err("no connection to take it");
        assert!(refused.is_not_accepted(), "send {i}: {refused}");
    }
    let lines = lines_after(&h, before);
    assert_eq!(
        lines.len(),
        1,
        "{SENDS} refused sends traced as:\n{}",
        lines.join("\n")
    );
    assert!(lines[0].contains("not connected"), "{}", lines[0]);

    // The count left out is traced when the socket goes.
    h.gaplic.destroy_gobj(client).expect("destroyed");
    let lines = lines_after(&h, before);
    assert_eq!(lines.len(), 2, "{}", lines.join("\n"));
    assert!(
        lines[1].contains(&format!("{} more sends were refused", SENDS - 1)),
        "{}",
        lines[1]
    );
}

// ----- silent connections and the connection limit ------------------------------------------

#[test]
fn silent_connections_at_the_limit_are_closed_when_idle_and_let_a_client_in() {
    const LIMIT_CONNECTIONS: usize = 3;
    const SILENT: usize = 10;
    const IDLE: f64 = 0.3;
    let mut h = Harness::new("silent-at-limit");
    let app = h.recorder("app", true);
    let (server, address) = h.server(
        app,
        "127.0.0.1:0",
        kw! { "max_connections" => LIMIT_CONNECTIONS as u64, "idle_timeout" => IDLE },
    );
    let mut silent: Vec<TcpStream> = (0..SILENT).map(|_| std_client(&address)).collect();
    let log = h.log.clone();
    h.run_until("the silent ones fill the slots", LIMIT, move |g| {
        log.count(app, "EV_CONNECTED") == LIMIT_CONNECTIONS
            && g.gobj::<GServerSock>(server)
                .is_some_and(|s| s.connections() == LIMIT_CONNECTIONS as u64)
    });
    let log = h.log.clone();
    h.run_until("the idle ones are closed", LIMIT, move |g| {
        log.count(app, "EV_DISCONNECTED") == LIMIT_CONNECTIONS
            && g.gobj::<GServerSock>(server)
                .is_some_and(|s| s.connections() == 0)
    });
    for gone in h.log.heard(app, "EV_DISCONNECTED") {
        let reason = gone.text("reason");
        assert!(reason.contains("idle"), "{reason}");
    }
    // Every silent one is closed: the first ones when idle, the others at
    // once, past the limit.
    for (i, stream) in silent.iter_mut().enumerate() {
        let (got, end) = read_to_end_within(stream, LIMIT);
        assert!(got.is_empty(), "silent client {i} got {} bytes", got.len());
        assert!(matches!(end, End::Eof | End::Reset), "{end:?}");
    }
    let refusals = h
        .traces()
        .lines()
        .filter(|l| l.contains("connection limit"))
        .count();
    assert_eq!(
        refusals,
        1,
        "{} connections refused at the limit, traced as:\n{}",
        SILENT - LIMIT_CONNECTIONS,
        h.traces()
    );

    // A client that talks gets in, and the refusals left out are counted.
    let target = address.clone();
    let peer = h.spawn_peer("talking-client", move || {
        let mut stream = std_client(&target);
        stream.write_all(b"let me in").expect("written");
        let mut echo = [0; 9];
        stream.read_exact(&mut echo).map(|()| echo)
    });
    h.run_until("the talking client is served", LIMIT, peer.ended());
    assert_eq!(&peer.join().expect("its echo"), b"let me in");
    let traces = h.traces();
    assert!(
        traces.contains(&format!(
            "{} more connections were refused at the connection limit",
            SILENT - LIMIT_CONNECTIONS - 1
        )),
        "{traces}"
    );
}

#[test]
fn a_server_closes_silent_connections_by_default_and_a_dialing_socket_does_not() {
    let mut h = Harness::new("idle-defaults");
    let app = h.recorder("app", true);
    let user = h.recorder("user", false);
    let (_server, address) = h.server(app, "127.0.0.1:0", Kw::new());
    let client = h.gsock(user, "client", Kw::new());
    h.connect(client, &address).expect("the dial starts");
    let log = h.log.clone();
    h.run_until("both sides are connected", LIMIT, move |_| {
        log.count(user, "EV_CONNECTED") == 1 && log.count(app, "EV_CONNECTED") == 1
    });
    let child = connected_source(&h, app, 0);
    let idle = |h: &Harness, gsock: GobjId| {
        h.gaplic
            .gobj::<GSock>(gsock)
            .expect("a GSock at rest")
            .idle_timeout()
    };
    assert_eq!(
        idle(&h, child),
        Some(Duration::from_secs_f64(GServerSock::DEFAULT_IDLE_TIMEOUT)),
        "a server's connection"
    );
    assert_eq!(idle(&h, client), None, "a socket that dials");
}

// ----- buffers ------------------------------------------------------------------------

#[test]
fn a_drained_output_buffer_gives_back_its_spare_capacity() {
    const BURST: usize = 8 << 20;
    let mut h = Harness::new("drained-buffer");
    let app = h.recorder("app", false);
    let user = h.recorder("user", false);
    let (_server, address) = h.server(app, "127.0.0.1:0", Kw::new());
    let client = h.gsock(user, "client", kw! { "tx_limit" => 16_u64 << 20 });
    h.connect(client, &address).expect("the dial starts");
    let log = h.log.clone();
    h.run_until("both sides are connected", LIMIT, move |_| {
        log.count(user, "EV_CONNECTED") == 1 && log.count(app, "EV_CONNECTED") == 1
    });
    let child = connected_source(&h, app, 0);
    let capacity = |h: &Harness| {
        h.gaplic
            .gobj::<GSock>(client)
            .expect("a GSock at rest")
            .buffer_capacity()
    };

    h.send_data(client, &vec![7; BURST])
        .expect("within the tx_limit");
    assert!(
        capacity(&h) > 4 * GSock::KEPT_BUFFER_CAPACITY,
        "precondition: the burst is buffered ({} bytes allocated)",
        capacity(&h)
    );
    let log = h.log.clone();
    h.run_until("the burst is out and read", HEAVY_LIMIT, move |_| {
        log.count(user, "EV_TX_READY") == 1 && log.rx_len_from(child) == BURST
    });
    assert_eq!(h.buffered(client), 0);
    assert!(
        capacity(&h) <= GSock::KEPT_BUFFER_CAPACITY,
        "{} bytes still allocated by a drained buffer",
        capacity(&h)
    );

    // It still sends.
    h.send_data(client, b"after the burst").expect("sent");
    let log = h.log.clone();
    h.run_until("the last message arrives", LIMIT, move |_| {
        log.rx_len_from(child) == BURST + 15
    });
}
