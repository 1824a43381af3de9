#![doc = include_str!("../README.md")]
//!
//! # The crate
//!
//! - [`gobj!`] declares a gclass (its page is the reference of the
//!   syntax); [`prelude`] brings what an action needs.
//! - [`Machine`] runs one gobj's machine directly, as unit tests of a
//!   gclass do.
//! - [`Gaplic`] runs the gobjs of a thread: their tree, unique names,
//!   events ([`Gaplic::send`], [`Gaplic::post`], [`Gaplic::broadcast`]),
//!   subscriptions ([`SubscribeOptions`]), timers ([`GTimer`],
//!   [`Gaplic::set_timer`]) and the loop ([`Gaplic::run`]).
//! - [`spawn`] runs a gaplic on its own thread and gives a
//!   [`GaplicHandle`]. A [`Dest`] names a gobj here or in another gaplic
//!   (by the gaplic's name or role): the runtime delivers it here, to a
//!   gaplic of the process, or through the gaplic's [`ROUTER`] (crate
//!   `gaplic-router`) to other processes and hosts; [`Cx::reply`] answers
//!   the way an event came.
//! - [`GSock`], [`GServerSock`] and [`GConnex`] are sockets as gobjs.
//! - [`Event`], [`Kw`] and [`Value`] carry events and their payloads;
//!   [`GobjError`] says what went wrong.
//! - [`Gclass::META`] describes a gclass as data ([`GclassMeta`]).
//! - [`app`] (feature `app`, on by default) runs whole applications from
//!   one file, with a launcher for the application's binary (`serve`,
//!   `stop`, `status`, `check`, `gclasses`, `draw`).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use gaplic_macros::gobj;
pub use gaplic_runtime::{
    Action, AttrMeta, AttrValue, Cx, DEFAULT_BATCH, DEFAULT_MAX_SEND_DEPTH, Dest, ErrorKind, Event,
    EventKey, EventMeta, FromValue, GTimer, GTimerEvent, GTimerState, Gaplic, GaplicBuilder,
    GaplicHandle, Gclass, GclassMeta, GoOut, GobjError, GobjId, Hooks, Kw, KwError, Machine,
    Origin, ParamMeta, ROUTER, ROUTER_SEND, Remote, Ret, RowMeta, Sent, StartUp, StateMeta,
    SubscribeOptions, SubscriptionId, Symbol, TimerId, Value, kw, set_trace_all, spawn, spawn_with,
    trace_all,
};
pub use gaplic_runtime::{
    GConnex, GConnexEvent, GConnexState, GServerSock, GServerSockEvent, GServerSockState, GSock,
    GSockEvent, GSockState,
};
pub use gaplic_runtime::{io, timer};

/// Applications from one file, and their launcher: see the `gaplic-app`
/// crate's documentation, re-exported here.
#[cfg(feature = "app")]
pub use gaplic_app as app;

/// What a module that declares gclasses needs: `use gaplic::prelude::*;`.
pub mod prelude {
    pub use crate::{
        Cx, Dest, ErrorKind, Event, EventKey, FromValue, Gaplic, Gclass, GobjError, GobjId, Kw,
        Machine, Ret, Sent, SubscribeOptions, Symbol, Value, gobj, kw,
    };
}

#[doc(hidden)]
pub use gaplic_runtime::__private;
