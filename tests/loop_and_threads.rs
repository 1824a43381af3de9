//! The loop (GinsFSM scenarios 26 and 28), `run` and `stop`, and gaplics on
//! threads talking to each other through handles.

mod support;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::mpsc::{Sender, channel};
use std::time::{Duration, Instant};

use gaplic::prelude::*;
use gaplic::{DEFAULT_BATCH, GTimer, GTimerEvent, GaplicHandle, GobjError};
use support::{Watchdog, join_within, wait_until_blocked, warnings};

/// How long a test waits for another thread before it fails.
const LIMIT: Duration = Duration::from_secs(2);

thread_local! {
    /// What each counter of this thread saw, by gaplic and id: it outlives
    /// the counter, which goes out when its gaplic stops.
    static SEEN: RefCell<HashMap<(String, GobjId), Vec<i64>>> = RefCell::default();
    /// How often each alarm of this thread rang.
    static RANG: RefCell<u32> = const { RefCell::new(0) };
}

/// Records that the counter `cx` is about saw `n`.
fn record(cx: &mut Cx<Counter>, n: i64) -> Result<(), GobjError> {
    let key = (
        cx.gaplic()?.name().to_owned(),
        cx.id().expect("in a gaplic"),
    );
    SEEN.with(|seen| seen.borrow_mut().entry(key).or_default().push(n));
    Ok(())
}

gobj! {
    /// Counts pings, floods itself with posts, stops its gaplic.
    struct Counter {
        /// Where it reports each ping.
        report: Option<Sender<i64>>,
    }
    events {
        EV_PING: input { n: i64 },
        EV_FLOOD: input { left: i64 },
        EV_STOP,
    }
    states { ST_IDLE }
    machine {
        ST_IDLE {
            EV_PING => ping,
            EV_FLOOD => flood,
            EV_STOP => stop,
        }
    }
}

impl Counter {
    fn ping(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let n = ev.get::<i64>("n")?;
        record(cx, n)?;
        if let Some(report) = &self.report {
            let _ = report.send(n);
        }
        Ok(Value::from(n))
    }

    /// Posts itself the next flood event; stops the gaplic at the last.
    fn flood(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let left = ev.get::<i64>("left")?;
        record(cx, left)?;
        if left == 0 {
            cx.gaplic()?.stop();
        } else {
            let me = cx.id().expect("in a gaplic");
            cx.post(me, CounterEvent::EV_FLOOD, kw! { "left" => left - 1 })?;
        }
        Ok(Value::Null)
    }

    fn stop(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        cx.gaplic()?.stop();
        Ok(Value::Null)
    }
}

fn virtual_gaplic(name: &str) -> Gaplic {
    Gaplic::builder(name).virtual_clock().build().unwrap()
}

/// What `counter` of `g` saw, even once it has gone out.
fn seen(g: &Gaplic, counter: GobjId) -> Vec<i64> {
    let key = (g.name().to_owned(), counter);
    SEEN.with(|seen| seen.borrow().get(&key).cloned().unwrap_or_default())
}

/// A counter reporting to a new channel, created in `g` as `name`.
fn reporting_counter(g: &mut Gaplic, name: &str, report: Sender<i64>) -> Result<GobjId, GobjError> {
    let id = g.create_unique_gobj::<Counter>(name, None, Kw::new())?;
    g.gobj_mut::<Counter>(id).unwrap().report = Some(report);
    Ok(id)
}

// ----- the loop ----------------------------------------------------------------------

/// GinsFSM sleeps 0.1 s after each turn that leaves work and 0.5 s after
/// the others; gaplic's `turn` never blocks (DESIGN.md, "where we
/// deliberately do better": "the loop never sleeps while work is
/// pending"), so the four turns take no measurable time.
#[test]
fn scenario_26_posted_events_are_delivered_in_batches_in_fifo_order() {
    let mut g = Gaplic::builder("lt-26")
        .virtual_clock()
        .batch(11)
        .build()
        .unwrap();
    let c = g.create_gobj::<Counter>("c", None, Kw::new()).unwrap();
    for n in 0..25 {
        g.post(c, CounterEvent::EV_PING, kw! { "n" => n }).unwrap();
    }
    let started = Instant::now();
    let mut turns = Vec::new();
    for _ in 0..4 {
        let more = g.turn();
        turns.push((seen(&g, c).len(), more));
    }
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(turns, [(11, true), (22, true), (25, false), (25, false)]);
    assert_eq!(seen(&g, c), (0..25).collect::<Vec<_>>());
}

#[test]
fn the_batch_is_256_by_default_and_at_least_one() {
    assert_eq!(DEFAULT_BATCH, 256);
    let mut g = virtual_gaplic("lt-batch");
    let c = g.create_gobj::<Counter>("c", None, Kw::new()).unwrap();
    for n in 0..300 {
        g.post(c, CounterEvent::EV_PING, kw! { "n" => n }).unwrap();
    }
    assert!(g.turn());
    assert_eq!(seen(&g, c).len(), 256);
    assert_eq!(g.queued(), 44);
    g.run_until_idle();
    assert_eq!(seen(&g, c).len(), 300);

    let mut g = Gaplic::builder("lt-batch-0")
        .virtual_clock()
        .batch(0)
        .build()
        .unwrap();
    let c = g.create_gobj::<Counter>("c", None, Kw::new()).unwrap();
    for n in 0..2 {
        g.post(c, CounterEvent::EV_PING, kw! { "n" => n }).unwrap();
    }
    assert!(g.turn());
    assert_eq!(seen(&g, c), [0]);
}

#[test]
fn scenario_28_callbacks_added_during_a_turn_wait_for_the_next() {
    let mut g = virtual_gaplic("lt-28");
    let log = Rc::new(RefCell::new(Vec::new()));
    let l1 = log.clone();
    g.add_callback(move |_| l1.borrow_mut().push("cb1"));
    let l2 = log.clone();
    g.add_callback(move |g| {
        l2.borrow_mut().push("cb2");
        let l3 = l2.clone();
        g.add_callback(move |_| l3.borrow_mut().push("cb3"));
    });
    assert!(g.has_work());
    assert!(g.turn(), "cb3 waits");
    assert_eq!(*log.borrow(), ["cb1", "cb2"]);
    assert!(!g.turn());
    assert_eq!(*log.borrow(), ["cb1", "cb2", "cb3"]);
    assert!(!g.has_work());
}

/// GinsFSM's `stop` before `start` makes the loop return at once; here
/// the stop still delivers what was posted before it, then ends the
/// gaplic: nothing posted is lost, and a post after it is refused.
#[test]
fn scenario_28_a_stop_before_run_delivers_what_was_posted_and_ends() {
    let mut g = virtual_gaplic("lt-28-stop");
    let c = g.create_gobj::<Counter>("c", None, Kw::new()).unwrap();
    g.post(c, CounterEvent::EV_PING, kw! { "n" => 1 }).unwrap();
    g.stop();
    assert!(
        g.post(c, CounterEvent::EV_PING, kw! { "n" => 2 })
            .unwrap_err()
            .is_stopped()
    );
    let watchdog = Watchdog::new(g.handle(), LIMIT);
    g.run().unwrap();
    assert!(!watchdog.disarm());
    assert_eq!(g.queued(), 0);
    assert_eq!(seen(&g, c), [1]);
    assert!(g.is_stopped() && g.is_empty());
    g.run().unwrap();
}

#[test]
fn stop_from_a_callback_returns_after_the_current_turn() {
    let mut g = virtual_gaplic("lt-stop-cb");
    let c = g.create_gobj::<Counter>("c", None, Kw::new()).unwrap();
    g.add_callback(|g| g.stop());
    g.post(c, CounterEvent::EV_PING, kw! { "n" => 1 }).unwrap();
    let watchdog = Watchdog::new(g.handle(), LIMIT);
    g.run().unwrap();
    assert!(!watchdog.disarm());
    assert_eq!(seen(&g, c), [1], "the turn was finished");
}

#[test]
fn a_panicking_callback_is_traced_and_the_loop_goes_on() {
    let mut g = virtual_gaplic("lt-cb-panic");
    let ran = Rc::new(RefCell::new(false));
    g.add_callback(|_| panic!("this callback panics"));
    let after = ran.clone();
    g.add_callback(move |_| *after.borrow_mut() = true);
    let (more, traces) = warnings(|| g.turn());
    assert!(!more);
    assert!(traces.contains("a callback panicked"), "{traces}");
    assert!(*ran.borrow());
}

/// GinsFSM moves about 100 posted events a second through its loop
/// (DESIGN.md, "where we deliberately do better"); `run` does not wait
/// between events, so 10 000 of them take well under the bound.
#[test]
fn run_does_not_sleep_while_posted_events_remain() {
    let mut g = Gaplic::new("lt-no-sleep").unwrap();
    let c = g.create_gobj::<Counter>("c", None, Kw::new()).unwrap();
    g.post(c, CounterEvent::EV_FLOOD, kw! { "left" => 10_000 })
        .unwrap();
    let watchdog = Watchdog::new(g.handle(), Duration::from_secs(20));
    let started = Instant::now();
    g.run().unwrap();
    let elapsed = started.elapsed();
    assert!(!watchdog.disarm());
    assert_eq!(seen(&g, c).len(), 10_001);
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

gobj! {
    /// Stops its gaplic at its GTimer's timeout.
    struct Alarm {
        timer: Option<GobjId>,
        rang: u32,
    }
    events { EV_TIMEOUT }
    states { ST_IDLE }
    machine { ST_IDLE { EV_TIMEOUT => ring } }
    hooks { start_up }
}

impl Alarm {
    fn start_up(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        let timer = cx.create_child::<GTimer>("timer", Kw::new())?;
        cx.send(timer, GTimerEvent::EV_SET_TIMER, kw! { "seconds" => 0.02 })?;
        self.timer = Some(timer);
        Ok(())
    }

    fn ring(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        assert_eq!(ev.source(), self.timer);
        self.rang += 1;
        RANG.with(|rang| *rang.borrow_mut() += 1);
        cx.gaplic()?.stop();
        Ok(Value::Null)
    }
}

/// The one test on the real clock: a 20 ms GTimer stops `run`.
#[test]
fn run_on_the_real_clock_fires_a_timer_and_stops() {
    let mut g = Gaplic::new("lt-smoke").unwrap();
    let started = Instant::now();
    g.create_gobj::<Alarm>("alarm", None, Kw::new()).unwrap();
    let watchdog = Watchdog::new(g.handle(), Duration::from_secs(10));
    g.run().unwrap();
    let elapsed = started.elapsed();
    assert!(!watchdog.disarm(), "the timer did not stop the loop");
    assert_eq!(RANG.with(|rang| *rang.borrow()), 1);
    assert!(elapsed >= Duration::from_millis(20), "{elapsed:?}");
    assert_eq!(g.timer_count(), 0);
}

// ----- handles ---------------------------------------------------------------------

#[test]
fn a_handle_posts_by_unique_name_and_calls_on_the_next_turns() {
    let mut g = virtual_gaplic("lt-handle-local");
    let c = g
        .create_unique_gobj::<Counter>("c", None, Kw::new())
        .unwrap();
    let handle = g.handle();
    assert_eq!(handle.name(), "lt-handle-local");
    handle.post("c", "EV_PING", kw! { "n" => 7 }).unwrap();
    let (tx, rx) = channel();
    handle.call(move |g| tx.send(g.len()).unwrap()).unwrap();
    assert!(seen(&g, c).is_empty(), "nothing before a turn");
    g.run_until_idle();
    assert_eq!(seen(&g, c), [7]);
    assert_eq!(rx.try_recv(), Ok(1));

    // A name nobody has is found out here, and traced.
    handle.post("nobody", "EV_PING", kw! { "n" => 8 }).unwrap();
    let ((), traces) = warnings(|| g.run_until_idle());
    assert!(
        traces.contains("event from another gaplic dropped: no gobj has that unique name"),
        "{traces}"
    );
    assert!(traces.contains("nobody"), "{traces}");
}

#[test]
fn a_handle_of_a_dropped_gaplic_reports_it_stopped() {
    let g = virtual_gaplic("lt-dropped");
    let handle = g.handle();
    drop(g);
    let error = handle.post("c", "EV_PING", Kw::new()).unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::Stopped { gaplic } if gaplic == "lt-dropped"),
        "{error}"
    );
    assert_eq!(error.to_string(), "gaplic `lt-dropped` has stopped");
    assert!(matches!(
        handle.stop().as_ref().map_err(GobjError::kind),
        Err(ErrorKind::Stopped { .. })
    ));
    assert!(handle.call(|_| ()).unwrap_err().is_stopped());
}

// ----- gaplics on threads ---------------------------------------------------------

#[test]
fn spawn_post_call_stop_and_join() {
    let (tx, pings) = channel();
    let handle = gaplic::spawn("lt-spawn", move |g| {
        reporting_counter(g, "counter", tx)?;
        Ok(())
    })
    .unwrap();
    assert_eq!(handle.name(), "lt-spawn");
    assert_eq!(GaplicHandle::find("lt-spawn").unwrap().name(), "lt-spawn");

    // A post wakes the loop, blocked with nothing to do.
    assert!(wait_until_blocked("lt-spawn", LIMIT));
    handle.post("counter", "EV_PING", kw! { "n" => 1 }).unwrap();
    assert_eq!(pings.recv_timeout(LIMIT), Ok(1));
    let found = GaplicHandle::find("lt-spawn").unwrap();
    found.post("counter", "EV_PING", kw! { "n" => 2 }).unwrap();
    assert_eq!(pings.recv_timeout(LIMIT), Ok(2));

    let (tx, answers) = channel();
    handle
        .call(move |g| {
            let c = g.find_unique_gobj("counter").unwrap();
            let seen = seen(g, c);
            tx.send((g.name().to_owned(), seen)).unwrap();
        })
        .unwrap();
    assert_eq!(
        answers.recv_timeout(LIMIT),
        Ok(("lt-spawn".to_owned(), vec![1, 2]))
    );

    handle.stop().unwrap();
    join_within(&handle, LIMIT).unwrap();
    handle.join().unwrap();
    let error = GaplicHandle::find("lt-spawn").unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::UnknownGaplic { name } if name == "lt-spawn"),
        "{error}"
    );
    for result in [
        handle.post("counter", "EV_PING", kw! { "n" => 3 }),
        handle.call(|_| ()),
        handle.stop(),
    ] {
        assert!(
            matches!(result.as_ref().map_err(GobjError::kind), Err(ErrorKind::Stopped { gaplic }) if gaplic == "lt-spawn"),
            "{result:?}"
        );
    }
}

#[test]
fn an_action_can_stop_its_spawned_gaplic() {
    let handle = gaplic::spawn("lt-self-stop", |g| {
        g.create_unique_gobj::<Counter>("counter", None, Kw::new())?;
        Ok(())
    })
    .unwrap();
    handle.post("counter", "EV_STOP", Kw::new()).unwrap();
    join_within(&handle, LIMIT).unwrap();
}

#[test]
fn spawn_refuses_a_name_that_runs_already() {
    let first = gaplic::spawn("lt-dup", |_| Ok(())).unwrap();
    let error = gaplic::spawn("lt-dup", |_| Ok(())).unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::DuplicateGaplic { name } if name == "lt-dup"),
        "{error}"
    );
    // The first one still runs.
    let (tx, rx) = channel();
    first
        .call(move |g| tx.send(g.name().to_owned()).unwrap())
        .unwrap();
    assert_eq!(rx.recv_timeout(LIMIT).as_deref(), Ok("lt-dup"));
    first.stop().unwrap();
    join_within(&first, LIMIT).unwrap();
    // Its name is free again.
    let second = gaplic::spawn("lt-dup", |_| Ok(())).unwrap();
    second.stop().unwrap();
    join_within(&second, LIMIT).unwrap();
}

#[test]
fn a_failing_setup_is_returned_by_spawn_and_frees_the_name() {
    let error = gaplic::spawn("lt-bad-setup", |g| {
        g.create_unique_gobj::<Counter>("c", None, kw! { "nope" => 1 })?;
        Ok(())
    })
    .unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::UnknownAttr { gclass: "Counter", attr } if attr == "nope"),
        "{error}"
    );
    assert!(GaplicHandle::find("lt-bad-setup").is_err());
    let handle = gaplic::spawn("lt-bad-setup", |_| Ok(())).unwrap();
    handle.stop().unwrap();
    join_within(&handle, LIMIT).unwrap();
}

#[test]
fn stop_from_another_thread_wakes_a_blocked_loop_promptly() {
    // Blocked with nothing at all to do.
    let idle = gaplic::spawn("lt-wake-idle", |_| Ok(())).unwrap();
    // Blocked until a timer an hour away.
    let timed = gaplic::spawn("lt-wake-timer", |g| {
        g.set_timer(Duration::from_secs(3600), |_| ());
        Ok(())
    })
    .unwrap();
    for handle in [idle, timed] {
        assert!(
            wait_until_blocked(handle.name(), LIMIT),
            "{} never blocked",
            handle.name()
        );
        let asked = Instant::now();
        handle.stop().unwrap();
        join_within(&handle, LIMIT).unwrap();
        assert!(asked.elapsed() < LIMIT);
    }
}

gobj! {
    /// Plays ball with a gobj of another gaplic, replying to where each
    /// ball came from.
    struct Peer {
        report: Option<Sender<String>>,
    }
    events {
        EV_START: input { gaplic: String, gobj: String },
        EV_BALL: input { n: i64 },
    }
    states { ST_IDLE }
    machine {
        ST_IDLE {
            EV_START => start,
            EV_BALL => ball,
        }
    }
}

/// The last ball of a game.
const ROUNDS: i64 = 6;

impl Peer {
    fn tell(&self, line: String) {
        if let Some(report) = &self.report {
            let _ = report.send(line);
        }
    }

    fn start(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let gaplic: String = ev.get("gaplic")?;
        let gobj: String = ev.get("gobj")?;
        let sent = cx.post_to_gaplic(&gaplic, &gobj, "EV_BALL", kw! { "n" => 1 });
        if let Err(error) = &sent {
            self.tell(format!("{} cannot start: {error}", cx.name()));
        }
        sent.map(|()| Value::Null)
    }

    fn ball(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let n = ev.get::<i64>("n")?;
        let origin = ev.origin().cloned();
        let from = origin
            .as_ref()
            .map_or("-".to_owned(), |o| format!("{}/{}", o.gaplic, o.gobj));
        self.tell(format!(
            "{} got {n} from {from} (source {:?})",
            cx.name(),
            ev.source()
        ));
        if origin.is_some() && n < ROUNDS {
            // Back to where it came from, in the other gaplic.
            let sent = cx.reply(ev, "EV_BALL", kw! { "n" => n + 1 })?;
            assert!(sent.is_queued(), "posted over there");
        }
        Ok(Value::Null)
    }
}

fn spawn_peer(gaplic: &str, peer: &str, report: Sender<String>) -> GaplicHandle {
    let peer = peer.to_owned();
    gaplic::spawn(gaplic, move |g| {
        let id = g.create_unique_gobj::<Peer>(&peer, None, Kw::new())?;
        g.gobj_mut::<Peer>(id).unwrap().report = Some(report);
        Ok(())
    })
    .unwrap()
}

#[test]
fn two_gaplics_exchange_events_by_name_and_reply_to_the_origin() {
    let (tx, rx) = channel();
    let ping = spawn_peer("lt-ping", "peer-a", tx.clone());
    let pong = spawn_peer("lt-pong", "peer-b", tx);
    ping.post(
        "peer-a",
        "EV_START",
        kw! { "gaplic" => "lt-pong", "gobj" => "peer-b" },
    )
    .unwrap();
    let lines: Vec<String> = (0..ROUNDS)
        .map(|_| rx.recv_timeout(LIMIT).expect("the ball stopped"))
        .collect();
    let expected: Vec<String> = (1..=ROUNDS)
        .map(|n| {
            if n % 2 == 1 {
                format!("peer-b got {n} from lt-ping/peer-a (source None)")
            } else {
                format!("peer-a got {n} from lt-pong/peer-b (source None)")
            }
        })
        .collect();
    assert_eq!(lines, expected);

    // A gaplic that has ended, and one that never was, are unknown.
    pong.stop().unwrap();
    join_within(&pong, LIMIT).unwrap();
    for gone in ["lt-pong", "lt-never-was"] {
        ping.post(
            "peer-a",
            "EV_START",
            kw! { "gaplic" => gone, "gobj" => "peer-b" },
        )
        .unwrap();
        assert_eq!(
            rx.recv_timeout(LIMIT).unwrap(),
            format!("peer-a cannot start: no gaplic named `{gone}` runs in this process")
        );
    }
    ping.stop().unwrap();
    join_within(&ping, LIMIT).unwrap();
}

#[test]
fn a_panicking_setup_is_an_error_of_spawn_and_frees_the_name() {
    let error = gaplic::spawn("lt-setup-panic", |_| panic!("setup panics")).unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::ThreadFailed { .. }),
        "{error}"
    );
    assert!(GaplicHandle::find("lt-setup-panic").is_err());
    let handle = gaplic::spawn("lt-setup-panic", |_| Ok(())).unwrap();
    handle.stop().unwrap();
    join_within(&handle, LIMIT).unwrap();
}

/// A handle's messages arrive in order, and the events posted before a
/// `stop` are delivered before `run` returns: accepted means delivered.
#[test]
fn an_event_posted_before_stop_is_delivered_before_run_returns() {
    let mut g = virtual_gaplic("lt-post-stop-local");
    let c = g
        .create_unique_gobj::<Counter>("c", None, Kw::new())
        .unwrap();
    let handle = g.handle();
    handle.post("c", "EV_PING", kw! { "n" => 1 }).unwrap();
    handle.stop().unwrap();
    let watchdog = Watchdog::new(g.handle(), LIMIT);
    g.run().unwrap();
    assert!(!watchdog.disarm());
    assert_eq!(seen(&g, c), [1]);
    assert_eq!(g.queued(), 0);
}

#[test]
fn a_spawned_gaplic_reaches_its_own_gobjs_by_name() {
    let (tx, rx) = channel();
    let solo = spawn_peer("lt-solo", "peer-s", tx);
    solo.post(
        "peer-s",
        "EV_START",
        kw! { "gaplic" => "lt-solo", "gobj" => "peer-s" },
    )
    .unwrap();
    for n in 1..=ROUNDS {
        assert_eq!(
            rx.recv_timeout(LIMIT).unwrap(),
            // Addressed to its own gaplic by name, the event keeps its real
            // source as well as the origin a reply by name goes to.
            format!("peer-s got {n} from lt-solo/peer-s (source Some(#0.0))")
        );
    }
    solo.stop().unwrap();
    join_within(&solo, LIMIT).unwrap();
}

/// `Cx::post_to_gaplic` reaches "the gaplic named `gaplic`, in this
/// process (this gaplic included)": a gaplic made with `Gaplic::new` and
/// run on the caller's thread is reachable by name from its own gobjs.
#[test]
fn a_gaplic_run_on_the_callers_thread_reaches_its_own_gobjs_by_name() {
    let (tx, rx) = channel();
    let mut g = virtual_gaplic("lt-local-self");
    let id = g
        .create_unique_gobj::<Peer>("peer-l", None, Kw::new())
        .unwrap();
    g.gobj_mut::<Peer>(id).unwrap().report = Some(tx);
    g.send(
        id,
        PeerEvent::EV_START,
        kw! { "gaplic" => "lt-local-self", "gobj" => "peer-l" },
    )
    .unwrap();
    g.run_until_idle();
    assert_eq!(
        rx.try_recv().unwrap(),
        "peer-l got 1 from lt-local-self/peer-l (source Some(#0.0))"
    );
}
