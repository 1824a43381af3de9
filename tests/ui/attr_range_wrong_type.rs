// Rule: a `range` rule bounds the attr's own type: a range of strings
// cannot hold a `u64`. The error points at the range.
use gaplic::prelude::*;

gobj! {
    struct Timer {
        #[attr(default = 2, range = "a"..="z")] //~ not a range of u64
        seconds: u64,
    }
    events { EV_TICK }
    states { ST_IDLE }
    machine {
        ST_IDLE { EV_TICK }
    }
}

fn main() {}
