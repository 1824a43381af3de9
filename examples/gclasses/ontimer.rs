//! `OnTimer`, GinsFSM's classic: a gobj with a `GTimer` child that runs a
//! command every few seconds. Shared by the `ontimer` and `app` examples.

use std::process::Command;
use std::time::Instant;

use gaplic::prelude::*;
use gaplic::{GTimer, GTimerEvent};

gobj! {
    /// Runs `command` every `seconds` seconds, `runs` times, then says how
    /// long that took and stops its gaplic.
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
        started: Option<Instant>,
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
    hooks { start_up, go_out }
}

impl OnTimer {
    fn start_up(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        let timer = cx.create_child::<GTimer>("timer", Kw::new())?;
        self.timer = Some(timer);
        self.started = Some(Instant::now());
        let settings = kw! { "seconds" => self.seconds, "autostart" => true };
        cx.send(timer, GTimerEvent::EV_SET_TIMER, settings)?;
        Ok(())
    }

    fn go_out(&mut self, cx: &mut Cx<Self>) {
        println!("{}: out after {} run(s)", cx.name(), self.done);
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
            let elapsed = self.started.map_or_else(Default::default, |s| s.elapsed());
            println!("{} runs in {elapsed:.2?}", self.done);
            cx.gaplic()?.stop();
        }
        Ok(Value::from(self.done))
    }
}
