// Rule: the only `#[attr]` option is `default = <value>`. Anything else
// (here a guessed `doc` option) is refused rather than ignored.
use gaplic::prelude::*;

gobj! {
    struct Timer {
        #[attr(default = 2, doc = "seconds")] //~ `doc` is not an option
        seconds: u64,
    }
    events { EV_TICK }
    states { ST_IDLE }
    machine {
        ST_IDLE { EV_TICK }
    }
}

fn main() {}
