//! The reference model: what a gaplic does, said in plain code.
//!
//! It shares nothing with the runtime: gobjs are numbered in creation order
//! and kept in a `Vec` (dead ones stay, marked), the tree is `Vec`s of
//! children, subscriptions one `Vec` in subscription order, timers one
//! `Vec` in arming order, the queue a `VecDeque`. Every rule it follows is
//! one of the README's "What a gaplic guarantees", or the documentation of
//! the method concerned; each function says which.

use std::collections::VecDeque;

use crate::ops::{Entry, MAX_ALIVE, Op, Opts, Outcome, Sel, To, UNIT_TICKS, seconds};

/// The state of the world after a step, as the model and the runtime both
/// report it.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// How many gobjs live.
    pub len: usize,
    /// The live gobjs, by number.
    pub gobjs: Vec<GobjView>,
    /// The children of the gaplic, in order.
    pub top: Vec<usize>,
    /// Unique names in registration order, with their holders.
    pub unique: Vec<(String, usize)>,
    /// Armed timers.
    pub timers: usize,
    /// Posted events waiting.
    pub queued: usize,
    /// Microseconds since the start.
    pub now: u64,
    /// Whether the gaplic has ended.
    pub stopped: bool,
}

/// One live gobj, as seen between steps.
#[derive(Clone, Debug, PartialEq)]
pub struct GobjView {
    /// Its number: the order of its creation.
    pub number: usize,
    pub name: String,
    pub state: &'static str,
    /// `None` for a child of the gaplic.
    pub parent: Option<usize>,
    /// In creation order (or detaching order, for gobjs moved up).
    pub children: Vec<usize>,
    /// Subscriptions it publishes.
    pub subscriptions: usize,
}

// ----- where the runtime breaks its rules ------------------------------------
//
// There the model follows the runtime, so that the property goes on
// checking everything else. Each constant names the ignored test in
// tests/model.rs that shows the case; set it to `false` once the runtime is
// fixed.

type Res<T> = Result<T, &'static str>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Node,
    GTimer,
}

impl Class {
    fn outputs(self) -> &'static [&'static str] {
        match self {
            Class::Node => &["EV_A", "EV_B", "EV_C"],
            Class::GTimer => &["EV_TIMEOUT"],
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Life {
    Running,
    Stopping,
    Ending,
    Stopped,
}

/// The payload keys the test looks at.
#[derive(Clone, Debug, Default)]
struct Payload {
    script: Option<usize>,
    original: Option<&'static str>,
    reference: Option<i64>,
    seconds: Option<f64>,
    autostart: Option<bool>,
}

#[derive(Clone, Debug)]
struct Msg {
    dst: usize,
    event: &'static str,
    payload: Payload,
    source: Option<usize>,
}

#[derive(Debug)]
struct Gobj {
    class: Class,
    name: String,
    parent: Option<usize>,
    children: Vec<usize>,
    alive: bool,
    /// One of its actions (or hooks) runs.
    busy: bool,
    destroy_requested: bool,
    dying: bool,
    /// Events sent to it while it was busy.
    pending: VecDeque<Msg>,
    state: &'static str,
    /// The script a `Node`'s `go_out` runs.
    farewell: Option<usize>,
    // A GTimer's fields.
    seconds: f64,
    autostart: bool,
    armed: Option<usize>,
    due: Option<u64>,
}

#[derive(Clone, Debug, PartialEq)]
enum Dest {
    Gobj(usize),
    Named(String),
}

#[derive(Debug)]
struct Subscription {
    /// Its number, given when an operation first reports it.
    label: Option<usize>,
    publisher: usize,
    event: Option<&'static str>,
    subscriber: Dest,
    post: bool,
    rename: Option<&'static str>,
    hard: bool,
    reference: Option<i64>,
    first_shot: bool,
}

#[derive(Clone, Debug)]
enum TimerAction {
    /// Runs a script from the loop.
    Callback { label: usize, script: Option<usize> },
    /// Sends an event to the owner.
    Event {
        event: &'static str,
        payload: Payload,
    },
}

#[derive(Debug)]
struct Timer {
    deadline: u64,
    owner: Option<usize>,
    action: TimerAction,
    armed: bool,
}

/// Where an operation runs: in the action of `me`, handling an event from
/// `source`, or at top level / in a callback (both `None`).
#[derive(Clone, Copy)]
struct Here {
    me: Option<usize>,
    source: Option<usize>,
}

const TOP: Here = Here {
    me: None,
    source: None,
};

/// One delivery of a broadcast.
struct Delivery {
    dst: usize,
    event: &'static str,
    post: bool,
    original: Option<&'static str>,
    reference: Option<i64>,
}

enum Sent {
    Answered(Option<i64>),
    Queued,
}

/// The model of one gaplic.
pub struct Model {
    scripts: Vec<Vec<Op>>,
    batch: usize,
    max_send_depth: usize,
    gobjs: Vec<Gobj>,
    roots: Vec<usize>,
    unique: Vec<(String, usize)>,
    subscriptions: Vec<Subscription>,
    /// The (publisher, event, subscriber) of each subscription reported,
    /// by number.
    labelled: Vec<(usize, Option<&'static str>, Dest)>,
    timers: Vec<Timer>,
    /// Timers armed by operations, by number: indices into `timers`.
    public_timers: Vec<usize>,
    queue: VecDeque<Msg>,
    now: u64,
    life: Life,
    depth: usize,
    log: Vec<Entry>,
}

impl Model {
    pub fn new(batch: usize, max_send_depth: usize, scripts: Vec<Vec<Op>>) -> Self {
        Model {
            scripts,
            batch,
            max_send_depth,
            gobjs: Vec::new(),
            roots: Vec::new(),
            unique: Vec::new(),
            subscriptions: Vec::new(),
            labelled: Vec::new(),
            timers: Vec::new(),
            public_timers: Vec::new(),
            queue: VecDeque::new(),
            now: 0,
            life: Life::Running,
            depth: 0,
            log: Vec::new(),
        }
    }

    /// Performs a top-level operation; returns what it logged.
    pub fn step(&mut self, op: &Op) -> Vec<Entry> {
        self.run_op(op, TOP);
        std::mem::take(&mut self.log)
    }

    /// Drops the gaplic: it stops as `stop` does. Returns what it logged.
    pub fn end(&mut self) -> Vec<Entry> {
        if self.life != Life::Stopped {
            self.stop();
            self.finish();
        }
        std::mem::take(&mut self.log)
    }

    pub fn snapshot(&self) -> Snapshot {
        let gobjs = self
            .gobjs
            .iter()
            .enumerate()
            .filter(|(_, g)| g.alive)
            .map(|(number, g)| GobjView {
                number,
                name: g.name.clone(),
                state: g.state,
                parent: g.parent,
                children: g.children.clone(),
                subscriptions: self
                    .subscriptions
                    .iter()
                    .filter(|s| s.publisher == number)
                    .count(),
            })
            .collect();
        // The runtime lists unique names sorted.
        let mut unique = self.unique.clone();
        unique.sort();
        Snapshot {
            len: self.alive_count(),
            gobjs,
            top: self.roots.clone(),
            unique,
            timers: self.armed_count(),
            queued: self.queue.len(),
            now: self.now,
            stopped: self.life == Life::Stopped,
        }
    }

    fn alive(&self, k: usize) -> bool {
        self.gobjs[k].alive
    }

    fn alive_count(&self) -> usize {
        self.gobjs.iter().filter(|g| g.alive).count()
    }

    fn armed_count(&self) -> usize {
        self.timers.iter().filter(|t| t.armed).count()
    }

    fn find_unique(&self, name: &str) -> Option<usize> {
        self.unique.iter().find(|(n, _)| n == name).map(|&(_, k)| k)
    }

    // ----- operations ------------------------------------------------------

    fn run_op(&mut self, op: &Op, here: Here) {
        let outcome = self.perform(op, here);
        self.log.push(Entry::Did(op.name(), outcome));
    }

    fn resolve(&self, sel: Sel, here: Here) -> Option<usize> {
        match sel {
            Sel::Nth(n) => (!self.gobjs.is_empty()).then(|| usize::from(n) % self.gobjs.len()),
            Sel::Me => here.me,
            Sel::Parent => here.me.and_then(|me| self.gobjs[me].parent),
            Sel::Source => here.source,
        }
    }

    fn dest(&self, to: To, here: Here) -> Option<Dest> {
        match to {
            To::Gobj(sel) => self.resolve(sel, here).map(Dest::Gobj),
            To::Named(n) => Some(Dest::Named(format!("u{n}"))),
        }
    }

    /// The gobj an event addressed to `dest` goes to.
    fn find_dest(&self, dest: &Dest) -> Res<usize> {
        match dest {
            Dest::Gobj(k) if self.alive(*k) => Ok(*k),
            Dest::Gobj(_) => Err("Destroyed"),
            Dest::Named(name) => self.find_unique(name).ok_or("UnknownGobj"),
        }
    }

    fn perform(&mut self, op: &Op, here: Here) -> Outcome {
        macro_rules! or_skip {
            ($e:expr) => {
                match $e {
                    Some(v) => v,
                    None => return Outcome::Skipped,
                }
            };
        }
        let script_payload = |script: &Option<crate::ops::Script>| Payload {
            script: script.as_ref().map(|s| s.id),
            ..Payload::default()
        };
        match op {
            Op::Create { parent, unique } => {
                let parent = match parent {
                    Some(sel) => Some(or_skip!(self.resolve(*sel, here))),
                    None => None,
                };
                if self.alive_count() >= MAX_ALIVE {
                    return Outcome::Skipped;
                }
                let name = match unique {
                    Some(n) => format!("u{n}"),
                    None => format!("n{}", self.gobjs.len()),
                };
                let created = self.create(Class::Node, name, parent, unique.is_some(), -1.0, false);
                outcome(created.map(Outcome::Created))
            }
            Op::CreateTimer {
                parent,
                units,
                autostart,
            } => {
                let parent = match parent {
                    Some(sel) => Some(or_skip!(self.resolve(*sel, here))),
                    None => None,
                };
                if self.alive_count() >= MAX_ALIVE {
                    return Outcome::Skipped;
                }
                let name = format!("t{}", self.gobjs.len());
                let created = self.create(
                    Class::GTimer,
                    name,
                    parent,
                    false,
                    seconds(*units),
                    *autostart,
                );
                outcome(created.map(Outcome::Created))
            }
            Op::Destroy(sel) => {
                let k = or_skip!(self.resolve(*sel, here));
                outcome(self.destroy(k).map(|()| Outcome::Done))
            }
            Op::Farewell { gobj, script } => {
                let k = or_skip!(self.resolve(*gobj, here));
                if !self.alive(k) {
                    return Outcome::Failed("Destroyed");
                }
                self.gobjs[k].farewell = script.as_ref().map(|s| s.id);
                Outcome::Done
            }
            Op::Send { to, event, script } => {
                let dest = or_skip!(self.dest(*to, here));
                let sent = self.find_dest(&dest).and_then(|dst| {
                    self.dispatch(Msg {
                        dst,
                        event: event.name(),
                        payload: script_payload(script),
                        source: here.me,
                    })
                });
                sent_outcome(sent)
            }
            Op::Post { to, event, script } => {
                let dest = or_skip!(self.dest(*to, here));
                // `post` refuses once a stop was asked, before looking at
                // the destination.
                if self.life != Life::Running {
                    return Outcome::Failed("Stopped");
                }
                match self.find_dest(&dest) {
                    Ok(dst) => {
                        self.queue.push_back(Msg {
                            dst,
                            event: event.name(),
                            payload: script_payload(script),
                            source: here.me,
                        });
                        Outcome::Done
                    }
                    Err(kind) => Outcome::Failed(kind),
                }
            }
            Op::Broadcast {
                from,
                event,
                script,
            } => {
                let from = or_skip!(self.resolve(*from, here));
                let done = self.broadcast(from, event.name(), script_payload(script));
                outcome(done.map(|()| Outcome::Done))
            }
            Op::Subscribe {
                publisher,
                event,
                subscriber,
                opts,
            } => {
                let publisher = or_skip!(self.resolve(*publisher, here));
                let subscriber = or_skip!(self.dest(*subscriber, here));
                let made = self.subscribe(publisher, event.map(|e| e.name()), subscriber, opts);
                outcome(made.map(|i| Outcome::Subscription(self.label_of(i))))
            }
            Op::Unsubscribe {
                publisher,
                event,
                subscriber,
                force,
            } => {
                let publisher = or_skip!(self.resolve(*publisher, here));
                let subscriber = or_skip!(self.dest(*subscriber, here));
                let ended =
                    self.unsubscribe(publisher, event.map(|e| e.name()), subscriber, *force);
                outcome(ended.map(Outcome::Subscription))
            }
            Op::Resubscribe { nth, opts } => {
                let (publisher, event, subscriber) = or_skip!(self.labelled_key(*nth));
                let made = self.subscribe(publisher, event, subscriber, opts);
                outcome(made.map(|i| Outcome::Subscription(self.label_of(i))))
            }
            Op::UnsubscribeNth { nth, force } => {
                let (publisher, event, subscriber) = or_skip!(self.labelled_key(*nth));
                let ended = self.unsubscribe(publisher, event, subscriber, *force);
                outcome(ended.map(Outcome::Subscription))
            }
            Op::DeleteSubscription { nth, force } => {
                if self.labelled.is_empty() {
                    return Outcome::Skipped;
                }
                let label = usize::from(*nth) % self.labelled.len();
                let found = self
                    .subscriptions
                    .iter()
                    .position(|s| s.label == Some(label));
                match found {
                    None => Outcome::Failed("NoSubscription"),
                    Some(i) if self.subscriptions[i].hard && !force => {
                        Outcome::Failed("HardSubscription")
                    }
                    Some(i) => {
                        self.subscriptions.remove(i);
                        Outcome::Done
                    }
                }
            }
            Op::DeleteSubscriptions { publisher, force } => {
                let publisher = or_skip!(self.resolve(*publisher, here));
                if !self.alive(publisher) {
                    return Outcome::Failed("Destroyed");
                }
                let before = self.subscriptions.len();
                self.subscriptions
                    .retain(|s| s.publisher != publisher || (s.hard && !force));
                Outcome::Count(before - self.subscriptions.len())
            }
            Op::SetTimer { units, script } => {
                let label = self.public_timers.len();
                let action = TimerAction::Callback {
                    label,
                    script: script.as_ref().map(|s| s.id),
                };
                let index = self.arm_timer(u64::from(*units) * UNIT_TICKS, None, action);
                if self.life != Life::Running {
                    // A gaplic that stopped fires no timer: cancelled at once.
                    self.timers[index].armed = false;
                }
                self.public_timers.push(index);
                Outcome::Timer(label)
            }
            Op::SetGobjTimer {
                owner,
                units,
                event,
                script,
            } => {
                let owner = or_skip!(self.resolve(*owner, here));
                if !self.alive(owner) {
                    return Outcome::Failed("Destroyed");
                }
                let label = self.public_timers.len();
                let action = TimerAction::Event {
                    event: event.name(),
                    payload: script_payload(script),
                };
                let index = self.arm_timer(u64::from(*units) * UNIT_TICKS, Some(owner), action);
                self.public_timers.push(index);
                Outcome::Timer(label)
            }
            Op::CancelTimer(nth) => {
                if self.public_timers.is_empty() {
                    return Outcome::Skipped;
                }
                let index = self.public_timers[usize::from(*nth) % self.public_timers.len()];
                Outcome::Bool(std::mem::replace(&mut self.timers[index].armed, false))
            }
            Op::ArmTimer {
                timer,
                units,
                autostart,
            } => {
                let timer = or_skip!(self.resolve(*timer, here));
                let sent = self.find_dest(&Dest::Gobj(timer)).and_then(|dst| {
                    self.dispatch(Msg {
                        dst,
                        event: "EV_SET_TIMER",
                        payload: Payload {
                            seconds: units.map(seconds),
                            autostart: *autostart,
                            ..Payload::default()
                        },
                        source: here.me,
                    })
                });
                sent_outcome(sent)
            }
            Op::Stop => {
                self.stop();
                Outcome::Done
            }
            Op::Turn => Outcome::Bool(self.turn()),
            Op::RunUntilIdle => {
                self.run_until_idle();
                Outcome::Done
            }
            Op::Advance(units) => {
                self.advance(u64::from(*units) * UNIT_TICKS);
                Outcome::Done
            }
        }
    }

    // ----- the tree --------------------------------------------------------

    /// `create_gobj` / `create_unique_gobj`: refused once stopped, for a
    /// dead parent, for a unique name taken (nothing is created); the gobj
    /// becomes its parent's last child; then its `start_up` runs.
    fn create(
        &mut self,
        class: Class,
        name: String,
        parent: Option<usize>,
        unique: bool,
        seconds: f64,
        autostart: bool,
    ) -> Res<usize> {
        if matches!(self.life, Life::Ending | Life::Stopped) {
            return Err("Stopped");
        }
        if parent.is_some_and(|p| !self.alive(p)) {
            return Err("Destroyed");
        }
        if unique && self.find_unique(&name).is_some() {
            return Err("DuplicateName");
        }
        let k = self.gobjs.len();
        if unique {
            self.unique.push((name.clone(), k));
        }
        self.gobjs.push(Gobj {
            class,
            name,
            parent,
            children: Vec::new(),
            alive: true,
            busy: false,
            destroy_requested: false,
            dying: false,
            pending: VecDeque::new(),
            state: match class {
                Class::Node => "ST_OPEN",
                Class::GTimer => "ST_IDLE",
            },
            farewell: None,
            seconds,
            autostart,
            armed: None,
            due: None,
        });
        match parent {
            Some(p) => self.gobjs[p].children.push(k),
            None => self.roots.push(k),
        }
        if class == Class::GTimer {
            // GTimer's start_up: its parent subscribes to its EV_TIMEOUT by
            // post; it arms itself when its seconds are not negative.
            self.gobjs[k].busy = true;
            if let Some(p) = parent {
                let options = Opts {
                    post: true,
                    ..Opts::default()
                };
                let _ = self.subscribe(k, Some("EV_TIMEOUT"), Dest::Gobj(p), &options);
            }
            if seconds >= 0.0 {
                self.arm_gtimer(k, None);
            }
            self.check_in(k);
        }
        Ok(k)
    }

    /// `destroy_gobj`: a busy gobj goes when its action returns; otherwise
    /// its subtree goes post-order, children in creation order, each
    /// running its `go_out` once. A busy descendant is left to go when its
    /// action returns, as a child of the gaplic meanwhile.
    fn destroy(&mut self, k: usize) -> Res<()> {
        if !self.alive(k) {
            return Err("Destroyed");
        }
        if self.gobjs[k].busy {
            self.gobjs[k].destroy_requested = true;
            return Ok(());
        }
        if self.gobjs[k].dying {
            return Ok(());
        }
        self.gobjs[k].dying = true;
        let mut stack = vec![k];
        while let Some(&top) = stack.last() {
            match self.next_child_to_destroy(top) {
                Some(child) => stack.push(child),
                None => {
                    stack.pop();
                    self.go_out(top);
                    self.destroy_children(top);
                    self.remove(top);
                }
            }
        }
        Ok(())
    }

    fn next_child_to_destroy(&mut self, parent: usize) -> Option<usize> {
        loop {
            let child = *self.gobjs[parent].children.first()?;
            if self.gobjs[child].busy {
                self.gobjs[child].destroy_requested = true;
            } else if !self.gobjs[child].dying {
                self.gobjs[child].dying = true;
                return Some(child);
            }
            self.detach(child);
        }
    }

    /// A `Node`'s `go_out`: it runs checked out, like an action, but what
    /// is sent to it meanwhile is never delivered: it is about to go.
    fn go_out(&mut self, k: usize) {
        if self.gobjs[k].class != Class::Node {
            return;
        }
        self.log.push(Entry::GoOut(k));
        if let Some(script) = self.gobjs[k].farewell {
            self.gobjs[k].busy = true;
            let here = Here {
                me: Some(k),
                source: None,
            };
            for op in self.scripts[script].clone() {
                self.run_op(&op, here);
            }
            self.gobjs[k].busy = false;
        }
    }

    /// The children a gobj made in its `go_out` go with it; one that is
    /// busy goes when its action returns, as a child of the gaplic.
    fn destroy_children(&mut self, k: usize) {
        while let Some(&child) = self.gobjs[k].children.first() {
            if self.gobjs[child].busy {
                self.gobjs[child].destroy_requested = true;
                self.detach(child);
            } else if self.destroy(child).is_err() || self.alive(child) {
                self.detach(child);
            }
        }
    }

    /// Makes `k` a child of the gaplic, last of them.
    fn detach(&mut self, k: usize) {
        self.unlink(k);
        self.roots.push(k);
    }

    fn unlink(&mut self, k: usize) {
        match self.gobjs[k].parent.take() {
            Some(p) => self.gobjs[p].children.retain(|&c| c != k),
            None => self.roots.retain(|&c| c != k),
        }
    }

    /// A gobj is gone: its timers and subscriptions (both ways) end, what
    /// waited for it is dropped, its unique name is freed.
    fn remove(&mut self, k: usize) {
        for timer in &mut self.timers {
            if timer.owner == Some(k) {
                timer.armed = false;
            }
        }
        self.subscriptions
            .retain(|s| s.publisher != k && s.subscriber != Dest::Gobj(k));
        self.unlink(k);
        for child in std::mem::take(&mut self.gobjs[k].children) {
            self.gobjs[child].parent = None;
            self.roots.push(child);
        }
        self.unique.retain(|&(_, holder)| holder != k);
        let gobj = &mut self.gobjs[k];
        gobj.pending.clear();
        gobj.alive = false;
        gobj.busy = false;
    }

    // ----- delivery --------------------------------------------------------

    /// A direct delivery: refused past the nesting limit or to a dead gobj;
    /// queued behind a busy receiver's action; otherwise the action runs,
    /// then what was sent to the receiver meanwhile.
    fn dispatch(&mut self, msg: Msg) -> Res<Sent> {
        if self.depth >= self.max_send_depth {
            return Err("TooDeep");
        }
        let k = msg.dst;
        if !self.alive(k) {
            return Err("Destroyed");
        }
        if self.gobjs[k].busy {
            self.gobjs[k].pending.push_back(msg);
            return Ok(Sent::Queued);
        }
        self.gobjs[k].busy = true;
        let ret = self.run_event(msg);
        self.check_in(k);
        ret.map(Sent::Answered)
    }

    fn run_event(&mut self, msg: Msg) -> Res<Option<i64>> {
        self.depth += 1;
        let ret = self.machine(msg);
        self.depth -= 1;
        ret
    }

    /// The action of `k` returned: a destruction asked meanwhile happens
    /// now (what waited is dropped); otherwise what waited is delivered, in
    /// order.
    fn check_in(&mut self, k: usize) {
        loop {
            if !self.alive(k) {
                return;
            }
            if self.gobjs[k].destroy_requested {
                self.gobjs[k].destroy_requested = false;
                self.gobjs[k].busy = false;
                let _ = self.destroy(k);
                return;
            }
            match self.gobjs[k].pending.pop_front() {
                Some(next) => {
                    let _ = self.run_event(next);
                }
                None => {
                    self.gobjs[k].busy = false;
                    return;
                }
            }
        }
    }

    /// The machines of `Node` and `GTimer`.
    fn machine(&mut self, msg: Msg) -> Res<Option<i64>> {
        let k = msg.dst;
        let state = self.gobjs[k].state;
        match self.gobjs[k].class {
            Class::Node => {
                let next = match (state, msg.event) {
                    (_, "EV_A" | "EV_TIMEOUT") | ("ST_OPEN", "EV_RENAMED") => state,
                    ("ST_OPEN", "EV_B") => "ST_SHUT",
                    ("ST_SHUT", "EV_B") => "ST_OPEN",
                    ("ST_SHUT", "EV_RENAMED") => return Err("NotAccepted"),
                    _ => return Err("UnknownEvent"),
                };
                self.gobjs[k].state = next;
                self.log.push(Entry::Got {
                    gobj: k,
                    event: msg.event,
                    source: msg.source,
                    original: msg.payload.original.map(str::to_owned),
                    reference: msg.payload.reference,
                    script: msg.payload.script,
                });
                if let Some(script) = msg.payload.script {
                    let here = Here {
                        me: Some(k),
                        source: msg.source,
                    };
                    for op in self.scripts[script].clone() {
                        self.run_op(&op, here);
                    }
                }
                Ok(Some(k as i64))
            }
            Class::GTimer => match (state, msg.event) {
                (_, "EV_SET_TIMER") => {
                    self.set_gtimer(k, &msg.payload);
                    Ok(None)
                }
                ("ST_ARMED", "EV_FIRED") => {
                    self.fire_gtimer(k);
                    Ok(None)
                }
                (_, "EV_FIRED") => Err("NotAccepted"),
                _ => Err("UnknownEvent"),
            },
        }
    }

    // ----- GTimer ----------------------------------------------------------

    /// EV_SET_TIMER: `seconds` and `autostart` persist when absent; the
    /// timer is disarmed, then armed again unless `seconds` is negative.
    fn set_gtimer(&mut self, k: usize, payload: &Payload) {
        if let Some(seconds) = payload.seconds {
            self.gobjs[k].seconds = seconds;
        }
        if let Some(autostart) = payload.autostart {
            self.gobjs[k].autostart = autostart;
        }
        if let Some(timer) = self.gobjs[k].armed.take() {
            self.timers[timer].armed = false;
        }
        self.gobjs[k].due = None;
        self.gobjs[k].state = "ST_IDLE";
        if self.gobjs[k].seconds >= 0.0 {
            self.arm_gtimer(k, None);
        }
    }

    /// EV_FIRED: publishes EV_TIMEOUT, then a cyclic timer re-arms from its
    /// previous deadline.
    fn fire_gtimer(&mut self, k: usize) {
        self.gobjs[k].armed = None;
        self.gobjs[k].state = "ST_IDLE";
        let previous = self.gobjs[k].due.take();
        let _ = self.broadcast(k, "EV_TIMEOUT", Payload::default());
        let g = &self.gobjs[k];
        if g.autostart && g.seconds >= 0.0 && g.state == "ST_IDLE" {
            self.arm_gtimer(k, previous);
        }
    }

    fn arm_gtimer(&mut self, k: usize, from: Option<u64>) {
        // Seconds are multiples of 1/64: exact in ticks.
        let period = (self.gobjs[k].seconds * 64.0) as u64 * UNIT_TICKS;
        let due = from.unwrap_or(self.now) + period;
        let action = TimerAction::Event {
            event: "EV_FIRED",
            payload: Payload::default(),
        };
        let index = self.arm_timer(due.saturating_sub(self.now), Some(k), action);
        let g = &mut self.gobjs[k];
        g.armed = Some(index);
        g.due = Some(due);
        g.state = "ST_ARMED";
    }

    // ----- publish / subscribe ---------------------------------------------

    /// `subscribe`: the same (publisher, event, subscriber) again updates
    /// the subscription in place, keeping its place; a hard one stays hard.
    /// Returns its index.
    fn subscribe(
        &mut self,
        publisher: usize,
        event: Option<&'static str>,
        subscriber: Dest,
        opts: &Opts,
    ) -> Res<usize> {
        if !self.alive(publisher) {
            return Err("Destroyed");
        }
        let class = self.gobjs[publisher].class;
        if event.is_some_and(|e| !class.outputs().contains(&e)) {
            return Err("NotOutput");
        }
        if let Dest::Gobj(s) = subscriber
            && !self.alive(s)
        {
            return Err("Destroyed");
        }
        let rename = opts.rename.map(|e| e.name());
        let reference = opts.reference.map(i64::from);
        let existing = self.subscriptions.iter().position(|s| {
            s.publisher == publisher && s.event == event && s.subscriber == subscriber
        });
        if let Some(i) = existing {
            let s = &mut self.subscriptions[i];
            s.post = opts.post;
            s.rename = rename;
            s.hard = s.hard || opts.hard;
            s.reference = reference;
            s.first_shot = opts.first_shot;
            return Ok(i);
        }
        self.subscriptions.push(Subscription {
            label: None,
            publisher,
            event,
            subscriber,
            post: opts.post,
            rename,
            hard: opts.hard,
            reference,
            first_shot: opts.first_shot,
        });
        Ok(self.subscriptions.len() - 1)
    }

    /// The number of subscription `i`, given now if it has none yet.
    fn label_of(&mut self, i: usize) -> usize {
        match self.subscriptions[i].label {
            Some(label) => label,
            None => {
                let s = &mut self.subscriptions[i];
                let label = self.labelled.len();
                s.label = Some(label);
                self.labelled
                    .push((s.publisher, s.event, s.subscriber.clone()));
                label
            }
        }
    }

    /// The (publisher, event, subscriber) of the `nth` subscription
    /// reported (modulo their number).
    fn labelled_key(&self, nth: u8) -> Option<(usize, Option<&'static str>, Dest)> {
        (!self.labelled.is_empty())
            .then(|| self.labelled[usize::from(nth) % self.labelled.len()].clone())
    }

    /// `unsubscribe`: a hard subscription only with `force`. Returns its
    /// number.
    fn unsubscribe(
        &mut self,
        publisher: usize,
        event: Option<&'static str>,
        subscriber: Dest,
        force: bool,
    ) -> Res<usize> {
        if !self.alive(publisher) {
            return Err("Destroyed");
        }
        let class = self.gobjs[publisher].class;
        if event.is_some_and(|e| !class.outputs().contains(&e)) {
            return Err("NotOutput");
        }
        let i = self
            .subscriptions
            .iter()
            .position(|s| {
                s.publisher == publisher && s.event == event && s.subscriber == subscriber
            })
            .ok_or("NoSubscription")?;
        if self.subscriptions[i].hard && !force {
            return Err("HardSubscription");
        }
        let label = self.label_of(i);
        self.subscriptions.remove(i);
        Ok(label)
    }

    /// `broadcast`: who gets it is fixed when it starts (subscription
    /// order, each subscriber once, the first subscription that reaches it
    /// deciding how; a unique name resolved now; a first-shot subscription
    /// ends with this delivery). A subscriber destroyed meanwhile is
    /// skipped; a publisher destroyed meanwhile, or whose destruction was
    /// asked while it broadcasts from its own action, ends it.
    fn broadcast(&mut self, publisher: usize, event: &'static str, payload: Payload) -> Res<()> {
        if !self.alive(publisher) {
            return Err("Destroyed");
        }
        if !self.gobjs[publisher].class.outputs().contains(&event) {
            return Err("NotOutput");
        }
        let deliveries = self.plan(publisher, event);
        for delivery in deliveries {
            if !self.alive(publisher) || self.gobjs[publisher].destroy_requested {
                break;
            }
            if !self.alive(delivery.dst) {
                continue;
            }
            let msg = Msg {
                dst: delivery.dst,
                event: delivery.event,
                payload: Payload {
                    original: delivery.original,
                    reference: delivery.reference,
                    ..payload.clone()
                },
                source: Some(publisher),
            };
            if delivery.post {
                self.queue.push_back(msg);
            } else {
                let _ = self.dispatch(msg);
            }
        }
        Ok(())
    }

    fn plan(&mut self, publisher: usize, event: &'static str) -> Vec<Delivery> {
        let mut reached = Vec::new();
        let mut deliveries = Vec::new();
        let mut first_shots = Vec::new();
        for (i, s) in self.subscriptions.iter().enumerate() {
            if s.publisher != publisher || s.event.is_some_and(|e| e != event) {
                continue;
            }
            let dst = match &s.subscriber {
                Dest::Gobj(k) => *k,
                Dest::Named(name) => match self.find_unique(name) {
                    Some(k) => k,
                    None => continue,
                },
            };
            if reached.contains(&dst) {
                continue;
            }
            reached.push(dst);
            deliveries.push(Delivery {
                dst,
                event: s.rename.unwrap_or(event),
                post: s.post,
                original: s.rename.map(|_| event),
                reference: s.reference,
            });
            if s.first_shot {
                first_shots.push(i);
            }
        }
        for i in first_shots.into_iter().rev() {
            self.subscriptions.remove(i);
        }
        deliveries
    }

    // ----- timers and the loop ---------------------------------------------

    fn arm_timer(&mut self, delay: u64, owner: Option<usize>, action: TimerAction) -> usize {
        self.timers.push(Timer {
            deadline: self.now + delay,
            owner,
            action,
            armed: true,
        });
        self.timers.len() - 1
    }

    /// `stop`: posts are refused from now on; the gaplic ends at the end of
    /// the turn.
    fn stop(&mut self) {
        if self.life == Life::Running {
            self.life = Life::Stopping;
        }
    }

    /// `turn`: a batch of posted events, then the due timers; then, if a
    /// stop was asked, the end. Returns whether posted events remain.
    fn turn(&mut self) -> bool {
        if self.life == Life::Stopped {
            return false;
        }
        self.deliver_posted(self.batch);
        self.fire_timers();
        if self.life == Life::Stopping {
            self.finish();
            return false;
        }
        !self.queue.is_empty()
    }

    fn run_until_idle(&mut self) {
        while self.turn() {}
    }

    /// `advance`: the clock moves to each deadline on the way, and the
    /// loop runs until idle there.
    fn advance(&mut self, delay: u64) {
        let target = self.now + delay;
        self.run_until_idle();
        loop {
            let next = self
                .timers
                .iter()
                .filter(|t| t.armed)
                .map(|t| t.deadline)
                .min();
            match next {
                Some(next) if next <= target => {
                    self.now = self.now.max(next);
                    self.run_until_idle();
                }
                _ => {
                    self.now = self.now.max(target);
                    break;
                }
            }
        }
        self.run_until_idle();
    }

    fn deliver_posted(&mut self, max: usize) {
        for _ in 0..max {
            let Some(msg) = self.queue.pop_front() else {
                break;
            };
            let _ = self.dispatch(msg);
        }
    }

    /// The timers due now, in deadline order, ties in arming order; one
    /// cancelled by an earlier one of the same turn does not fire; timers
    /// armed meanwhile wait for the next turn. None fires once a stop was
    /// asked.
    fn fire_timers(&mut self) {
        if self.life != Life::Running {
            return;
        }
        let mut due: Vec<usize> = (0..self.timers.len())
            .filter(|&i| self.timers[i].armed && self.timers[i].deadline <= self.now)
            .collect();
        due.sort_by_key(|&i| (self.timers[i].deadline, i));
        for i in due {
            if self.life != Life::Running {
                break;
            }
            if !self.timers[i].armed {
                continue;
            }
            self.timers[i].armed = false;
            match (self.timers[i].action.clone(), self.timers[i].owner) {
                (TimerAction::Callback { label, script }, _) => {
                    self.log.push(Entry::Fired(label));
                    if let Some(script) = script {
                        for op in self.scripts[script].clone() {
                            self.run_op(&op, TOP);
                        }
                    }
                }
                (TimerAction::Event { event, payload }, Some(owner)) => {
                    let _ = self.dispatch(Msg {
                        dst: owner,
                        event,
                        payload,
                        source: Some(owner),
                    });
                }
                (TimerAction::Event { .. }, None) => {}
            }
        }
    }

    /// The end: what was posted is delivered, then every gobj goes
    /// (children first, roots in order, round after round while `go_out`s
    /// make more; one mid-action goes when it returns), then the timers are
    /// released.
    fn finish(&mut self) {
        while !self.queue.is_empty() {
            self.deliver_posted(usize::MAX);
        }
        // From here no gobj can be made: the end takes every one out.
        self.life = Life::Ending;
        loop {
            let roots: Vec<usize> = self
                .roots
                .iter()
                .copied()
                .filter(|&root| !self.gobjs[root].busy)
                .collect();
            if roots.is_empty() {
                break;
            }
            let before = self.alive_count();
            for root in roots {
                let _ = self.destroy(root);
            }
            if self.alive_count() >= before {
                break;
            }
        }
        self.deliver_posted(usize::MAX);
        for timer in &mut self.timers {
            timer.armed = false;
        }
        self.life = Life::Stopped;
    }
}

fn outcome(result: Res<Outcome>) -> Outcome {
    result.unwrap_or_else(Outcome::Failed)
}

fn sent_outcome(sent: Res<Sent>) -> Outcome {
    match sent {
        Ok(Sent::Answered(value)) => Outcome::Answered(value),
        Ok(Sent::Queued) => Outcome::Queued,
        Err(kind) => Outcome::Failed(kind),
    }
}
