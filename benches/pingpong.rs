//! Posted ping-pong between two gobjs of one gaplic, through the real loop.
//!
//! Gobj `a` (gclass `Pinger`) posts `EV_PING` to gobj `b` (gclass
//! `Ponger`), which posts `EV_PONG` back to the ping's source; after
//! `EVENTS / 2` round trips the loop returns. The loop is
//! [`Gaplic::run_until`] on a real clock, so every turn pays what a turn
//! pays in production (clock read, inbox check, zero-timeout poll).
//!
//! Two ways of naming the events are measured:
//! - typed: `PongerEvent::EV_PING.into()` / `PingerEvent::EV_PONG.into()`,
//!   as a user writes on a hot path (no string compare at the receiver);
//! - by name: `"EV_PING"` / `"EV_PONG"`, as events come from config or
//!   another process (the receiver converts the name with a generated
//!   `match`).
//!
//! Baseline: a tokio current-thread runtime with two tasks bouncing a
//! counter over two `tokio::sync::mpsc` unbounded channels, the same number
//! of events (a send plus a receive per event).
//!
//! The three workloads run alternately, `RUNS` times each, in this process;
//! the best run of each is reported as events per second, with the ratios
//! gaplic/tokio printed as `ratio pingpong ...` lines.

use std::time::{Duration, Instant};

use gaplic::prelude::*;

/// Events per run: pings plus pongs.
const EVENTS: u64 = 1_000_000;

/// Runs per workload; the best one is reported.
const RUNS: usize = 7;

gobj! {
    /// Plays ping: posts `EV_PING` to its peer, counts the pongs, until
    /// `rounds` of them.
    struct Pinger {
        /// Round trips to play.
        #[attr(default = 0)]
        rounds: u64,
        /// Name the events instead of using the generated enums.
        #[attr(default = false)]
        by_name: bool,
        peer: Option<GobjId>,
        pongs: u64,
    }
    events {
        /// Serve the first ping.
        EV_START: input top,
        /// The peer's answer.
        EV_PONG: input bottom,
    }
    states { ST_IDLE, ST_PLAYING }
    machine {
        ST_IDLE { EV_START => start -> ST_PLAYING }
        ST_PLAYING { EV_PONG => pong }
    }
}

impl Pinger {
    fn ping(&self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        let peer = self
            .peer
            .ok_or_else(|| GobjError::failed("the pinger has no peer"))?;
        if self.by_name {
            cx.post(peer, "EV_PING", Kw::new())
        } else {
            cx.post(peer, PongerEvent::EV_PING, Kw::new())
        }
    }

    fn start(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.ping(cx)?;
        Ok(Value::Null)
    }

    fn pong(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.pongs += 1;
        if self.pongs < self.rounds {
            self.ping(cx)?;
        }
        Ok(Value::Null)
    }
}

gobj! {
    /// Plays pong: answers each ping to its source.
    struct Ponger {
        /// Name the events instead of using the generated enums.
        #[attr(default = false)]
        by_name: bool,
        pings: u64,
    }
    events {
        /// A ping to answer.
        EV_PING: input bottom,
    }
    states { ST_READY }
    machine { ST_READY { EV_PING => ping } }
}

impl Ponger {
    fn ping(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.pings += 1;
        let source = ev
            .source()
            .ok_or_else(|| GobjError::failed("a ping without a source"))?;
        if self.by_name {
            cx.post(source, "EV_PONG", Kw::new())?;
        } else {
            cx.post(source, PingerEvent::EV_PONG, Kw::new())?;
        }
        Ok(Value::Null)
    }
}

/// One gaplic run of `EVENTS` events; returns the time `Gaplic::run` took.
fn gaplic_run(by_name: bool) -> Duration {
    let rounds = EVENTS / 2;
    let mut gaplic = Gaplic::new("pingpong").expect("a gaplic");
    let b = gaplic
        .create_gobj::<Ponger>("b", None, kw! { "by_name" => by_name })
        .expect("gobj b");
    let a = gaplic
        .create_gobj::<Pinger>("a", None, kw! { "rounds" => rounds, "by_name" => by_name })
        .expect("gobj a");
    gaplic.gobj_mut::<Pinger>(a).expect("gobj a").peer = Some(b);
    gaplic
        .post(a, PingerEvent::EV_START, Kw::new())
        .expect("start");
    let start = Instant::now();
    let played = |g: &mut Gaplic| g.gobj::<Pinger>(a).is_some_and(|p| p.pongs == rounds);
    assert!(gaplic.run_until(played).expect("the loop"));
    let elapsed = start.elapsed();
    let pongs = gaplic.gobj::<Pinger>(a).expect("gobj a").pongs;
    let pings = gaplic.gobj::<Ponger>(b).expect("gobj b").pings;
    assert_eq!((pings, pongs), (rounds, rounds), "every event delivered");
    assert_eq!(gaplic.queued(), 0, "nothing left in the queue");
    elapsed
}

/// One tokio run of `EVENTS` events; returns the time `block_on` took.
fn tokio_run() -> Duration {
    let rounds = EVENTS / 2;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime");
    let start = Instant::now();
    let (pings, pongs) = runtime.block_on(async move {
        let (ping_tx, mut ping_rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
        let (pong_tx, mut pong_rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
        let ponger = tokio::spawn(async move {
            let mut pings = 0_u64;
            while let Some(n) = ping_rx.recv().await {
                pings += 1;
                if pong_tx.send(n).is_err() {
                    break;
                }
            }
            pings
        });
        let pinger = tokio::spawn(async move {
            let mut pongs = 0_u64;
            ping_tx.send(0).expect("the ponger listens");
            while let Some(n) = pong_rx.recv().await {
                pongs += 1;
                if pongs == rounds {
                    break;
                }
                ping_tx.send(n + 1).expect("the ponger listens");
            }
            pongs
        });
        let pongs = pinger.await.expect("the pinger");
        let pings = ponger.await.expect("the ponger");
        (pings, pongs)
    });
    let elapsed = start.elapsed();
    assert_eq!((pings, pongs), (rounds, rounds), "every message delivered");
    elapsed
}

fn rate(best: Duration) -> f64 {
    EVENTS as f64 / best.as_secs_f64()
}

fn main() {
    // One warm-up run of each, untimed.
    gaplic_run(false);
    gaplic_run(true);
    tokio_run();

    let mut typed = Duration::MAX;
    let mut by_name = Duration::MAX;
    let mut tokio = Duration::MAX;
    for _ in 0..RUNS {
        typed = typed.min(gaplic_run(false));
        tokio = tokio.min(tokio_run());
        by_name = by_name.min(gaplic_run(true));
    }

    let (typed, by_name, tokio) = (rate(typed), rate(by_name), rate(tokio));
    println!(
        "ratio pingpong gaplic/tokio = {:.2} (gaplic {:.1} M events/s, tokio {:.1} M events/s; \
         typed events, {EVENTS} events, best of {RUNS}; target >= 3)",
        typed / tokio,
        typed / 1e6,
        tokio / 1e6
    );
    println!(
        "ratio pingpong_by_name gaplic/tokio = {:.2} (gaplic {:.1} M events/s, tokio {:.1} M \
         events/s; events by name, {EVENTS} events, best of {RUNS})",
        by_name / tokio,
        by_name / 1e6,
        tokio / 1e6
    );
    println!(
        "result pingpong ns/event: gaplic typed {:.1}, gaplic by name {:.1}, tokio {:.1}",
        1e9 / typed,
        1e9 / by_name,
        1e9 / tokio
    );
}
