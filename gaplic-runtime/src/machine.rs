//! The machine core: the trait `gobj!` implements, the context an action
//! gets, and [`Machine`], one gobj's machine run without a gaplic.
//!
//! Dispatch is a `match` on (state, event) that `gobj!` generates; this
//! module only wraps it with the payload check and the trace.

use std::fmt::Debug;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, Ordering};

use std::sync::Arc;

use crate::cx::Cx;
use crate::error::ErrorKind;
use crate::error::{GobjError, Ret};
use crate::event::Event;
use crate::gaplic::Gaplic;
use crate::id::GobjId;
use crate::kw::Kw;
use crate::meta::GclassMeta;
use crate::value::Value;

/// A variant of a generated event or state enum: it has a name and a
/// position in its table.
///
/// `gobj!` implements it for the `<Gclass>Event` and `<Gclass>State` enums
/// it generates. Converting a name is a generated `match` on string
/// literals, done once where an event arrives by name.
pub trait Symbol: Copy + Eq + Hash + Debug + Send + Sync + 'static {
    /// Every variant, in declaration order.
    const ALL: &'static [Self];

    /// The name as declared (`"EV_TIMEOUT"`).
    fn name(self) -> &'static str;

    /// The position in [`ALL`](Symbol::ALL) and in the metadata tables.
    fn index(self) -> usize;

    /// The variant with this name.
    fn from_name(name: &str) -> Option<Self>;
}

/// The signature of an action: the gobj, its context, the event; the
/// result goes back to the sender.
pub type Action<G> = fn(&mut G, &mut Cx<'_, G>, &Event) -> Ret;

/// The signature of the `start_up` hook; an error aborts the creation.
pub type StartUp<G> = fn(&mut G, &mut Cx<'_, G>) -> Result<(), GobjError>;

/// The signature of the `go_out` hook.
pub type GoOut<G> = fn(&mut G, &mut Cx<'_, G>);

/// The lifecycle methods a gclass may declare in its `hooks` clause.
pub struct Hooks<G: Gclass> {
    /// Runs once after the gobj is created, before any event reaches it.
    /// An error aborts the creation.
    pub start_up: Option<StartUp<G>>,
    /// Runs once when the gobj is destroyed, after its children.
    pub go_out: Option<GoOut<G>>,
}

impl<G: Gclass> Hooks<G> {
    /// No hooks.
    pub const NONE: Self = Self {
        start_up: None,
        go_out: None,
    };
}

impl<G: Gclass> Debug for Hooks<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field("start_up", &self.start_up.is_some())
            .field("go_out", &self.go_out.is_some())
            .finish()
    }
}

/// A gclass: a struct whose behaviour is a finite-state machine.
///
/// Implemented by [`gobj!`](../gaplic/macro.gobj.html), never by hand: the
/// macro checks the tables it is built from.
pub trait Gclass: Sized {
    /// The generated enum of the gclass's events.
    type Event: Symbol;
    /// The generated enum of the gclass's states.
    type State: Symbol;

    /// The gclass's tables as data.
    const META: &'static GclassMeta;
    /// The state a new gobj starts in: the first one declared.
    const INITIAL_STATE: Self::State;
    /// The lifecycle methods the gclass declares.
    const HOOKS: Hooks<Self>;

    /// Makes the struct: attrs from their defaults, overridden by the
    /// keywords in `kw`; plain fields from `Default`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownAttr`] for a keyword that is not an attr,
    /// [`ErrorKind::BadAttr`] for a value of the wrong type.
    fn create(kw: &Kw) -> Result<Self, GobjError>;

    /// Runs the machine for one event: moves to the row's next state, then
    /// runs its action. The payload has been checked already.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NotAccepted`] when the current state has no row for
    /// `event`; otherwise whatever the action returns.
    fn dispatch(&mut self, cx: &mut Cx<'_, Self>, event: Self::Event, ev: &Event) -> Ret;

    /// The value of attr `name`, read by name (configuration tools,
    /// introspection); `None` when the gclass has no such attr. `gobj!`
    /// generates it.
    fn attr(&self, name: &str) -> Option<Value> {
        let _ = name;
        None
    }

    /// Writes attr `name`, checked against its type and its rules (`range`,
    /// `one_of`, `validate`) as at creation; the attr is unchanged on
    /// error. `gobj!` generates it.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownAttr`], or [`ErrorKind::BadAttr`] naming the
    /// attr and why.
    fn set_attr(&mut self, name: &str, value: &Value) -> Result<(), GobjError> {
        let _ = value;
        Err(crate::support::unknown_attr(Self::META.name(), name))
    }

    /// Sets attr `name` back to its default. `gobj!` generates it.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownAttr`].
    fn reset_attr(&mut self, name: &str) -> Result<(), GobjError> {
        Err(crate::support::unknown_attr(Self::META.name(), name))
    }

    /// Whether `event` is an input event (accepted in some state).
    /// `gobj!` generates it as a `match`; this default reads the metadata.
    #[inline(always)]
    fn is_input(event: Self::Event) -> bool {
        Self::META.events()[event.index()].input()
    }

    /// Whether the gclass declares payload keys for `event`, to check
    /// before its action runs. `gobj!` generates it as a `match`; this
    /// default reads the metadata.
    #[inline(always)]
    fn checks_payload(event: Self::Event) -> bool {
        !Self::META.events()[event.index()].params().is_empty()
    }
}

#[cold]
#[inline(never)]
pub(crate) fn not_accepted<G: Gclass>(
    name: &Arc<str>,
    state: G::State,
    event: G::Event,
) -> GobjError {
    let error = GobjError::from(ErrorKind::NotAccepted {
        gclass: G::META.name(),
        gobj: name.clone(),
        state: state.name(),
        event: event.name(),
    });
    tracing::warn!(target: "gaplic::machine", "{error}");
    error
}

pub(crate) fn state_by_name<G: Gclass>(name: &str) -> Result<G::State, GobjError> {
    G::State::from_name(name).ok_or_else(|| {
        ErrorKind::UnknownState {
            gclass: G::META.name(),
            state: name.to_owned(),
        }
        .into()
    })
}

static TRACE_ALL: AtomicBool = AtomicBool::new(false);

/// Turns the machine trace on or off for every gobj of the process.
///
/// When on, each dispatch writes two `tracing` events at `INFO` level with
/// target `gaplic::machine`: one before the action (`gclass`, `gobj`,
/// `state`, `event`, `source`, `action`) and one after it (the new state
/// and the result). [`Machine::set_trace`] does the same for one gobj.
pub fn set_trace_all(on: bool) {
    TRACE_ALL.store(on, Ordering::Relaxed);
}

/// Whether [`set_trace_all`] is on.
#[inline]
pub fn trace_all() -> bool {
    TRACE_ALL.load(Ordering::Relaxed)
}

/// One gobj's machine, run directly: the struct, its state and its name.
///
/// This is the machine core without a gaplic: events are injected by the
/// caller, and an action reaches nothing but its own gobj. It is what tests
/// of a gclass's behaviour use, and what a gaplic keeps for each gobj.
///
/// # Examples
///
/// ```
/// use gaplic::prelude::*;
///
/// gobj! {
///     /// Counts up to a limit.
///     pub struct Counter {
///         /// Where counting stops.
///         #[attr(default = 2)]
///         limit: u32,
///         count: u32,
///     }
///     events {
///         EV_TICK: input,
///     }
///     states { ST_COUNTING, ST_DONE }
///     machine {
///         ST_COUNTING { EV_TICK => tick }
///         ST_DONE {}
///     }
/// }
///
/// impl Counter {
///     fn tick(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
///         self.count += 1;
///         if self.count == self.limit {
///             cx.set_state(CounterState::ST_DONE);
///         }
///         Ok(Value::from(self.count))
///     }
/// }
///
/// let mut counter = Machine::<Counter>::new("counter", &kw! {})?;
/// assert_eq!(counter.inject(CounterEvent::EV_TICK, Kw::new())?, Value::Int(1));
/// assert_eq!(counter.inject_by_name("EV_TICK", Kw::new())?, Value::Int(2));
/// assert_eq!(counter.state(), CounterState::ST_DONE);
/// assert!(counter.inject(CounterEvent::EV_TICK, Kw::new()).unwrap_err().is_not_accepted());
/// # Ok::<(), GobjError>(())
/// ```
pub struct Machine<G: Gclass> {
    gobj: G,
    state: G::State,
    name: Arc<str>,
    trace: bool,
}

impl<G: Gclass> Machine<G> {
    /// Creates the gobj from its attrs' defaults and `kw`, then runs its
    /// `start_up` hook.
    ///
    /// # Errors
    ///
    /// Those of [`Gclass::create`], or the error `start_up` returns.
    pub fn new(name: impl Into<Arc<str>>, kw: &Kw) -> Result<Self, GobjError> {
        Self::with_gobj(name, G::create(kw)?)
    }

    /// Runs the machine of an existing struct, starting in the initial
    /// state; runs its `start_up` hook.
    ///
    /// # Errors
    ///
    /// The error `start_up` returns.
    pub fn with_gobj(name: impl Into<Arc<str>>, gobj: G) -> Result<Self, GobjError> {
        let mut machine = Self {
            gobj,
            state: G::INITIAL_STATE,
            name: name.into(),
            trace: false,
        };
        machine.start_up(None, None)?;
        Ok(machine)
    }

    /// The machine of `gobj` in its initial state, its `start_up` not run.
    pub(crate) fn from_parts(name: Arc<str>, gobj: G) -> Self {
        Self {
            gobj,
            state: G::INITIAL_STATE,
            name,
            trace: false,
        }
    }

    /// Runs the `start_up` hook, if any.
    pub(crate) fn start_up(
        &mut self,
        gaplic: Option<&mut Gaplic>,
        id: Option<GobjId>,
    ) -> Result<(), GobjError> {
        if let Some(start_up) = G::HOOKS.start_up {
            let (gobj, mut cx) = self.parts(gaplic, id);
            start_up(gobj, &mut cx)?;
        }
        Ok(())
    }

    /// Runs the `go_out` hook, if any.
    pub(crate) fn go_out(&mut self, gaplic: Option<&mut Gaplic>, id: Option<GobjId>) {
        if let Some(go_out) = G::HOOKS.go_out {
            let (gobj, mut cx) = self.parts(gaplic, id);
            go_out(gobj, &mut cx);
        }
    }

    /// The struct and a context over the rest, for one action or hook.
    #[inline(always)]
    fn parts<'a>(
        &'a mut self,
        gaplic: Option<&'a mut Gaplic>,
        id: Option<GobjId>,
    ) -> (&'a mut G, Cx<'a, G>) {
        (
            &mut self.gobj,
            Cx::in_gaplic(&mut self.state, &self.name, id, gaplic),
        )
    }

    /// Injects `event` with payload `kw` and no source; returns the
    /// action's result.
    ///
    /// # Errors
    ///
    /// As [`inject_event`](Machine::inject_event).
    #[inline(always)]
    pub fn inject(&mut self, event: G::Event, kw: Kw) -> Ret {
        let ev = Event::new(event.name(), kw, None);
        let ret = self.inject_event(event, &ev);
        ev.release();
        ret
    }

    /// Injects the event called `name`, as it arrives from a config file or
    /// another process.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownEvent`] when the gclass has no input event of
    /// that name; otherwise as [`inject_event`](Machine::inject_event).
    pub fn inject_by_name(&mut self, name: &str, kw: Kw) -> Ret {
        match G::Event::from_name(name).filter(|e| G::is_input(*e)) {
            Some(event) => self.inject(event, kw),
            None => Err(self.unknown_event(name)),
        }
    }

    /// The error for an event name the gclass has no input event for,
    /// traced as GinsFSM does.
    #[cold]
    pub(crate) fn unknown_event(&self, name: &str) -> GobjError {
        let error = GobjError::from(ErrorKind::UnknownEvent {
            gclass: G::META.name(),
            gobj: self.name.clone(),
            event: name.to_owned(),
        });
        tracing::warn!(target: "gaplic::machine", "{error}");
        error
    }

    /// Dispatches `ev`, which is `event`: checks the payload keys the
    /// gclass declares for it, moves to the next state and runs the action.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::BadPayload`] when a declared key is missing or has
    /// another type (the state does not change);
    /// [`ErrorKind::NotAccepted`] when the current state has no row for it;
    /// otherwise the action's own error.
    #[inline(always)]
    pub fn inject_event(&mut self, event: G::Event, ev: &Event) -> Ret {
        self.run(None, None, event, ev)
    }

    /// Dispatches as [`inject_event`](Machine::inject_event) does, with the
    /// gaplic the gobj lives in, if any.
    #[inline(always)]
    pub(crate) fn run(
        &mut self,
        gaplic: Option<&mut Gaplic>,
        id: Option<GobjId>,
        event: G::Event,
        ev: &Event,
    ) -> Ret {
        if G::checks_payload(event) {
            self.check_payload(event, ev)?;
        }
        if self.trace || trace_all() {
            return self.run_traced(gaplic, id, event, ev);
        }
        let (gobj, mut cx) = self.parts(gaplic, id);
        gobj.dispatch(&mut cx, event, ev)
    }

    #[cold]
    fn check_payload(&self, event: G::Event, ev: &Event) -> Result<(), GobjError> {
        for param in G::META.events()[event.index()].params() {
            param
                .check(ev.kw())
                .map_err(|error| ErrorKind::BadPayload {
                    gclass: G::META.name(),
                    gobj: self.name.clone(),
                    event: event.name(),
                    error,
                })?;
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn run_traced(
        &mut self,
        gaplic: Option<&mut Gaplic>,
        id: Option<GobjId>,
        event: G::Event,
        ev: &Event,
    ) -> Ret {
        let state = self.state.name();
        let action = G::META
            .row(state, event.name())
            .and_then(|row| row.action())
            .unwrap_or("-");
        let source = ev.source().map(|id| id.to_string());
        tracing::info!(
            target: "gaplic::machine",
            gclass = G::META.name(),
            gobj = %self.name,
            state,
            event = event.name(),
            source = source.as_deref().unwrap_or("-"),
            action,
            "-> mach"
        );
        let (gobj, mut cx) = self.parts(gaplic, id);
        let ret = gobj.dispatch(&mut cx, event, ev);
        match &ret {
            Ok(value) => tracing::info!(
                target: "gaplic::machine",
                gclass = G::META.name(),
                gobj = %self.name,
                state = self.state.name(),
                ret = %value,
                "<- mach"
            ),
            Err(error) => tracing::info!(
                target: "gaplic::machine",
                gclass = G::META.name(),
                gobj = %self.name,
                state = self.state.name(),
                %error,
                "<- mach"
            ),
        }
        ret
    }

    /// The current state.
    pub fn state(&self) -> G::State {
        self.state
    }

    /// Moves to `state` without running anything.
    pub fn set_state(&mut self, state: G::State) {
        self.state = state;
    }

    /// Moves to the state called `name`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownState`] when the gclass has no such state.
    pub fn set_state_by_name(&mut self, name: &str) -> Result<(), GobjError> {
        self.state = state_by_name::<G>(name)?;
        Ok(())
    }

    /// The gobj's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The gobj's name, shared.
    pub(crate) fn shared_name(&self) -> &Arc<str> {
        &self.name
    }

    /// The struct.
    pub fn gobj(&self) -> &G {
        &self.gobj
    }

    /// The struct, to change it between events.
    pub fn gobj_mut(&mut self) -> &mut G {
        &mut self.gobj
    }

    /// Turns the trace of this gobj on or off (see [`set_trace_all`]).
    pub fn set_trace(&mut self, on: bool) {
        self.trace = on;
    }

    /// Ends the gobj: runs its `go_out` hook and returns the struct.
    pub fn destroy(mut self) -> G {
        self.go_out(None, None);
        self.gobj
    }
}

impl<G: Gclass> Debug for Machine<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Machine")
            .field("gclass", &G::META.name())
            .field("name", &self.name)
            .field("state", &self.state.name())
            .field("trace", &self.trace)
            .finish_non_exhaustive()
    }
}
