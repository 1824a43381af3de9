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

#[path = "gclasses/ontimer.rs"]
mod ontimer_gclass;

use gaplic::prelude::*;
use ontimer_gclass::OnTimer;

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
    // The OnTimer stops the gaplic after its last run, and says how long
    // the runs took.
    gaplic.run()?;
    Ok(())
}
