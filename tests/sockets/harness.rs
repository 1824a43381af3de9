//! The harness of the socket tests.
//!
//! A [`Harness`] is a gaplic on the test's thread with `Recorder` gobjs in
//! it: each records what its sockets publish into a log the test reads, and
//! may echo received bytes back. [`Harness::run_until`] runs the gaplic's
//! loop until a condition holds, checked after every event a recorder hears
//! (and while posted work remains), and fails the test when a watchdog
//! timeout of the gaplic fires first. Peers in other threads wake the check
//! by posting `EV_POKE` to the recorder named [`PROBE`] when they end.
//!
//! Warnings and errors the runtime traces are captured per test; a test
//! whose gaplic traced an error (a panic contained in an action or a
//! callback) fails when its harness is dropped.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use gaplic::prelude::*;
use gaplic::{GServerSock, GSock, GSockEvent, GaplicHandle};

/// How long a test waits for one thing before it fails.
pub const LIMIT: Duration = Duration::from_secs(5);

/// How long the heavy tests (many connections, megabytes) wait.
pub const HEAVY_LIMIT: Duration = Duration::from_secs(20);

/// The unique name of the recorder that peers in other threads poke.
pub const PROBE: &str = "probe";

// ----- the log ----------------------------------------------------------------

/// One event a recorder heard.
#[derive(Clone, Debug)]
pub struct Rec {
    /// The recorder that heard it.
    pub at: GobjId,
    /// The event's source.
    pub source: Option<GobjId>,
    /// The event's name.
    pub event: &'static str,
    /// Its payload; for `EV_RX_DATA`, `data` is replaced by its length
    /// `len` (the bytes go to [`Shared::rx_from`] and [`Shared::rx_at`]).
    pub kw: Kw,
    /// When the recorder heard it.
    pub when: Instant,
}

impl Rec {
    /// A string key of the payload (panics with the record when absent).
    pub fn text(&self, key: &str) -> String {
        self.kw.get::<String>(key).unwrap_or_else(|e| {
            panic!(
                "{} from {:?}: {e}; payload {:?}",
                self.event, self.source, self.kw
            )
        })
    }

    /// The payload's keys, in order.
    pub fn keys(&self) -> Vec<&str> {
        self.kw.keys().collect()
    }
}

type Condition = Box<dyn FnMut(&mut Gaplic) -> bool>;

/// What the recorders of a harness share with the test.
#[derive(Default)]
pub struct Shared {
    log: RefCell<Vec<Rec>>,
    rx_from: RefCell<HashMap<GobjId, Vec<u8>>>,
    rx_at: RefCell<HashMap<GobjId, Vec<u8>>>,
    condition: RefCell<Option<Condition>>,
    check_scheduled: Cell<bool>,
    /// The condition of `run_until` held.
    met: Rc<Cell<bool>>,
}

impl Shared {
    /// Every record that `keep` selects, in order.
    pub fn select(&self, keep: impl Fn(&Rec) -> bool) -> Vec<Rec> {
        self.log
            .borrow()
            .iter()
            .filter(|r| keep(r))
            .cloned()
            .collect()
    }

    /// The events `event` recorder `at` heard.
    pub fn heard(&self, at: GobjId, event: &str) -> Vec<Rec> {
        self.select(|r| r.at == at && r.event == event)
    }

    /// How many events `event` recorder `at` heard.
    pub fn count(&self, at: GobjId, event: &str) -> usize {
        self.log
            .borrow()
            .iter()
            .filter(|r| r.at == at && r.event == event)
            .count()
    }

    /// The first event `event` recorder `at` heard (panics when none).
    pub fn first(&self, at: GobjId, event: &str) -> Rec {
        self.heard(at, event)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("recorder {at} heard no {event}; log:\n{}", self.summary()))
    }

    /// The events published by `source`, in order, as names.
    pub fn names_from(&self, source: GobjId) -> Vec<&'static str> {
        self.log
            .borrow()
            .iter()
            .filter(|r| r.source == Some(source))
            .map(|r| r.event)
            .collect()
    }

    /// The bytes received from `source`, concatenated.
    pub fn rx_from(&self, source: GobjId) -> Vec<u8> {
        self.rx_from
            .borrow()
            .get(&source)
            .cloned()
            .unwrap_or_default()
    }

    /// How many bytes came from `source`.
    pub fn rx_len_from(&self, source: GobjId) -> usize {
        self.rx_from.borrow().get(&source).map_or(0, Vec::len)
    }

    /// The bytes recorder `at` received, from all sources, concatenated.
    pub fn rx_at(&self, at: GobjId) -> Vec<u8> {
        self.rx_at.borrow().get(&at).cloned().unwrap_or_default()
    }

    /// How many bytes recorder `at` received.
    pub fn rx_len_at(&self, at: GobjId) -> usize {
        self.rx_at.borrow().get(&at).map_or(0, Vec::len)
    }

    /// Counts of the events heard, by recorder and name, for a failure
    /// message.
    pub fn summary(&self) -> String {
        let mut counts: Vec<((GobjId, &str), usize)> = Vec::new();
        for r in self.log.borrow().iter() {
            match counts.iter_mut().find(|(k, _)| *k == (r.at, r.event)) {
                Some((_, n)) => *n += 1,
                None => counts.push(((r.at, r.event), 1)),
            }
        }
        let mut out = String::new();
        for ((at, event), n) in counts {
            out.push_str(&format!("  {at}: {event} x{n}\n"));
        }
        let last: Vec<String> = self
            .log
            .borrow()
            .iter()
            .rev()
            .take(5)
            .map(|r| {
                format!(
                    "  last: {} heard {} from {:?} {:?}",
                    r.at, r.event, r.source, r.kw
                )
            })
            .collect();
        out.push_str(&last.join("\n"));
        out
    }

    fn record(&self, at: GobjId, ev: &Event) -> Result<(), GobjError> {
        let mut kw = ev.kw().clone();
        if ev.name() == "EV_RX_DATA" {
            let data: Vec<u8> = ev.get("data")?;
            kw.remove("data");
            kw.insert("len", data.len() as u64);
            if let Some(source) = ev.source() {
                self.rx_from
                    .borrow_mut()
                    .entry(source)
                    .or_default()
                    .extend_from_slice(&data);
            }
            self.rx_at
                .borrow_mut()
                .entry(at)
                .or_default()
                .extend_from_slice(&data);
        }
        self.log.borrow_mut().push(Rec {
            at,
            source: ev.source(),
            event: ev.name(),
            kw,
            when: Instant::now(),
        });
        Ok(())
    }
}

/// Has the condition checked on the loop's next turn (once, however many
/// events ask for it meanwhile).
fn schedule_check(shared: &Rc<Shared>, gaplic: &mut Gaplic) {
    if shared.check_scheduled.replace(true) {
        return;
    }
    let shared = shared.clone();
    gaplic.add_callback(move |gaplic| check(&shared, gaplic));
}

/// Stops the loop when the condition holds; otherwise checks again on the
/// next turn while posted work remains (its effects may satisfy it without
/// any recorder hearing of it).
fn check(shared: &Rc<Shared>, gaplic: &mut Gaplic) {
    shared.check_scheduled.set(false);
    let Some(mut condition) = shared.condition.borrow_mut().take() else {
        return;
    };
    if condition(gaplic) {
        shared.met.set(true);
        return;
    }
    *shared.condition.borrow_mut() = Some(condition);
    if gaplic.has_work() {
        schedule_check(shared, gaplic);
    }
}

// ----- the recorder -------------------------------------------------------------

gobj! {
    /// Records every socket event it hears in the harness's log; with
    /// `echo`, posts each `EV_RX_DATA`'s bytes back to the event's source,
    /// as the echo server example does.
    pub struct Recorder {
        /// Send received bytes back.
        #[attr(default = false)]
        echo: bool,
        shared: Rc<Shared>,
    }
    events {
        /// From a socket (or a GConnex).
        EV_CONNECTED: input bottom,
        /// From a socket.
        EV_CONNECT_FAILED: input bottom,
        /// From a socket (or a GConnex).
        EV_DISCONNECTED: input bottom,
        /// From a socket (or a GConnex).
        EV_RX_DATA: input bottom,
        /// From a socket (or a GConnex).
        EV_TX_READY: input bottom,
        /// From a peer thread that ended: check the condition.
        EV_POKE: input bottom,
    }
    states { ST_RECORDING }
    machine {
        ST_RECORDING {
            EV_CONNECTED => record,
            EV_CONNECT_FAILED => record,
            EV_DISCONNECTED => record,
            EV_RX_DATA => record,
            EV_TX_READY => record,
            EV_POKE => poke,
        }
    }
}

impl Recorder {
    fn record(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let me = cx
            .id()
            .ok_or_else(|| GobjError::failed("a recorder needs a gaplic"))?;
        self.shared.record(me, ev)?;
        if self.echo
            && ev.name() == "EV_RX_DATA"
            && let Some(source) = ev.source()
        {
            let data = ev.kw().value("data").cloned().unwrap_or_default();
            cx.post(source, GSockEvent::EV_SEND_DATA, kw! { "data" => data })?;
        }
        schedule_check(&self.shared, cx.gaplic()?);
        Ok(Value::Null)
    }

    fn poke(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        schedule_check(&self.shared, cx.gaplic()?);
        Ok(Value::Null)
    }
}

// ----- traces -------------------------------------------------------------------

/// Appends traced lines to a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

// ----- the harness --------------------------------------------------------------

/// A gaplic on this thread, its recorders, and the captured traces.
pub struct Harness {
    /// The gaplic; tests send events and create gobjs through it.
    pub gaplic: Gaplic,
    /// The log the recorders write.
    pub log: Rc<Shared>,
    traces: Captured,
    _trace_guard: tracing::subscriber::DefaultGuard,
}

impl Harness {
    /// A gaplic called `name` with the [`PROBE`] recorder in it.
    pub fn new(name: &str) -> Harness {
        let traces = Captured::default();
        let writer = traces.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .without_time()
            .with_writer(move || writer.clone())
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        let gaplic = Gaplic::new(name).expect("a gaplic");
        let mut harness = Harness {
            gaplic,
            log: Rc::default(),
            traces,
            _trace_guard: guard,
        };
        let probe = harness
            .gaplic
            .create_unique_gobj::<Recorder>(PROBE, None, Kw::new())
            .expect("the probe recorder");
        harness.share_log(probe);
        harness
    }

    fn share_log(&mut self, recorder: GobjId) {
        self.gaplic
            .gobj_mut::<Recorder>(recorder)
            .expect("a recorder at rest")
            .shared = self.log.clone();
    }

    /// A recorder called `name`; with `echo` it sends received bytes back.
    pub fn recorder(&mut self, name: &str, echo: bool) -> GobjId {
        let id = self
            .gaplic
            .create_gobj::<Recorder>(name, None, kw! { "echo" => echo })
            .expect("a recorder");
        self.share_log(id);
        id
    }

    /// A `GServerSock` child of `app` listening on `address`, with extra
    /// `settings`.
    pub fn try_server(
        &mut self,
        app: GobjId,
        address: &str,
        settings: Kw,
    ) -> Result<GobjId, GobjError> {
        let mut kw = settings;
        kw.insert("address", address);
        self.gaplic
            .create_gobj::<GServerSock>("server", Some(app), kw)
    }

    /// As [`try_server`](Harness::try_server), which must succeed; returns
    /// the server and the address it listens on.
    pub fn server(&mut self, app: GobjId, address: &str, settings: Kw) -> (GobjId, String) {
        let server = self
            .try_server(app, address, settings)
            .unwrap_or_else(|e| panic!("a server on `{address}`: {e}"));
        let local = self.local_address(server);
        (server, local)
    }

    /// Where `server` listens.
    pub fn local_address(&self, server: GobjId) -> String {
        self.gaplic
            .gobj::<GServerSock>(server)
            .expect("a server at rest")
            .local_address()
            .to_owned()
    }

    /// How many connections `server` counts.
    pub fn connections(&self, server: GobjId) -> u64 {
        self.gaplic
            .gobj::<GServerSock>(server)
            .expect("a server at rest")
            .connections()
    }

    /// A `GSock` child of `parent` (subscribed to all its events), with
    /// `settings`.
    pub fn gsock(&mut self, parent: GobjId, name: &str, settings: Kw) -> GobjId {
        self.gaplic
            .create_gobj::<GSock>(name, Some(parent), settings)
            .expect("a GSock")
    }

    /// Sends `EV_CONNECT` to `gsock`.
    pub fn connect(&mut self, gsock: GobjId, address: &str) -> Result<Sent, GobjError> {
        self.gaplic
            .send(gsock, GSockEvent::EV_CONNECT, kw! { "address" => address })
    }

    /// Sends `EV_SEND_DATA` with `data` to `gsock`.
    pub fn send_data(&mut self, gsock: GobjId, data: &[u8]) -> Result<Sent, GobjError> {
        self.gaplic
            .send(gsock, GSockEvent::EV_SEND_DATA, kw! { "data" => data })
    }

    /// What `gsock` holds in its output buffer.
    pub fn buffered(&self, gsock: GobjId) -> usize {
        self.gaplic
            .gobj::<GSock>(gsock)
            .expect("a GSock at rest")
            .buffered()
    }

    /// Runs the loop until `condition` holds; fails the test when `limit`
    /// passes first.
    pub fn run_until(
        &mut self,
        what: &str,
        limit: Duration,
        condition: impl FnMut(&mut Gaplic) -> bool + 'static,
    ) {
        *self.log.condition.borrow_mut() = Some(Box::new(condition));
        schedule_check(&self.log, &mut self.gaplic);
        let expired = Rc::new(Cell::new(false));
        let flag = expired.clone();
        let watchdog = self.gaplic.set_timer(limit, move |_| flag.set(true));
        self.log.met.set(false);
        let met = self.log.met.clone();
        let timed_out = expired.clone();
        let ran = self.gaplic.run_until(move |_| met.get() || timed_out.get());
        self.gaplic.cancel_timer(watchdog);
        let unmet = self.log.condition.borrow_mut().take().is_some();
        ran.expect("the gaplic's loop");
        if unmet {
            let why = if expired.get() {
                format!("timed out after {limit:?}")
            } else {
                "the loop stopped".to_owned()
            };
            panic!(
                "{why} waiting until {what}\nheard:\n{}\ntraces:\n{}",
                self.log.summary(),
                self.traces()
            );
        }
    }

    /// Runs the loop until no posted event or callback is left.
    pub fn settle(&mut self) {
        self.run_until("the gaplic settles", LIMIT, |gaplic| !gaplic.has_work());
    }

    /// The `WARN` and `ERROR` lines traced so far.
    pub fn traces(&self) -> String {
        let bytes = self
            .traces
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Runs `client` on a thread of its own; when it ends (or panics), the
    /// harness's condition is checked again.
    pub fn spawn_peer<T: Send + 'static>(
        &self,
        name: &str,
        client: impl FnOnce() -> T + Send + 'static,
    ) -> Peer<T> {
        let done = Arc::new(AtomicBool::new(false));
        let ended = Ended {
            done: done.clone(),
            handle: self.gaplic.handle(),
        };
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let _ended = ended;
                client()
            })
            .expect("a peer thread");
        Peer { done, thread }
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let errors: Vec<String> = self
            .traces()
            .lines()
            .filter(|l| l.contains("ERROR"))
            .map(str::to_owned)
            .collect();
        assert!(
            errors.is_empty(),
            "the gaplic traced errors:\n{}",
            errors.join("\n")
        );
    }
}

/// Marks a peer thread as ended and wakes the gaplic's check.
struct Ended {
    done: Arc<AtomicBool>,
    handle: GaplicHandle,
}

impl Drop for Ended {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
        // The gaplic may be gone when the test failed already.
        let _ = self.handle.post(PROBE, "EV_POKE", Kw::new());
    }
}

/// A peer running on a thread of its own.
pub struct Peer<T> {
    done: Arc<AtomicBool>,
    thread: JoinHandle<T>,
}

impl<T> Peer<T> {
    /// A condition for [`Harness::run_until`]: the peer has ended.
    pub fn ended(&self) -> impl FnMut(&mut Gaplic) -> bool + 'static {
        let done = self.done.clone();
        move |_| done.load(Ordering::SeqCst)
    }

    /// Its result; its panic goes on in this thread.
    pub fn join(self) -> T {
        match self.thread.join() {
            Ok(value) => value,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

// ----- plain sockets and data ----------------------------------------------------

/// A loopback address nobody listens on (a port the system just gave and
/// took back).
pub fn unused_address() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
    listener.local_addr().expect("its address")
}

/// A blocking std client of `address`, with deadlines on reads and writes.
pub fn std_client(address: &str) -> TcpStream {
    let stream =
        TcpStream::connect(address).unwrap_or_else(|e| panic!("connect to {address}: {e}"));
    stream
        .set_read_timeout(Some(LIMIT))
        .expect("a read timeout");
    stream
        .set_write_timeout(Some(LIMIT))
        .expect("a write timeout");
    stream
}

/// How a stream read to its end ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The peer closed it.
    Eof,
    /// The peer reset it.
    Reset,
}

/// Reads until the end of the stream, within `limit` in all.
pub fn read_to_end_within(stream: &mut impl Read, limit: Duration) -> (Vec<u8>, End) {
    let deadline = Instant::now() + limit;
    let mut got = Vec::new();
    let mut buf = vec![0; 256 * 1024];
    loop {
        assert!(
            Instant::now() < deadline,
            "the stream did not end within {limit:?} ({} bytes read)",
            got.len()
        );
        match stream.read(&mut buf) {
            Ok(0) => return (got, End::Eof),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return (got, End::Reset),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => panic!("reading to the end: {e} ({} bytes read)", got.len()),
        }
    }
}

/// Eight bytes of the endless test stream numbered `seed`, block `block`.
fn block(seed: u64, block: u64) -> [u8; 8] {
    let mut x = block ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (x ^ (x >> 33)).to_le_bytes()
}

/// `len` bytes of the endless test stream numbered `seed`, from `offset`:
/// no short period, so a lost, repeated or reordered block shows.
pub fn pattern(seed: u64, offset: u64, len: usize) -> Vec<u8> {
    let skip = (offset % 8) as usize;
    let mut out = Vec::with_capacity(len + 16);
    let mut at = offset / 8;
    while out.len() < skip + len {
        out.extend_from_slice(&block(seed, at));
        at += 1;
    }
    out.drain(..skip);
    out.truncate(len);
    out
}

/// Fails with the first differing offset instead of dumping megabytes.
pub fn assert_same_bytes(got: &[u8], want: &[u8], what: &str) {
    if got == want {
        return;
    }
    let first = got.iter().zip(want).position(|(a, b)| a != b);
    match first {
        Some(at) => panic!(
            "{what}: byte {at} differs ({} != {}); {} bytes received, {} expected",
            got[at],
            want[at],
            got.len(),
            want.len()
        ),
        None => panic!(
            "{what}: {} bytes received, {} expected (one is a prefix of the other)",
            got.len(),
            want.len()
        ),
    }
}

// ----- temporary directories ------------------------------------------------------

/// A directory under the system's temporary one, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new, empty directory.
    pub fn new(tag: &str) -> TempDir {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, Ordering::SeqCst);
        let path =
            std::env::temp_dir().join(format!("gaplic-sock-{}-{tag}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("a temporary directory");
        TempDir(path)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // Best effort: a stale directory in the temporary one is harmless.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
