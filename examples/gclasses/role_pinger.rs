//! `RolePinger`: ping-pong with a gobj of another gaplic found by role,
//! wherever that gaplic runs (here, a subprocess). Used by the `app`
//! example's `examples/apps/two_process.toml`, with the `Ponger` of
//! `pingpong.rs` on the other side.

use std::time::{Duration, Instant};

use gaplic::prelude::*;
use gaplic::{Dest, ROUTER};

gobj! {
    /// Waits for its router to open a route to a gaplic with role
    /// `peer_role`, then sends `EV_PING` to the unique gobj `peer_gobj` of
    /// that role, `rounds` times, each after the answer to the one before;
    /// then prints the result and stops its gaplic. Gives up after
    /// `timeout` seconds, saying so.
    pub struct RolePinger {
        /// Round trips to play.
        #[attr(default = 1000, range = 1..=100_000_000)]
        rounds: u32,
        /// The role of the ponger's gaplic.
        #[attr(default = "worker")]
        peer_role: String,
        /// The unique name of the ponger there.
        #[attr(default = "ponger")]
        peer_gobj: String,
        /// Seconds for the whole game, the wait for the peer included.
        #[attr(default = 30.0, range = 0.001..=3600.0)]
        timeout: f64,
        played: u32,
        started: Option<Instant>,
    }
    events {
        /// A route of the router opened: `gaplic`, `roles`.
        EV_ROUTE_OPENED: input bottom,
        /// The answer to a ping.
        EV_PONG: input bottom { n: u32 },
        /// The game took too long.
        EV_GIVE_UP: input bottom,
    }
    states {
        /// No peer yet.
        ST_WAITING,
        /// Pings are on their way.
        ST_PLAYING,
    }
    machine {
        ST_WAITING {
            EV_ROUTE_OPENED => route_opened,
            EV_GIVE_UP => give_up,
        }
        ST_PLAYING {
            EV_PONG => pong,
            EV_ROUTE_OPENED,
            EV_GIVE_UP => give_up,
        }
    }
    hooks { start_up }
}

impl RolePinger {
    fn start_up(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        let router = cx
            .gaplic()?
            .find_unique_gobj(ROUTER)
            .ok_or_else(|| GobjError::failed("a role pinger needs its gaplic's router"))?;
        cx.subscribe(router, Some("EV_ROUTE_OPENED"), SubscribeOptions::new())?;
        let timeout = Duration::from_secs_f64(self.timeout);
        cx.set_timer(timeout, RolePingerEvent::EV_GIVE_UP, Kw::new())?;
        Ok(())
    }

    fn ping(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        let dest = Dest::in_role(self.peer_role.clone(), self.peer_gobj.clone());
        cx.post(dest, "EV_PING", kw! { "n" => self.played })
    }

    fn route_opened(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let roles: Vec<String> = ev.get::<Option<Vec<String>>>("roles")?.unwrap_or_default();
        if !roles.contains(&self.peer_role) {
            return Ok(Value::Null);
        }
        self.started = Some(Instant::now());
        self.ping(cx)?;
        cx.set_state(RolePingerState::ST_PLAYING);
        Ok(Value::Null)
    }

    fn pong(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.played = ev.get::<u32>("n")? + 1;
        if self.played < self.rounds {
            self.ping(cx)?;
            return Ok(Value::Null);
        }
        let elapsed = self.started.map_or_else(Duration::default, |s| s.elapsed());
        let gaplic = ev
            .origin()
            .map_or_else(|| "?".to_owned(), |origin| origin.gaplic.to_string());
        println!(
            "{} round trips with `{}` of role `{}` (gaplic `{gaplic}`) in {elapsed:.2?}: {:.0} round trips/s",
            self.played,
            self.peer_gobj,
            self.peer_role,
            f64::from(self.played) / elapsed.as_secs_f64()
        );
        cx.gaplic()?.stop();
        Ok(Value::Null)
    }

    fn give_up(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        eprintln!(
            "no game with `{}` of role `{}` within {} s: {} of {} round trips played",
            self.peer_gobj, self.peer_role, self.timeout, self.played, self.rounds
        );
        cx.gaplic()?.stop();
        Ok(Value::Null)
    }
}
