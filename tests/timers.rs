//! Timers on a virtual clock: GTimer (GinsFSM scenarios 22 to 25), gobj
//! timers and timeouts. No test here waits for real time.

mod support;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::{Duration, Instant};

use gaplic::prelude::*;
use gaplic::{GTimer, GTimerEvent, GobjError};
use support::{Watchdog, warnings};

gobj! {
    /// The parent of a GTimer: keeps when and how its timeouts came.
    struct Owner {
        /// Stops the gaplic at the first timeout.
        #[attr(default = false)]
        stop_on_timeout: bool,
        times: Vec<Instant>,
        events: Vec<Event>,
        /// Where its times go when it goes out, if anywhere.
        last_times: Option<Rc<RefCell<Vec<Instant>>>>,
    }
    events { EV_TIMEOUT, EV_TICK }
    states { ST_IDLE }
    machine {
        ST_IDLE {
            EV_TIMEOUT => note,
            EV_TICK => note,
        }
    }
    hooks { go_out }
}

impl Owner {
    fn go_out(&mut self, _cx: &mut Cx<Self>) {
        if let Some(last) = &self.last_times {
            last.borrow_mut().clone_from(&self.times);
        }
    }

    fn note(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let gaplic = cx.gaplic()?;
        self.times.push(gaplic.now());
        self.events.push(ev.clone());
        if self.stop_on_timeout {
            gaplic.stop();
        }
        Ok(Value::Null)
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn secs(n: f64) -> Duration {
    Duration::from_secs_f64(n)
}

/// A gaplic on a virtual clock, an `Owner` and its GTimer made with
/// `timer_kw`, and the time they were made at.
fn owner_and_timer(name: &str, timer_kw: Kw) -> (Gaplic, GobjId, GobjId, Instant) {
    let mut g = Gaplic::builder(name).virtual_clock().build().unwrap();
    let start = g.now();
    let owner = g.create_gobj::<Owner>("owner", None, Kw::new()).unwrap();
    let timer = g
        .create_gobj::<GTimer>("timer", Some(owner), timer_kw)
        .unwrap();
    (g, owner, timer, start)
}

/// When the owner got its timeouts, from `start`.
fn offsets(g: &Gaplic, owner: GobjId, start: Instant) -> Vec<Duration> {
    let owner = g.gobj::<Owner>(owner).unwrap();
    owner.times.iter().map(|t| *t - start).collect()
}

fn set_timer(g: &mut Gaplic, timer: GobjId, kw: Kw) {
    assert_eq!(
        g.send(timer, GTimerEvent::EV_SET_TIMER, kw).unwrap(),
        Value::Null
    );
}

// ----- GinsFSM's scenarios -------------------------------------------------------

gobj! {
    /// test_gaplic1's principal: answers one query at a time, one turn of
    /// its 0 s timer apart, and queues the others.
    struct Principal {
        timer: Option<GobjId>,
        queue: VecDeque<String>,
    }
    events {
        EV_QUERY: input { data: String },
        EV_TIMEOUT,
    }
    states { ST_IDLE, ST_WAIT_RESP }
    machine {
        ST_IDLE {
            EV_QUERY => query -> ST_WAIT_RESP,
            EV_TIMEOUT => resend,
        }
        ST_WAIT_RESP {
            EV_QUERY => enqueue,
            EV_TIMEOUT => arm -> ST_IDLE,
        }
    }
    hooks { start_up }
}

impl Principal {
    fn start_up(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        self.timer = Some(cx.create_child::<GTimer>("timer", Kw::new())?);
        Ok(())
    }

    fn query(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.arm(cx, ev)?;
        Ok(Value::from(ev.get::<String>("data")?))
    }

    fn enqueue(&mut self, _cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.queue.push_back(ev.get("data")?);
        Ok(Value::Null)
    }

    fn arm(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        let timer = self.timer.expect("made in start_up");
        cx.send(timer, GTimerEvent::EV_SET_TIMER, kw! { "seconds" => 0 })?;
        Ok(Value::Null)
    }

    fn resend(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        if let Some(data) = self.queue.pop_front() {
            let me = cx.id().expect("in a gaplic");
            let sent = cx.send(me, PrincipalEvent::EV_QUERY, kw! { "data" => data })?;
            assert!(sent.is_queued(), "{sent:?}");
        }
        Ok(Value::Null)
    }
}

/// A 0 s timer fires in the turn it was armed in, since timers are
/// scanned after the posted events; its timeout arrives on the next turn,
/// by post (GinsFSM's rule). GinsFSM's re-entrant re-send becomes a send
/// queued until the action returns (run to completion, DESIGN.md, "where
/// we deliberately do better"); the checkpoints of the scenario hold.
#[test]
fn scenario_22_a_principal_answers_queries_one_timer_turn_apart() {
    let mut g = Gaplic::builder("tm-22").virtual_clock().build().unwrap();
    let p = g
        .create_unique_gobj::<Principal>("principal", None, Kw::new())
        .unwrap();
    let queued = |g: &Gaplic| g.gobj::<Principal>(p).unwrap().queue.len();
    assert_eq!(
        g.send("principal", "EV_QUERY", kw! { "data" => "XXX" })
            .unwrap(),
        Value::from("XXX")
    );
    assert_eq!(g.state_of(p), Some("ST_WAIT_RESP"));
    assert_eq!(
        g.send("principal", "EV_QUERY", kw! { "data" => "YYY" })
            .unwrap(),
        Value::Null
    );
    assert_eq!(queued(&g), 1);

    let mut seen = Vec::new();
    for _ in 0..4 {
        let more = g.turn();
        seen.push((more, g.state_of(p).unwrap(), queued(&g)));
    }
    assert_eq!(
        seen,
        [
            (true, "ST_WAIT_RESP", 1),
            (true, "ST_IDLE", 1),
            (true, "ST_WAIT_RESP", 0),
            (true, "ST_IDLE", 0),
        ]
    );
    assert!(!g.turn(), "the last timeout finds nothing queued");
    assert_eq!(g.state_of(p), Some("ST_IDLE"));
    assert_eq!(g.timer_count(), 0);
}

/// GinsFSM loops on the wall clock for 2 s. Here the test drives a
/// virtual clock (DESIGN.md, "where we deliberately do better"): `advance`
/// moves it, and `run`, with nothing else to do, jumps to the next timer.
#[test]
fn scenario_23_a_two_second_timer_reaches_the_parent() {
    let (mut g, owner, timer, start) = owner_and_timer("tm-23", Kw::new());
    set_timer(&mut g, timer, kw! { "seconds" => 2 });
    g.advance(ms(1999));
    assert!(offsets(&g, owner, start).is_empty());
    g.advance(ms(1));
    assert_eq!(offsets(&g, owner, start), [secs(2.0)]);

    let (mut g, owner, timer, start) = owner_and_timer("tm-23-run", Kw::new());
    let times = Rc::new(RefCell::new(Vec::new()));
    let owner = g.gobj_mut::<Owner>(owner).unwrap();
    owner.stop_on_timeout = true;
    owner.last_times = Some(times.clone());
    set_timer(&mut g, timer, kw! { "seconds" => 2 });
    let watchdog = Watchdog::new(g.handle(), Duration::from_secs(5));
    g.run().unwrap();
    assert!(!watchdog.disarm(), "run did not return by itself");
    let offsets: Vec<Duration> = times.borrow().iter().map(|t| *t - start).collect();
    assert_eq!(offsets, [secs(2.0)], "the owner went out after its timeout");
    assert_eq!(g.now() - start, secs(2.0));
}

/// GinsFSM delivers the timeout with the gaplic as its source; gaplic
/// names the timer that fired (DESIGN.md, "where we deliberately do
/// better": "a timer's event names the timer that fired").
#[test]
fn scenario_24_a_zero_second_timeout_arrives_one_turn_later_from_the_timer() {
    let (mut g, owner, timer, start) = owner_and_timer("tm-24", Kw::new());
    set_timer(&mut g, timer, kw! { "seconds" => 0 });
    assert_eq!(g.timer_count(), 1);

    assert!(g.turn(), "the timeout waits in the queue");
    assert!(offsets(&g, owner, start).is_empty());
    assert_eq!(g.queued(), 1);

    assert!(!g.turn());
    let events = &g.gobj::<Owner>(owner).unwrap().events;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].name(), "EV_TIMEOUT");
    assert_eq!(events[0].source(), Some(timer));
    assert_eq!(g.timer_count(), 0);
    assert_eq!(g.state_of(timer), Some("ST_IDLE"));
}

#[test]
fn scenario_25_autostart_persists_and_minus_one_cancels() {
    let (mut g, owner, timer, start) = owner_and_timer("tm-25", Kw::new());
    set_timer(&mut g, timer, kw! { "seconds" => 1, "autostart" => true });
    set_timer(&mut g, timer, kw! { "seconds" => 1 });
    assert_eq!(g.timer_count(), 1);
    assert_eq!(g.state_of(timer), Some("ST_ARMED"));

    g.advance(secs(3.2));
    assert_eq!(offsets(&g, owner, start), [secs(1.0), secs(2.0), secs(3.0)]);

    set_timer(&mut g, timer, kw! { "seconds" => -1 });
    assert_eq!(g.timer_count(), 0);
    assert_eq!(g.state_of(timer), Some("ST_IDLE"));
    g.advance(secs(5.0));
    assert_eq!(offsets(&g, owner, start).len(), 3);
}

// ----- GTimer ----------------------------------------------------------------------

gobj! {
    /// Subscribed by send to a GTimer: each timeout "takes" 300 ms of the
    /// virtual clock.
    struct Laggard {
        times: Vec<Instant>,
    }
    events { EV_TIMEOUT }
    states { ST_IDLE }
    machine { ST_IDLE { EV_TIMEOUT => lag } }
}

impl Laggard {
    fn lag(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        let gaplic = cx.gaplic()?;
        self.times.push(gaplic.now());
        gaplic.advance(ms(300));
        Ok(Value::Null)
    }
}

#[test]
fn a_cyclic_timer_keeps_its_cadence() {
    let (mut g, owner, timer, start) = owner_and_timer("tm-cadence", Kw::new());
    let laggard = g
        .create_gobj::<Laggard>("laggard", None, Kw::new())
        .unwrap();
    g.subscribe(timer, Some("EV_TIMEOUT"), laggard, SubscribeOptions::new())
        .unwrap();
    set_timer(&mut g, timer, kw! { "seconds" => 1, "autostart" => true });
    g.advance(ms(3100));
    let times: Vec<Duration> = g
        .gobj::<Laggard>(laggard)
        .unwrap()
        .times
        .iter()
        .map(|t| *t - start)
        .collect();
    assert_eq!(times, [secs(1.0), secs(2.0), secs(3.0)]);
    assert_eq!(offsets(&g, owner, start), [secs(1.0), secs(2.0), secs(3.0)]);
    assert_eq!(g.timer_count(), 1);
}

/// GinsFSM truncates GTimer's seconds to whole seconds (0.9 s fires at
/// once, GINSFSM.md, sections 5 and 9); gaplic keeps the fraction.
#[test]
fn fractional_seconds_are_kept() {
    let (mut g, owner, timer, start) = owner_and_timer("tm-fraction", Kw::new());
    set_timer(&mut g, timer, kw! { "seconds" => 0.25 });
    g.advance(ms(249));
    assert!(offsets(&g, owner, start).is_empty());
    g.advance(ms(1));
    assert_eq!(offsets(&g, owner, start), [ms(250)]);

    set_timer(&mut g, timer, kw! { "seconds" => 1.5, "autostart" => true });
    g.advance(secs(3.0));
    assert_eq!(offsets(&g, owner, start), [ms(250), ms(1750), ms(3250)]);
}

#[test]
fn a_negative_value_disarms() {
    let (mut g, owner, timer, start) = owner_and_timer("tm-negative", Kw::new());
    set_timer(&mut g, timer, kw! { "seconds" => 1, "autostart" => true });
    g.advance(ms(500));
    set_timer(&mut g, timer, kw! { "seconds" => -0.5 });
    assert_eq!(g.timer_count(), 0);
    assert_eq!(g.state_of(timer), Some("ST_IDLE"));
    g.advance(secs(3.0));
    assert!(offsets(&g, owner, start).is_empty());
}

#[test]
fn seconds_and_autostart_persist_between_set_timers() {
    let (mut g, owner, timer, start) = owner_and_timer("tm-persist", Kw::new());
    set_timer(&mut g, timer, kw! { "seconds" => 1, "autostart" => true });
    g.advance(secs(1.0));
    // Only autostart changes: re-armed for the kept second, once.
    set_timer(&mut g, timer, kw! { "autostart" => false });
    g.advance(secs(3.0));
    assert_eq!(offsets(&g, owner, start), [secs(1.0), secs(2.0)]);
    assert_eq!(g.timer_count(), 0);
    // Nothing given: armed again with what it had.
    set_timer(&mut g, timer, Kw::new());
    g.advance(secs(2.0));
    assert_eq!(offsets(&g, owner, start), [secs(1.0), secs(2.0), secs(5.0)]);
}

#[test]
fn re_arming_replaces_the_previous_deadline() {
    let (mut g, owner, timer, start) = owner_and_timer("tm-rearm", Kw::new());
    set_timer(&mut g, timer, kw! { "seconds" => 1 });
    g.advance(ms(500));
    set_timer(&mut g, timer, kw! { "seconds" => 1 });
    assert_eq!(g.timer_count(), 1);
    g.advance(secs(3.0));
    assert_eq!(offsets(&g, owner, start), [ms(1500)]);
}

#[test]
fn timeout_event_name_renames_the_timeout_and_seconds_arms_at_creation() {
    let (mut g, owner, timer, start) = owner_and_timer(
        "tm-rename",
        kw! { "timeout_event_name" => "EV_TICK", "seconds" => 0.5 },
    );
    assert_eq!(g.state_of(timer), Some("ST_ARMED"));
    g.advance(secs(1.0));
    assert_eq!(offsets(&g, owner, start), [ms(500)]);
    let event = &g.gobj::<Owner>(owner).unwrap().events[0];
    assert_eq!(event.name(), "EV_TICK");
    assert_eq!(
        event.get::<String>("original_event_name").unwrap(),
        "EV_TIMEOUT"
    );
    assert_eq!(event.source(), Some(timer));
}

#[test]
fn a_gtimer_without_a_parent_fires_for_its_subscribers_only() {
    let mut g = Gaplic::builder("tm-orphan")
        .virtual_clock()
        .build()
        .unwrap();
    let start = g.now();
    let timer = g
        .create_gobj::<GTimer>("timer", None, kw! { "seconds" => 0.1 })
        .unwrap();
    let owner = g.create_gobj::<Owner>("owner", None, Kw::new()).unwrap();
    g.subscribe(timer, None, owner, SubscribeOptions::new())
        .unwrap();
    let ((), traces) = warnings(|| g.advance(secs(1.0)));
    assert!(traces.is_empty(), "{traces}");
    assert_eq!(offsets(&g, owner, start), [ms(100)]);
    assert_eq!(g.timer_count(), 0);
}

#[test]
fn a_bad_set_timer_payload_is_refused() {
    let (mut g, _owner, timer, _start) = owner_and_timer("tm-bad", Kw::new());
    let error = g
        .send(
            timer,
            GTimerEvent::EV_SET_TIMER,
            kw! { "seconds" => "soon" },
        )
        .unwrap_err();
    assert!(
        matches!(
            error.kind(),
            ErrorKind::BadPayload {
                gclass: "GTimer",
                event: "EV_SET_TIMER",
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(g.timer_count(), 0);
    let error = g.send(timer, GTimerEvent::EV_FIRED, Kw::new()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "event `EV_FIRED` for gobj `timer` of `GTimer` has a bad payload: key `arming` is missing"
    );
}

// ----- timers die with their owner ---------------------------------------------

gobj! {
    /// Arms timers of its own with `Cx::set_timer`.
    struct Selfie {
        ticks: Vec<(Instant, Option<GobjId>, i64)>,
    }
    events {
        EV_ARM: input { ms: i64, times: i64 },
        EV_TICK: input { left: i64, ms: i64 },
    }
    states { ST_IDLE }
    machine {
        ST_IDLE {
            EV_ARM => arm,
            EV_TICK => tick,
        }
    }
}

impl Selfie {
    fn arm(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let delay = ev.get::<i64>("ms")?;
        let kw = kw! { "left" => ev.get::<i64>("times")? - 1, "ms" => delay };
        let delay = Duration::from_millis(delay.unsigned_abs());
        cx.set_timer(delay, SelfieEvent::EV_TICK, kw)?;
        Ok(Value::Null)
    }

    fn tick(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let left = ev.get::<i64>("left")?;
        let now = cx.gaplic()?.now();
        self.ticks.push((now, ev.source(), left));
        if left > 0 {
            let delay = ev.get::<i64>("ms")?;
            let kw = kw! { "left" => left - 1, "ms" => delay };
            cx.set_timer(ms(delay.unsigned_abs()), SelfieEvent::EV_TICK, kw)?;
        }
        Ok(Value::Null)
    }
}

fn ticks(g: &Gaplic, selfie: GobjId, start: Instant) -> Vec<(Duration, Option<GobjId>, i64)> {
    g.gobj::<Selfie>(selfie)
        .unwrap()
        .ticks
        .iter()
        .map(|(t, s, l)| (*t - start, *s, *l))
        .collect()
}

#[test]
fn a_gobj_timer_sends_to_its_owner_with_the_owner_as_source() {
    let mut g = Gaplic::builder("tm-gobj-timer")
        .virtual_clock()
        .build()
        .unwrap();
    let start = g.now();
    let s = g.create_gobj::<Selfie>("s", None, Kw::new()).unwrap();
    g.send(s, SelfieEvent::EV_ARM, kw! { "ms" => 10, "times" => 3 })
        .unwrap();
    // Each tick arms the next one; `advance` fires them on the way.
    g.advance(ms(30));
    assert_eq!(
        ticks(&g, s, start),
        [
            (ms(10), Some(s), 2),
            (ms(20), Some(s), 1),
            (ms(30), Some(s), 0)
        ]
    );
    assert_eq!(g.timer_count(), 0);

    let key = g
        .set_gobj_timer(s, ms(5), "EV_TICK", kw! { "left" => 0, "ms" => 0 })
        .unwrap();
    assert!(g.cancel_timer(key));
    assert!(!g.cancel_timer(key));
    g.advance(ms(10));
    assert_eq!(ticks(&g, s, start).len(), 3);
}

#[test]
fn timers_die_with_their_owner() {
    let mut g = Gaplic::builder("tm-die").virtual_clock().build().unwrap();
    let s = g.create_gobj::<Selfie>("s", None, Kw::new()).unwrap();
    g.send(s, SelfieEvent::EV_ARM, kw! { "ms" => 10, "times" => 1 })
        .unwrap();
    g.set_gobj_timer(s, ms(20), "EV_TICK", kw! { "left" => 0, "ms" => 0 })
        .unwrap();
    assert_eq!(g.timer_count(), 2);
    g.destroy_gobj(s).unwrap();
    assert_eq!(g.timer_count(), 0);
    let heir = g.create_gobj::<Selfie>("heir", None, Kw::new()).unwrap();
    assert_eq!(heir.index(), s.index());
    let ((), traces) = warnings(|| g.advance(ms(100)));
    assert!(g.gobj::<Selfie>(heir).unwrap().ticks.is_empty());
    assert!(traces.is_empty(), "{traces}");

    // A GinsFSM GTimer that is destroyed is never cancelled (GINSFSM.md,
    // section 9); here its timer ends with it, and with its parent.
    let (mut g, owner, timer, start) = owner_and_timer("tm-die-gtimer", Kw::new());
    set_timer(&mut g, timer, kw! { "seconds" => 1 });
    g.destroy_gobj(timer).unwrap();
    assert_eq!(g.timer_count(), 0);
    g.advance(secs(2.0));
    assert!(offsets(&g, owner, start).is_empty());

    let (mut g, owner, timer, _start) = owner_and_timer("tm-die-parent", Kw::new());
    set_timer(&mut g, timer, kw! { "seconds" => 1, "autostart" => true });
    g.destroy_gobj(owner).unwrap();
    assert!(!g.contains(timer));
    assert_eq!(g.timer_count(), 0);
    assert!(g.is_empty());
}

// ----- timeouts ---------------------------------------------------------------------

#[test]
fn timeouts_fire_in_deadline_order_and_can_be_removed() {
    let mut g = Gaplic::builder("tm-timeouts")
        .virtual_clock()
        .build()
        .unwrap();
    let start = g.now();
    let fired = Rc::new(RefCell::new(Vec::new()));
    let add = |g: &mut Gaplic, delay: u64, name: &'static str| {
        let fired = fired.clone();
        g.set_timer(ms(delay), move |g| {
            fired.borrow_mut().push((name, g.now() - start));
        })
    };
    let a = add(&mut g, 30, "a");
    add(&mut g, 10, "b");
    let c = add(&mut g, 20, "c");
    assert_eq!(g.timer_count(), 3);
    assert!(g.cancel_timer(c));
    assert!(!g.cancel_timer(c));

    assert!(!g.turn(), "nothing is due yet");
    assert!(fired.borrow().is_empty());
    g.advance(ms(50));
    assert_eq!(*fired.borrow(), [("b", ms(10)), ("a", ms(30))]);
    assert!(!g.cancel_timer(a), "it fired already");
    assert_eq!(g.timer_count(), 0);
    assert_eq!(g.now() - start, ms(50));
}

/// GinsFSM fires one one-shot timer per turn (GINSFSM.md, section 9).
#[test]
fn every_due_timer_fires_in_the_same_turn() {
    let mut g = Gaplic::builder("tm-same-turn")
        .virtual_clock()
        .build()
        .unwrap();
    let fired = Rc::new(RefCell::new(Vec::new()));
    for i in 0..3 {
        let fired = fired.clone();
        g.set_timer(Duration::ZERO, move |_| fired.borrow_mut().push(i));
    }
    let s = g.create_gobj::<Selfie>("s", None, Kw::new()).unwrap();
    g.set_gobj_timer(s, Duration::ZERO, "EV_TICK", kw! { "left" => 0, "ms" => 0 })
        .unwrap();
    assert!(!g.turn());
    let mut fired = fired.borrow().clone();
    fired.sort_unstable();
    assert_eq!(fired, [0, 1, 2]);
    assert_eq!(g.gobj::<Selfie>(s).unwrap().ticks.len(), 1);
    assert_eq!(g.timer_count(), 0);
}

#[test]
fn a_panicking_timeout_is_traced_and_the_loop_goes_on() {
    let mut g = Gaplic::builder("tm-timeout-panic")
        .virtual_clock()
        .build()
        .unwrap();
    let fired = Rc::new(RefCell::new(0));
    g.set_timer(ms(1), |_| panic!("this timeout panics"));
    let counter = fired.clone();
    g.set_timer(ms(2), move |_| *counter.borrow_mut() += 1);
    let ((), traces) = warnings(|| g.advance(ms(5)));
    assert!(traces.contains("a timer callback panicked"), "{traces}");
    assert_eq!(*fired.borrow(), 1);
}

// ----- timers changed while timers fire -------------------------------------------

/// All timers due in a turn used to be taken out before any ran, so a
/// callback cancelling another timer due in the same turn got `false` and
/// the cancelled timer fired anyway.
#[test]
fn a_timer_cancelled_by_one_due_in_the_same_turn_does_not_fire() {
    let mut g = Gaplic::builder("tm-cancel-same-turn")
        .virtual_clock()
        .build()
        .unwrap();
    let fired = Rc::new(RefCell::new(Vec::new()));
    let cancelled = Rc::new(RefCell::new(None));
    let (log, result) = (fired.clone(), cancelled.clone());
    let second = Rc::new(RefCell::new(None));
    let victim = second.clone();
    g.set_timer(ms(10), move |g| {
        log.borrow_mut().push("first");
        let id = victim.borrow_mut().take().expect("set below");
        *result.borrow_mut() = Some(g.cancel_timer(id));
    });
    let log = fired.clone();
    *second.borrow_mut() = Some(g.set_timer(ms(10), move |_| log.borrow_mut().push("second")));
    assert_eq!(g.timer_count(), 2);
    g.advance(ms(20));
    assert_eq!(*fired.borrow(), ["first"]);
    assert_eq!(*cancelled.borrow(), Some(true));
    assert_eq!(g.timer_count(), 0);
}

/// A GTimer re-armed by another timer's callback in the turn its old
/// arming is due used to fire at the old deadline and then refuse the
/// real one.
#[test]
fn a_gtimer_rearmed_in_the_turn_it_was_due_fires_only_at_its_new_deadline() {
    let (mut g, owner, timer, start) = owner_and_timer("tm-rearm-same-turn", Kw::new());
    // Due at the same tick as the GTimer, and set first, so it runs first.
    g.set_timer(ms(10), move |g| {
        g.send(timer, GTimerEvent::EV_SET_TIMER, kw! { "seconds" => 0.05 })
            .unwrap();
    });
    set_timer(&mut g, timer, kw! { "seconds" => 0.01 });
    let ((), traces) = warnings(|| g.advance(ms(100)));
    assert_eq!(offsets(&g, owner, start), [ms(60)]);
    assert!(traces.is_empty(), "{traces}");
}

#[test]
fn a_gtimer_cancelled_in_the_turn_it_was_due_never_fires() {
    let (mut g, owner, timer, start) = owner_and_timer("tm-cancel-gtimer", Kw::new());
    g.set_timer(ms(10), move |g| {
        g.send(timer, GTimerEvent::EV_SET_TIMER, kw! { "seconds" => -1 })
            .unwrap();
    });
    set_timer(
        &mut g,
        timer,
        kw! { "seconds" => 0.01, "autostart" => true },
    );
    g.advance(ms(100));
    assert!(offsets(&g, owner, start).is_empty());
    assert_eq!(g.state_of(timer), Some("ST_IDLE"));
    assert_eq!(g.timer_count(), 0);
}

/// An `EV_FIRED` of an arming that is over (or one forged by hand) is
/// dropped, never published.
#[test]
fn a_stale_firing_of_a_gtimer_is_ignored() {
    let (mut g, owner, timer, start) = owner_and_timer("tm-stale-fire", Kw::new());
    set_timer(&mut g, timer, kw! { "seconds" => 0.05 });
    for arming in [0, 7] {
        assert_eq!(
            g.send(timer, "EV_FIRED", kw! { "arming" => arming })
                .unwrap(),
            Value::Null
        );
    }
    g.advance(ms(20));
    assert!(offsets(&g, owner, start).is_empty());
    g.advance(ms(100));
    assert_eq!(offsets(&g, owner, start), [ms(50)]);
}

/// The timers of a gobj destroyed by an earlier timer of the same turn are
/// cancelled with it: they do not fire.
#[test]
fn timers_of_a_gobj_destroyed_by_an_earlier_timer_of_the_turn_do_not_fire() {
    let mut g = Gaplic::builder("tm-destroyed-same-turn")
        .virtual_clock()
        .build()
        .unwrap();
    let owner = g.create_gobj::<Owner>("owner", None, Kw::new()).unwrap();
    g.set_timer(ms(10), move |g| g.destroy_gobj(owner).unwrap());
    g.set_gobj_timer(owner, ms(10), "EV_TICK", Kw::new())
        .unwrap();
    g.set_gobj_timer(owner, ms(10), "EV_TICK", Kw::new())
        .unwrap();
    let ((), traces) = warnings(|| g.advance(ms(20)));
    assert!(!g.contains(owner));
    assert!(traces.is_empty(), "nothing reached the gone gobj: {traces}");
    assert_eq!(g.timer_count(), 0);
}

gobj! {
    /// The parent of a cyclic GTimer that disarms it at its third timeout.
    struct Thrice {
        timer: Option<GobjId>,
        timeouts: u32,
    }
    events { EV_TIMEOUT }
    states { ST_IDLE }
    machine { ST_IDLE { EV_TIMEOUT => timeout } }
    hooks { start_up }
}

impl Thrice {
    fn start_up(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        let timer = cx.create_child::<GTimer>("timer", Kw::new())?;
        cx.send(
            timer,
            GTimerEvent::EV_SET_TIMER,
            kw! { "seconds" => 0.01, "autostart" => true },
        )?;
        self.timer = Some(timer);
        Ok(())
    }

    fn timeout(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.timeouts += 1;
        if self.timeouts == 3 {
            let timer = self.timer.expect("made in start_up");
            cx.send(timer, GTimerEvent::EV_SET_TIMER, kw! { "seconds" => -1 })?;
        }
        Ok(Value::Null)
    }
}

#[test]
fn a_cyclic_gtimer_cancelled_from_its_own_timeout_stops() {
    let mut g = Gaplic::builder("tm-cyclic-cancel")
        .virtual_clock()
        .build()
        .unwrap();
    let thrice = g.create_gobj::<Thrice>("thrice", None, Kw::new()).unwrap();
    g.advance(ms(200));
    assert_eq!(g.gobj::<Thrice>(thrice).unwrap().timeouts, 3);
    assert_eq!(g.timer_count(), 0);
}

/// `seconds = 1e19` used to panic on `Instant` overflow, and NaN was
/// accepted and never fired.
#[test]
fn a_gtimer_refuses_periods_no_clock_can_hold() {
    let mut g = Gaplic::builder("tm-bad-seconds")
        .virtual_clock()
        .build()
        .unwrap();
    for bad in [1e19, f64::NAN, f64::INFINITY, GTimer::MAX_SECONDS * 2.0] {
        let error = g
            .create_gobj::<GTimer>("t", None, kw! { "seconds" => bad })
            .unwrap_err();
        assert!(matches!(error.kind(), ErrorKind::BadAttr { .. }), "{error}");
        assert!(error.to_string().contains("key `seconds`"), "{error}");
    }
    assert!(g.is_empty());
    let timer = g.create_gobj::<GTimer>("t", None, Kw::new()).unwrap();
    set_timer(&mut g, timer, kw! { "seconds" => 5 });
    for bad in [1e19, f64::NAN, f64::NEG_INFINITY] {
        let error = g
            .send(timer, GTimerEvent::EV_SET_TIMER, kw! { "seconds" => bad })
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "event `EV_SET_TIMER` for gobj `t` of `GTimer` has a bad payload: key `seconds`: \
                 {bad:?} is out of range, expected a number of seconds up to 3153600000 \
                 (negative disarms)"
            )
        );
    }
    assert_eq!(g.state_of(timer), Some("ST_ARMED"), "left as it was");
    let year = GTimer::MAX_SECONDS / 100.0;
    set_timer(&mut g, timer, kw! { "seconds" => year });
    g.advance(Duration::from_secs_f64(year));
    assert_eq!(g.state_of(timer), Some("ST_IDLE"), "a year is fine");
}
