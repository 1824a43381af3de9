//! Round trip between gobjs of two gaplics on two threads.
//!
//! Gaplic `bench-a` holds gobj `a` (gclass `Pinger`), gaplic `bench-b` gobj
//! `b` (gclass `Ponger`), each on its own thread (`gaplic::spawn`). `a`
//! posts `EV_PING` to (`bench-b`, `b`) with `Cx::post_to_gaplic`; `b`
//! answers `EV_PONG` to the ping's `Event::origin` the same way. After
//! `WARMUP` untimed round trips, `a` times `ROUNDS` of them and hands the
//! result to the main thread over a channel installed with
//! `GaplicHandle::call`.
//!
//! Baseline: two threads bouncing a `u64` over a pair of unbounded
//! `crossbeam_channel` channels (blocking `recv`), the same counts.
//!
//! On a loaded machine a round trip can take a hundred times longer than
//! on an idle one, so every phase is also bounded in time: a warm-up ends
//! after `WARMUP_CAP`, a timed run after `RUN_CAP` (checked every
//! `CHECK_EVERY` round trips, on both sides alike), and no new pair of runs
//! starts after `BUDGET`. The mean is over the round trips a run completed.
//!
//! Both run alternately, up to `RUNS` times each, in this process; the best
//! run of each is reported in ns per round trip, with the ratio gaplic /
//! crossbeam as a `ratio threads ...` line and every run as a `result`
//! line. Both gaplics are stopped and joined at the end.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use gaplic::GaplicHandle;
use gaplic::prelude::*;

/// Timed round trips per run, at most.
const ROUNDS: u64 = 100_000;

/// Untimed round trips before each timed run, at most.
const WARMUP: u64 = 10_000;

/// Runs per side at most; the best one is reported.
const RUNS: usize = 5;

/// A warm-up ends after this long even if it is not through.
const WARMUP_CAP: Duration = Duration::from_millis(500);

/// A timed run ends after this long even if it is not through.
const RUN_CAP: Duration = Duration::from_secs(3);

/// Round trips between two looks at the clock.
const CHECK_EVERY: u64 = 256;

/// No new pair of runs starts after this much time.
const BUDGET: Duration = Duration::from_secs(14);

/// How long the main thread waits for a run before giving up on it.
const RUN_LIMIT: Duration = Duration::from_secs(60);

const GAPLIC_A: &str = "bench-a";
const GAPLIC_B: &str = "bench-b";

/// What a run measured.
#[derive(Clone, Copy, Debug)]
struct Run {
    elapsed: Duration,
    rounds: u64,
}

impl Run {
    fn ns_per_round_trip(self) -> f64 {
        self.elapsed.as_nanos() as f64 / self.rounds.max(1) as f64
    }
}

/// The phases of a run, driven by round trips and the clock, the same for
/// both sides.
#[derive(Debug, Default)]
struct Phases {
    count: u64,
    warm_from: Option<Instant>,
    timed_from: Option<Instant>,
}

impl Phases {
    fn new() -> Self {
        Phases {
            count: 0,
            warm_from: Some(Instant::now()),
            timed_from: None,
        }
    }

    /// One round trip done; `Some` when the run is over.
    fn round_trip_done(&mut self) -> Option<Run> {
        self.count += 1;
        let check = self.count.is_multiple_of(CHECK_EVERY);
        match (self.warm_from, self.timed_from) {
            (Some(warm), _) => {
                if self.count == WARMUP || (check && warm.elapsed() >= WARMUP_CAP) {
                    self.warm_from = None;
                    self.count = 0;
                    self.timed_from = Some(Instant::now());
                }
                None
            }
            (None, Some(timed)) => {
                if self.count == ROUNDS || (check && timed.elapsed() >= RUN_CAP) {
                    return Some(Run {
                        elapsed: timed.elapsed(),
                        rounds: self.count,
                    });
                }
                None
            }
            (None, None) => None,
        }
    }
}

gobj! {
    /// Plays ping with `b` of gaplic `bench-b` for one run when started;
    /// sends the result to `done`.
    struct Pinger {
        phases: Phases,
        pongs: u64,
        done: Option<mpsc::Sender<Run>>,
    }
    events {
        /// Play a run.
        EV_START: input top,
        /// The answer to a ping.
        EV_PONG: input bottom,
    }
    states { ST_IDLE, ST_PLAYING }
    machine {
        ST_IDLE { EV_START => start -> ST_PLAYING }
        ST_PLAYING { EV_PONG => pong }
    }
}

impl Pinger {
    fn ping(cx: &mut Cx<Self>) -> Result<(), GobjError> {
        cx.post_to_gaplic(GAPLIC_B, "b", "EV_PING", Kw::new())
    }

    fn start(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.phases = Phases::new();
        Self::ping(cx)?;
        Ok(Value::Null)
    }

    fn pong(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.pongs += 1;
        let Some(run) = self.phases.round_trip_done() else {
            Self::ping(cx)?;
            return Ok(Value::Null);
        };
        cx.set_state(PingerState::ST_IDLE);
        if let Some(done) = self.done.take() {
            // The main thread may have given up waiting; nothing to do then.
            let _ = done.send(run);
        }
        Ok(Value::Null)
    }
}

gobj! {
    /// Answers each ping to where it came from.
    struct Ponger {
        pings: u64,
    }
    events {
        /// A ping from another gaplic.
        EV_PING: input bottom,
    }
    states { ST_READY }
    machine { ST_READY { EV_PING => ping } }
}

impl Ponger {
    fn ping(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.pings += 1;
        let origin = ev
            .origin()
            .ok_or_else(|| GobjError::failed("a ping without an origin"))?;
        cx.post_to_gaplic(&origin.gaplic, &origin.gobj, "EV_PONG", Kw::new())?;
        Ok(Value::Null)
    }
}

/// One gaplic run.
fn gaplic_run(a: &GaplicHandle) -> Run {
    let (done_tx, done_rx) = mpsc::channel();
    a.call(move |gaplic| {
        let Some(id) = gaplic.find_unique_gobj("a") else {
            return;
        };
        if let Some(pinger) = gaplic.gobj_mut::<Pinger>(id) {
            pinger.done = Some(done_tx);
        }
        if let Err(error) = gaplic.post(id, PingerEvent::EV_START, Kw::new()) {
            eprintln!("cannot start the pinger: {error}");
        }
    })
    .expect("gaplic bench-a runs");
    done_rx
        .recv_timeout(RUN_LIMIT)
        .expect("the gaplic run ends in time")
}

/// One crossbeam run.
fn crossbeam_run() -> Run {
    let (ping_tx, ping_rx) = crossbeam_channel::unbounded::<u64>();
    let (pong_tx, pong_rx) = crossbeam_channel::unbounded::<u64>();
    let echo = std::thread::spawn(move || {
        let mut pings = 0_u64;
        for n in ping_rx {
            pings += 1;
            if pong_tx.send(n).is_err() {
                break;
            }
        }
        pings
    });
    let mut phases = Phases::new();
    let mut sent = 0_u64;
    let run = loop {
        ping_tx.send(sent).expect("the echo thread listens");
        let back = pong_rx.recv().expect("the echo thread answers");
        assert_eq!(back, sent, "the echo thread answers in order");
        sent += 1;
        if let Some(run) = phases.round_trip_done() {
            break run;
        }
    };
    drop(ping_tx);
    let pings = echo.join().expect("the echo thread");
    assert_eq!(pings, sent, "every message echoed");
    run
}

fn main() {
    let b = gaplic::spawn(GAPLIC_B, |gaplic| {
        gaplic.create_unique_gobj::<Ponger>("b", None, Kw::new())?;
        Ok(())
    })
    .expect("gaplic bench-b");
    let a = gaplic::spawn(GAPLIC_A, |gaplic| {
        gaplic.create_unique_gobj::<Pinger>("a", None, Kw::new())?;
        Ok(())
    })
    .expect("gaplic bench-a");

    let start = Instant::now();
    let mut gaplic_runs = Vec::new();
    let mut crossbeam_runs = Vec::new();
    while gaplic_runs.len() < RUNS && (gaplic_runs.is_empty() || start.elapsed() < BUDGET) {
        gaplic_runs.push(gaplic_run(&a));
        crossbeam_runs.push(crossbeam_run());
    }

    // What `a` and `b` counted: every ping answered, every pong received.
    let (count_tx, count_rx) = mpsc::channel();
    let count_tx_a = count_tx.clone();
    b.call(move |gaplic| {
        let pings = gaplic
            .find_unique_gobj("b")
            .and_then(|id| gaplic.gobj::<Ponger>(id))
            .map_or(0, |ponger| ponger.pings);
        let _ = count_tx.send(pings);
    })
    .expect("gaplic bench-b runs");
    a.call(move |gaplic| {
        let pongs = gaplic
            .find_unique_gobj("a")
            .and_then(|id| gaplic.gobj::<Pinger>(id))
            .map_or(0, |pinger| pinger.pongs);
        let _ = count_tx_a.send(pongs);
    })
    .expect("gaplic bench-a runs");
    let pings = count_rx.recv_timeout(RUN_LIMIT).expect("bench-b answers");
    let pongs = count_rx.recv_timeout(RUN_LIMIT).expect("bench-a answers");
    assert!(pings > 0 && pings == pongs, "every ping answered");

    a.stop().expect("stop bench-a");
    b.stop().expect("stop bench-b");
    a.join().expect("bench-a ends cleanly");
    b.join().expect("bench-b ends cleanly");

    let best = |runs: &[Run]| {
        runs.iter()
            .copied()
            .min_by(|x, y| x.ns_per_round_trip().total_cmp(&y.ns_per_round_trip()))
            .expect("at least one run")
    };
    let (gaplic_best, crossbeam_best) = (best(&gaplic_runs), best(&crossbeam_runs));
    let (gaplic_ns, crossbeam_ns) = (
        gaplic_best.ns_per_round_trip(),
        crossbeam_best.ns_per_round_trip(),
    );
    println!(
        "ratio threads gaplic/crossbeam = {:.2} (gaplic {gaplic_ns:.0} ns/round trip over {} \
         round trips, crossbeam {crossbeam_ns:.0} ns/round trip over {}; best of {}; target \
         <= 1.5)",
        gaplic_ns / crossbeam_ns,
        gaplic_best.rounds,
        crossbeam_best.rounds,
        gaplic_runs.len()
    );
    let list = |runs: &[Run]| {
        runs.iter()
            .map(|run| format!("{:.0}/{}", run.ns_per_round_trip(), run.rounds))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!(
        "result threads ns per round trip/round trips, per run: gaplic [{}], crossbeam [{}] \
         ({:.1} s in all)",
        list(&gaplic_runs),
        list(&crossbeam_runs),
        start.elapsed().as_secs_f64()
    );
}
