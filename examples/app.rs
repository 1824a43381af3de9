//! An application binary: the `OnTimer` and ping-pong gclasses registered
//! with the launcher (beside the built-in ones and the router), which
//! serves the application files of `examples/apps/`.
//!
//! ```text
//! cargo run --example app -- serve -c examples/apps/ontimer.toml    # `date` every second; Ctrl-C stops it
//! cargo run --example app -- serve -c examples/apps/pingpong.toml   # two thread gaplics play ping-pong
//! cargo run --example app -- serve -c examples/apps/two_process.toml  # two processes play ping-pong by role
//! cargo run --example app -- check -c examples/apps/ontimer.toml
//! cargo run --example app -- gclasses OnTimer
//! cargo run --example app -- draw OnTimer --format mermaid
//! cargo run --example app -- --help
//! ```

#[path = "gclasses/ontimer.rs"]
mod ontimer_gclass;
#[path = "gclasses/pingpong.rs"]
mod pingpong_gclasses;
#[path = "gclasses/role_pinger.rs"]
mod role_pinger_gclass;

use std::process::ExitCode;

use gaplic::app::Launcher;
use ontimer_gclass::OnTimer;
use pingpong_gclasses::{Pinger, Ponger};
use role_pinger_gclass::RolePinger;

fn main() -> ExitCode {
    Launcher::new("app")
        .about("The gaplic examples as one application binary")
        .gclass::<OnTimer>()
        .gclass::<Pinger>()
        .gclass::<Ponger>()
        .gclass::<RolePinger>()
        .run()
}
