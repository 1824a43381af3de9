//! gaplic-router
#![forbid(unsafe_code)]
pub mod wire;
pub mod ws;
