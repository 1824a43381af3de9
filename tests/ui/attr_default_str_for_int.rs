// Rule: an attr's default has the attr's type. A string literal cannot be
// the default of a `u64` attr.
use gaplic::prelude::*;

gobj! {
    struct Timer {
        #[attr(default = "2")] //~ string for a u64
        seconds: u64,
    }
    events { EV_TICK }
    states { ST_IDLE }
    machine {
        ST_IDLE { EV_TICK }
    }
}

fn main() {}
