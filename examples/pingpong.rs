//! Two gaplics on two threads play ping-pong by name, and print the rate.
//!
//! ```text
//! cargo run --release --example pingpong               # 200 000 round trips
//! cargo run --release --example pingpong -- 1000000
//! ```
//!
//! The `pinger` in gaplic `left` posts `EV_PING` to the gobj `ponger` in
//! gaplic `right` by name; the ponger answers `EV_PONG` to wherever the ping
//! came from (`Event::origin`). After the last round trip the pinger stops
//! both gaplics.

#[path = "gclasses/pingpong.rs"]
mod pingpong_gclasses;

use gaplic::prelude::*;
use pingpong_gclasses::{Pinger, Ponger};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rounds: u32 = match std::env::args().nth(1) {
        Some(n) => n.parse().map_err(|_| format!("bad round count `{n}`"))?,
        None => 200_000,
    };
    let right = gaplic::spawn("right", |gaplic| {
        gaplic.create_unique_gobj::<Ponger>("ponger", None, Kw::new())?;
        Ok(())
    })?;
    let left = gaplic::spawn("left", move |gaplic| {
        gaplic.create_unique_gobj::<Pinger>("pinger", None, kw! { "rounds" => rounds })?;
        Ok(())
    })?;
    left.post("pinger", "EV_START", Kw::new())?;
    left.join()?;
    right.join()?;
    Ok(())
}
