//! The gaplic: the container of the gobjs of one thread, and its loop.
//!
//! One turn of the loop runs the callbacks queued before it, delivers a
//! bounded batch of posted events, takes in what other threads sent, and
//! fires the timers that are due. Between turns it never sleeps while work
//! is pending; otherwise it blocks until the next timer, an IO event or a
//! wake-up from another thread.

use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{Ordering, fence};
use std::time::{Duration, Instant};

use crate::clock::Clock;
use crate::event::Origin;
use crate::gobj::AnyGobj;
use crate::io::{IoSource, IoSources};
use crate::poller::{Poller, Wait};
use crate::pubsub::{SubscribeOptions, Subscriber, Subscription, SubscriptionId, Subscriptions};
use crate::registry::{Entry, Pending, Registry};
use crate::thread::{Inbox, Remote};
use crate::timer::{TimerKey, TimerWheel};
use crate::{Cx, EventKey, Gclass, GclassMeta, GobjError, GobjId, Kw, Machine, Ret, Value, kw};

/// The posted events delivered in one turn, before timers and other threads
/// get their turn.
pub const DEFAULT_BATCH: usize = 256;

/// How long an idle loop keeps checking for events from other threads before
/// it blocks in the poll, when such events came recently: a reply that
/// comes back within it costs no system call and no wake-up. A loop with no
/// recent cross-thread traffic blocks at once.
const SPIN_BEFORE_PARK: Duration = Duration::from_micros(50);

/// A callback run by the loop.
type Callback = Box<dyn FnOnce(&mut Gaplic)>;

/// A publisher's owned-event filter: `true` stops the broadcast.
type OwnedEventFilter = Box<dyn FnMut(&Ret) -> bool>;

/// Where an event goes: a gobj id, or a unique name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dest<'a> {
    /// A gobj of this gaplic.
    Id(GobjId),
    /// The gobj registered under this unique name.
    Unique(&'a str),
}

impl From<GobjId> for Dest<'_> {
    fn from(id: GobjId) -> Self {
        Dest::Id(id)
    }
}

impl<'a> From<&'a str> for Dest<'a> {
    fn from(name: &'a str) -> Self {
        Dest::Unique(name)
    }
}

impl<'a> From<&'a String> for Dest<'a> {
    fn from(name: &'a String) -> Self {
        Dest::Unique(name)
    }
}

/// An event waiting in the queue.
struct Posted {
    dst: GobjId,
    event: EventKey,
    kw: Kw,
    source: Option<GobjId>,
    /// Boxed: most events are local, and the queue moves every entry.
    origin: Option<Box<Origin>>,
}

/// What a timer does when it fires.
enum TimerAction {
    /// Runs a callback.
    Callback(Callback),
    /// Sends an event to the timer's owner, with the owner as source.
    Send { event: EventKey, kw: Kw },
}

struct Timer {
    owner: Option<GobjId>,
    action: TimerAction,
}

/// Builds a [`Gaplic`].
///
/// # Examples
///
/// ```
/// use gaplic_runtime::Gaplic;
///
/// let gaplic = Gaplic::builder("test").role("worker").virtual_clock().batch(16).build()?;
/// assert_eq!(gaplic.name(), "test");
/// assert_eq!(gaplic.roles(), ["worker"]);
/// # Ok::<(), gaplic_runtime::GobjError>(())
/// ```
#[derive(Debug)]
pub struct GaplicBuilder {
    name: String,
    roles: Vec<String>,
    virtual_clock: bool,
    batch: usize,
    settings: Kw,
}

impl GaplicBuilder {
    /// The name the gaplic will have.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Adds a role.
    #[must_use]
    pub fn role(mut self, role: impl Into<String>) -> Self {
        self.roles.push(role.into());
        self
    }

    /// Uses a virtual clock, which moves only with [`Gaplic::advance`] or
    /// when the loop, with nothing else to do, jumps to the next timer.
    #[must_use]
    pub fn virtual_clock(mut self) -> Self {
        self.virtual_clock = true;
        self
    }

    /// The posted events delivered per turn ([`DEFAULT_BATCH`]); at least 1.
    #[must_use]
    pub fn batch(mut self, batch: usize) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// Global attr settings (see [`Gaplic::set_settings`]).
    #[must_use]
    pub fn settings(mut self, settings: Kw) -> Self {
        self.settings = settings;
        self
    }

    /// Makes the gaplic.
    ///
    /// # Errors
    ///
    /// [`GobjError::Io`] when the system refuses the poll.
    pub fn build(self) -> Result<Gaplic, GobjError> {
        let (poller, waker) = Poller::new().map_err(|error| GobjError::Io {
            context: "cannot create the gaplic's poll",
            error,
        })?;
        let name: Arc<str> = self.name.into();
        let (inbox, receiver) = Inbox::new(name.clone(), waker);
        Ok(Gaplic {
            name,
            roles: self.roles,
            registry: Registry::new(),
            queue: VecDeque::new(),
            callbacks: VecDeque::new(),
            timers: TimerWheel::new(),
            fired: Vec::new(),
            clock: if self.virtual_clock {
                Clock::virtual_at_zero()
            } else {
                Clock::real()
            },
            subscriptions: Subscriptions::default(),
            filters: HashMap::new(),
            new_subscriber_events: HashMap::new(),
            settings: self.settings,
            batch: self.batch,
            stop_requested: false,
            remote_traffic: false,
            io: IoSources::default(),
            peers: HashMap::new(),
            ready: Vec::new(),
            poller,
            inbox: Arc::new(inbox),
            receiver,
        })
    }
}

/// The container of the gobjs that run on one thread: their tree and
/// unique names, the event queue, the subscriptions, the timers and the
/// loop.
///
/// Gobjs live in a generational slab: a [`GobjId`] of a destroyed gobj
/// never reaches a gobj that reuses its slot. Everything that takes a gobj
/// or an event from outside returns a [`GobjError`] that names what is
/// wrong; nothing panics on bad input, and a panic inside an action is
/// caught and returned as [`GobjError::Panicked`].
///
/// # Examples
///
/// ```
/// use gaplic::prelude::*;
///
/// gobj! {
///     /// Counts pings.
///     pub struct Counter { count: u32 }
///     events { EV_PING, EV_COUNTED: output }
///     states { ST_COUNTING }
///     machine { ST_COUNTING { EV_PING => count } }
/// }
///
/// impl Counter {
///     fn count(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
///         self.count += 1;
///         cx.broadcast(CounterEvent::EV_COUNTED, kw! { "count" => self.count })?;
///         Ok(Value::from(self.count))
///     }
/// }
///
/// let mut gaplic = Gaplic::new("doc")?;
/// let counter = gaplic.create_unique_gobj::<Counter>("counter", None, Kw::new())?;
/// assert_eq!(gaplic.send("counter", CounterEvent::EV_PING, Kw::new())?, Value::Int(1));
/// gaplic.post(counter, "EV_PING", Kw::new())?;
/// gaplic.run_until_idle();
/// assert_eq!(gaplic.gobj::<Counter>(counter).unwrap().count, 2);
/// # Ok::<(), GobjError>(())
/// ```
pub struct Gaplic {
    name: Arc<str>,
    roles: Vec<String>,
    registry: Registry,
    queue: VecDeque<Posted>,
    callbacks: VecDeque<Callback>,
    timers: TimerWheel<Timer>,
    fired: Vec<(TimerKey, Timer)>,
    clock: Clock,
    subscriptions: Subscriptions,
    filters: HashMap<GobjId, OwnedEventFilter>,
    new_subscriber_events: HashMap<GobjId, &'static str>,
    settings: Kw,
    batch: usize,
    stop_requested: bool,
    /// Events came from other threads since the loop last blocked.
    remote_traffic: bool,
    io: IoSources,
    /// Handles of the other gaplics this one posted to, by name.
    peers: HashMap<String, crate::GaplicHandle>,
    /// Tokens made ready by the last poll, waiting for delivery.
    ready: Vec<mio::Token>,
    poller: Poller,
    inbox: Arc<Inbox>,
    receiver: std::sync::mpsc::Receiver<Remote>,
}

impl std::fmt::Debug for Gaplic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gaplic")
            .field("name", &self.name)
            .field("roles", &self.roles)
            .field("gobjs", &self.registry.len())
            .field("queued", &self.queue.len())
            .field("timers", &self.timers.len())
            .finish_non_exhaustive()
    }
}

impl Gaplic {
    /// A gaplic called `name` with a real clock.
    ///
    /// # Errors
    ///
    /// [`GobjError::Io`] when the system refuses the poll.
    pub fn new(name: impl Into<String>) -> Result<Self, GobjError> {
        Self::builder(name).build()
    }

    /// A builder for a gaplic called `name`.
    pub fn builder(name: impl Into<String>) -> GaplicBuilder {
        GaplicBuilder {
            name: name.into(),
            roles: Vec::new(),
            virtual_clock: false,
            batch: DEFAULT_BATCH,
            settings: Kw::new(),
        }
    }

    /// The gaplic's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The gaplic's roles.
    pub fn roles(&self) -> &[String] {
        &self.roles
    }

    /// Global attr settings, applied to every gobj created afterwards,
    /// after its defaults and its creation keywords (so they win, as in
    /// GinsFSM). A key `attr` applies to every gclass with that attr;
    /// `Gclass.attr` to one gclass; `gobj_name.attr` to one gobj. Settings
    /// for attrs a gclass lacks are ignored; a later key wins over an
    /// earlier one.
    pub fn set_settings(&mut self, settings: Kw) {
        self.settings = settings;
    }

    // ----- the tree -------------------------------------------------------

    /// Creates a gobj of gclass `G` called `name`, child of `parent` (or of
    /// the gaplic), with its attrs from their defaults, `kw` and the global
    /// settings; then runs its `start_up`.
    ///
    /// # Errors
    ///
    /// [`GobjError::Destroyed`] for a dead parent; the errors of
    /// [`Gclass::create`]; the error `start_up` returns (the gobj is then
    /// destroyed again).
    pub fn create_gobj<G: Gclass + 'static>(
        &mut self,
        name: &str,
        parent: Option<GobjId>,
        kw: Kw,
    ) -> Result<GobjId, GobjError> {
        self.create::<G>(name, parent, kw, false)
    }

    /// As [`create_gobj`](Gaplic::create_gobj), and registers `name` as a
    /// unique name, by which events can be addressed to it.
    ///
    /// # Errors
    ///
    /// [`GobjError::DuplicateName`] when the name is taken (nothing is
    /// created), and those of [`create_gobj`](Gaplic::create_gobj).
    pub fn create_unique_gobj<G: Gclass + 'static>(
        &mut self,
        name: &str,
        parent: Option<GobjId>,
        kw: Kw,
    ) -> Result<GobjId, GobjError> {
        self.create::<G>(name, parent, kw, true)
    }

    fn create<G: Gclass + 'static>(
        &mut self,
        name: &str,
        parent: Option<GobjId>,
        kw: Kw,
        unique: bool,
    ) -> Result<GobjId, GobjError> {
        if let Some(parent) = parent {
            self.registry.live(parent)?;
        }
        if unique && self.registry.is_unique_taken(name) {
            return Err(GobjError::DuplicateName {
                name: name.to_owned(),
            });
        }
        let kw = self.with_settings(G::META, name, kw);
        let machine = Machine::<G>::from_parts(name, G::create(&kw)?);
        let id = self
            .registry
            .insert(Entry::new(Box::new(machine), G::META, parent, unique));
        if let Some(parent) = parent {
            self.registry.live(parent)?.children.push(id);
        }
        if unique {
            self.registry.register_unique(name, id)?;
        }
        let started = self.with_gobj(id, "start_up", |gobj, gaplic| gobj.start_up(gaplic, id));
        if let Err(error) = started.and_then(|r| r) {
            // It never started, so it gets no `go_out`; children it made
            // in `start_up` go with it.
            let children = self
                .registry
                .get_mut(id)
                .map(|e| std::mem::take(&mut e.children))
                .unwrap_or_default();
            for child in children {
                let _ = self.destroy_gobj(child);
            }
            self.remove_gobj(id);
            return Err(error);
        }
        Ok(id)
    }

    /// `kw` with the global settings that concern gobj `name` of `meta`.
    fn with_settings(&self, meta: &'static GclassMeta, name: &str, mut kw: Kw) -> Kw {
        for (key, value) in self.settings.iter() {
            let (scope, attr) = match key.rsplit_once('.') {
                Some((scope, attr)) => (Some(scope), attr),
                None => (None, key),
            };
            let concerned = scope.is_none_or(|s| s == name || s == meta.name());
            if concerned && meta.attr(attr).is_some() {
                kw.insert(attr.to_owned(), value.clone());
            }
        }
        kw
    }

    /// Destroys a gobj: its children first, then its `go_out`; its
    /// subscriptions (both ways) and timers end, events queued for it are
    /// dropped with a trace, and its unique name is freed. A gobj that is
    /// mid-action is destroyed as soon as the action returns.
    ///
    /// # Errors
    ///
    /// [`GobjError::Destroyed`] when it is gone already.
    pub fn destroy_gobj(&mut self, id: GobjId) -> Result<(), GobjError> {
        let entry = self.registry.live(id)?;
        if entry.gobj.is_none() {
            entry.destroy_requested = true;
            return Ok(());
        }
        let children = std::mem::take(&mut entry.children);
        for child in children {
            // A child that is gone already needs nothing more.
            let _ = self.destroy_gobj(child);
        }
        let went_out = self.with_gobj(id, "go_out", |gobj, gaplic| gobj.go_out(gaplic, id));
        if let Err(error) = went_out {
            tracing::warn!(target: "gaplic", gaplic = %self.name, %error, "go_out failed");
        }
        self.remove_gobj(id);
        Ok(())
    }

    /// Takes the gobj out of the registry and everything that refers to it.
    fn remove_gobj(&mut self, id: GobjId) {
        let Some(entry) = self.registry.remove(id) else {
            return;
        };
        let name = entry.gobj.as_ref().map(|g| g.name().to_owned());
        for pending in &entry.pending {
            tracing::warn!(
                target: "gaplic",
                gaplic = %self.name,
                gobj = %id,
                event = pending.event.name(),
                "event dropped: its gobj was destroyed before it could be delivered"
            );
        }
        for key in entry.timers {
            self.timers.cancel(key);
        }
        for subscription in entry.subscriptions {
            self.remove_subscription(subscription);
        }
        for child in entry.children {
            if let Some(child) = self.registry.get_mut(child) {
                child.parent = None;
            }
        }
        if entry.unique
            && let Some(name) = &name
            && self.registry.find_unique(name) == Some(id)
        {
            self.registry.unregister_unique(name);
        }
        if let Some(parent) = entry.parent.and_then(|p| self.registry.get_mut(p)) {
            parent.children.retain(|c| *c != id);
        }
        self.filters.remove(&id);
        self.new_subscriber_events.remove(&id);
    }

    /// The gobj registered under `name`.
    pub fn find_unique_gobj(&self, name: &str) -> Option<GobjId> {
        self.registry.find_unique(name)
    }

    /// The unique names, in registration order.
    pub fn unique_names(&self) -> impl Iterator<Item = &str> {
        self.registry.unique_names()
    }

    /// How many gobjs live.
    pub fn len(&self) -> usize {
        self.registry.len()
    }

    /// Whether no gobj lives.
    pub fn is_empty(&self) -> bool {
        self.registry.len() == 0
    }

    /// Every live gobj.
    pub fn gobj_ids(&self) -> impl Iterator<Item = GobjId> + '_ {
        self.registry.ids()
    }

    /// Whether `id` is a live gobj.
    pub fn contains(&self, id: GobjId) -> bool {
        self.registry.get(id).is_some()
    }

    /// The struct of gobj `id`, if it lives, is of gclass `G` and is not
    /// mid-action.
    pub fn gobj<G: Gclass + 'static>(&self, id: GobjId) -> Option<&G> {
        let gobj = self.registry.get(id)?.gobj.as_ref()?;
        let any: &dyn Any = gobj.as_any();
        any.downcast_ref::<Machine<G>>().map(Machine::gobj)
    }

    /// The struct of gobj `id`, to change it between events.
    pub fn gobj_mut<G: Gclass + 'static>(&mut self, id: GobjId) -> Option<&mut G> {
        let gobj = self.registry.get_mut(id)?.gobj.as_mut()?;
        gobj.as_any_mut()
            .downcast_mut::<Machine<G>>()
            .map(Machine::gobj_mut)
    }

    /// The name of gobj `id`.
    pub fn name_of(&self, id: GobjId) -> Option<&str> {
        self.registry.get(id)?.gobj.as_ref().map(|g| g.name())
    }

    /// The gclass of gobj `id`.
    pub fn gclass_of(&self, id: GobjId) -> Option<&'static GclassMeta> {
        self.registry.get(id).map(|e| e.meta)
    }

    /// The name of the state gobj `id` is in.
    pub fn state_of(&self, id: GobjId) -> Option<&'static str> {
        self.registry.get(id)?.gobj.as_ref().map(|g| g.state_name())
    }

    /// The parent of gobj `id` (`None` for a child of the gaplic).
    pub fn parent_of(&self, id: GobjId) -> Option<GobjId> {
        self.registry.get(id)?.parent
    }

    /// The children of gobj `id`, in creation order.
    pub fn children_of(&self, id: GobjId) -> &[GobjId] {
        self.registry.get(id).map_or(&[], |e| &e.children)
    }

    /// Turns the machine trace of gobj `id` on or off.
    ///
    /// # Errors
    ///
    /// [`GobjError::Destroyed`] when it is gone.
    pub fn set_trace(&mut self, id: GobjId, on: bool) -> Result<(), GobjError> {
        let entry = self.registry.live(id)?;
        if let Some(gobj) = entry.gobj.as_mut() {
            gobj.set_trace(on);
        }
        Ok(())
    }

    fn resolve(&self, dst: Dest<'_>) -> Result<GobjId, GobjError> {
        match dst {
            Dest::Id(id) => match self.registry.get(id) {
                Some(_) => Ok(id),
                None => Err(GobjError::Destroyed { gobj: id }),
            },
            Dest::Unique(name) => {
                self.registry
                    .find_unique(name)
                    .ok_or_else(|| GobjError::UnknownGobj {
                        name: name.to_owned(),
                    })
            }
        }
    }

    // ----- events ---------------------------------------------------------

    /// Sends an event directly and returns the action's result.
    ///
    /// # Errors
    ///
    /// [`GobjError::UnknownGobj`] / [`GobjError::Destroyed`] for a bad
    /// destination; [`GobjError::Queued`] when the receiver is mid-action
    /// (the event is delivered right after); otherwise what the machine or
    /// the action returns.
    pub fn send<'d>(
        &mut self,
        dst: impl Into<Dest<'d>>,
        event: impl Into<EventKey>,
        kw: Kw,
    ) -> Ret {
        self.send_from(None, dst.into(), event.into(), kw)
    }

    pub(crate) fn send_from(
        &mut self,
        source: Option<GobjId>,
        dst: Dest<'_>,
        event: EventKey,
        kw: Kw,
    ) -> Ret {
        let dst = self.resolve(dst)?;
        self.deliver(dst, &event, kw, source, None)
    }

    /// Queues an event for the loop, which delivers posted events in FIFO
    /// order.
    ///
    /// # Errors
    ///
    /// [`GobjError::UnknownGobj`] / [`GobjError::Destroyed`] for a bad
    /// destination. What the receiver answers is traced if it is an error.
    pub fn post<'d>(
        &mut self,
        dst: impl Into<Dest<'d>>,
        event: impl Into<EventKey>,
        kw: Kw,
    ) -> Result<(), GobjError> {
        self.post_from(None, dst.into(), event.into(), kw)
    }

    pub(crate) fn post_from(
        &mut self,
        source: Option<GobjId>,
        dst: Dest<'_>,
        event: EventKey,
        kw: Kw,
    ) -> Result<(), GobjError> {
        let dst = self.resolve(dst)?;
        self.queue.push_back(Posted {
            dst,
            event,
            kw,
            source,
            origin: None,
        });
        Ok(())
    }

    /// Runs the machine of `dst` for one event, if it is not mid-action.
    fn deliver(
        &mut self,
        dst: GobjId,
        event: &EventKey,
        kw: Kw,
        source: Option<GobjId>,
        origin: Option<Box<Origin>>,
    ) -> Ret {
        let entry = self.registry.live(dst)?;
        let Some(mut gobj) = entry.gobj.take() else {
            entry.pending.push(Pending {
                event: event.clone(),
                kw,
                source,
            });
            return Err(GobjError::Queued {
                gobj: dst,
                event: event.name().to_owned(),
            });
        };
        let ret = match catch_unwind(AssertUnwindSafe(|| {
            gobj.deliver(self, dst, event, kw, source, origin)
        })) {
            Ok(ret) => ret,
            Err(panic) => Err(self.panicked(gobj.as_ref(), event.name(), panic.as_ref())),
        };
        self.return_gobj(dst, gobj);
        ret
    }

    /// Takes gobj `id` out of its entry while `f` runs on it (so events sent
    /// to it meanwhile are queued), then puts it back.
    fn with_gobj<R>(
        &mut self,
        id: GobjId,
        hook: &'static str,
        f: impl FnOnce(&mut dyn AnyGobj, &mut Gaplic) -> R,
    ) -> Result<R, GobjError> {
        let entry = self.registry.live(id)?;
        let Some(mut gobj) = entry.gobj.take() else {
            return Err(GobjError::Queued {
                gobj: id,
                event: hook.to_owned(),
            });
        };
        let result = catch_unwind(AssertUnwindSafe(|| f(gobj.as_mut(), self)));
        let result = result.map_err(|panic| self.panicked(gobj.as_ref(), hook, panic.as_ref()));
        if hook == "go_out" {
            // Events sent to it meanwhile are dropped, with a trace, when
            // it is removed: it has gone out.
            if let Some(entry) = self.registry.get_mut(id) {
                entry.gobj = Some(gobj);
            }
        } else {
            self.return_gobj(id, gobj);
        }
        result
    }

    /// Puts a gobj back after its action, then delivers what was sent to it
    /// meanwhile, in order, and honours a destruction asked meanwhile.
    fn return_gobj(&mut self, id: GobjId, gobj: Box<dyn AnyGobj>) {
        let Some(entry) = self.registry.get_mut(id) else {
            return;
        };
        entry.gobj = Some(gobj);
        if entry.pending.is_empty() && !entry.destroy_requested {
            return;
        }
        loop {
            let Some(entry) = self.registry.get_mut(id) else {
                return;
            };
            if entry.gobj.is_none() {
                // A pending delivery is running it; it drains the rest.
                return;
            }
            if entry.destroy_requested {
                entry.destroy_requested = false;
                let _ = self.destroy_gobj(id);
                return;
            }
            if entry.pending.is_empty() {
                return;
            }
            let pending = entry.pending.remove(0);
            if let Err(error) = self.deliver(id, &pending.event, pending.kw, pending.source, None) {
                self.trace_lost_result(id, pending.event.name(), &error);
            }
        }
    }

    /// The error of a panic in `gobj` while it handled `event` (an event
    /// name, or the name of a hook).
    fn panicked(&self, gobj: &dyn AnyGobj, event: &str, panic: &(dyn Any + Send)) -> GobjError {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(a panic without a message)".to_owned());
        let event = match event {
            "start_up" => "start_up",
            "go_out" => "go_out",
            name => gobj
                .meta()
                .event(name)
                .map_or("(unknown event)", |e| e.name()),
        };
        let error = GobjError::Panicked {
            gclass: gobj.meta().name(),
            gobj: gobj.name().to_owned(),
            event,
            message,
        };
        tracing::error!(target: "gaplic", gaplic = %self.name, "{error}");
        error
    }

    /// An error nobody waits for (a posted event, a queued send, a timer):
    /// traced so it is not lost silently.
    fn trace_lost_result(&self, dst: GobjId, event: &str, error: &GobjError) {
        if error.is_queued() {
            return;
        }
        tracing::warn!(
            target: "gaplic",
            gaplic = %self.name,
            gobj = %dst,
            event,
            %error,
            "undelivered or failed event"
        );
    }

    // ----- publish / subscribe ---------------------------------------------

    /// Publishes output event `event` of `publisher` to its subscribers, in
    /// subscription order, each by send or by post as it subscribed. After
    /// each sent delivery the publisher's owned-event filter, if any, sees
    /// the result and may stop the broadcast.
    ///
    /// # Errors
    ///
    /// [`GobjError::Destroyed`] for a dead publisher;
    /// [`GobjError::NotOutput`] when the event is not one of its output
    /// events. A subscriber's own error is traced, not returned.
    pub fn broadcast(
        &mut self,
        publisher: GobjId,
        event: impl Into<EventKey>,
        kw: Kw,
    ) -> Result<(), GobjError> {
        let event = event.into();
        let entry = self.registry.live(publisher)?;
        let name = output_event(entry.meta, event.name())?;
        // Taken first: deliveries may add or remove subscriptions.
        let subscriptions = &self.subscriptions;
        let targets: Vec<SubscriptionId> = entry
            .subscriptions
            .iter()
            .copied()
            .filter(|id| {
                subscriptions
                    .get(*id)
                    .is_some_and(|s| s.publisher == publisher && s.event.is_none_or(|e| e == name))
            })
            .collect();
        // A subscriber of both this event and all events gets it once
        // (tracked only when there are several subscriptions).
        let mut reached: Option<Vec<GobjId>> = (targets.len() > 1).then(Vec::new);
        let mut kw = Some(kw);
        let last = targets.len().saturating_sub(1);
        for (i, id) in targets.into_iter().enumerate() {
            // The last one gets the payload itself, the others a copy.
            let payload = if i == last {
                kw.take().unwrap_or_default()
            } else {
                kw.clone().unwrap_or_default()
            };
            let Some(ret) = self.publish_to(id, publisher, name, payload, reached.as_mut()) else {
                continue;
            };
            if let Some(filter) = self.filters.get_mut(&publisher)
                && filter(&ret)
            {
                break;
            }
        }
        Ok(())
    }

    /// Delivers one broadcast through subscription `id`. Returns the result
    /// of a sent delivery (for the owned-event filter), `None` for a posted
    /// or skipped one.
    fn publish_to(
        &mut self,
        id: SubscriptionId,
        publisher: GobjId,
        name: &'static str,
        mut kw: Kw,
        reached: Option<&mut Vec<GobjId>>,
    ) -> Option<Ret> {
        let subscription = self.subscriptions.get(id)?;
        let dst = match &subscription.subscriber {
            Subscriber::Gobj(id) => Some(*id),
            Subscriber::Unique(unique) => self.registry.find_unique(unique),
        };
        let Some(dst) = dst else {
            tracing::warn!(
                target: "gaplic",
                gaplic = %self.name,
                event = name,
                subscriber = ?subscription.subscriber,
                "subscriber not found; event not delivered"
            );
            return None;
        };
        if let Some(reached) = reached {
            if reached.contains(&dst) {
                return None;
            }
            reached.push(dst);
        }
        let options = &subscription.options;
        let delivered: EventKey = match &options.rename {
            Some(rename) => {
                kw.insert("original_event_name", name);
                EventKey::from(rename.clone())
            }
            None => EventKey::from(name),
        };
        if let Some(reference) = &options.reference {
            kw.insert("subscription_reference", reference.clone());
        }
        let (post, first_shot) = (options.post, options.first_shot);
        if first_shot {
            self.remove_subscription(id);
        }
        if post {
            self.queue.push_back(Posted {
                dst,
                event: delivered,
                kw,
                source: Some(publisher),
                origin: None,
            });
            return None;
        }
        let ret = self.deliver(dst, &delivered, kw, Some(publisher), None);
        if let Err(error) = &ret {
            self.trace_lost_result(dst, delivered.name(), error);
        }
        Some(ret)
    }

    /// Subscribes `subscriber` to output event `event` of `publisher`
    /// (`None`: to all of them). Subscribing the same subscriber to the same
    /// event again replaces the earlier subscription.
    ///
    /// # Errors
    ///
    /// [`GobjError::Destroyed`] for a dead publisher or subscriber;
    /// [`GobjError::NotOutput`] when the publisher does not declare the
    /// event as output (nothing is stored).
    pub fn subscribe(
        &mut self,
        publisher: GobjId,
        event: Option<&str>,
        subscriber: impl Into<Subscriber>,
        options: SubscribeOptions,
    ) -> Result<SubscriptionId, GobjError> {
        let meta = self.registry.live(publisher)?.meta;
        let event = event.map(|e| output_event(meta, e)).transpose()?;
        let subscriber = subscriber.into();
        if let Subscriber::Gobj(gobj) = subscriber {
            self.registry.live(gobj)?;
        }
        if let Some(existing) = self.find_subscription(publisher, event, &subscriber) {
            self.remove_subscription(existing);
        }
        let notice = self.new_subscriber_events.get(&publisher).copied();
        let notice_kw = kw! {
            "subscriber" => match &subscriber {
                Subscriber::Gobj(id) => Value::Gobj(*id),
                Subscriber::Unique(name) => Value::from(name.as_str()),
            },
            "event" => event,
        };
        let holder = match subscriber {
            Subscriber::Gobj(gobj) if gobj != publisher => Some(gobj),
            _ => None,
        };
        let id = self.subscriptions.insert(Subscription {
            publisher,
            event,
            subscriber,
            options,
        });
        self.registry.live(publisher)?.subscriptions.push(id);
        if let Some(holder) = holder {
            self.registry.live(holder)?.subscriptions.push(id);
        }
        if let Some(notice) = notice
            && let Err(error) = self.send_from(None, Dest::Id(publisher), notice.into(), notice_kw)
        {
            self.trace_lost_result(publisher, notice, &error);
        }
        Ok(id)
    }

    fn find_subscription(
        &self,
        publisher: GobjId,
        event: Option<&'static str>,
        subscriber: &Subscriber,
    ) -> Option<SubscriptionId> {
        let entry = self.registry.get(publisher)?;
        entry.subscriptions.iter().copied().find(|id| {
            self.subscriptions.get(*id).is_some_and(|s| {
                s.publisher == publisher && s.event == event && s.subscriber == *subscriber
            })
        })
    }

    /// Ends the subscription of `subscriber` to `event` of `publisher`.
    /// Returns `false` when there is none, or when it is hard and `force` is
    /// off.
    pub fn unsubscribe(
        &mut self,
        publisher: GobjId,
        event: Option<&str>,
        subscriber: impl Into<Subscriber>,
        force: bool,
    ) -> bool {
        let Some(meta) = self.registry.get(publisher).map(|e| e.meta) else {
            return false;
        };
        let event = match event {
            Some(e) => match meta.event(e) {
                Some(e) => Some(e.name()),
                None => return false,
            },
            None => None,
        };
        match self.find_subscription(publisher, event, &subscriber.into()) {
            Some(id) => self.delete_subscription(id, force),
            None => false,
        }
    }

    /// Ends subscription `id`. Returns `false` when it is gone already, or
    /// hard and `force` is off.
    pub fn delete_subscription(&mut self, id: SubscriptionId, force: bool) -> bool {
        match self.subscriptions.get(id) {
            Some(s) if force || !s.options.hard => self.remove_subscription(id),
            _ => false,
        }
    }

    /// Ends the subscriptions to `publisher`'s events (hard ones only with
    /// `force`); returns how many ended.
    pub fn delete_subscriptions(&mut self, publisher: GobjId, force: bool) -> usize {
        let Some(entry) = self.registry.get(publisher) else {
            return 0;
        };
        let ids: Vec<SubscriptionId> = entry
            .subscriptions
            .iter()
            .copied()
            .filter(|id| {
                self.subscriptions
                    .get(*id)
                    .is_some_and(|s| s.publisher == publisher)
            })
            .collect();
        ids.into_iter()
            .filter(|id| self.delete_subscription(*id, force))
            .count()
    }

    /// How many subscriptions `publisher` has.
    pub fn subscription_count(&self, publisher: GobjId) -> usize {
        self.registry.get(publisher).map_or(0, |entry| {
            entry
                .subscriptions
                .iter()
                .filter(|id| {
                    self.subscriptions
                        .get(**id)
                        .is_some_and(|s| s.publisher == publisher)
                })
                .count()
        })
    }

    fn remove_subscription(&mut self, id: SubscriptionId) -> bool {
        let Some(subscription) = self.subscriptions.remove(id) else {
            return false;
        };
        if let Some(entry) = self.registry.get_mut(subscription.publisher) {
            entry.subscriptions.retain(|s| *s != id);
        }
        if let Subscriber::Gobj(gobj) = subscription.subscriber
            && let Some(entry) = self.registry.get_mut(gobj)
        {
            entry.subscriptions.retain(|s| *s != id);
        }
        true
    }

    /// Sets `publisher`'s owned-event filter: after each sent delivery of a
    /// broadcast, it sees the result; `true` stops the broadcast there.
    ///
    /// # Errors
    ///
    /// [`GobjError::Destroyed`] for a dead publisher.
    pub fn set_owned_event_filter(
        &mut self,
        publisher: GobjId,
        filter: impl FnMut(&Ret) -> bool + 'static,
    ) -> Result<(), GobjError> {
        self.registry.live(publisher)?;
        self.filters.insert(publisher, Box::new(filter));
        Ok(())
    }

    /// Has `publisher` sent `event` (one of its input events) whenever a
    /// subscription to it is made, with keys `subscriber` and `event`.
    ///
    /// # Errors
    ///
    /// [`GobjError::Destroyed`] for a dead publisher;
    /// [`GobjError::UnknownEvent`] when `event` is not one of its input
    /// events (checked now, not at the first subscription).
    pub fn set_new_subscriber_event(
        &mut self,
        publisher: GobjId,
        event: &str,
    ) -> Result<(), GobjError> {
        let entry = self.registry.live(publisher)?;
        let meta = entry.meta;
        let Some(declared) = meta.event(event).filter(|e| e.input()) else {
            return Err(GobjError::UnknownEvent {
                gclass: meta.name(),
                gobj: format!("{publisher}"),
                event: event.to_owned(),
            });
        };
        self.new_subscriber_events
            .insert(publisher, declared.name());
        Ok(())
    }

    // ----- callbacks and timers ---------------------------------------------

    /// Runs `callback` on the next turn of the loop.
    pub fn add_callback(&mut self, callback: impl FnOnce(&mut Gaplic) + 'static) {
        self.callbacks.push_back(Box::new(callback));
    }

    /// Runs `callback` once, `delay` from now.
    pub fn add_timeout(
        &mut self,
        delay: Duration,
        callback: impl FnOnce(&mut Gaplic) + 'static,
    ) -> TimerKey {
        let deadline = self.clock.deadline_after(delay);
        self.timers.insert(
            deadline,
            Timer {
                owner: None,
                action: TimerAction::Callback(Box::new(callback)),
            },
        )
    }

    /// Cancels a timeout or a gobj's timer; `false` when it fired or was
    /// cancelled already.
    pub fn remove_timeout(&mut self, key: TimerKey) -> bool {
        let Some(timer) = self.timers.cancel(key) else {
            return false;
        };
        if let Some(entry) = timer.owner.and_then(|o| self.registry.get_mut(o)) {
            entry.timers.retain(|k| *k != key);
        }
        true
    }

    /// Sends `event` to `owner` itself, `delay` from now, with `owner` as
    /// the source; the timer dies with its owner.
    ///
    /// # Errors
    ///
    /// [`GobjError::Destroyed`] for a dead owner.
    pub fn set_gobj_timer(
        &mut self,
        owner: GobjId,
        delay: Duration,
        event: impl Into<EventKey>,
        kw: Kw,
    ) -> Result<TimerKey, GobjError> {
        self.registry.live(owner)?;
        let deadline = self.clock.deadline_after(delay);
        let key = self.timers.insert(
            deadline,
            Timer {
                owner: Some(owner),
                action: TimerAction::Send {
                    event: event.into(),
                    kw,
                },
            },
        );
        self.registry.live(owner)?.timers.push(key);
        Ok(key)
    }

    /// How many timers and timeouts are armed.
    pub fn timer_count(&self) -> usize {
        self.timers.len()
    }

    /// Now, by the gaplic's clock.
    pub fn now(&self) -> Instant {
        self.clock.now_instant()
    }

    // ----- the loop ---------------------------------------------------------

    /// One turn of the loop, without blocking: the callbacks queued before
    /// it, a batch of posted events, what other threads sent, the due
    /// timers. Returns whether work remains for another turn.
    pub fn turn(&mut self) -> bool {
        self.run_callbacks();
        self.deliver_posted(self.batch);
        self.take_inbox();
        self.fire_timers();
        self.has_work()
    }

    /// Turns until no posted event or callback remains. Timers fire when
    /// due; a virtual clock does not move.
    pub fn run_until_idle(&mut self) {
        while self.turn() {}
    }

    /// Moves a virtual clock `delay` forward, firing the timers due on the
    /// way in deadline order, each followed by the work it causes. On a
    /// real clock it only runs until idle.
    pub fn advance(&mut self, delay: Duration) {
        let target = self.clock.deadline_after(delay);
        self.run_until_idle();
        if self.clock.is_virtual() {
            while let Some(next) = self.timers.next_deadline().filter(|t| *t <= target) {
                self.clock.set_virtual(next);
                self.run_until_idle();
            }
            self.clock.set_virtual(target);
        }
        self.run_until_idle();
    }

    /// Whether posted events or callbacks wait.
    pub fn has_work(&self) -> bool {
        !self.queue.is_empty() || !self.callbacks.is_empty()
    }

    /// How many posted events wait.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Runs the loop until [`stop`](Gaplic::stop) (from an action, a
    /// callback, or another thread through a [`GaplicHandle`](crate::GaplicHandle)).
    /// If a stop was asked before, returns at once.
    ///
    /// # Errors
    ///
    /// [`GobjError::Io`] when the poll fails.
    pub fn run(&mut self) -> Result<(), GobjError> {
        loop {
            if std::mem::take(&mut self.stop_requested) {
                return Ok(());
            }
            let more = self.turn();
            if std::mem::take(&mut self.stop_requested) {
                self.finish_before_stop();
                return Ok(());
            }
            self.wait(more).map_err(|error| GobjError::Io {
                context: "the gaplic's poll failed",
                error,
            })?;
        }
    }

    /// On stop: delivers the events that were posted before it (once; what
    /// they post in turn stays queued), and says what is left.
    fn finish_before_stop(&mut self) {
        self.deliver_posted(self.queue.len());
        if !self.queue.is_empty() {
            tracing::warn!(
                target: "gaplic",
                gaplic = %self.name,
                left = self.queue.len(),
                "the gaplic stopped with posted events left; they are delivered if it runs again"
            );
        }
    }

    /// Asks the loop to return after the current turn; events posted before
    /// the stop are still delivered.
    pub fn stop(&mut self) {
        self.stop_requested = true;
    }

    /// Blocks until there is something to do: at once when work remains;
    /// otherwise until the next timer, an IO event, or another thread.
    fn wait(&mut self, more: bool) -> std::io::Result<()> {
        let wait = if more {
            Wait::NoBlock
        } else {
            match self.timers.next_deadline() {
                Some(tick) if self.clock.is_virtual() => {
                    self.clock.set_virtual(tick);
                    Wait::NoBlock
                }
                Some(tick) => Wait::Until(self.clock.instant_of(tick)),
                None => Wait::Forever,
            }
        };
        if wait == Wait::NoBlock {
            return self.poll_io(Wait::NoBlock);
        }
        if std::mem::take(&mut self.remote_traffic) && self.spin_for_inbox(wait) {
            return Ok(());
        }
        self.inbox.parked.store(true, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        let wait = if self.take_inbox() {
            Wait::NoBlock
        } else {
            wait
        };
        let result = self.poll_io(wait);
        self.inbox.parked.store(false, Ordering::SeqCst);
        result
    }

    /// Waits as `wait` says, then delivers each ready source's event to
    /// the gobj that owns it.
    fn poll_io(&mut self, wait: Wait) -> std::io::Result<()> {
        let mut ready = std::mem::take(&mut self.ready);
        ready.extend(self.poller.wait(wait)?.map(mio::event::Event::token));
        for token in ready.drain(..) {
            let Some(source) = self.io.get(token) else {
                continue;
            };
            let (owner, event) = (source.owner, source.event.clone());
            if let Err(error) = self.deliver(owner, &event, Kw::new(), None, None) {
                self.trace_lost_result(owner, event.name(), &error);
            }
        }
        self.ready = ready;
        Ok(())
    }

    /// Registers an IO source for `owner`: each readiness of it is
    /// delivered to `owner` as `event` with an empty payload (edge
    /// triggered: read and write until `WouldBlock`).
    ///
    /// # Errors
    ///
    /// [`GobjError::Destroyed`] for a dead owner, [`GobjError::Io`] when
    /// the poll refuses the source.
    pub fn register_io<S: mio::event::Source + ?Sized>(
        &mut self,
        owner: GobjId,
        source: &mut S,
        interest: mio::Interest,
        event: impl Into<EventKey>,
    ) -> Result<mio::Token, GobjError> {
        self.registry.live(owner)?;
        let token = self.io.insert(IoSource {
            owner,
            event: event.into(),
        });
        if let Err(error) = self.poller.registry().register(source, token, interest) {
            self.io.remove(token);
            return Err(GobjError::Io {
                context: "cannot register a socket with the gaplic's poll",
                error,
            });
        }
        Ok(token)
    }

    /// Removes a source registered with [`register_io`](Gaplic::register_io).
    pub fn deregister_io<S: mio::event::Source + ?Sized>(
        &mut self,
        token: mio::Token,
        source: &mut S,
    ) {
        if self.io.remove(token).is_some() {
            // The source may be closed already; nothing else to undo.
            let _ = self.poller.registry().deregister(source);
        }
    }

    /// Checks for events from other threads for a short while before the
    /// loop blocks; returns whether any came.
    fn spin_for_inbox(&mut self, wait: Wait) -> bool {
        let start = Instant::now();
        let limit = match wait {
            Wait::Until(at) => at.min(start + SPIN_BEFORE_PARK),
            _ => start + SPIN_BEFORE_PARK,
        };
        let mut round = 0_u32;
        loop {
            if self.take_inbox() {
                return true;
            }
            if round < 8 {
                for _ in 0..64 {
                    std::hint::spin_loop();
                }
            } else {
                // Give the core away: the thread that will answer may be
                // waiting for it (two gaplics on one core).
                std::thread::yield_now();
            }
            round += 1;
            if Instant::now() >= limit {
                return false;
            }
        }
    }

    fn run_callbacks(&mut self) {
        for _ in 0..self.callbacks.len() {
            let Some(callback) = self.callbacks.pop_front() else {
                break;
            };
            if catch_unwind(AssertUnwindSafe(|| callback(self))).is_err() {
                tracing::error!(target: "gaplic", gaplic = %self.name, "a callback panicked");
            }
        }
    }

    /// Delivers up to `max` posted events, in order.
    fn deliver_posted(&mut self, max: usize) {
        for _ in 0..max {
            let Some(posted) = self.queue.pop_front() else {
                break;
            };
            let event = posted.event;
            if let Err(error) =
                self.deliver(posted.dst, &event, posted.kw, posted.source, posted.origin)
            {
                self.trace_lost_result(posted.dst, event.name(), &error);
            }
        }
    }

    /// Moves what other threads sent into the queue; returns whether there
    /// was anything.
    fn take_inbox(&mut self) -> bool {
        let mut any = false;
        while let Ok(remote) = self.receiver.try_recv() {
            any = true;
            self.remote_traffic = true;
            match remote {
                Remote::Event {
                    gobj,
                    event,
                    kw,
                    origin,
                } => match self.registry.find_unique(&gobj) {
                    Some(dst) => self.queue.push_back(Posted {
                        dst,
                        event: EventKey::from(event),
                        kw,
                        source: None,
                        origin,
                    }),
                    None => tracing::warn!(
                        target: "gaplic",
                        gaplic = %self.name,
                        gobj,
                        event,
                        "event from another gaplic dropped: no gobj has that unique name"
                    ),
                },
                Remote::Call(call) => self.callbacks.push_back(call),
                Remote::Stop => {
                    self.stop_requested = true;
                    break;
                }
            }
        }
        any
    }

    fn fire_timers(&mut self) {
        let now = self.clock.now();
        if self.timers.next_deadline().is_none_or(|next| next > now) {
            return;
        }
        let mut fired = std::mem::take(&mut self.fired);
        self.timers.advance(now, &mut fired);
        for (key, timer) in fired.drain(..) {
            match timer.action {
                TimerAction::Callback(callback) => {
                    if catch_unwind(AssertUnwindSafe(|| callback(self))).is_err() {
                        tracing::error!(target: "gaplic", gaplic = %self.name, "a timeout callback panicked");
                    }
                }
                TimerAction::Send { event, kw } => {
                    let Some(owner) = timer.owner else { continue };
                    if let Some(entry) = self.registry.get_mut(owner) {
                        entry.timers.retain(|k| *k != key);
                    }
                    if let Err(error) = self.deliver(owner, &event, kw, Some(owner), None) {
                        self.trace_lost_result(owner, event.name(), &error);
                    }
                }
            }
        }
        self.fired = fired;
    }

    /// The handle other threads use to reach this gaplic.
    pub fn handle(&self) -> crate::GaplicHandle {
        crate::GaplicHandle::from_inbox(self.inbox.clone())
    }

    pub(crate) fn inbox(&self) -> &Arc<Inbox> {
        &self.inbox
    }
}

/// The declared name of output event `event` of `meta`.
fn output_event(meta: &'static GclassMeta, event: &str) -> Result<&'static str, GobjError> {
    match meta.event(event) {
        Some(declared) if declared.output() => Ok(declared.name()),
        _ => Err(GobjError::NotOutput {
            gclass: meta.name(),
            event: event.to_owned(),
        }),
    }
}

/// What an action reaches of its gaplic through its context.
impl<G: Gclass> Cx<'_, G> {
    /// The gaplic the gobj lives in.
    ///
    /// # Errors
    ///
    /// [`GobjError::NoGaplic`] for a gobj run by a [`Machine`] of its own.
    pub fn gaplic(&mut self) -> Result<&mut Gaplic, GobjError> {
        match self.gaplic.as_deref_mut() {
            Some(gaplic) => Ok(gaplic),
            None => Err(GobjError::NoGaplic {
                gobj: self.name.to_owned(),
            }),
        }
    }

    /// The gobj's id and its gaplic.
    fn here(&mut self) -> Result<(GobjId, &mut Gaplic), GobjError> {
        let id = self.id;
        let gaplic = self.gaplic()?;
        Ok((id.expect("a gobj in a gaplic has an id"), gaplic))
    }

    /// Sends an event directly, with this gobj as its source; returns the
    /// receiver's result. A receiver that is mid-action (this gobj itself,
    /// or one that sent to it) gets it right after that action returns,
    /// and this returns [`GobjError::Queued`].
    ///
    /// # Errors
    ///
    /// As [`Gaplic::send`], plus [`GobjError::NoGaplic`].
    pub fn send<'d>(
        &mut self,
        dst: impl Into<Dest<'d>>,
        event: impl Into<EventKey>,
        kw: Kw,
    ) -> Ret {
        let (id, gaplic) = self.here()?;
        gaplic.send_from(Some(id), dst.into(), event.into(), kw)
    }

    /// Posts an event, with this gobj as its source.
    ///
    /// # Errors
    ///
    /// As [`Gaplic::post`], plus [`GobjError::NoGaplic`].
    pub fn post<'d>(
        &mut self,
        dst: impl Into<Dest<'d>>,
        event: impl Into<EventKey>,
        kw: Kw,
    ) -> Result<(), GobjError> {
        let (id, gaplic) = self.here()?;
        gaplic.post_from(Some(id), dst.into(), event.into(), kw)
    }

    /// Publishes one of this gobj's output events to its subscribers.
    ///
    /// # Errors
    ///
    /// As [`Gaplic::broadcast`], plus [`GobjError::NoGaplic`].
    pub fn broadcast(&mut self, event: impl Into<EventKey>, kw: Kw) -> Result<(), GobjError> {
        let (id, gaplic) = self.here()?;
        gaplic.broadcast(id, event, kw)
    }

    /// Subscribes this gobj to `event` (`None`: all) of `publisher`.
    ///
    /// # Errors
    ///
    /// As [`Gaplic::subscribe`], plus [`GobjError::NoGaplic`].
    pub fn subscribe(
        &mut self,
        publisher: GobjId,
        event: Option<&str>,
        options: SubscribeOptions,
    ) -> Result<SubscriptionId, GobjError> {
        let (id, gaplic) = self.here()?;
        gaplic.subscribe(publisher, event, id, options)
    }

    /// Creates a child of this gobj.
    ///
    /// # Errors
    ///
    /// As [`Gaplic::create_gobj`], plus [`GobjError::NoGaplic`].
    pub fn create_child<C: Gclass + 'static>(
        &mut self,
        name: &str,
        kw: Kw,
    ) -> Result<GobjId, GobjError> {
        let (id, gaplic) = self.here()?;
        gaplic.create_gobj::<C>(name, Some(id), kw)
    }

    /// Sends `event` to this gobj itself after `delay`; the timer dies with
    /// the gobj.
    ///
    /// # Errors
    ///
    /// [`GobjError::NoGaplic`].
    pub fn set_timer(
        &mut self,
        delay: Duration,
        event: impl Into<EventKey>,
        kw: Kw,
    ) -> Result<TimerKey, GobjError> {
        let (id, gaplic) = self.here()?;
        gaplic.set_gobj_timer(id, delay, event, kw)
    }

    /// Posts `event` to the gobj with unique name `gobj` in the gaplic
    /// named `gaplic`, in this process (this gaplic included), with this
    /// gobj as the origin a reply can go to.
    ///
    /// # Errors
    ///
    /// [`GobjError::UnknownGaplic`], [`GobjError::Stopped`],
    /// [`GobjError::NoGaplic`].
    pub fn post_to_gaplic(
        &mut self,
        gaplic: &str,
        gobj: &str,
        event: &str,
        kw: Kw,
    ) -> Result<(), GobjError> {
        let origin = Origin {
            gaplic: self.gaplic()?.name().to_owned(),
            gobj: self.name.to_owned(),
        };
        let here = self.gaplic()?;
        if here.name() == gaplic {
            let dst = here.resolve(Dest::Unique(gobj))?;
            here.queue.push_back(Posted {
                dst,
                event: EventKey::from(event.to_owned()),
                kw,
                // As from another gaplic: the origin, not a local source.
                source: None,
                origin: Some(Box::new(origin)),
            });
            return Ok(());
        }
        let handle = match here.peers.get(gaplic) {
            Some(handle) => handle,
            None => {
                let found = crate::GaplicHandle::find(gaplic)?;
                here.peers.entry(gaplic.to_owned()).or_insert(found)
            }
        };
        let sent = handle.post_with_origin(gobj, event, kw, Some(origin));
        if let Err(stopped) = sent {
            // It stopped: forget it, so a gaplic started again under that
            // name is found next time; one that is gone is named as such.
            here.peers.remove(gaplic);
            return Err(crate::GaplicHandle::find(gaplic).err().unwrap_or(stopped));
        }
        Ok(())
    }
}
