// Rule: an attr's default has the attr's type. `1` is not a `bool`; Rust
// has no truthy integers.
use gaplic::prelude::*;

gobj! {
    struct Timer {
        #[attr(default = 1)] //~ integer for a bool
        autostart: bool,
    }
    events { EV_TICK }
    states { ST_IDLE }
    machine {
        ST_IDLE { EV_TICK }
    }
}

fn main() {}
