//! A gaplic that other gaplics reach over the network: its router listens
//! for them, and its gobj `echo` answers each `EV_PING` with an `EV_PONG`,
//! through `cx.reply`, to wherever the ping came from.
//!
//! ```text
//! cargo run -p gaplic-router --example net_listener -- --listen 0.0.0.0:7070
//! cargo run -p gaplic-router --example net_dialer -- --connect ws://10.0.0.1:7070 --count 1000
//! ```
//!
//! It prints `listening on ADDRESS as gaplic NAME (role ROLE)` once the
//! router listens (with the port chosen for port 0), a line for each
//! route that opens or closes, and at the end how many pings it answered.
//! Run `net_listener --help` for the options.

use std::process::ExitCode;
use std::time::Duration;

use gaplic::prelude::*;
use gaplic_router::{GRouter, ROUTER};

const USAGE: &str = "\
usage: net_listener [--listen ADDRESS] [--name NAME] [--role ROLE] [--secret TEXT]
                    [--once] [--lifetime SECONDS] [--quiet]

A gaplic whose router listens for other gaplics; its gobj `echo` answers
each EV_PING with an EV_PONG (see the net_dialer example).

  --listen ADDRESS    where the router listens, HOST:PORT (default
                      127.0.0.1:7070; 0.0.0.0:PORT for every interface,
                      port 0 for any free port)
  --name NAME         this gaplic's name (default `listener`)
  --role ROLE         this gaplic's role, which dialers send to (default `echo`)
  --secret TEXT       a secret the dialers must share
  --once              exit when the first dialer's route closes
  --lifetime SECONDS  exit after this long (default: run until killed)
  --quiet             print only the listening line and the count at the end
  --help              print this and exit";

/// What the command line asks for.
#[derive(Debug)]
struct Options {
    listen: String,
    name: String,
    role: String,
    secret: String,
    once: bool,
    lifetime: Option<Duration>,
    quiet: bool,
}

/// What the command line can come to.
enum Parsed {
    Run(Options),
    Help,
}

fn parse(args: impl IntoIterator<Item = String>) -> Result<Parsed, String> {
    let mut options = Options {
        listen: "127.0.0.1:7070".to_owned(),
        name: "listener".to_owned(),
        role: "echo".to_owned(),
        secret: String::new(),
        once: false,
        lifetime: None,
        quiet: false,
    };
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("`{flag}` needs a value"));
        match flag.as_str() {
            "--help" | "-h" => return Ok(Parsed::Help),
            "--listen" => {
                let address = value()?;
                match address.rsplit_once(':') {
                    Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {}
                    _ => return Err(format!("--listen `{address}`: expected HOST:PORT")),
                }
                options.listen = address;
            }
            "--name" => options.name = nonempty(&flag, value()?)?,
            "--role" => options.role = nonempty(&flag, value()?)?,
            "--secret" => options.secret = value()?,
            "--once" => options.once = true,
            "--quiet" => options.quiet = true,
            "--lifetime" => {
                let text = value()?;
                let seconds = text
                    .parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s > 0.0)
                    .ok_or_else(|| {
                        format!("--lifetime `{text}`: expected a positive number of seconds")
                    })?;
                options.lifetime = Some(Duration::from_secs_f64(seconds));
            }
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    Ok(Parsed::Run(options))
}

fn nonempty(flag: &str, value: String) -> Result<String, String> {
    if value.trim().is_empty() {
        return Err(format!("`{flag}` needs a value that is not empty"));
    }
    Ok(value)
}

gobj! {
    /// Answers each `EV_PING { seq, data }` with `EV_PONG { seq, data,
    /// served }` to the ping's origin, and reports the router's routes.
    pub struct Echo {
        /// Print only the count at the end.
        #[attr(default = false)]
        quiet: bool,
        /// Stop the gaplic when the first route closes.
        #[attr(default = false)]
        once: bool,
        served: u64,
    }
    events {
        /// A ping, answered with `EV_PONG`.
        EV_PING: input top { seq: u64 },
        /// From the router: a route opened.
        EV_ROUTE_OPENED: input bottom,
        /// From the router: a route closed.
        EV_ROUTE_CLOSED: input bottom,
    }
    states { ST_SERVING }
    machine {
        ST_SERVING {
            EV_PING => ping,
            EV_ROUTE_OPENED => route_opened,
            EV_ROUTE_CLOSED => route_closed,
        }
    }
    hooks { go_out }
}

impl Echo {
    fn ping(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let seq: u64 = ev.get("seq")?;
        let data = ev.kw().value("data").cloned().unwrap_or_default();
        self.served += 1;
        cx.reply(
            ev,
            "EV_PONG",
            kw! { "seq" => seq, "data" => data, "served" => self.served },
        )?;
        Ok(Value::Null)
    }

    fn route_opened(&mut self, _cx: &mut Cx<Self>, ev: &Event) -> Ret {
        if !self.quiet {
            let gaplic: String = ev.get("gaplic")?;
            let mode: String = ev.get("mode")?;
            println!("route from gaplic `{gaplic}` open ({mode} peer)");
        }
        Ok(Value::Null)
    }

    fn route_closed(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        if !self.quiet {
            let gaplic: String = ev.get("gaplic")?;
            let reason: String = ev.get("reason")?;
            println!("route from gaplic `{gaplic}` closed: {reason}");
        }
        if self.once {
            cx.gaplic()?.stop();
        }
        Ok(Value::Null)
    }

    fn go_out(&mut self, _cx: &mut Cx<Self>) {
        println!("answered {} ping(s)", self.served);
    }
}

fn run(options: Options) -> Result<(), String> {
    let mut gaplic = Gaplic::builder(&options.name)
        .role(&options.role)
        .build()
        .map_err(|e| format!("cannot make the gaplic: {e}"))?;
    let router = gaplic
        .create_unique_gobj::<GRouter>(
            ROUTER,
            None,
            kw! { "server" => true, "listen" => options.listen.as_str(), "secret" => options.secret.as_str() },
        )
        .map_err(|e| e.to_string())?;
    let echo = gaplic
        .create_unique_gobj::<Echo>(
            "echo",
            None,
            kw! { "quiet" => options.quiet, "once" => options.once },
        )
        .map_err(|e| e.to_string())?;
    for event in ["EV_ROUTE_OPENED", "EV_ROUTE_CLOSED"] {
        gaplic
            .subscribe(router, Some(event), echo, SubscribeOptions::new())
            .map_err(|e| e.to_string())?;
    }
    let address = gaplic
        .gobj::<GRouter>(router)
        .and_then(|r| r.listen_address(&gaplic))
        .ok_or("the router does not listen")?;
    println!(
        "listening on {address} as gaplic `{}` (role `{}`)",
        options.name, options.role
    );
    if let Some(lifetime) = options.lifetime {
        gaplic.set_timer(lifetime, Gaplic::stop);
    }
    gaplic.run().map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    match parse(std::env::args().skip(1)) {
        Ok(Parsed::Help) => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Ok(Parsed::Run(options)) => match run(options) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("net_listener: {error}");
                ExitCode::FAILURE
            }
        },
        Err(error) => {
            eprintln!("net_listener: {error}\n(`net_listener --help` lists the options)");
            ExitCode::from(2)
        }
    }
}
