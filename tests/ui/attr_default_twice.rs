// Rule: `default` is given once in an `#[attr(...)]`. Two would disagree on
// the value.
use gaplic::prelude::*;

gobj! {
    struct Timer {
        #[attr(default = 2, default = 3)] //~ second `default`
        seconds: u64,
    }
    events { EV_TICK }
    states { ST_IDLE }
    machine {
        ST_IDLE { EV_TICK }
    }
}

fn main() {}
