//! Dispatch of an event without payload through the same 4-state x 6-event
//! machine, written four ways that do the same work (the same counters
//! bumped by the same actions, the same transitions):
//! - gobj: a `gobj!` gclass driven through `Machine::inject`;
//! - hand_match: a hand-written `match` shaped as the runtime's contract
//!   (it takes the payload, its actions return the runtime's `Ret`, and an
//!   event not accepted gives the same `GobjError` and trace);
//! - statig: statig's `#[state_machine]` (blocking), one handler per
//!   state;
//! - plain_match: a plain `match` on an enum whose actions return `()`.
//!
//! An event the current state does not accept leaves the state as it is
//! and runs no action on every side: gobj and hand_match return
//! `NotAccepted`; statig and plain_match count it (statig's handler counts
//! it and defers it with `Super` to a superstate there is none of, so
//! statig drops it).
//!
//! Two event streams, both generated once before timing:
//! - predictable: a 7-event cycle that the machine accepts entirely;
//! - unpredictable: a fixed-seed xorshift walk of the machine, about 10% of
//!   whose events are not accepted in the state they arrive in.
//!
//! All sides are checked to do the same work before anything is timed
//! (every state, result and refusal along the stream, then the counters).
//! After criterion's report, the ratios are measured again with a
//! best-of-N loop in this process and printed as
//! `ratio dispatch/<stream> gobj/<baseline> = ...` for hand_match, statig
//! (against the target: at most 1.2x statig) and plain_match, followed by
//! a breakdown: the same passes with parts of the work removed (the
//! payload argument, the `Machine` around the generated `dispatch`) or
//! added (the runtime's `trace_all()` check on the hand side), to show
//! where a difference comes from.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use gaplic::prelude::*;

/// Events per stream, and per timed pass.
const STREAM_LEN: usize = 16 * 1024;

/// Passes over each stream, per way, in the best-of-N ratio measurement.
const RATIO_ROUNDS: usize = 3000;

/// The target: gobj at most this many times statig's time per event.
const STATIG_TARGET: f64 = 1.2;

/// Passes over each stream, per way, in the breakdown.
const BREAKDOWN_ROUNDS: usize = 1000;

// ---------------------------------------------------------------------------
// The work both sides do: the action bodies.

/// What the actions count. Every side holds one and calls the same methods:
/// the `count_*` methods do the work; the sides whose actions return the
/// runtime's `Ret` (gobj, hand_match) wrap them in the methods named after
/// the action, which also build the action's result. Public, as is
/// `HandEvent`, because the statig machine's public storage and generated
/// impls name them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
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
    fn count_start(&mut self) {
        self.starts += 1;
    }

    #[inline]
    fn count_open(&mut self) {
        self.opens += 1;
    }

    #[inline]
    fn count_data(&mut self) {
        self.data += 1;
    }

    #[inline]
    fn count_tick(&mut self) {
        self.ticks += 1;
    }

    #[inline]
    fn count_retry(&mut self) {
        self.retries += 1;
    }

    #[inline]
    fn count_close(&mut self) {
        self.closes += 1;
    }

    #[inline]
    fn count_fail(&mut self) {
        self.fails += 1;
    }

    #[inline]
    fn count_drop(&mut self) {
        self.drops += 1;
    }

    #[inline]
    fn start(&mut self) -> Ret {
        self.count_start();
        Ok(Value::Null)
    }

    #[inline]
    fn open(&mut self) -> Ret {
        self.count_open();
        Ok(Value::Int(self.opens as i64))
    }

    #[inline]
    fn data(&mut self) -> Ret {
        self.count_data();
        Ok(Value::Int(self.data as i64))
    }

    #[inline]
    fn tick(&mut self) -> Ret {
        self.count_tick();
        Ok(Value::Null)
    }

    #[inline]
    fn retry(&mut self) -> Ret {
        self.count_retry();
        Ok(Value::Int(self.retries as i64))
    }

    #[inline]
    fn close(&mut self) -> Ret {
        self.count_close();
        Ok(Value::Null)
    }

    #[inline]
    fn fail(&mut self) -> Ret {
        self.count_fail();
        Ok(Value::Bool(false))
    }

    #[inline]
    fn drop_it(&mut self) -> Ret {
        self.count_drop();
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

/// The events of the hand-written sides and of statig, in `Conn`'s terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandEvent {
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
    name: std::sync::Arc<str>,
}

impl HandConn {
    fn new(name: &str) -> Self {
        Self {
            counters: Counters::default(),
            state: HandState::Idle,
            name: name.into(),
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
        let error = GobjError::from(ErrorKind::NotAccepted {
            gclass: "Conn",
            gobj: self.name.clone(),
            state: self.state.name(),
            event: event.name(),
        });
        tracing::warn!(target: "gaplic::machine", "{error}");
        error
    }
}

// ---------------------------------------------------------------------------
// The plain baseline: the same `match`, as one writes it without the
// runtime's types: actions return `()`, no payload, and an event the state
// does not accept is counted and otherwise ignored.

/// The machine as a plain `match` on an enum.
struct PlainConn {
    counters: Counters,
    state: HandState,
    /// Events that arrived in a state that does not accept them.
    refused: u64,
}

impl PlainConn {
    fn new() -> Self {
        Self {
            counters: Counters::default(),
            state: HandState::Idle,
            refused: 0,
        }
    }

    /// Sets the next state, then runs the action.
    #[inline(always)]
    fn step(&mut self, event: HandEvent) {
        use HandEvent as E;
        use HandState as S;
        match (self.state, event) {
            (S::Idle, E::Connect) => {
                self.state = S::Connecting;
                self.counters.count_start();
            }
            (S::Idle, E::Data) => self.counters.count_drop(),
            (S::Idle, E::Timeout) => self.counters.count_tick(),
            (S::Connecting, E::Connected) => {
                self.state = S::Connected;
                self.counters.count_open();
            }
            (S::Connecting, E::Timeout) => self.counters.count_retry(),
            (S::Connecting, E::Disconnect) => {
                self.state = S::Idle;
                self.counters.count_close();
            }
            (S::Connecting, E::Closed) => {
                self.state = S::Idle;
                self.counters.count_fail();
            }
            (S::Connected, E::Connect) => self.counters.count_drop(),
            (S::Connected, E::Data) => self.counters.count_data(),
            (S::Connected, E::Timeout) => self.counters.count_tick(),
            (S::Connected, E::Disconnect) => {
                self.state = S::Closing;
                self.counters.count_close();
            }
            (S::Connected, E::Closed) => {
                self.state = S::Idle;
                self.counters.count_fail();
            }
            (S::Closing, E::Data) => self.counters.count_drop(),
            (S::Closing, E::Timeout) => {
                self.state = S::Idle;
                self.counters.count_tick();
            }
            (S::Closing, E::Disconnect) => {}
            (S::Closing, E::Closed) => {
                self.state = S::Idle;
                self.counters.count_close();
            }
            _ => self.refused += 1,
        }
    }
}

// ---------------------------------------------------------------------------
// The library baseline: the same machine with statig's `#[state_machine]`
// (blocking). One handler per state; an event a state does not accept is
// counted and deferred to the superstate (`Super`), of which there is none,
// so statig drops it: the state stays and no action runs.

mod statig_conn {
    use statig::prelude::*;

    use super::{Counters, HandEvent};

    /// The shared storage of the statig machine.
    #[derive(Clone, Debug, Default)]
    pub struct StatigConn {
        pub counters: Counters,
        /// Events that arrived in a state that does not accept them.
        pub refused: u64,
    }

    /// The statig machine, initialized.
    pub type StatigMachine = InitializedStateMachine<StatigConn>;

    #[state_machine(
        initial = "State::idle()",
        state(derive(Clone, Copy, Debug, PartialEq, Eq))
    )]
    impl StatigConn {
        #[state]
        fn idle(&mut self, event: &HandEvent) -> Outcome<State> {
            match event {
                HandEvent::Connect => {
                    self.counters.count_start();
                    Transition(State::connecting())
                }
                HandEvent::Data => {
                    self.counters.count_drop();
                    Handled
                }
                HandEvent::Timeout => {
                    self.counters.count_tick();
                    Handled
                }
                _ => self.refuse(),
            }
        }

        #[state]
        fn connecting(&mut self, event: &HandEvent) -> Outcome<State> {
            match event {
                HandEvent::Connected => {
                    self.counters.count_open();
                    Transition(State::connected())
                }
                HandEvent::Timeout => {
                    self.counters.count_retry();
                    Handled
                }
                HandEvent::Disconnect => {
                    self.counters.count_close();
                    Transition(State::idle())
                }
                HandEvent::Closed => {
                    self.counters.count_fail();
                    Transition(State::idle())
                }
                _ => self.refuse(),
            }
        }

        #[state]
        fn connected(&mut self, event: &HandEvent) -> Outcome<State> {
            match event {
                HandEvent::Connect => {
                    self.counters.count_drop();
                    Handled
                }
                HandEvent::Data => {
                    self.counters.count_data();
                    Handled
                }
                HandEvent::Timeout => {
                    self.counters.count_tick();
                    Handled
                }
                HandEvent::Disconnect => {
                    self.counters.count_close();
                    Transition(State::closing())
                }
                HandEvent::Closed => {
                    self.counters.count_fail();
                    Transition(State::idle())
                }
                _ => self.refuse(),
            }
        }

        #[state]
        fn closing(&mut self, event: &HandEvent) -> Outcome<State> {
            match event {
                HandEvent::Data => {
                    self.counters.count_drop();
                    Handled
                }
                HandEvent::Timeout => {
                    self.counters.count_tick();
                    Transition(State::idle())
                }
                HandEvent::Disconnect => Handled,
                HandEvent::Closed => {
                    self.counters.count_close();
                    Transition(State::idle())
                }
                _ => self.refuse(),
            }
        }
    }

    impl StatigConn {
        /// Counts an event the current state does not accept and hands it
        /// up, where nothing takes it.
        #[inline]
        fn refuse(&mut self) -> Outcome<State> {
            self.refused += 1;
            Super
        }
    }

    /// A machine in its initial state, counting from zero.
    pub fn new_machine() -> StatigMachine {
        StatigConn::default().uninitialized_state_machine().init()
    }

    /// The machine back in its initial state, keeping what it counted.
    /// statig changes the state of a running machine only through events,
    /// so this builds a new one around the same storage.
    pub fn restart(machine: &mut StatigMachine) {
        let storage = StatigConn::clone(machine);
        *machine = storage.uninitialized_state_machine().init();
    }

    /// The current state, named as `Conn` names it.
    pub fn state_name(machine: &StatigMachine) -> &'static str {
        match machine.state() {
            State::Idle {} => "ST_IDLE",
            State::Connecting {} => "ST_CONNECTING",
            State::Connected {} => "ST_CONNECTED",
            State::Closing {} => "ST_CLOSING",
        }
    }
}

use statig_conn::StatigMachine;

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

/// statig's `handle(&event)`. Its handlers return no result, so the pass
/// returns the refusals only (and a zero digest).
#[inline(never)]
fn pass_statig(conn: &mut StatigMachine, events: &[HandEvent]) -> Tally {
    statig_conn::restart(conn);
    let before = conn.refused;
    for event in events {
        conn.handle(event);
    }
    Tally {
        digest: 0,
        refused: conn.refused - before,
    }
}

/// The plain `match`: actions return `()`, so the pass returns the
/// refusals only (and a zero digest).
#[inline(never)]
fn pass_plain(conn: &mut PlainConn, events: &[HandEvent]) -> Tally {
    conn.state = HandState::Idle;
    let before = conn.refused;
    for &event in events {
        conn.step(event);
    }
    Tally {
        digest: 0,
        refused: conn.refused - before,
    }
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
    let name = std::sync::Arc::from("conn");
    {
        let mut cx = Cx::new(&mut state, &name);
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
    /// statig's `#[state_machine]`: `handle(&event)`.
    Statig,
    /// The plain `match`: `PlainConn::step(event)`.
    PlainMatch,
    HandStep,
    HandTraceAll,
    GobjInjectEvent,
    GobjDispatch,
}

impl Way {
    /// The ways whose ratios are printed: gobj and its three baselines.
    const RATIOS: [Way; 4] = [Way::Hand, Way::Gobj, Way::Statig, Way::PlainMatch];

    const BREAKDOWN: [Way; 8] = [
        Way::Hand,
        Way::Gobj,
        Way::Statig,
        Way::PlainMatch,
        Way::HandStep,
        Way::HandTraceAll,
        Way::GobjInjectEvent,
        Way::GobjDispatch,
    ];

    fn label(self) -> &'static str {
        match self {
            Way::Hand => "hand_match: handle(event, Kw::new())",
            Way::Gobj => "gobj: Machine::inject(event, Kw::new())",
            Way::Statig => "statig: handle(&event)",
            Way::PlainMatch => "plain_match: step(event), actions return ()",
            Way::HandStep => "hand_match without the payload argument",
            Way::HandTraceAll => "hand_match + gaplic::trace_all() per event",
            Way::GobjInjectEvent => "gobj: Machine::inject_event(event, &prebuilt)",
            Way::GobjDispatch => "gobj: Gclass::dispatch(cx, event, &prebuilt) alone",
        }
    }

    /// Whether its actions return a `Ret`, whose digest the pass returns.
    fn has_results(self) -> bool {
        !matches!(self, Way::Statig | Way::PlainMatch)
    }
}

/// The machines and prebuilt events the timed passes use.
struct Runner<'a> {
    stream: &'a Stream,
    hand: HandConn,
    gobj: Machine<Conn>,
    statig: StatigMachine,
    plain: PlainConn,
    built: Vec<Event>,
}

impl<'a> Runner<'a> {
    fn new(stream: &'a Stream) -> Self {
        Self {
            stream,
            hand: HandConn::new("conn"),
            gobj: new_gobj(),
            statig: statig_conn::new_machine(),
            plain: PlainConn::new(),
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
            Way::Statig => pass_statig(&mut self.statig, hand),
            Way::PlainMatch => pass_plain(&mut self.plain, hand),
            Way::HandStep => pass_hand_step(&mut self.hand, hand),
            Way::HandTraceAll => pass_hand_trace_all(&mut self.hand, hand),
            Way::GobjInjectEvent => pass_gobj_inject_event(&mut self.gobj, gobj, &self.built),
            Way::GobjDispatch => pass_gobj_dispatch(&mut self.gobj, gobj, &self.built),
        }
    }

    /// What the machine `way` drives has counted, and the state it is in.
    fn end(&self, way: Way) -> (Counters, &'static str) {
        match way {
            Way::Hand | Way::HandStep | Way::HandTraceAll => {
                (self.hand.counters.clone(), self.hand.state.name())
            }
            Way::Gobj | Way::GobjInjectEvent | Way::GobjDispatch => {
                (self.gobj.gobj().counters.clone(), self.gobj.state().name())
            }
            Way::Statig => (
                self.statig.counters.clone(),
                statig_conn::state_name(&self.statig),
            ),
            Way::PlainMatch => (self.plain.counters.clone(), self.plain.state.name()),
        }
    }
}

fn new_gobj() -> Machine<Conn> {
    Machine::<Conn>::new("conn", &Kw::new()).expect("Conn has no attrs to get wrong")
}

/// Runs `stream` once through fresh machines of all four sides, comparing
/// every result (gobj and hand_match), every refusal and every state (all
/// four), then the counters; then checks the timed passes of every way.
/// Panics on any difference: the timings would compare different work.
fn verify(stream: &Stream) -> u64 {
    let mut hand = HandConn::new("conn");
    let mut gobj = new_gobj();
    let mut statig = statig_conn::new_machine();
    let mut plain = PlainConn::new();
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
        statig.handle(&h);
        plain.step(h);
        assert!(
            statig.refused == refused && plain.refused == refused,
            "dispatch/{}: after event #{i} ({}) gobj refused {refused} events, statig {}, \
             plain_match {}",
            stream.name,
            h.name(),
            statig.refused,
            plain.refused
        );
        let states = [
            hand.state.name(),
            gobj.state().name(),
            statig_conn::state_name(&statig),
            plain.state.name(),
        ];
        assert!(
            states.iter().all(|s| *s == states[0]),
            "dispatch/{}: after event #{i} the machines are in different states \
             (hand_match, gobj, statig, plain_match): {states:?}",
            stream.name
        );
    }
    let counters = [
        &hand.counters,
        &gobj.gobj().counters,
        &statig.counters,
        &plain.counters,
    ];
    assert!(
        counters.iter().all(|c| *c == counters[0]),
        "dispatch/{}: the machines counted different work (hand_match, gobj, statig, \
         plain_match): {counters:?}",
        stream.name
    );
    // The timed passes must agree as well.
    let expected = check_passes(stream, &Way::BREAKDOWN);
    assert_eq!(
        expected.refused, refused,
        "dispatch/{}: the timed passes refuse {} events, {refused} expected",
        stream.name, expected.refused
    );
    refused
}

/// Runs one pass of each of `ways` on fresh machines and compares it with
/// the hand_match pass: the same refusals, the same results where the way
/// has results, the same counters and end state. Returns the hand_match
/// pass's tally.
fn check_passes(stream: &Stream, ways: &[Way]) -> Tally {
    let mut reference = Runner::new(stream);
    let expected = reference.run(Way::Hand);
    let expected_end = reference.end(Way::Hand);
    for &way in ways {
        let mut runner = Runner::new(stream);
        let tally = runner.run(way);
        let same_results = !way.has_results() || tally.digest == expected.digest;
        assert!(
            tally.refused == expected.refused && same_results,
            "dispatch/{}: {way:?} does different work: {tally:?}, hand_match {expected:?}",
            stream.name
        );
        assert_eq!(
            runner.end(way),
            expected_end,
            "dispatch/{}: {way:?} ends with other counters or in another state than hand_match",
            stream.name
        );
    }
    expected
}

// ---------------------------------------------------------------------------
// Timing.

fn bench_stream(c: &mut Criterion, stream: &Stream) {
    let mut group = c.benchmark_group(format!("dispatch/{}", stream.name));
    group.throughput(Throughput::Elements(stream.hand.len() as u64));
    let mut runner = Runner::new(stream);
    for (way, id) in [
        (Way::Hand, "hand_match"),
        (Way::Gobj, "gobj"),
        (Way::Statig, "statig"),
        (Way::PlainMatch, "plain_match"),
    ] {
        group.bench_function(id, |b| b.iter(|| runner.run(way)));
    }
    group.finish();
}

/// Best-of-`rounds` time of one pass of each way, in ns per event. The
/// ways take turns, and which one goes first rotates every round.
fn best_of(stream: &Stream, ways: &[Way], rounds: usize) -> Vec<f64> {
    check_passes(stream, ways);
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
            "dispatch/{}: {} events, {refused} not accepted ({:.1}%); all sides agree",
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
            let ns = best_of(stream, &Way::RATIOS, RATIO_ROUNDS);
            let (hand, gobj, statig, plain) = (ns[0], ns[1], ns[2], ns[3]);
            let name = stream.name;
            println!(
                "ratio dispatch/{name} gobj/hand_match = {:.2} (gobj {gobj:.2} ns/event, hand \
                 {hand:.2} ns/event)",
                gobj / hand
            );
            let verdict = if gobj <= STATIG_TARGET * statig {
                "met"
            } else {
                "missed"
            };
            println!(
                "ratio dispatch/{name} gobj/statig = {:.2} (gobj {gobj:.2} ns/event, statig \
                 {statig:.2} ns/event; target <= {STATIG_TARGET}x statig: {verdict})",
                gobj / statig
            );
            println!(
                "ratio dispatch/{name} gobj/plain_match = {:.2} (gobj {gobj:.2} ns/event, \
                 plain_match {plain:.2} ns/event)",
                gobj / plain
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
