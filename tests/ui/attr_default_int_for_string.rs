// Rule: an attr's default has the attr's type. An integer literal cannot be
// the default of a `String` attr (it is not converted to text).
use gaplic::prelude::*;

gobj! {
    struct Timer {
        #[attr(default = 5)] //~ integer for a String
        command: String,
    }
    events { EV_TICK }
    states { ST_IDLE }
    machine {
        ST_IDLE { EV_TICK }
    }
}

fn main() {}
