//! `Pinger` and `Ponger`: ping-pong between two gaplics by name. Shared by
//! the `pingpong` and `app` examples.

use std::time::Instant;

use gaplic::GaplicHandle;
use gaplic::prelude::*;

gobj! {
    /// Sends pings to a ponger in another gaplic and counts the pongs;
    /// after the last round trip it prints the rate and stops both gaplics.
    pub struct Pinger {
        /// Round trips to play.
        #[attr(default = 200_000)]
        rounds: u32,
        /// The gaplic of the ponger.
        #[attr(default = "right")]
        peer_gaplic: String,
        /// The unique name of the ponger there.
        #[attr(default = "ponger")]
        peer_gobj: String,
        /// Start playing at once, without waiting for `EV_START`.
        #[attr(default = false)]
        autostart: bool,
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
    hooks { start_up }
}

impl Pinger {
    fn start_up(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        if self.autostart {
            let me = cx
                .id()
                .ok_or_else(|| GobjError::failed("a pinger needs a gaplic"))?;
            cx.post(me, PingerEvent::EV_START, Kw::new())?;
        }
        Ok(())
    }

    fn start(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.started = Some(Instant::now());
        let (gaplic, gobj) = (self.peer_gaplic.clone(), self.peer_gobj.clone());
        cx.post_to_gaplic(&gaplic, &gobj, "EV_PING", kw! { "n" => 0 })?;
        Ok(Value::Null)
    }

    fn pong(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.played = ev.get::<u32>("n")? + 1;
        let (gaplic, gobj) = (self.peer_gaplic.clone(), self.peer_gobj.clone());
        if self.played < self.rounds {
            cx.post_to_gaplic(&gaplic, &gobj, "EV_PING", kw! { "n" => self.played })?;
            return Ok(Value::Null);
        }
        let elapsed = self.started.map_or_else(Default::default, |s| s.elapsed());
        println!(
            "{} round trips in {elapsed:.2?}: {:.0} round trips/s, {:.0} ns each",
            self.played,
            f64::from(self.played) / elapsed.as_secs_f64(),
            elapsed.as_nanos() as f64 / f64::from(self.played)
        );
        GaplicHandle::find(&gaplic)?.stop()?;
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
        let n: u32 = ev.get("n")?;
        cx.reply(ev, "EV_PONG", kw! { "n" => n })?;
        Ok(Value::Null)
    }
}
