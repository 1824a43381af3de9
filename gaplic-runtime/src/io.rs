//! The IO types of [`Gaplic::register_io`](crate::Gaplic::register_io):
//! what a gclass of its own that owns a socket or another file descriptor
//! needs from the poll the gaplic runs on.
//!
//! They are `mio`'s, re-exported so that a gclass needs no dependency of
//! its own on it.

pub use mio::event::Source;
pub use mio::{Interest, Token};
