// Rule: a field takes one `#[attr(...)]`. Two would leave it unclear which
// default counts; all options go into one.
use gaplic::prelude::*;

gobj! {
    struct Timer {
        #[attr]
        #[attr(default = 2)] //~ second #[attr] on `seconds`
        seconds: u64,
    }
    events { EV_TICK }
    states { ST_IDLE }
    machine {
        ST_IDLE { EV_TICK }
    }
}

fn main() {}
