// Rule: the `#[attr]` options are `default`, `range`, `one_of` and
// `validate`. Anything else (here a guessed `doc` option) is refused
// rather than ignored.
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
