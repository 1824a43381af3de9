//! A gaplic that dials another over the network and plays ping-pong with
//! it by role: its router dials the URL given, and its gobj `dialer` sends
//! `EV_PING` to the gobj `echo` of whichever gaplic has the role asked
//! for, one ping at a time, and times the round trips.
//!
//! ```text
//! cargo run -p gaplic-router --example net_listener -- --listen 0.0.0.0:7070
//! cargo run -p gaplic-router --example net_dialer -- --connect ws://10.0.0.1:7070 --count 1000
//! ```
//!
//! Once the route is open, it prints each answer (unless `--quiet`), then
//! `N round trips by role ROLE in S s: R round trips/s, U us each`, and
//! exits 0; with no answer in time, or a ping refused, it says why and
//! exits 1. Run `net_dialer --help` for the options.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use gaplic::prelude::*;
use gaplic::{Dest, TimerId};
use gaplic_router::{GRouter, ROUTER};

const USAGE: &str = "\
usage: net_dialer --connect URL [--role ROLE] [--count N] [--name NAME]
                  [--secret TEXT] [--timeout SECONDS] [--quiet]

Dials a gaplic (see the net_listener example) and sends N pings, one at a
time, to the gobj `echo` of the gaplic with role ROLE; prints the answers
and the round-trip rate.

  --connect URL       the listener's router, ws://HOST:PORT
  --role ROLE         the role to send to (default `echo`)
  --count N           round trips, 1 or more (default 10)
  --name NAME         this gaplic's name (default `dialer`)
  --secret TEXT       the secret the listener was given
  --timeout SECONDS   give up when the route or an answer takes longer
                      (default 30)
  --quiet             print only the summary
  --help              print this and exit";

/// What the command line asks for.
#[derive(Debug)]
struct Options {
    connect: String,
    role: String,
    count: u64,
    name: String,
    secret: String,
    timeout: f64,
    quiet: bool,
}

/// What the command line can come to.
enum Parsed {
    Run(Options),
    Help,
}

fn parse(args: impl IntoIterator<Item = String>) -> Result<Parsed, String> {
    let mut connect = None;
    let mut options = Options {
        connect: String::new(),
        role: "echo".to_owned(),
        count: 10,
        name: "dialer".to_owned(),
        secret: String::new(),
        timeout: 30.0,
        quiet: false,
    };
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("`{flag}` needs a value"));
        match flag.as_str() {
            "--help" | "-h" => return Ok(Parsed::Help),
            "--connect" => {
                let url = value()?;
                gaplic_router::route::socket_address(&url)
                    .map_err(|e| format!("--connect: {e} (expected ws://HOST:PORT)"))?;
                connect = Some(url);
            }
            "--role" => options.role = nonempty(&flag, value()?)?,
            "--name" => options.name = nonempty(&flag, value()?)?,
            "--secret" => options.secret = value()?,
            "--quiet" => options.quiet = true,
            "--count" => {
                let text = value()?;
                options.count = text.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                    format!("--count `{text}`: expected a whole number, 1 or more")
                })?;
            }
            "--timeout" => {
                let text = value()?;
                options.timeout = text
                    .parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s >= 0.001 && *s <= 86_400.0)
                    .ok_or_else(|| {
                        format!("--timeout `{text}`: expected seconds, from 0.001 to 86400")
                    })?;
            }
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    options.connect = connect.ok_or("--connect URL is required")?;
    Ok(Parsed::Run(options))
}

fn nonempty(flag: &str, value: String) -> Result<String, String> {
    if value.trim().is_empty() {
        return Err(format!("`{flag}` needs a value that is not empty"));
    }
    Ok(value)
}

/// How a run of pings ended.
#[derive(Debug)]
enum Outcome {
    /// Every ping was answered, in this long.
    Done(Duration),
    /// Why it stopped before.
    Failed(String),
}

gobj! {
    /// Sends `count` pings to the gobj `echo` of the gaplic with role
    /// `role`, each after the answer to the one before, and times them.
    pub struct Dialer {
        /// The role of the gaplic to ping.
        #[attr(default = "echo")]
        role: String,
        /// Round trips to make.
        #[attr(default = 10, range = 1..=u64::MAX)]
        count: u64,
        /// Seconds to wait for the route, then for each answer.
        #[attr(default = 30.0, range = 0.001..=86_400.0)]
        timeout: f64,
        /// Print only the summary.
        #[attr(default = false)]
        quiet: bool,
        sent: u64,
        started: Option<Instant>,
        timer: Option<TimerId>,
        outcome: Option<Outcome>,
    }
    events {
        /// Dial, and start pinging once the route opens.
        EV_START: input top,
        /// The answer to a ping.
        EV_PONG: input bottom { seq: u64 },
        /// No route or no answer in time (a timer of its own).
        EV_TIMEOUT: input bottom,
        /// From the router: a route opened.
        EV_ROUTE_OPENED: input bottom,
        /// From the router: a ping could not be delivered.
        EV_SEND_FAILED: input bottom,
    }
    states { ST_IDLE, ST_DIALING, ST_PINGING, ST_DONE }
    machine {
        ST_IDLE {
            EV_START => dial -> ST_DIALING,
        }
        ST_DIALING {
            EV_ROUTE_OPENED => start -> ST_PINGING,
            EV_TIMEOUT => no_route -> ST_DONE,
        }
        ST_PINGING {
            EV_PONG => pong,
            EV_TIMEOUT => no_answer -> ST_DONE,
            EV_ROUTE_OPENED => route_opened,
            EV_SEND_FAILED => send_failed -> ST_DONE,
        }
        ST_DONE {
            EV_PONG,
            EV_TIMEOUT,
            EV_ROUTE_OPENED,
            EV_SEND_FAILED,
        }
    }
}

impl Dialer {
    /// Waits `timeout` for what comes next: the route, or an answer.
    fn arm(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        if let Some(timer) = self.timer.take() {
            cx.cancel_timer(timer);
        }
        let timeout = Duration::from_secs_f64(self.timeout);
        self.timer = Some(cx.set_timer(timeout, DialerEvent::EV_TIMEOUT, Kw::new())?);
        Ok(())
    }

    /// Sends the next ping by role, and waits for its answer; a ping the
    /// router refuses at once ends the run.
    fn ping(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        self.sent += 1;
        let seq = self.sent;
        let posted = cx.post(
            Dest::in_role(self.role.as_str(), "echo"),
            "EV_PING",
            kw! { "seq" => seq, "data" => format!("ping {seq}") },
        );
        if let Err(error) = posted {
            self.outcome = Some(Outcome::Failed(format!("ping {seq} not sent: {error}")));
            cx.set_state(DialerState::ST_DONE);
            return Ok(());
        }
        self.arm(cx)
    }

    fn dial(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.arm(cx)?;
        Ok(Value::Null)
    }

    fn start(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.route_opened(cx, ev)?;
        self.started = Some(Instant::now());
        self.ping(cx)?;
        Ok(Value::Null)
    }

    fn pong(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let seq: u64 = ev.get("seq")?;
        if seq != self.sent {
            self.outcome = Some(Outcome::Failed(format!(
                "answer {seq} came while waiting for answer {}",
                self.sent
            )));
            cx.set_state(DialerState::ST_DONE);
            return Ok(Value::Null);
        }
        if !self.quiet {
            let served = ev.get::<Option<u64>>("served")?.unwrap_or_default();
            println!(
                "pong {seq} from gaplic `{}` ({served} answered there)",
                origin_gaplic(ev)
            );
        }
        if self.sent < self.count {
            self.ping(cx)?;
            return Ok(Value::Null);
        }
        if let Some(timer) = self.timer.take() {
            cx.cancel_timer(timer);
        }
        let elapsed = self.started.map(|s| s.elapsed()).unwrap_or_default();
        self.outcome = Some(Outcome::Done(elapsed));
        cx.set_state(DialerState::ST_DONE);
        Ok(Value::Null)
    }

    fn no_route(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.timer = None;
        self.outcome = Some(Outcome::Failed(format!(
            "no route opened within {} s",
            self.timeout
        )));
        Ok(Value::Null)
    }

    fn no_answer(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.timer = None;
        self.outcome = Some(Outcome::Failed(format!(
            "no answer to ping {} within {} s",
            self.sent, self.timeout
        )));
        Ok(Value::Null)
    }

    fn send_failed(&mut self, _cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let reason: String = ev.get("reason")?;
        self.outcome = Some(Outcome::Failed(format!(
            "ping {} not delivered: {reason}",
            self.sent
        )));
        Ok(Value::Null)
    }

    fn route_opened(&mut self, _cx: &mut Cx<Self>, ev: &Event) -> Ret {
        if !self.quiet {
            let gaplic: String = ev.get("gaplic")?;
            let roles: Vec<String> = ev.get("roles")?;
            let mode: String = ev.get("mode")?;
            println!(
                "connected to gaplic `{gaplic}` (roles: {}; {mode} peer)",
                roles.join(", ")
            );
        }
        Ok(Value::Null)
    }
}

/// The gaplic an event that came through the router was sent from.
fn origin_gaplic(ev: &Event) -> &str {
    ev.origin().map_or("?", |origin| &*origin.gaplic)
}

fn run(options: &Options) -> Result<Duration, String> {
    let mut gaplic = Gaplic::builder(&options.name)
        .build()
        .map_err(|e| format!("cannot make the gaplic: {e}"))?;
    // The route's name is a placeholder: the listener's answer renames it.
    let route = format!("{0}, {0}, {1}", options.role, options.connect);
    let router = gaplic
        .create_unique_gobj::<GRouter>(
            ROUTER,
            None,
            kw! { "static_routes" => route, "secret" => options.secret.as_str() },
        )
        .map_err(|e| format!("cannot dial {}: {e}", options.connect))?;
    let dialer = gaplic
        .create_unique_gobj::<Dialer>(
            "dialer",
            None,
            kw! {
                "role" => options.role.as_str(),
                "count" => options.count,
                "timeout" => options.timeout,
                "quiet" => options.quiet,
            },
        )
        .map_err(|e| e.to_string())?;
    gaplic
        .subscribe(
            router,
            Some("EV_ROUTE_OPENED"),
            dialer,
            SubscribeOptions::new(),
        )
        .map_err(|e| e.to_string())?;
    gaplic
        .post(dialer, DialerEvent::EV_START, Kw::new())
        .map_err(|e| e.to_string())?;
    gaplic
        .run_until(|g| {
            g.gobj::<Dialer>(dialer)
                .is_some_and(|d| d.outcome.is_some())
        })
        .map_err(|e| e.to_string())?;
    let outcome = gaplic
        .gobj_mut::<Dialer>(dialer)
        .and_then(|d| d.outcome.take());
    // Ends the gaplic: its router closes the connection.
    gaplic.stop();
    gaplic.run().map_err(|e| e.to_string())?;
    match outcome {
        Some(Outcome::Done(elapsed)) => Ok(elapsed),
        Some(Outcome::Failed(reason)) => Err(format!("{reason} (dialing {})", options.connect)),
        None => Err("the gaplic ended before the pings".to_owned()),
    }
}

fn main() -> ExitCode {
    let options = match parse(std::env::args().skip(1)) {
        Ok(Parsed::Run(options)) => options,
        Ok(Parsed::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("net_dialer: {error}\n(`net_dialer --help` lists the options)");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(elapsed) => {
            let seconds = elapsed.as_secs_f64();
            println!(
                "{} round trips by role `{}` in {seconds:.3} s: {:.0} round trips/s, {:.1} us each",
                options.count,
                options.role,
                options.count as f64 / seconds,
                seconds * 1e6 / options.count as f64
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("net_dialer: {error}");
            ExitCode::FAILURE
        }
    }
}
