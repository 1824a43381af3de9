//! GinsFSM's classic: a gobj with a `GTimer` child that runs a command every
//! few seconds, traced.
//!
//! ```text
//! cargo run --example ontimer                                  # `date` every second, 3 times
//! cargo run --example ontimer -- --seconds 0.5 --runs 4 --command "uptime"
//! ```
//!
//! Options become creation keywords of the `OnTimer` gobj, so a bad value is
//! refused with an error that names the attr.

use std::process::Command;

use gaplic::prelude::*;
use gaplic::{GTimer, GTimerEvent};

gobj! {
    /// Runs `command` every `seconds` seconds, `runs` times, then stops its
    /// gaplic.
    pub struct OnTimer {
        /// Seconds between runs.
        #[attr(default = 1.0)]
        seconds: f64,
        /// The command line to run (split on spaces).
        #[attr(default = "date")]
        command: String,
        /// How many runs before the gaplic stops.
        #[attr(default = 3)]
        runs: u32,
        done: u32,
        timer: Option<GobjId>,
    }
    events {
        /// The timer fired.
        EV_TIMEOUT: input bottom,
    }
    states {
        /// Waiting for the next run.
        ST_WAITING,
    }
    machine {
        ST_WAITING {
            EV_TIMEOUT => exec_command,
        }
    }
    hooks { start_up }
}

impl OnTimer {
    fn start_up(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        let timer = cx.create_child::<GTimer>("timer", Kw::new())?;
        self.timer = Some(timer);
        let settings = kw! { "seconds" => self.seconds, "autostart" => true };
        cx.send(timer, GTimerEvent::EV_SET_TIMER, settings)?;
        Ok(())
    }

    fn exec_command(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.done += 1;
        let mut words = self.command.split_whitespace();
        let program = words.next().unwrap_or("true");
        let output = Command::new(program).args(words).output();
        let source = ev.source().map_or("-".into(), |id| id.to_string());
        match output {
            Ok(output) => println!(
                "run {}/{} (timer {source}): {}",
                self.done,
                self.runs,
                String::from_utf8_lossy(&output.stdout).trim_end()
            ),
            Err(error) => println!(
                "run {}/{}: `{}` failed: {error}",
                self.done, self.runs, self.command
            ),
        }
        if self.done >= self.runs {
            cx.gaplic()?.stop();
        }
        Ok(Value::from(self.done))
    }
}

/// `--name value` pairs from the command line, as creation keywords.
fn options() -> Result<Kw, String> {
    let mut kw = Kw::new();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| format!("`{flag}` needs a value"))?;
        match flag.as_str() {
            "--seconds" => {
                let seconds: f64 = value
                    .parse()
                    .map_err(|_| format!("bad seconds `{value}`"))?;
                kw.insert("seconds", seconds);
            }
            "--runs" => {
                let runs: i64 = value.parse().map_err(|_| format!("bad runs `{value}`"))?;
                kw.insert("runs", runs);
            }
            "--command" => {
                kw.insert("command", value);
            }
            other => {
                return Err(format!(
                    "unknown option `{other}` (--seconds, --runs, --command)"
                ));
            }
        }
    }
    Ok(kw)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    let kw = options()?;
    let mut gaplic = Gaplic::new("ontimer")?;
    let ontimer = gaplic.create_unique_gobj::<OnTimer>("ontimer", None, kw)?;
    gaplic.set_trace(ontimer, true)?;
    let started = std::time::Instant::now();
    gaplic.run()?;
    println!(
        "{} runs in {:.2?}",
        gaplic.gobj::<OnTimer>(ontimer).map_or(0, |o| o.done),
        started.elapsed()
    );
    Ok(())
}
