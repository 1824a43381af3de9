//! The gaplic: the container of the gobjs of one thread, and its loop.
//!
//! It composes the rooms below it and holds what only it can do: deliver
//! an event (check the receiver out of the registry, run its machine,
//! check it back in and drain what waited for it), and turn the loop.
//! - the registry owns the gobjs, their tree, unique names and run to
//!   completion;
//! - pub/sub owns the subscriptions and hands back the plan of a
//!   broadcast;
//! - the driver owns the poll, the clock, the timers, the IO sources and
//!   the inbox from other threads, and hands back the work that is ready;
//! - the queue holds the posted events.
//!
//! The public methods are spread over the files of this module by topic:
//! the tree (`tree`), events and subscriptions (`events`), timers and the
//! loop (`looping`).

mod attrs;
mod events;
mod looping;
mod tree;

pub use attrs::AttrValue;
pub(crate) use events::Sender;
pub use events::{ROUTER, ROUTER_SEND};

use std::any::Any;
use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use crate::builder::GaplicBuilder;
use crate::driver::Driver;
use crate::error::ErrorKind;
use crate::error::{GobjError, Ret};
use crate::event::Sent;
use crate::gobj::EventKey;
use crate::gobj::{AnyGobj, Phase};
use crate::id::GobjId;
use crate::kw::Kw;
use crate::names::Names;
use crate::pubsub::{PubSub, panic_message};
use crate::queue::{PostQueue, Queued};
use crate::registry::{CheckIn, CheckOut, Registry};
use crate::thread::{GaplicHandle, Peers, Remote};

/// A callback run by the loop.
type Callback = Box<dyn FnOnce(&mut Gaplic)>;

/// What a timer does when it fires.
enum TimerAction {
    /// Runs a callback.
    Callback(Callback),
    /// Sends an event to the timer's owner, with the owner as source.
    Event { event: EventKey, kw: Kw },
}

/// Where a gaplic is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Life {
    Running,
    /// A stop was asked: posts are refused; what was posted before is
    /// delivered at the end of the turn, then every gobj goes out.
    Stopping,
    /// Every gobj is going out: no gobj can be made any more.
    Ending,
    /// Every gobj has gone out; nothing runs any more.
    Stopped,
}

/// The container of the gobjs that run on one thread: their tree and
/// unique names, the event queue, the subscriptions, the timers and the
/// loop.
///
/// Gobjs live in a generational slab: a [`GobjId`] of a destroyed gobj
/// never reaches a gobj that reuses its slot. Everything that takes a gobj
/// or an event from outside returns a [`GobjError`] that names what is
/// wrong; nothing panics on bad input, and a panic inside an action is
/// caught and returned as [`ErrorKind::Panicked`].
///
/// A gaplic ends when it is stopped ([`stop`](Gaplic::stop), or a
/// [`GaplicHandle`]) or dropped: what was posted before is delivered, then
/// every gobj's `go_out` runs, children before parents, exactly once, and
/// its timers and subscriptions are released.
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
/// let sent = gaplic.send("counter", CounterEvent::EV_PING, Kw::new())?;
/// assert_eq!(sent.value(), Some(&Value::Int(1)));
/// gaplic.post(counter, "EV_PING", Kw::new())?;
/// gaplic.run_until_idle();
/// assert_eq!(gaplic.gobj::<Counter>(counter).unwrap().count, 2);
/// # Ok::<(), GobjError>(())
/// ```
pub struct Gaplic {
    name: Arc<str>,
    roles: Vec<String>,
    registry: Registry,
    pubsub: PubSub,
    driver: Driver<TimerAction, Remote>,
    queue: PostQueue,
    callbacks: VecDeque<Callback>,
    settings: Kw,
    batch: usize,
    max_send_depth: usize,
    /// How deep direct deliveries are nested now.
    depth: usize,
    life: Life,
    /// Handles of the other gaplics this one posted to.
    peers: Peers,
    /// The names it sends to other gaplics, shared.
    names: Names,
    /// The name of every unnamed gobj.
    unnamed: Arc<str>,
}

impl std::fmt::Debug for Gaplic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gaplic")
            .field("name", &self.name)
            .field("roles", &self.roles)
            .field("gobjs", &self.registry.len())
            .field("queued", &self.queue.len())
            .field("timers", &self.driver.timer_count())
            .field("life", &self.life)
            .finish_non_exhaustive()
    }
}

impl Gaplic {
    /// A gaplic called `name` with a real clock.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`] when the system refuses the poll.
    pub fn new(name: impl Into<String>) -> Result<Self, GobjError> {
        Self::builder(name).build()
    }

    /// A builder for a gaplic called `name`.
    pub fn builder(name: impl Into<String>) -> GaplicBuilder {
        GaplicBuilder::new(name.into())
    }

    pub(crate) fn from_builder(builder: GaplicBuilder) -> Result<Self, GobjError> {
        let name: Arc<str> = builder.name.into();
        let roles: Arc<[String]> = builder.roles.clone().into();
        let (driver, _inbox) =
            Driver::new(name.clone(), roles, builder.virtual_clock).map_err(|error| {
                ErrorKind::Io {
                    context: "cannot create the gaplic's poll",
                    error,
                }
            })?;
        Ok(Gaplic {
            name,
            roles: builder.roles,
            registry: Registry::new(),
            pubsub: PubSub::default(),
            driver,
            queue: PostQueue::default(),
            callbacks: VecDeque::new(),
            settings: builder.settings,
            batch: builder.batch,
            max_send_depth: builder.max_send_depth,
            depth: 0,
            life: Life::Running,
            peers: Peers::default(),
            names: Names::default(),
            unnamed: Arc::from(""),
        })
    }

    /// The gaplic's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The gaplic's roles.
    pub fn roles(&self) -> &[String] {
        &self.roles
    }

    /// The handle other threads use to reach this gaplic.
    pub fn handle(&self) -> GaplicHandle {
        GaplicHandle::from_inbox(self.driver.inbox().clone())
    }

    /// `Err(Stopped)` once a stop was asked.
    fn running(&self) -> Result<(), GobjError> {
        match self.life {
            Life::Running => Ok(()),
            Life::Stopping | Life::Ending | Life::Stopped => Err(self.stopped()),
        }
    }

    fn stopped(&self) -> GobjError {
        ErrorKind::Stopped {
            gaplic: self.name.to_string(),
        }
        .into()
    }

    // ----- delivery -----------------------------------------------------------

    /// Runs the machine of the event's receiver, or queues the event behind
    /// the action the receiver is in.
    #[inline]
    pub(crate) fn deliver(&mut self, queued: Queued) -> Result<Sent, GobjError> {
        self.dispatch(queued).map_err(|(_, error)| error)
    }

    /// As [`deliver`](Gaplic::deliver); an error comes with the event's key,
    /// for the trace of an error that nobody receives.
    #[inline]
    fn dispatch(&mut self, queued: Queued) -> Result<Sent, (EventKey, GobjError)> {
        if self.depth >= self.max_send_depth {
            let error = self.too_deep(&queued);
            return Err((queued.event, error));
        }
        let dst = queued.dst;
        let gobj = match self.registry.check_out(dst) {
            Ok(CheckOut::Ready(gobj)) => gobj,
            Ok(CheckOut::Busy) => {
                // Checked out means alive: the event is kept.
                let _ = self.registry.defer(dst, queued);
                return Ok(Sent::Queued);
            }
            Err(error) => return Err((queued.event, error)),
        };
        let (gobj, event, ret) = self.run_event(gobj, queued);
        self.check_in(dst, gobj);
        match ret {
            Ok(value) => Ok(Sent::Done(value)),
            Err(error) => Err((event, error)),
        }
    }

    /// Delivers an event whose result nobody receives: an error is traced.
    fn deliver_unreceived(&mut self, queued: Queued) {
        let dst = queued.dst;
        if let Err((event, error)) = self.dispatch(queued) {
            self.trace_unreceived(dst, event.name(), &error);
        }
    }

    #[cold]
    fn too_deep(&self, queued: &Queued) -> GobjError {
        let error: GobjError = ErrorKind::TooDeep {
            gobj: queued.dst,
            event: queued.event.name().to_owned(),
            limit: self.max_send_depth,
        }
        .into();
        tracing::warn!(target: "gaplic", gaplic = %self.name, "{error}");
        error
    }

    /// Runs checked-out `gobj` on one event; gives back the gobj, the
    /// event's key and the result.
    #[inline(always)]
    fn run_event(
        &mut self,
        mut gobj: Box<dyn AnyGobj>,
        queued: Queued,
    ) -> (Box<dyn AnyGobj>, EventKey, Ret) {
        let Queued {
            dst,
            event,
            kw,
            source,
            origin,
        } = queued;
        self.depth += 1;
        let ret = catch_unwind(AssertUnwindSafe(|| {
            gobj.deliver(self, dst, &event, kw, source.get(), origin)
        }));
        self.depth -= 1;
        let ret = match ret {
            Ok(ret) => ret,
            Err(panic) => Err(self.panicked(&*gobj, Phase::Event, Some(&event), &*panic)),
        };
        (gobj, event, ret)
    }

    /// Puts gobj `id` back, then delivers what was sent to it meanwhile, in
    /// order and one at a time, and honours a destruction asked meanwhile.
    fn check_in(&mut self, id: GobjId, gobj: Box<dyn AnyGobj>) {
        let mut gobj = gobj;
        loop {
            match self.registry.check_in(id, gobj) {
                CheckIn::Idle => return,
                CheckIn::Destroy => {
                    // It lives: the registry just said so.
                    let _ = self.destroy_gobj(id);
                    return;
                }
                CheckIn::Next(next_gobj, next) => {
                    let (back, event, ret) = self.run_event(next_gobj, next);
                    if let Err(error) = ret {
                        self.trace_failure(id, Some(&*back), event.name(), &error);
                    }
                    gobj = back;
                }
            }
        }
    }

    /// Runs hook `phase` of gobj `id`. After `start_up`, what was sent to
    /// it meanwhile is delivered (unless the hook failed); after `go_out`,
    /// it is not: the gobj is about to go.
    fn run_hook(&mut self, id: GobjId, phase: Phase) -> Result<(), GobjError> {
        let mut gobj = match self.registry.check_out(id)? {
            CheckOut::Ready(gobj) => gobj,
            CheckOut::Busy => {
                debug_assert!(false, "hook {phase:?} of gobj {id} while it is busy");
                return Ok(());
            }
        };
        debug_assert_ne!(phase, Phase::Event, "events are not hooks");
        let result = catch_unwind(AssertUnwindSafe(|| {
            if phase == Phase::StartUp {
                gobj.start_up(self, id)
            } else {
                gobj.go_out(self, id);
                Ok(())
            }
        }));
        let result = result
            .map_err(|panic| self.panicked(&*gobj, phase, None, &*panic))
            .and_then(|started| started);
        if phase == Phase::StartUp && result.is_ok() {
            self.check_in(id, gobj);
        } else {
            self.registry.put_back(id, gobj);
        }
        result
    }

    /// The error of a panic in `gobj` while it ran `phase`, traced.
    fn panicked(
        &self,
        gobj: &dyn AnyGobj,
        phase: Phase,
        event: Option<&EventKey>,
        panic: &(dyn Any + Send),
    ) -> GobjError {
        let event = match phase {
            Phase::StartUp => "start_up",
            Phase::GoOut => "go_out",
            Phase::Event => event
                .and_then(|event| gobj.meta().event(event.name()))
                .map_or("(unknown event)", |e| e.name()),
        };
        let error = GobjError::from(ErrorKind::Panicked {
            gclass: gobj.meta().name(),
            gobj: gobj.name().clone(),
            event,
            message: panic_message(panic),
        });
        tracing::error!(target: "gaplic", gaplic = %self.name, "{error}");
        error
    }

    /// An error that no caller receives (the result of a posted event, a
    /// queued send, a timer, a broadcast, an IO readiness): traced at WARN
    /// with the receiver's gclass, name and state, so it is never lost.
    fn trace_unreceived(&self, dst: GobjId, event: &str, error: &GobjError) {
        self.trace_failure(dst, self.registry.gobj(dst), event, error);
    }

    /// As [`trace_unreceived`](Gaplic::trace_unreceived), for a gobj the
    /// caller holds (checked out).
    fn trace_failure(
        &self,
        dst: GobjId,
        gobj: Option<&dyn AnyGobj>,
        event: &str,
        error: &GobjError,
    ) {
        let gclass = self.registry.meta(dst).map_or("-", |m| m.name());
        tracing::warn!(
            target: "gaplic",
            gaplic = %self.name,
            gclass,
            gobj = gobj.map_or("-", |g| &**g.name()),
            id = %dst,
            state = gobj.map_or("-", |g| g.state_name()),
            event,
            %error,
            "event failed and nobody receives its result"
        );
    }

    /// Runs `callback` under a net for panics.
    fn run_callback(&mut self, callback: Callback, what: &'static str) {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| callback(self))) {
            tracing::error!(
                target: "gaplic",
                gaplic = %self.name,
                message = %panic_message(&*panic),
                "a {what} panicked"
            );
        }
    }
}

impl Drop for Gaplic {
    /// A gaplic dropped without stopping stops now: what was posted is
    /// delivered, then every gobj goes out.
    fn drop(&mut self) {
        if self.life != Life::Stopped {
            self.stop();
            self.finish();
        }
    }
}
