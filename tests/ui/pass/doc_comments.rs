// Pass: doc comments on the struct, on events, states and attr fields end
// up in the gclass's metadata; items without one get an empty doc.
use gaplic::prelude::*;

gobj! {
    /// Runs a command.
    /// Every few seconds.
    struct OnTimer {
        /// Seconds between runs.
        #[attr(default = 2)]
        seconds: u64,
        #[attr]
        command: String,
    }
    events {
        /// The timer fired.
        EV_TIMEOUT,
        EV_STOP,
    }
    states {
        /// Waiting.
        ST_IDLE,
        ST_BUSY,
    }
    machine {
        ST_IDLE { EV_TIMEOUT -> ST_BUSY }
        ST_BUSY { EV_STOP -> ST_IDLE }
    }
}

fn main() {
    let meta = OnTimer::META;
    assert_eq!(meta.name(), "OnTimer");
    assert_eq!(meta.doc(), "Runs a command.\nEvery few seconds.");
    assert_eq!(meta.events()[0].doc(), "The timer fired.");
    assert_eq!(meta.events()[1].doc(), "");
    assert_eq!(meta.states()[0].doc(), "Waiting.");
    assert_eq!(meta.states()[1].doc(), "");
    assert_eq!(meta.attr("seconds").unwrap().doc(), "Seconds between runs.");
    assert_eq!(meta.attr("command").unwrap().doc(), "");
    let m = Machine::<OnTimer>::new("t", &kw! {}).unwrap();
    assert_eq!(m.gobj().seconds, 2);
}
