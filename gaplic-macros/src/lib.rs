//! The `gobj!` macro of gaplic.
//!
//! Use it through the `gaplic` crate, as `gaplic::gobj!`: its reference is
//! on the macro. This crate only holds the implementation, in four steps
//! that each have a module, run in order by `pipeline`: `parse` reads the
//! tokens, `check` applies every rule and reports all the errors at once,
//! `lower` resolves names to indices, `expand` writes the items (`text`
//! prints types and defaults back as source for the metadata and the
//! docs). On errors, `fallback` emits the struct and placeholder items so
//! the errors are not buried under follow-on ones.
#![forbid(unsafe_code)]

mod check;
mod ctxt;
mod expand;
mod fallback;
mod lower;
mod parse;
mod pipeline;
mod text;

use proc_macro::TokenStream;

/// Declares a gclass: a struct whose behaviour is a finite-state machine,
/// with its events, states and machine written as tables that are checked
/// at compile time.
///
/// ```
/// use gaplic::prelude::*;
///
/// gobj! {
///     /// A door that opens and closes.
///     pub struct Door {
///         /// How many times it may open.
///         #[attr(default = 3)]
///         openings: u32,
///         opened: u32,
///     }
///     events {
///         /// Someone pulls the handle.
///         EV_OPEN: input top,
///         EV_CLOSE: input top,
///     }
///     states { ST_CLOSED, ST_OPEN }
///     machine {
///         ST_CLOSED { EV_OPEN => open -> ST_OPEN }
///         ST_OPEN { EV_CLOSE -> ST_CLOSED }
///     }
/// }
///
/// impl Door {
///     fn open(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
///         if self.opened == self.openings {
///             cx.set_state(DoorState::ST_CLOSED); // stuck: stays closed
///             return Err(GobjError::failed("the door is worn out"));
///         }
///         self.opened += 1;
///         Ok(Value::from(self.opened))
///     }
/// }
///
/// let mut door = Machine::<Door>::new("front", &kw! { "openings" => 1 })?;
/// assert_eq!(door.inject(DoorEvent::EV_OPEN, Kw::new())?, Value::from(1));
/// assert_eq!(door.state(), DoorState::ST_OPEN);
/// door.inject(DoorEvent::EV_CLOSE, Kw::new())?;
/// assert!(door.inject(DoorEvent::EV_OPEN, Kw::new()).is_err());
/// assert_eq!(door.state(), DoorState::ST_CLOSED);
/// # Ok::<(), GobjError>(())
/// ```
///
/// # Grammar
///
/// ```text
/// gobj! {
///     #[gobj(crate = "path")]            optional, see below
///     /// doc comment                    and any other attribute of the struct
///     VIS struct NAME { FIELD, ... }     or a tuple struct, or a unit struct
///     events  { EVENT, ... }
///     states  { STATE, ... }
///     machine { STATE_NAME { ROW, ... } ... }
///     hooks   { HOOK, ... }              optional
/// }
///
/// FIELD := /// doc   #[attr(OPTION, ...)]      VIS name: Type    an attr
///        | /// doc   #[attr]                   VIS name: Type    an attr, from Default
///        | /// doc                             VIS name: Type    a plain field
/// OPTION := default = EXPR                  the default (else Default::default())
///         | range = RANGE                   the value lies in RANGE (`1..=65535`)
///         | one_of = [EXPR, ...]            the value is one of these
///         | validate = path::to::function   fn(&Type) -> Result<(), impl Display>
/// EVENT := /// doc   EV_NAME
///        | /// doc   EV_NAME: ATTRIBUTE ...
///        | /// doc   EV_NAME { key: Type, ... }
///        | /// doc   EV_NAME: ATTRIBUTE ... { key: Type, ... }
/// ATTRIBUTE := input | output | top | bottom
/// STATE := /// doc   ST_NAME
/// ROW   := EV_NAME => action -> ST_NEXT     run the action, in state ST_NEXT
///        | EV_NAME => action                run the action, keep the state
///        | EV_NAME -> ST_NEXT               only move
///        | EV_NAME                          accept and ignore: no action, no move
/// HOOK  := start_up | go_out
/// ```
///
/// The sections come after the struct, in any order, each once. Items of a
/// list are separated by commas, and a trailing comma is allowed; machine
/// entries need no comma between them. Names of events, states, actions
/// and hooks are Rust identifiers; the convention is `EV_` and `ST_`
/// prefixes in capitals, as in GinsFSM.
///
/// # The struct
///
/// A struct with named fields, a tuple struct or a unit struct, not
/// generic: a gclass is created by name, from configuration or from
/// another process, with no way to choose type parameters. Its doc comment
/// and attributes (`#[derive(...)]`) are kept.
///
/// A named field marked `#[attr(default = EXPR)]` is an **attr**: typed,
/// documented configuration. A gobj starts with the default, replaced by
/// the creation keyword of the same name if one is given (in a gaplic,
/// the gaplic's global settings win over both). A bare `#[attr]` defaults
/// to `Default::default()`. An attr's type
/// implements `FromValue`, since keywords carry `Value`s; the default is
/// an expression of that type, evaluated at each creation, except that a
/// string literal is converted with `From` (`"ls"` for a `String`). A
/// creation keyword that is not an attr is refused, and so is a value of
/// the wrong type. The other fields are private state and start from
/// `Default::default()`.
///
/// ```
/// use gaplic::prelude::*;
///
/// gobj! {
///     /// Runs a command every few seconds.
///     pub struct OnTimer {
///         /// Seconds between runs.
///         #[attr(default = 2)]
///         pub seconds: u64,
///         /// The command to run.
///         #[attr(default = "ls")]
///         command: String,
///         /// Where to run it; the current directory by default.
///         #[attr]
///         directory: Option<String>,
///         runs: u32, // a plain field
///     }
///     events { EV_TIMEOUT }
///     states { ST_IDLE }
///     machine { ST_IDLE { EV_TIMEOUT } }
/// }
///
/// let timer = Machine::<OnTimer>::new("t", &kw! { "seconds" => 5 })?;
/// let gobj = timer.gobj();
/// assert_eq!((gobj.seconds, gobj.command.as_str()), (5, "ls"));
/// assert_eq!((&gobj.directory, gobj.runs), (&None, 0));
///
/// let wrong = Machine::<OnTimer>::new("t", &kw! { "secs" => 5 }).unwrap_err();
/// assert_eq!(wrong.to_string(), "`OnTimer` has no attr `secs`");
/// assert!(Machine::<OnTimer>::new("t", &kw! { "seconds" => "5" }).is_err());
/// # Ok::<(), GobjError>(())
/// ```
///
/// An attr may carry **rules** besides its type: `range = A..=B` (any
/// range of the attr's type), `one_of = [..]` (the values allowed) and
/// `validate = function` (a `fn(&Type) -> Result<(), impl Display>` that
/// may refuse a value with its reason). They run at every creation, on
/// the default as on a keyword, and on every write by name
/// ([`Gaplic::set_attr`](../gaplic/struct.Gaplic.html#method.set_attr));
/// a refused value is an error that names the attr, the value and the
/// rule, and changes nothing. The rules are part of the attr's metadata
/// (`AttrMeta::rules`) and of the generated docs.
///
/// ```
/// use gaplic::prelude::*;
///
/// fn even(workers: &u32) -> Result<(), String> {
///     if workers.is_multiple_of(2) { Ok(()) } else { Err("workers come in pairs".into()) }
/// }
///
/// gobj! {
///     /// A configurable service.
///     pub struct Service {
///         /// TCP port to listen on.
///         #[attr(default = 8080, range = 1..=65535)]
///         port: u32,
///         /// How loudly it logs.
///         #[attr(default = "info", one_of = ["error", "warn", "info", "debug"])]
///         level: String,
///         /// Worker threads.
///         #[attr(default = 2, range = 1..=64, validate = even)]
///         workers: u32,
///     }
///     events { EV_TICK }
///     states { ST_IDLE }
///     machine { ST_IDLE { EV_TICK } }
/// }
///
/// let error = Machine::<Service>::new("s", &kw! { "workers" => 3 }).unwrap_err();
/// assert_eq!(
///     error.to_string(),
///     "bad attr of `Service`: key `workers`: 3 refused: workers come in pairs"
/// );
/// assert!(Machine::<Service>::new("s", &kw! { "level" => "loud" }).is_err());
/// assert_eq!(Service::META.attr("port").unwrap().rules(), "range 1..=65535");
/// # Ok::<(), GobjError>(())
/// ```
///
/// A tuple or unit struct has no attrs; a tuple struct's fields start from
/// `Default::default()`.
///
/// ```
/// use gaplic::prelude::*;
///
/// gobj! {
///     /// Counts.
///     struct Counter(u32);
///     events { EV_ADD }
///     states { ST_COUNTING }
///     machine { ST_COUNTING { EV_ADD => add } }
/// }
///
/// impl Counter {
///     fn add(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
///         self.0 += 1;
///         Ok(Value::from(self.0))
///     }
/// }
///
/// gobj! {
///     /// Has no data at all.
///     struct Beacon;
///     events { EV_PING }
///     states { ST_ON }
///     machine { ST_ON { EV_PING } }
/// }
///
/// let mut counter = Machine::<Counter>::new("c", &Kw::new())?;
/// counter.inject(CounterEvent::EV_ADD, Kw::new())?;
/// assert_eq!(counter.gobj().0, 1);
/// Machine::<Beacon>::new("b", &Kw::new())?.inject(BeaconEvent::EV_PING, Kw::new())?;
/// # Ok::<(), GobjError>(())
/// ```
///
/// # `events`
///
/// Each event is a name, optionally followed by a colon and its
/// attributes:
///
/// | attribute | meaning |
/// |---|---|
/// | `input` | the machine accepts it in some state; the default when `output` is not given |
/// | `output` | the gobj publishes it to subscribers with `cx.broadcast`; alone, the machine never accepts it |
/// | `top` | it faces the gobj's parent or user (documentation and diagrams only) |
/// | `bottom` | it faces the gobj's children or IO (documentation and diagrams only) |
///
/// `input output` declares an event the gobj both accepts and publishes.
///
/// An event may declare the keys of its payload, `{ key: Type, ... }`,
/// each type implementing `FromValue`. Every payload of that event is
/// checked against them before the state changes or the action runs,
/// whatever path the event took; an `Option` key may be missing. The
/// action then reads the keys with `ev.get::<Type>("key")`. A payload may
/// hold keys that are not declared, and an event without declared keys is
/// not checked.
///
/// ```
/// use gaplic::prelude::*;
///
/// gobj! {
///     /// A timer that reports when it fires.
///     struct Timer { seconds: i64 }
///     events {
///         /// Arms the timer.
///         EV_SET_TIMER: input top { seconds: i64, label: Option<String> },
///         /// The clock says time is up.
///         EV_EXPIRED: bottom,
///         /// Published when the timer fires.
///         EV_TIMEOUT: output top,
///         /// Accepted and published again.
///         EV_TICK: input output,
///     }
///     states { ST_IDLE, ST_ARMED }
///     machine {
///         ST_IDLE { EV_SET_TIMER => set -> ST_ARMED, EV_TICK }
///         ST_ARMED { EV_EXPIRED -> ST_IDLE, EV_TICK }
///     }
/// }
///
/// impl Timer {
///     fn set(&mut self, _cx: &mut Cx<Self>, ev: &Event) -> Ret {
///         self.seconds = ev.get::<i64>("seconds")?;
///         Ok(Value::Null)
///     }
/// }
///
/// let mut timer = Machine::<Timer>::new("t", &Kw::new())?;
/// let refused = timer.inject(TimerEvent::EV_SET_TIMER, kw! { "seconds" => "ten" });
/// assert!(matches!(refused.unwrap_err().kind(), ErrorKind::BadPayload { .. }));
/// assert_eq!(timer.state(), TimerState::ST_IDLE);
/// timer.inject(TimerEvent::EV_SET_TIMER, kw! { "seconds" => 10 })?;
/// assert_eq!((timer.gobj().seconds, timer.state()), (10, TimerState::ST_ARMED));
///
/// let outputs: Vec<&str> = Timer::META.output_events().collect();
/// assert_eq!(outputs, ["EV_TIMEOUT", "EV_TICK"]);
/// # Ok::<(), GobjError>(())
/// ```
///
/// # `states`
///
/// The states, at least one; the first is the initial state.
///
/// ```
/// use gaplic::prelude::*;
///
/// gobj! {
///     /// A switch.
///     struct Switch {}
///     events { EV_FLIP }
///     states {
///         /// The initial state.
///         ST_OFF,
///         ST_ON,
///     }
///     machine {
///         ST_OFF { EV_FLIP -> ST_ON }
///         ST_ON { EV_FLIP -> ST_OFF }
///     }
/// }
///
/// assert_eq!(Machine::<Switch>::new("s", &Kw::new())?.state(), SwitchState::ST_OFF);
/// # Ok::<(), GobjError>(())
/// ```
///
/// # `machine`
///
/// For every declared state, an entry `ST_NAME { rows }` that lists the
/// input events the state accepts; `ST_NAME {}` accepts none. An event
/// that the current state has no row for is refused with a not-accepted
/// `GobjError` (and a `WARN` trace line); the state does not change.
///
/// Where a row has a next state, the gobj is in it when the action runs
/// (GinsFSM's rule); the action may move elsewhere with
/// `cx.set_state`. The action's result, or `Value::Null` for a row
/// without one, goes back to the sender.
///
/// `EV => action -> ST_NEXT` runs the action in state `ST_NEXT`:
///
/// ```
/// use gaplic::prelude::*;
///
/// gobj! {
///     /// Connects once.
///     struct Link { attempts: u32 }
///     events { EV_CONNECT }
///     states { ST_DOWN, ST_UP }
///     machine {
///         ST_DOWN { EV_CONNECT => connect -> ST_UP }
///         ST_UP {}
///     }
/// }
///
/// impl Link {
///     fn connect(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
///         assert_eq!(cx.state(), LinkState::ST_UP); // already moved
///         self.attempts += 1;
///         Ok(Value::from(self.attempts))
///     }
/// }
///
/// let mut link = Machine::<Link>::new("l", &Kw::new())?;
/// assert_eq!(link.inject(LinkEvent::EV_CONNECT, Kw::new())?, Value::from(1));
/// assert_eq!(link.state(), LinkState::ST_UP);
/// assert!(link.inject(LinkEvent::EV_CONNECT, Kw::new()).unwrap_err().is_not_accepted());
/// # Ok::<(), GobjError>(())
/// ```
///
/// `EV => action` runs the action and keeps the state:
///
/// ```
/// use gaplic::prelude::*;
///
/// gobj! {
///     /// Echoes.
///     struct Echo {}
///     events { EV_SAY { text: String } }
///     states { ST_LISTENING }
///     machine { ST_LISTENING { EV_SAY => say } }
/// }
///
/// impl Echo {
///     fn say(&mut self, _cx: &mut Cx<Self>, ev: &Event) -> Ret {
///         Ok(Value::from(ev.get::<String>("text")?))
///     }
/// }
///
/// let mut echo = Machine::<Echo>::new("e", &Kw::new())?;
/// let said = echo.inject(EchoEvent::EV_SAY, kw! { "text" => "hi" })?;
/// assert_eq!((said, echo.state()), (Value::from("hi"), EchoState::ST_LISTENING));
/// # Ok::<(), GobjError>(())
/// ```
///
/// `EV -> ST_NEXT` only moves:
///
/// ```
/// use gaplic::prelude::*;
///
/// gobj! {
///     /// A latch.
///     struct Latch {}
///     events { EV_SET, EV_RESET }
///     states { ST_CLEAR, ST_SET }
///     machine {
///         ST_CLEAR { EV_SET -> ST_SET }
///         ST_SET { EV_RESET -> ST_CLEAR }
///     }
/// }
///
/// let mut latch = Machine::<Latch>::new("l", &Kw::new())?;
/// assert_eq!(latch.inject(LatchEvent::EV_SET, Kw::new())?, Value::Null);
/// assert_eq!(latch.state(), LatchState::ST_SET);
/// # Ok::<(), GobjError>(())
/// ```
///
/// `EV` alone accepts the event and ignores it: no action, no move, and
/// `Value::Null` to the sender instead of a not-accepted error:
///
/// ```
/// use gaplic::prelude::*;
///
/// gobj! {
///     /// Busy: pings are fine, work is refused for now.
///     struct Worker {}
///     events { EV_PING, EV_WORK }
///     states { ST_BUSY, ST_FREE }
///     machine {
///         ST_BUSY { EV_PING }
///         ST_FREE { EV_PING, EV_WORK }
///     }
/// }
///
/// let mut worker = Machine::<Worker>::new("w", &Kw::new())?;
/// assert_eq!(worker.inject(WorkerEvent::EV_PING, Kw::new())?, Value::Null);
/// assert_eq!(worker.state(), WorkerState::ST_BUSY);
/// assert!(worker.inject(WorkerEvent::EV_WORK, Kw::new()).unwrap_err().is_not_accepted());
/// # Ok::<(), GobjError>(())
/// ```
///
/// # `hooks`
///
/// Optional lifecycle methods, each listed by name and written in an
/// `impl` block of the struct:
///
/// | hook | signature | runs |
/// |---|---|---|
/// | `start_up` | `fn start_up(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError>` | once after creation, before any event; an `Err` aborts the creation |
/// | `go_out` | `fn go_out(&mut self, cx: &mut Cx<Self>)` | once when the gobj is destroyed, after its children |
///
/// ```
/// use gaplic::prelude::*;
///
/// gobj! {
///     /// Opens a session at start-up.
///     struct Session {
///         #[attr]
///         user: String,
///         log: Vec<String>,
///     }
///     events { EV_QUIT }
///     states { ST_OPEN }
///     machine { ST_OPEN { EV_QUIT } }
///     hooks { start_up, go_out }
/// }
///
/// impl Session {
///     fn start_up(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
///         if self.user.is_empty() {
///             return Err(GobjError::failed("no user"));
///         }
///         self.log.push(format!("{} opened", cx.name()));
///         Ok(())
///     }
///
///     fn go_out(&mut self, cx: &mut Cx<Self>) {
///         self.log.push(format!("{} closed", cx.name()));
///     }
/// }
///
/// assert!(Machine::<Session>::new("s", &Kw::new()).is_err());
/// let session = Machine::<Session>::new("s", &kw! { "user" => "ann" })?;
/// assert_eq!(session.destroy().log, ["s opened", "s closed"]);
/// # Ok::<(), GobjError>(())
/// ```
///
/// # Actions
///
/// An action is a method of the struct, in any `impl` block, with the
/// signature
///
/// ```text
/// fn action(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret
/// ```
///
/// where `Ret` is `Result<Value, GobjError>`. `cx` gives the state
/// (`cx.state()`, `cx.set_state`), the gobj's name and, in a gaplic,
/// everything that reaches other gobjs: `send`, `post`, `broadcast`,
/// `subscribe`, children, timers. `ev` is the event: its name, its
/// payload (`ev.get::<T>("key")`), its source. Several rows may share an
/// action. A missing method, or one with another signature, is a compile
/// error at the action's name in the machine.
///
/// # `#[gobj(crate = "path")]`
///
/// The generated code reaches the runtime through `::gaplic::__private`,
/// so a crate that declares gclasses needs only `gaplic` in its
/// `Cargo.toml`. When `gaplic` is reachable under another path, for
/// instance re-exported by a framework crate whose users do not depend on
/// `gaplic` themselves, name that path:
///
/// ```
/// mod engine {
///     pub use gaplic::*;
/// }
///
/// use engine::prelude::*;
///
/// gobj! {
///     /// Declared through a re-export of `gaplic`.
///     #[gobj(crate = "crate::engine")]
///     struct Relay {}
///     events { EV_DATA }
///     states { ST_ON }
///     machine { ST_ON { EV_DATA } }
/// }
///
/// fn main() {
///     assert_eq!(Relay::META.name(), "Relay");
/// }
/// ```
///
/// # What it generates
///
/// For `struct Name`, with the struct's visibility:
///
/// - the struct itself, without the `#[attr]` markers. Its rustdoc is the
///   doc comment followed by tables of the events, states, machine and
///   attrs;
/// - `enum NameEvent` and `enum NameState`, with one variant per event or
///   state, named and documented as declared, in declaration order. They
///   are `Copy`, `Eq`, `Hash` and `Debug`, and implement `Symbol`
///   (`name`, `index`, `from_name`, `ALL`); a `NameEvent` converts into an
///   `EventKey`, so it addresses a gobj of this gclass in a gaplic;
/// - `impl Gclass for Name`: the two enums, `INITIAL_STATE` (the first
///   state), `HOOKS`, `create` (attrs from their defaults and the creation
///   keywords, checked against their rules, other fields from `Default`),
///   `dispatch` (a `match` on the state, then on the event: no string
///   compare, no hashing), `attr`, `set_attr` and `reset_attr` (the attrs
///   by name, a `match` on their names), `is_input` and `checks_payload`
///   (`match`es that keep the tables off the dispatch path) and `META`,
///   every table as `const` data (`GclassMeta`), with types, attr
///   defaults and rules as written.
///
/// `cargo expand` shows the expansion as code you could have written.
///
/// ```
/// use gaplic::prelude::*;
///
/// gobj! {
///     /// A fuse.
///     pub struct Fuse {
///         /// Amperes.
///         #[attr(default = -1.0)]
///         limit: f64,
///     }
///     events { EV_SURGE }
///     states { ST_OK, ST_BLOWN }
///     machine {
///         ST_OK { EV_SURGE -> ST_BLOWN }
///         ST_BLOWN {}
///     }
/// }
///
/// assert_eq!(FuseEvent::from_name("EV_SURGE"), Some(FuseEvent::EV_SURGE));
/// assert_eq!(FuseState::ST_BLOWN.name(), "ST_BLOWN");
/// assert_eq!(FuseState::ALL, [FuseState::ST_OK, FuseState::ST_BLOWN]);
/// assert_eq!(Fuse::INITIAL_STATE, FuseState::ST_OK);
///
/// let meta = Fuse::META;
/// assert_eq!(meta.doc(), "A fuse.");
/// assert_eq!(meta.row("ST_OK", "EV_SURGE").unwrap().next(), Some("ST_BLOWN"));
/// let limit = meta.attr("limit").unwrap();
/// assert_eq!((limit.ty(), limit.default(), limit.doc()), ("f64", "-1.0", "Amperes."));
/// ```
///
/// # What it checks
///
/// Every rule below is a compile error at the token at fault, and one
/// build reports all of them:
///
/// - the `events`, `states` and `machine` sections are present; no section
///   is given twice, and there is no other section;
/// - the struct is not generic; `#[attr]` is on named fields only, once
///   per field, with the options `default`, `range`, `one_of` and
///   `validate`, each given once; rules of the attr's type (checked by
///   rustc at the rule); a literal
///   default of an integer, float, `bool` or `String` attr is a literal
///   of that kind, and every default is type-checked by rustc at the
///   default; `#[gobj]` takes only `crate`;
/// - names are identifiers, not Rust keywords; only doc comments precede
///   an event or a state;
/// - events are declared once each, with known attributes, each once, not
///   both `top` and `bottom`, and distinct payload keys;
/// - there is at least one state, and states are declared once each;
/// - every machine entry names a declared state, once, and every state
///   has an entry;
/// - every row names a declared event that is input (an `output`-only
///   event cannot be accepted), at most one row per event in a state, and
///   a declared next state;
/// - every input event is accepted by at least one state;
/// - hooks are `start_up` or `go_out`, each once;
/// - every action and hook is a method with its signature, and attr and
///   payload types implement `FromValue` (checked by rustc, reported at
///   the action, hook or type).
///
/// ```compile_fail
/// use gaplic::prelude::*;
///
/// gobj! {
///     /// `EV_WORK` is accepted by no state.
///     struct Worker {}
///     events { EV_PING, EV_WORK }
///     states { ST_BUSY }
///     machine { ST_BUSY { EV_PING } }
/// }
/// ```
#[proc_macro]
pub fn gobj(input: TokenStream) -> TokenStream {
    pipeline::gobj(input.into()).into()
}
