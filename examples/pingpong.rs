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

use std::time::Instant;

use gaplic::prelude::*;

gobj! {
    /// Sends pings and counts the pongs.
    pub struct Pinger {
        /// Round trips to play.
        #[attr(default = 200_000)]
        rounds: u32,
        played: u32,
        started: Option<Instant>,
    }
    events {
        /// Start playing.
        EV_START: input top,
        /// The answer to a ping.
        EV_PONG: input bottom { n: u32 },
    }
    states { ST_IDLE, ST_PLAYING }
    machine {
        ST_IDLE { EV_START => start -> ST_PLAYING }
        ST_PLAYING { EV_PONG => pong }
    }
}

impl Pinger {
    fn start(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.started = Some(Instant::now());
        cx.post_to_gaplic("right", "ponger", "EV_PING", kw! { "n" => 0 })?;
        Ok(Value::Null)
    }

    fn pong(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.played = ev.get::<u32>("n")? + 1;
        if self.played < self.rounds {
            cx.post_to_gaplic("right", "ponger", "EV_PING", kw! { "n" => self.played })?;
            return Ok(Value::Null);
        }
        let elapsed = self.started.map_or_else(Default::default, |s| s.elapsed());
        println!(
            "{} round trips in {elapsed:.2?}: {:.0} round trips/s, {:.0} ns each",
            self.played,
            f64::from(self.played) / elapsed.as_secs_f64(),
            elapsed.as_nanos() as f64 / f64::from(self.played)
        );
        gaplic::GaplicHandle::find("right")?.stop()?;
        cx.gaplic()?.stop();
        Ok(Value::Null)
    }
}

gobj! {
    /// Answers each ping with a pong to the ping's origin.
    pub struct Ponger {}
    events { EV_PING: input bottom { n: u32 } }
    states { ST_READY }
    machine { ST_READY { EV_PING => ping } }
}

impl Ponger {
    fn ping(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let origin = ev
            .origin()
            .ok_or_else(|| GobjError::failed("a ping without an origin"))?
            .clone();
        let n: u32 = ev.get("n")?;
        cx.post_to_gaplic(&origin.gaplic, &origin.gobj, "EV_PONG", kw! { "n" => n })?;
        Ok(Value::Null)
    }
}

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
