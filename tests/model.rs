//! A model-based test of the gaplic runtime: random sequences of operations
//! drive a real gaplic on a virtual clock and, in step, a reference model
//! (`model/reference.rs`, plain code that shares nothing with the runtime);
//! after every step, what the gobjs received (and in what order), what each
//! operation returned, the tree, the unique names, the subscriptions and the
//! timers must agree.
//!
//! Operations run at top level, and from inside actions, `go_out` hooks and
//! timer callbacks: an event's payload carries the number of a script, and
//! the `Node` that receives it runs the script's operations (sends, posts,
//! broadcasts, subscriptions, creations and destructions, including of
//! itself or of its parent, timers, `GTimer`s, a stop) with its `Cx`.
//! Scripts nest two deep; a case is a small population (a random tree and
//! subscriptions among it), then up to 40 operations.
//!
//! `PROPTEST_CASES` sets the number of cases (512 by default). A failure
//! is shrunk to a minimal case, printed one operation a line, and its seed
//! kept in `tests/model.proptest-regressions`, replayed first next time.
//!
//! Below the property, explicit tests keep the cases it found where the
//! runtime broke its own rules, each fixed since: a regression shows there
//! by name as well as in the property.

#[path = "model/ops.rs"]
mod ops;
#[path = "model/reference.rs"]
mod reference;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use gaplic::prelude::*;
use gaplic::{Dest, GTimer, SubscriptionId, TimerId};
use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, TestCaseError};

use ops::{Entry, MAX_ALIVE, Op, Opts, Outcome, Scenario, Sel, To, UNIT_TICKS};
use reference::{GobjView, Model, Snapshot};

/// Cases run when `PROPTEST_CASES` is not set.
const DEFAULT_CASES: u32 = 512;

/// Top-level operations per case after the population, at most.
const MAX_STEPS: usize = 40;

// ----- what the runtime side records ------------------------------------------

/// What the runtime side knows besides the gaplic: the log, and the numbers
/// it gave to gobjs, subscriptions and timers, in the order it saw them.
#[derive(Default)]
struct World {
    log: Vec<Entry>,
    ids: Vec<GobjId>,
    numbers: HashMap<GobjId, usize>,
    subscriptions: Vec<SubscriptionId>,
    subscription_numbers: HashMap<SubscriptionId, usize>,
    /// The (publisher, event, subscriber) of each, by number.
    subscription_keys: Vec<SubscriptionKey>,
    timers: Vec<TimerId>,
    /// The script each `Node`'s `go_out` runs.
    farewells: HashMap<GobjId, usize>,
    scripts: Rc<Vec<Vec<Op>>>,
}

thread_local! {
    static WORLD: RefCell<World> = RefCell::new(World::default());
}

/// Runs `f` on the world; never across a call into the gaplic.
fn world<R>(f: impl FnOnce(&mut World) -> R) -> R {
    WORLD.with(|w| f(&mut w.borrow_mut()))
}

fn record(entry: Entry) {
    world(|w| w.log.push(entry));
}

/// The number of gobj `id` (`usize::MAX` for one the test did not create).
fn number(id: GobjId) -> usize {
    world(|w| w.numbers.get(&id).copied().unwrap_or(usize::MAX))
}

/// What identifies a subscription: re-subscribing it updates it.
type SubscriptionKey = (GobjId, Option<&'static str>, Dest<'static>);

/// The number of subscription `id`, made for `key`; given now if it has
/// none yet.
fn subscription_number(id: SubscriptionId, key: SubscriptionKey) -> usize {
    world(|w| {
        if let Some(&n) = w.subscription_numbers.get(&id) {
            return n;
        }
        w.subscriptions.push(id);
        w.subscription_keys.push(key);
        w.subscription_numbers.insert(id, w.subscriptions.len() - 1);
        w.subscriptions.len() - 1
    })
}

fn subscription_key(nth: u8) -> Option<SubscriptionKey> {
    world(|w| {
        let keys = &w.subscription_keys;
        (!keys.is_empty()).then(|| keys[usize::from(nth) % keys.len()].clone())
    })
}

// ----- the gclass ----------------------------------------------------------------

gobj! {
    /// A gobj of the model: logs every event it gets and runs the script
    /// the event carries.
    struct Node {}
    events {
        /// Accepted in both states.
        EV_A: input output,
        /// Moves between the two states.
        EV_B: input output,
        /// Published only.
        EV_C: output,
        /// Accepted in `ST_OPEN` only.
        EV_RENAMED: input,
        /// From `GTimer`s.
        EV_TIMEOUT: input,
    }
    states { ST_OPEN, ST_SHUT }
    machine {
        ST_OPEN {
            EV_A => act,
            EV_B => act -> ST_SHUT,
            EV_RENAMED => act,
            EV_TIMEOUT => act,
        }
        ST_SHUT {
            EV_A => act,
            EV_B => act -> ST_OPEN,
            EV_TIMEOUT => act,
        }
    }
    hooks { go_out }
}

fn int(value: Option<&Value>) -> Option<i64> {
    match value {
        Some(Value::Int(i)) => Some(*i),
        _ => None,
    }
}

impl Node {
    fn act(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let me = cx
            .id()
            .ok_or_else(|| GobjError::failed("a node outside a gaplic"))?;
        let kw = ev.kw();
        let script = int(kw.value("script")).and_then(|s| usize::try_from(s).ok());
        record(Entry::Got {
            gobj: number(me),
            event: ev.name(),
            source: ev.source().map(number),
            original: kw
                .value("original_event_name")
                .and_then(Value::as_str)
                .map(str::to_owned),
            reference: int(kw.value("subscription_reference")),
            script,
        });
        if let Some(script) = script {
            let ops = world(|w| w.scripts[script].clone());
            let mut here = Here::Action {
                cx,
                me,
                source: ev.source(),
            };
            for op in &ops {
                run_op(&mut here, op);
            }
        }
        Ok(Value::Int(number(me) as i64))
    }

    fn go_out(&mut self, cx: &mut Cx<Self>) {
        let Some(me) = cx.id() else {
            return;
        };
        record(Entry::GoOut(number(me)));
        let farewell = world(|w| w.farewells.get(&me).copied());
        if let Some(script) = farewell {
            let ops = world(|w| w.scripts[script].clone());
            let mut here = Here::Action {
                cx,
                me,
                source: None,
            };
            for op in &ops {
                run_op(&mut here, op);
            }
        }
    }
}

// ----- the runtime side ------------------------------------------------------------

/// Where an operation runs: in an action, with its `Cx`, or at top level or
/// in a timer's callback, with the gaplic.
enum Here<'h, 'c> {
    Action {
        cx: &'h mut Cx<'c, Node>,
        me: GobjId,
        source: Option<GobjId>,
    },
    Loop(&'h mut Gaplic),
}

impl<'c> Here<'_, 'c> {
    fn gaplic(&mut self) -> &mut Gaplic {
        match self {
            Here::Action { cx, .. } => cx.gaplic().expect("an action of a gobj in a gaplic"),
            Here::Loop(gaplic) => gaplic,
        }
    }

    fn me(&self) -> Option<GobjId> {
        match self {
            Here::Action { me, .. } => Some(*me),
            Here::Loop(_) => None,
        }
    }

    /// The `Cx` when running in the action of `gobj`.
    fn cx_of(&mut self, gobj: GobjId) -> Option<&mut Cx<'c, Node>> {
        match self {
            Here::Action { cx, me, .. } if *me == gobj => Some(&mut **cx),
            _ => None,
        }
    }

    fn resolve(&mut self, sel: Sel) -> Option<GobjId> {
        match sel {
            Sel::Nth(n) => {
                world(|w| (!w.ids.is_empty()).then(|| w.ids[usize::from(n) % w.ids.len()]))
            }
            Sel::Me => self.me(),
            Sel::Parent => {
                let me = self.me()?;
                self.gaplic().parent_of(me)
            }
            Sel::Source => match self {
                Here::Action { source, .. } => *source,
                Here::Loop(_) => None,
            },
        }
    }

    fn dest(&mut self, to: To) -> Option<Dest<'static>> {
        match to {
            To::Gobj(sel) => self.resolve(sel).map(Dest::Gobj),
            To::Named(n) => Some(Dest::from(format!("u{n}"))),
        }
    }

    /// Sends as the running gobj, or from outside any gobj.
    fn send(&mut self, dst: Dest<'static>, event: &'static str, kw: Kw) -> Result<Sent, GobjError> {
        match self {
            Here::Action { cx, .. } => cx.send(dst, event, kw),
            Here::Loop(gaplic) => gaplic.send(dst, event, kw),
        }
    }

    fn post(&mut self, dst: Dest<'static>, event: &'static str, kw: Kw) -> Result<(), GobjError> {
        match self {
            Here::Action { cx, .. } => cx.post(dst, event, kw),
            Here::Loop(gaplic) => gaplic.post(dst, event, kw),
        }
    }
}

fn error_kind(error: &GobjError) -> &'static str {
    match error.kind() {
        ErrorKind::UnknownEvent { .. } => "UnknownEvent",
        ErrorKind::NotAccepted { .. } => "NotAccepted",
        ErrorKind::UnknownGobj { .. } => "UnknownGobj",
        ErrorKind::Destroyed { .. } => "Destroyed",
        ErrorKind::DuplicateName { .. } => "DuplicateName",
        ErrorKind::NotOutput { .. } => "NotOutput",
        ErrorKind::NoSubscription { .. } => "NoSubscription",
        ErrorKind::HardSubscription { .. } => "HardSubscription",
        ErrorKind::TooDeep { .. } => "TooDeep",
        ErrorKind::Stopped { .. } => "Stopped",
        ErrorKind::Panicked { .. } => "Panicked",
        ErrorKind::BadPayload { .. } => "BadPayload",
        _ => "another error",
    }
}

fn script_kw(script: &Option<ops::Script>) -> Kw {
    match script {
        Some(script) => Kw::new().with("script", Value::Int(script.id as i64)),
        None => Kw::new(),
    }
}

fn options(opts: &Opts) -> SubscribeOptions {
    let mut options = SubscribeOptions::new();
    if opts.post {
        options = options.post();
    }
    if let Some(rename) = opts.rename {
        options = options.rename(rename.name());
    }
    if opts.hard {
        options = options.hard();
    }
    if let Some(reference) = opts.reference {
        options = options.reference(Value::Int(i64::from(reference)));
    }
    if opts.first_shot {
        options = options.first_shot();
    }
    options
}

fn delay(units: u8) -> Duration {
    Duration::from_micros(u64::from(units) * UNIT_TICKS)
}

fn created(result: Result<GobjId, GobjError>) -> Outcome {
    match result {
        Ok(id) => Outcome::Created(world(|w| {
            w.ids.push(id);
            w.numbers.insert(id, w.ids.len() - 1);
            w.ids.len() - 1
        })),
        Err(error) => Outcome::Failed(error_kind(&error)),
    }
}

fn sent(result: Result<Sent, GobjError>) -> Outcome {
    match result {
        Ok(Sent::Done(value)) => Outcome::Answered(int(Some(&value))),
        Ok(Sent::Queued) => Outcome::Queued,
        Err(error) => Outcome::Failed(error_kind(&error)),
    }
}

fn done<T>(result: Result<T, GobjError>, f: impl FnOnce(T) -> Outcome) -> Outcome {
    match result {
        Ok(value) => f(value),
        Err(error) => Outcome::Failed(error_kind(&error)),
    }
}

fn run_op(here: &mut Here, op: &Op) {
    let outcome = perform(here, op);
    record(Entry::Did(op.name(), outcome));
}

/// Runs the operations of script `script` from a timer's callback.
fn run_callback_script(gaplic: &mut Gaplic, script: Option<usize>) {
    if let Some(script) = script {
        let ops = world(|w| w.scripts[script].clone());
        let mut here = Here::Loop(gaplic);
        for op in &ops {
            run_op(&mut here, op);
        }
    }
}

fn perform(here: &mut Here, op: &Op) -> Outcome {
    macro_rules! or_skip {
        ($e:expr) => {
            match $e {
                Some(v) => v,
                None => return Outcome::Skipped,
            }
        };
    }
    match op {
        Op::Create { parent, unique } => {
            let parent = match parent {
                Some(sel) => Some(or_skip!(here.resolve(*sel))),
                None => None,
            };
            if here.gaplic().len() >= MAX_ALIVE {
                return Outcome::Skipped;
            }
            let result = match unique {
                Some(n) => {
                    here.gaplic()
                        .create_unique_gobj::<Node>(&format!("u{n}"), parent, Kw::new())
                }
                None => {
                    let name = format!("n{}", world(|w| w.ids.len()));
                    match parent.and_then(|p| here.cx_of(p)) {
                        Some(cx) => cx.create_child::<Node>(&name, Kw::new()),
                        None => here.gaplic().create_gobj::<Node>(&name, parent, Kw::new()),
                    }
                }
            };
            created(result)
        }
        Op::CreateTimer {
            parent,
            units,
            autostart,
        } => {
            let parent = match parent {
                Some(sel) => Some(or_skip!(here.resolve(*sel))),
                None => None,
            };
            if here.gaplic().len() >= MAX_ALIVE {
                return Outcome::Skipped;
            }
            let name = format!("t{}", world(|w| w.ids.len()));
            let kw = Kw::new()
                .with("seconds", ops::seconds(*units))
                .with("autostart", *autostart);
            let result = match parent.and_then(|p| here.cx_of(p)) {
                Some(cx) => cx.create_child::<GTimer>(&name, kw),
                None => here.gaplic().create_gobj::<GTimer>(&name, parent, kw),
            };
            created(result)
        }
        Op::Destroy(sel) => {
            let gobj = or_skip!(here.resolve(*sel));
            done(here.gaplic().destroy_gobj(gobj), |()| Outcome::Done)
        }
        Op::Farewell { gobj, script } => {
            let gobj = or_skip!(here.resolve(*gobj));
            if !here.gaplic().contains(gobj) {
                return Outcome::Failed("Destroyed");
            }
            world(|w| match script {
                Some(script) => w.farewells.insert(gobj, script.id),
                None => w.farewells.remove(&gobj),
            });
            Outcome::Done
        }
        Op::Send { to, event, script } => {
            let dst = or_skip!(here.dest(*to));
            sent(here.send(dst, event.name(), script_kw(script)))
        }
        Op::Post { to, event, script } => {
            let dst = or_skip!(here.dest(*to));
            done(here.post(dst, event.name(), script_kw(script)), |()| {
                Outcome::Done
            })
        }
        Op::Broadcast {
            from,
            event,
            script,
        } => {
            let from = or_skip!(here.resolve(*from));
            let kw = script_kw(script);
            let result = match here.cx_of(from) {
                Some(cx) => cx.broadcast(event.name(), kw),
                None => here.gaplic().broadcast(from, event.name(), kw),
            };
            done(result, |()| Outcome::Done)
        }
        Op::Subscribe {
            publisher,
            event,
            subscriber,
            opts,
        } => {
            let publisher = or_skip!(here.resolve(*publisher));
            let subscriber = or_skip!(here.dest(*subscriber));
            let event = event.map(|e| e.name());
            let key = (publisher, event, subscriber.clone());
            let result = match subscriber {
                Dest::Gobj(s) if here.cx_of(s).is_some() => {
                    let cx = here.cx_of(s).expect("checked just above");
                    cx.subscribe(publisher, event, options(opts))
                }
                subscriber => here
                    .gaplic()
                    .subscribe(publisher, event, subscriber, options(opts)),
            };
            done(result, |id| {
                Outcome::Subscription(subscription_number(id, key))
            })
        }
        Op::Resubscribe { nth, opts } => {
            let key = or_skip!(subscription_key(*nth));
            let (publisher, event, subscriber) = key.clone();
            let result = here
                .gaplic()
                .subscribe(publisher, event, subscriber, options(opts));
            done(result, |id| {
                Outcome::Subscription(subscription_number(id, key))
            })
        }
        Op::UnsubscribeNth { nth, force } => {
            let key = or_skip!(subscription_key(*nth));
            let (publisher, event, subscriber) = key.clone();
            let result = here
                .gaplic()
                .unsubscribe(publisher, event, subscriber, *force);
            done(result, |id| {
                Outcome::Subscription(subscription_number(id, key))
            })
        }
        Op::Unsubscribe {
            publisher,
            event,
            subscriber,
            force,
        } => {
            let publisher = or_skip!(here.resolve(*publisher));
            let subscriber = or_skip!(here.dest(*subscriber));
            let event = event.map(|e| e.name());
            let key = (publisher, event, subscriber.clone());
            let result = here
                .gaplic()
                .unsubscribe(publisher, event, subscriber, *force);
            done(result, |id| {
                Outcome::Subscription(subscription_number(id, key))
            })
        }
        Op::DeleteSubscription { nth, force } => {
            let id = or_skip!(world(|w| {
                (!w.subscriptions.is_empty())
                    .then(|| w.subscriptions[usize::from(*nth) % w.subscriptions.len()])
            }));
            done(here.gaplic().delete_subscription(id, *force), |()| {
                Outcome::Done
            })
        }
        Op::DeleteSubscriptions { publisher, force } => {
            let publisher = or_skip!(here.resolve(*publisher));
            done(
                here.gaplic().delete_subscriptions(publisher, *force),
                Outcome::Count,
            )
        }
        Op::SetTimer { units, script } => {
            let label = world(|w| w.timers.len());
            let script = script.as_ref().map(|s| s.id);
            let id = here.gaplic().set_timer(delay(*units), move |gaplic| {
                record(Entry::Fired(label));
                run_callback_script(gaplic, script);
            });
            world(|w| w.timers.push(id));
            Outcome::Timer(label)
        }
        Op::SetGobjTimer {
            owner,
            units,
            event,
            script,
        } => {
            let owner = or_skip!(here.resolve(*owner));
            let kw = script_kw(script);
            let result = match here.cx_of(owner) {
                Some(cx) => cx.set_timer(delay(*units), event.name(), kw),
                None => here
                    .gaplic()
                    .set_gobj_timer(owner, delay(*units), event.name(), kw),
            };
            done(result, |id| {
                Outcome::Timer(world(|w| {
                    w.timers.push(id);
                    w.timers.len() - 1
                }))
            })
        }
        Op::CancelTimer(nth) => {
            let id = or_skip!(world(|w| {
                (!w.timers.is_empty()).then(|| w.timers[usize::from(*nth) % w.timers.len()])
            }));
            let cancelled = match here {
                Here::Action { cx, .. } => cx.cancel_timer(id),
                Here::Loop(gaplic) => gaplic.cancel_timer(id),
            };
            Outcome::Bool(cancelled)
        }
        Op::ArmTimer {
            timer,
            units,
            autostart,
        } => {
            let timer = or_skip!(here.resolve(*timer));
            let mut kw = Kw::new();
            if let Some(units) = units {
                kw.insert("seconds", ops::seconds(*units));
            }
            if let Some(autostart) = autostart {
                kw.insert("autostart", *autostart);
            }
            sent(here.send(Dest::Gobj(timer), "EV_SET_TIMER", kw))
        }
        Op::Stop => {
            here.gaplic().stop();
            Outcome::Done
        }
        Op::Turn => Outcome::Bool(here.gaplic().turn()),
        Op::RunUntilIdle => {
            here.gaplic().run_until_idle();
            Outcome::Done
        }
        Op::Advance(units) => {
            here.gaplic().advance(delay(*units));
            Outcome::Done
        }
    }
}

/// The runtime's answer to what the model reports.
fn snapshot(gaplic: &Gaplic, start: Instant) -> Snapshot {
    let ids = world(|w| w.ids.clone());
    let gobjs = ids
        .iter()
        .enumerate()
        .filter(|&(_, &id)| gaplic.contains(id))
        .map(|(n, &id)| GobjView {
            number: n,
            name: gaplic.name_of(id).unwrap_or("(busy)").to_owned(),
            state: gaplic.state_of(id).unwrap_or("(busy)"),
            parent: gaplic.parent_of(id).map(number),
            children: gaplic.children_of(id).map(number).collect(),
            subscriptions: gaplic.subscription_count(id),
        })
        .collect();
    let now = gaplic.now().saturating_duration_since(start);
    Snapshot {
        len: gaplic.len(),
        gobjs,
        top: gaplic.top_gobjs().map(number).collect(),
        unique: gaplic
            .unique_names()
            .into_iter()
            .map(|name| {
                let holder = gaplic.find_unique_gobj(name).map_or(usize::MAX, number);
                (name.to_owned(), holder)
            })
            .collect(),
        timers: gaplic.timer_count(),
        queued: gaplic.queued(),
        now: u64::try_from(now.as_micros()).unwrap_or(u64::MAX),
        stopped: gaplic.is_stopped(),
    }
}

fn take_log() -> Vec<Entry> {
    world(|w| std::mem::take(&mut w.log))
}

/// Runs `scenario` on a gaplic and on the model, comparing after every step
/// and after the gaplic is dropped.
fn check(scenario: &Scenario) -> Result<(), TestCaseError> {
    let mut steps = scenario.steps.clone();
    let scripts = ops::number_scripts(&mut steps);
    WORLD.with(|w| {
        *w.borrow_mut() = World {
            scripts: Rc::new(scripts.clone()),
            ..World::default()
        }
    });
    let mut gaplic = Gaplic::builder("model")
        .virtual_clock()
        .batch(scenario.batch)
        .max_send_depth(scenario.max_send_depth)
        .build()
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let start = gaplic.now();
    let mut model = Model::new(scenario.batch, scenario.max_send_depth, scripts);
    for (i, op) in steps.iter().enumerate() {
        run_op(&mut Here::Loop(&mut gaplic), op);
        let got = take_log();
        let expected = model.step(op);
        prop_assert_eq!(got, expected, "log of step {} ({:?})", i, op);
        prop_assert_eq!(
            snapshot(&gaplic, start),
            model.snapshot(),
            "after step {} ({:?})",
            i,
            op
        );
    }
    drop(gaplic);
    prop_assert_eq!(take_log(), model.end(), "log of the drop");
    Ok(())
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    ProptestConfig {
        cases,
        // Beside this file: tests/model.proptest-regressions.
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// The runtime does what the model says, step by step.
    #[test]
    fn the_runtime_follows_the_model(scenario in ops::scenario(MAX_STEPS)) {
        check(&scenario)?;
    }
}

// ----- what the property found -------------------------------------------------
//
// Each test below is a minimal case where the runtime breaks one of its
// rules. They are ignored until the runtime is fixed; the property steers
// around them meanwhile (see the comments that name them).

/// `stop` says that timers do not fire any more, but the timers due in the
/// same turn as the one whose callback stops the gaplic still fire after
/// the stop (`fire_timers` looks at the gaplic's life only before the
/// first one).
#[test]
fn no_timer_fires_after_a_stop() {
    let mut gaplic = Gaplic::builder("stop-in-a-timer")
        .virtual_clock()
        .build()
        .unwrap();
    let fired = Rc::new(RefCell::new(Vec::new()));
    let first = fired.clone();
    gaplic.set_timer(Duration::from_millis(10), move |gaplic| {
        first.borrow_mut().push("stops");
        gaplic.stop();
    });
    let second = fired.clone();
    gaplic.set_timer(Duration::from_millis(10), move |_| {
        second.borrow_mut().push("after the stop");
    });
    gaplic.advance(Duration::from_millis(20));
    assert!(gaplic.is_stopped());
    assert_eq!(*fired.borrow(), ["stops"]);
}

/// A timer armed with `set_timer` once the gaplic has ended never fires,
/// and `advance` then loops for ever: the clock steps to the timer's
/// deadline, the ended loop runs nothing, and the timer stays due.
#[test]
fn advance_after_the_end_returns_with_a_timer_armed() {
    let (done, returned) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut gaplic = Gaplic::builder("ended").virtual_clock().build().unwrap();
        gaplic.stop();
        gaplic.turn();
        assert!(gaplic.is_stopped());
        gaplic.set_timer(Duration::from_millis(5), |_| {});
        gaplic.advance(Duration::from_millis(10));
        let _ = done.send(());
    });
    assert!(
        returned.recv_timeout(Duration::from_secs(5)).is_ok(),
        "advance(10 ms) did not return within 5 s"
    );
}

/// The end of a gaplic replaces its timer wheel with a new one, whose ids
/// start again from the first: the id of a timer that fired before the end
/// names the first timer armed after it, and cancels it.
#[test]
fn a_stale_timer_id_does_not_cancel_a_timer_armed_after_the_end() {
    let mut gaplic = Gaplic::builder("stale-id").virtual_clock().build().unwrap();
    let fired = gaplic.set_timer(Duration::ZERO, |_| {});
    gaplic.advance(Duration::from_millis(1));
    assert_eq!(gaplic.timer_count(), 0);
    gaplic.stop();
    gaplic.turn();
    let armed_after = gaplic.set_timer(Duration::from_millis(5), |_| {});
    assert_ne!(fired, armed_after, "a new timer got the id of a fired one");
    assert!(!gaplic.cancel_timer(fired), "a fired timer was cancelled");
}

gobj! {
    /// Counts the `go_out`s of its kind; with `heir`, makes one more gobj
    /// (without) in its own.
    struct Founder {
        /// Makes a gobj in `go_out`.
        #[attr(default = false)]
        heir: bool,
    }
    events { EV_A }
    states { ST_ONLY }
    machine { ST_ONLY { EV_A -> ST_ONLY } }
    hooks { go_out }
}

thread_local! {
    static FOUNDERS_GONE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

impl Founder {
    fn go_out(&mut self, cx: &mut Cx<Self>) {
        FOUNDERS_GONE.with(|gone| gone.set(gone.get() + 1));
        if self.heir
            && let Ok(gaplic) = cx.gaplic()
        {
            let _ = gaplic.create_gobj::<Founder>("heir", None, Kw::new());
        }
    }
}

/// The end of a gaplic destroys its gobjs round after round, and gives up
/// when a round leaves as many as it found (meant for gobjs that are
/// mid-action). When `go_out`s made as many gobjs as the round destroyed,
/// the gaplic used to end with those alive, their `go_out` never run; a
/// `go_out` at the end cannot make a gobj any more, so none outlives it.
#[test]
fn no_gobj_outlives_the_end_not_even_one_a_go_out_tries_to_make() {
    FOUNDERS_GONE.with(|gone| gone.set(0));
    let mut gaplic = Gaplic::builder("heirs").virtual_clock().build().unwrap();
    for name in ["a", "b"] {
        gaplic
            .create_gobj::<Founder>(name, None, kw! { "heir" => true })
            .unwrap();
    }
    gaplic.stop();
    gaplic.turn();
    assert!(gaplic.is_stopped());
    assert_eq!(gaplic.len(), 0, "gobjs alive after the end");
    assert_eq!(
        FOUNDERS_GONE.with(std::cell::Cell::get),
        2,
        "no heir was made"
    );
}
