//! Dispatch of an event without payload: a `gobj!` gclass driven through
//! `Machine::inject` against a hand-written `match` over the same 4-state x
//! 6-event machine, with the same actions and the same errors.
//!
//! Two event streams, both generated once before timing:
//! - predictable: a 7-event cycle that the machine accepts entirely;
//! - unpredictable: a fixed-seed xorshift walk of the machine, about 10% of
//!   whose events are not accepted in the state they arrive in.
//!
//! Both sides are checked to do the same work before anything is timed.
//! After criterion's report, the ratios gobj/hand_match are measured again
//! with a best-of-N loop in this process and printed as
//! `ratio dispatch/<stream> gobj/hand_match = ...`, followed by a breakdown:
//! the same passes with parts of the work removed (the payload argument,
//! the `Machine` around the generated `dispatch`) or added (the runtime's
//! `trace_all()` check on the hand side), to show where a difference comes
//! from.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use gaplic::prelude::*;

/// Events per stream, and per timed pass.
const STREAM_LEN: usize = 16 * 1024;

/// Passes over each stream, per side, in the best-of-N ratio measurement.
const RATIO_ROUNDS: usize = 3000;

/// Passes over each stream, per way, in the breakdown.
const BREAKDOWN_ROUNDS: usize = 1000;

// ---------------------------------------------------------------------------
// The work both sides do: the action bodies.

/// What the actions count. Both sides hold one and call the same methods.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Counters {
    starts: u64,
    opens: u64,
    data: u64,
    ticks: u64,
    retries: u64,
    closes: u64,
    fails: u64,
    drops: u64,
}

impl Counters {
    #[inline]
    fn start(&mut self) -> Ret {
        self.starts += 1;
        Ok(Value::Null)
    }

    #[inline]
    fn open(&mut self) -> Ret {
        self.opens += 1;
        Ok(Value::Int(self.opens as i64))
    }

    #[inline]
    fn data(&mut self) -> Ret {
        self.data += 1;
        Ok(Value::Int(self.data as i64))
    }

    #[inline]
    fn tick(&mut self) -> Ret {
        self.ticks += 1;
        Ok(Value::Null)
    }

    #[inline]
    fn retry(&mut self) -> Ret {
        self.retries += 1;
        Ok(Value::Int(self.retries as i64))
    }

    #[inline]
    fn close(&mut self) -> Ret {
        self.closes += 1;
        Ok(Value::Null)
    }

    #[inline]
    fn fail(&mut self) -> Ret {
        self.fails += 1;
        Ok(Value::Bool(false))
    }

    #[inline]
    fn drop_it(&mut self) -> Ret {
        self.drops += 1;
        Ok(Value::Null)
    }
}

// ---------------------------------------------------------------------------
// The generated side.

gobj! {
    /// A connection: 4 states, 6 events, 17 rows.
    struct Conn {
        counters: Counters,
    }
    events {
        EV_CONNECT,
        EV_CONNECTED,
        EV_DATA,
        EV_TIMEOUT,
        EV_DISCONNECT,
        EV_CLOSED,
    }
    states { ST_IDLE, ST_CONNECTING, ST_CONNECTED, ST_CLOSING }
    machine {
        ST_IDLE {
            EV_CONNECT => ac_start -> ST_CONNECTING,
            EV_DATA => ac_drop,
            EV_TIMEOUT => ac_tick,
        }
        ST_CONNECTING {
            EV_CONNECTED => ac_open -> ST_CONNECTED,
            EV_TIMEOUT => ac_retry,
            EV_DISCONNECT => ac_close -> ST_IDLE,
            EV_CLOSED => ac_fail -> ST_IDLE,
        }
        ST_CONNECTED {
            EV_CONNECT => ac_drop,
            EV_DATA => ac_data,
            EV_TIMEOUT => ac_tick,
            EV_DISCONNECT => ac_close -> ST_CLOSING,
            EV_CLOSED => ac_fail -> ST_IDLE,
        }
        ST_CLOSING {
            EV_DATA => ac_drop,
            EV_TIMEOUT => ac_tick -> ST_IDLE,
            EV_DISCONNECT,
            EV_CLOSED => ac_close -> ST_IDLE,
        }
    }
}

impl Conn {
    fn ac_start(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.counters.start()
    }

    fn ac_open(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.counters.open()
    }

    fn ac_data(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.counters.data()
    }

    fn ac_tick(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.counters.tick()
    }

    fn ac_retry(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.counters.retry()
    }

    fn ac_close(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.counters.close()
    }

    fn ac_fail(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.counters.fail()
    }

    fn ac_drop(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.counters.drop_it()
    }
}

// ---------------------------------------------------------------------------
// The baseline: the same machine as a hand-written `match`.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HandState {
    Idle,
    Connecting,
    Connected,
    Closing,
}

impl HandState {
    fn name(self) -> &'static str {
        match self {
            HandState::Idle => "ST_IDLE",
            HandState::Connecting => "ST_CONNECTING",
            HandState::Connected => "ST_CONNECTED",
            HandState::Closing => "ST_CLOSING",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HandEvent {
    Connect,
    Connected,
    Data,
    Timeout,
    Disconnect,
    Closed,
}

impl HandEvent {
    /// In the order `Conn` declares its events, so index `i` is the same
    /// event on both sides.
    const ALL: [HandEvent; 6] = [
        HandEvent::Connect,
        HandEvent::Connected,
        HandEvent::Data,
        HandEvent::Timeout,
        HandEvent::Disconnect,
        HandEvent::Closed,
    ];

    fn name(self) -> &'static str {
        match self {
            HandEvent::Connect => "EV_CONNECT",
            HandEvent::Connected => "EV_CONNECTED",
            HandEvent::Data => "EV_DATA",
            HandEvent::Timeout => "EV_TIMEOUT",
            HandEvent::Disconnect => "EV_DISCONNECT",
            HandEvent::Closed => "EV_CLOSED",
        }
    }
}

/// The hand-written machine: its struct, state and name, like `Machine`.
struct HandConn {
    counters: Counters,
    state: HandState,
    name: String,
}

impl HandConn {
    fn new(name: &str) -> Self {
        Self {
            counters: Counters::default(),
            state: HandState::Idle,
            name: name.to_owned(),
        }
    }

    /// Takes a payload as `Machine::inject` does, and drops it on return
    /// as `inject` drops its `Event`; this machine declares no payload keys
    /// and its actions read none. Inlined as the generated `dispatch` and
    /// `Machine::inject` are.
    #[inline(always)]
    fn handle(&mut self, event: HandEvent, _kw: Kw) -> Ret {
        self.step(event)
    }

    /// The `match` itself: sets the next state, then runs the action.
    #[inline(always)]
    fn step(&mut self, event: HandEvent) -> Ret {
        use HandEvent as E;
        use HandState as S;
        match (self.state, event) {
            (S::Idle, E::Connect) => {
                self.state = S::Connecting;
                self.counters.start()
            }
            (S::Idle, E::Data) => self.counters.drop_it(),
            (S::Idle, E::Timeout) => self.counters.tick(),
            (S::Connecting, E::Connected) => {
                self.state = S::Connected;
                self.counters.open()
            }
            (S::Connecting, E::Timeout) => self.counters.retry(),
            (S::Connecting, E::Disconnect) => {
                self.state = S::Idle;
                self.counters.close()
            }
            (S::Connecting, E::Closed) => {
                self.state = S::Idle;
                self.counters.fail()
            }
            (S::Connected, E::Connect) => self.counters.drop_it(),
            (S::Connected, E::Data) => self.counters.data(),
            (S::Connected, E::Timeout) => self.counters.tick(),
            (S::Connected, E::Disconnect) => {
                self.state = S::Closing;
                self.counters.close()
            }
            (S::Connected, E::Closed) => {
                self.state = S::Idle;
                self.counters.fail()
            }
            (S::Closing, E::Data) => self.counters.drop_it(),
            (S::Closing, E::Timeout) => {
                self.state = S::Idle;
                self.counters.tick()
            }
            (S::Closing, E::Disconnect) => Ok(Value::Null),
            (S::Closing, E::Closed) => {
                self.state = S::Idle;
                self.counters.close()
            }
            _ => Err(self.not_accepted(event)),
        }
    }

    /// The same error, and the same trace, as `Cx::not_accepted`.
    #[cold]
    #[inline(never)]
    fn not_accepted(&self, event: HandEvent) -> GobjError {
        let error = GobjError::NotAccepted {
            gclass: "Conn",
            gobj: self.name.to_owned(),
            state: self.state.name(),
            event: event.name(),
        };
        tracing::warn!(target: "gaplic::machine", "{error}");
        error
    }
}

// ---------------------------------------------------------------------------
// The streams.

/// A fixed-seed xorshift64, so every run times the same stream.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// `table[state][event]`: `None` when not accepted, else the next state.
/// Read from `Conn::META`, so the stream follows the declared machine.
fn transition_table() -> Vec<Vec<Option<usize>>> {
    let meta = Conn::META;
    let state_index = |name: &str| {
        ConnState::from_name(name)
            .expect("META names a declared state")
            .index()
    };
    meta.states()
        .iter()
        .map(|state| {
            meta.events()
                .iter()
                .map(|event| {
                    meta.row(state.name(), event.name()).map(|row| {
                        row.next()
                            .map_or_else(|| state_index(state.name()), state_index)
                    })
                })
                .collect()
        })
        .collect()
}

/// A cycle the machine accepts from `ST_IDLE`, repeated; it ends each
/// cycle back in `ST_IDLE`.
fn predictable_stream() -> Vec<usize> {
    const CYCLE: [usize; 7] = [
        0, // EV_CONNECT     ST_IDLE -> ST_CONNECTING
        1, // EV_CONNECTED   -> ST_CONNECTED
        2, // EV_DATA
        2, // EV_DATA
        3, // EV_TIMEOUT
        4, // EV_DISCONNECT  -> ST_CLOSING
        5, // EV_CLOSED      -> ST_IDLE
    ];
    CYCLE.iter().copied().cycle().take(STREAM_LEN).collect()
}

/// A random walk of the machine from `ST_IDLE`: at each step, one time in
/// ten an event the current state does not accept (the state stays),
/// otherwise one of the events it accepts, uniformly.
fn unpredictable_stream() -> Vec<usize> {
    let table = transition_table();
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut state = 0;
    let mut stream = Vec::with_capacity(STREAM_LEN);
    for _ in 0..STREAM_LEN {
        let accepted: Vec<usize> = (0..table[state].len())
            .filter(|&e| table[state][e].is_some())
            .collect();
        let refused: Vec<usize> = (0..table[state].len())
            .filter(|&e| table[state][e].is_none())
            .collect();
        if !refused.is_empty() && rng.below(10) == 0 {
            stream.push(refused[rng.below(refused.len())]);
        } else {
            let event = accepted[rng.below(accepted.len())];
            stream.push(event);
            state = table[state][event].expect("accepted");
        }
    }
    stream
}

/// One stream as each side's events.
struct Stream {
    name: &'static str,
    hand: Vec<HandEvent>,
    gobj: Vec<ConnEvent>,
}

impl Stream {
    fn new(name: &'static str, indices: &[usize]) -> Self {
        Self {
            name,
            hand: indices.iter().map(|&i| HandEvent::ALL[i]).collect(),
            gobj: indices.iter().map(|&i| ConnEvent::ALL[i]).collect(),
        }
    }
}

// ---------------------------------------------------------------------------
// One pass over a stream, per side. Each pass starts in the initial state.
//
// Every result is consumed: `Tally::add` folds it into a checksum that the
// pass returns (and the caller `black_box`es), so the compiler must produce
// each value and each error. Results are not passed through `black_box`
// themselves: that forces the whole `Ret` (over 100 bytes) to be copied
// through memory per event, and copying a value just written piecewise
// stalls on store-to-load forwarding, which then dominated the timing of
// both sides (measured: up to 2x on this bench).

/// What a pass returns: a checksum of the results, and how many events
/// were not accepted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Tally {
    digest: u64,
    refused: u64,
}

impl Tally {
    #[inline(always)]
    fn add(&mut self, ret: &Ret) {
        let digest = match ret {
            Ok(Value::Null) => 1,
            Ok(Value::Bool(b)) => 2 + u64::from(*b),
            Ok(Value::Int(i)) => *i as u64,
            Ok(_) => 4,
            Err(_) => {
                self.refused += 1;
                5
            }
        };
        self.digest = self.digest.rotate_left(5) ^ digest;
    }
}

#[inline(never)]
fn pass_hand(conn: &mut HandConn, events: &[HandEvent]) -> Tally {
    conn.state = HandState::Idle;
    let mut tally = Tally::default();
    for &event in events {
        tally.add(&conn.handle(event, Kw::new()));
    }
    tally
}

#[inline(never)]
fn pass_gobj(conn: &mut Machine<Conn>, events: &[ConnEvent]) -> Tally {
    conn.set_state(ConnState::ST_IDLE);
    let mut tally = Tally::default();
    for &event in events {
        tally.add(&conn.inject(event, Kw::new()));
    }
    tally
}

// The breakdown: the same passes with parts of the work taken away or
// added, to show where the difference between the two sides comes from.

/// The hand `match` alone, without the payload argument.
#[inline(never)]
fn pass_hand_step(conn: &mut HandConn, events: &[HandEvent]) -> Tally {
    conn.state = HandState::Idle;
    let mut tally = Tally::default();
    for &event in events {
        tally.add(&conn.step(event));
    }
    tally
}

/// The hand side plus the check `Machine::inject_event` makes per event:
/// a call of `gaplic::trace_all()`.
#[inline(never)]
fn pass_hand_trace_all(conn: &mut HandConn, events: &[HandEvent]) -> Tally {
    conn.state = HandState::Idle;
    let mut tally = Tally::default();
    for &event in events {
        assert!(!gaplic::trace_all(), "the trace is off in this bench");
        tally.add(&conn.handle(event, Kw::new()));
    }
    tally
}

/// `Machine::inject_event` with an `Event` built once per kind, so no
/// `Event` is made or dropped per event.
#[inline(never)]
fn pass_gobj_inject_event(
    conn: &mut Machine<Conn>,
    events: &[ConnEvent],
    built: &[Event],
) -> Tally {
    conn.set_state(ConnState::ST_IDLE);
    let mut tally = Tally::default();
    for &event in events {
        tally.add(&conn.inject_event(event, &built[event.index()]));
    }
    tally
}

/// The generated `Gclass::dispatch` alone: no `Machine`, no payload or
/// trace check, `Event`s built once per kind.
#[inline(never)]
fn pass_gobj_dispatch(conn: &mut Machine<Conn>, events: &[ConnEvent], built: &[Event]) -> Tally {
    let mut state = ConnState::ST_IDLE;
    let mut tally = Tally::default();
    {
        let mut cx = Cx::new(&mut state, "conn");
        let gobj = conn.gobj_mut();
        for &event in events {
            tally.add(&gobj.dispatch(&mut cx, event, &built[event.index()]));
        }
    }
    conn.set_state(state);
    tally
}

/// One way of running a pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Way {
    /// The baseline: `HandConn::handle(event, Kw::new())`.
    Hand,
    /// The generated side: `Machine::inject(event, Kw::new())`.
    Gobj,
    HandStep,
    HandTraceAll,
    GobjInjectEvent,
    GobjDispatch,
}

impl Way {
    const BREAKDOWN: [Way; 6] = [
        Way::Hand,
        Way::Gobj,
        Way::HandStep,
        Way::HandTraceAll,
        Way::GobjInjectEvent,
        Way::GobjDispatch,
    ];

    fn label(self) -> &'static str {
        match self {
            Way::Hand => "hand_match: handle(event, Kw::new())",
            Way::Gobj => "gobj: Machine::inject(event, Kw::new())",
            Way::HandStep => "hand_match without the payload argument",
            Way::HandTraceAll => "hand_match + gaplic::trace_all() per event",
            Way::GobjInjectEvent => "gobj: Machine::inject_event(event, &prebuilt)",
            Way::GobjDispatch => "gobj: Gclass::dispatch(cx, event, &prebuilt) alone",
        }
    }
}

/// The machines and prebuilt events the timed passes use.
struct Runner<'a> {
    stream: &'a Stream,
    hand: HandConn,
    gobj: Machine<Conn>,
    built: Vec<Event>,
}

impl<'a> Runner<'a> {
    fn new(stream: &'a Stream) -> Self {
        Self {
            stream,
            hand: HandConn::new("conn"),
            gobj: new_gobj(),
            built: ConnEvent::ALL
                .iter()
                .map(|e| Event::new(e.name(), Kw::new(), None))
                .collect(),
        }
    }

    fn run(&mut self, way: Way) -> Tally {
        let (hand, gobj) = (black_box(&self.stream.hand), black_box(&self.stream.gobj));
        match way {
            Way::Hand => pass_hand(&mut self.hand, hand),
            Way::Gobj => pass_gobj(&mut self.gobj, gobj),
            Way::HandStep => pass_hand_step(&mut self.hand, hand),
            Way::HandTraceAll => pass_hand_trace_all(&mut self.hand, hand),
            Way::GobjInjectEvent => pass_gobj_inject_event(&mut self.gobj, gobj, &self.built),
            Way::GobjDispatch => pass_gobj_dispatch(&mut self.gobj, gobj, &self.built),
        }
    }
}

fn new_gobj() -> Machine<Conn> {
    Machine::<Conn>::new("conn", &Kw::new()).expect("Conn has no attrs to get wrong")
}

/// Runs `stream` once through fresh machines of both sides, comparing every
/// result, then the end state, counters and refusals. Panics on any
/// difference: the timings would compare different work.
fn verify(stream: &Stream) -> u64 {
    let mut hand = HandConn::new("conn");
    let mut gobj = new_gobj();
    let mut refused = 0;
    for (i, (&h, &g)) in stream.hand.iter().zip(&stream.gobj).enumerate() {
        let hand_ret = hand.handle(h, Kw::new());
        let gobj_ret = gobj.inject(g, Kw::new());
        let same = match (&hand_ret, &gobj_ret) {
            (Ok(a), Ok(b)) => a == b,
            (Err(a), Err(b)) => {
                refused += 1;
                a.is_not_accepted() && b.is_not_accepted() && a.to_string() == b.to_string()
            }
            _ => false,
        };
        assert!(
            same,
            "dispatch/{}: event #{i} ({}) gives {hand_ret:?} by hand_match but {gobj_ret:?} by gobj",
            stream.name,
            h.name()
        );
        assert_eq!(
            hand.state.name(),
            gobj.state().name(),
            "dispatch/{}: after event #{i} the two machines are in different states",
            stream.name
        );
    }
    assert_eq!(
        hand.counters,
        gobj.gobj().counters,
        "dispatch/{}: the two machines counted different work",
        stream.name
    );
    // The timed passes must agree as well.
    let (mut hand, mut gobj) = (HandConn::new("conn"), new_gobj());
    let (hand_tally, gobj_tally) = (
        pass_hand(&mut hand, &stream.hand),
        pass_gobj(&mut gobj, &stream.gobj),
    );
    assert!(
        hand_tally == gobj_tally && hand_tally.refused == refused,
        "dispatch/{}: the timed passes differ: hand_match {hand_tally:?}, gobj {gobj_tally:?}, \
         {refused} not accepted expected",
        stream.name
    );
    assert_eq!(hand.state.name(), gobj.state().name());
    assert_eq!(hand.counters, gobj.gobj().counters);
    refused
}

// ---------------------------------------------------------------------------
// Timing.

fn bench_stream(c: &mut Criterion, stream: &Stream) {
    let mut group = c.benchmark_group(format!("dispatch/{}", stream.name));
    group.throughput(Throughput::Elements(stream.hand.len() as u64));
    let mut hand = HandConn::new("conn");
    group.bench_function("hand_match", |b| {
        b.iter(|| pass_hand(&mut hand, black_box(&stream.hand)));
    });
    let mut gobj = new_gobj();
    group.bench_function("gobj", |b| {
        b.iter(|| pass_gobj(&mut gobj, black_box(&stream.gobj)));
    });
    group.finish();
}

/// Best-of-`rounds` time of one pass of each way, in ns per event. The
/// ways take turns, and which one goes first rotates every round.
fn best_of(stream: &Stream, ways: &[Way], rounds: usize) -> Vec<f64> {
    let expected = Runner::new(stream).run(Way::Hand);
    for &way in ways {
        assert_eq!(
            Runner::new(stream).run(way),
            expected,
            "dispatch/{}: {way:?} does different work",
            stream.name
        );
    }
    let mut runner = Runner::new(stream);
    let mut best = vec![Duration::MAX; ways.len()];
    for round in 0..rounds {
        for k in 0..ways.len() {
            let i = (round + k) % ways.len();
            let start = Instant::now();
            black_box(runner.run(ways[i]));
            best[i] = best[i].min(start.elapsed());
        }
    }
    best.iter()
        .map(|d| d.as_secs_f64() * 1e9 / stream.hand.len() as f64)
        .collect()
}

/// Whether this is a benchmark run (`cargo bench`), not `cargo test
/// --benches` or `--list`, which only check that the benchmarks run.
fn benchmarking() -> bool {
    let args: Vec<String> = std::env::args().collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    has("--bench") && !has("--test") && !has("--list")
}

fn main() {
    let predictable = Stream::new("predictable", &predictable_stream());
    let unpredictable = Stream::new("unpredictable", &unpredictable_stream());
    let streams = [predictable, unpredictable];
    for stream in &streams {
        let refused = verify(stream);
        println!(
            "dispatch/{}: {} events, {refused} not accepted ({:.1}%); both sides agree",
            stream.name,
            stream.hand.len(),
            100.0 * refused as f64 / stream.hand.len() as f64
        );
    }

    let mut criterion = Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    for stream in &streams {
        bench_stream(&mut criterion, stream);
    }
    criterion.final_summary();

    if benchmarking() {
        for stream in &streams {
            let ns = best_of(stream, &[Way::Hand, Way::Gobj], RATIO_ROUNDS);
            let (hand, gobj) = (ns[0], ns[1]);
            println!(
                "ratio dispatch/{} gobj/hand_match = {:.2} (gobj {gobj:.2} ns/event, hand {hand:.2} ns/event)",
                stream.name,
                gobj / hand
            );
        }
        for stream in &streams {
            let ns = best_of(stream, &Way::BREAKDOWN, BREAKDOWN_ROUNDS);
            println!(
                "breakdown dispatch/{} (best of {BREAKDOWN_ROUNDS}):",
                stream.name
            );
            for (way, ns) in Way::BREAKDOWN.iter().zip(ns) {
                println!("  {:<52} {ns:6.2} ns/event", way.label());
            }
        }
    }
}
