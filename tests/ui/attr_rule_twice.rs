// Rule: each rule of an `#[attr(...)]` is given once. Two ranges would
// leave it unclear which one holds.
use gaplic::prelude::*;

gobj! {
    struct Timer {
        #[attr(default = 2, range = 1..=10, range = 1..=20)] //~ second `range`
        seconds: u64,
    }
    events { EV_TICK }
    states { ST_IDLE }
    machine {
        ST_IDLE { EV_TICK }
    }
}

fn main() {}
