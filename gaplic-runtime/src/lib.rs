//! The runtime of gaplic.
//!
//! Users depend on the `gaplic` crate, which re-exports this one together
//! with the `gobj!` macro; see its documentation for the guide.
//!
//! This crate holds the machine core: the [`Gclass`] trait that `gobj!`
//! implements, the [`Machine`] that runs one gobj, events ([`Event`]) with
//! their keyword payloads ([`Kw`], [`Value`]), the static metadata of a
//! gclass ([`GclassMeta`]) and the errors ([`GobjError`]).
#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations)]

mod error;
mod event;
mod id;
mod kw;
mod machine;
mod meta;
#[doc(hidden)]
pub mod support;
mod value;

pub use error::{GobjError, Ret};
pub use event::Event;
pub use id::GobjId;
pub use kw::{Kw, KwError};
pub use machine::{
    Action, Cx, Gclass, GoOut, Hooks, Machine, StartUp, Symbol, set_trace_all, trace_all,
};
pub use meta::{AttrMeta, EventMeta, GclassMeta, ParamMeta, RowMeta, StateMeta};
pub use value::{FromValue, Value};
