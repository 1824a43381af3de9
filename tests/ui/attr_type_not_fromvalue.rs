// Rule: an attr's type implements `FromValue`, since an attr can be set
// from dynamic config data when the gobj is created. `Duration` cannot be
// read out of a `Value`.
use gaplic::prelude::*;

gobj! {
    struct Timer {
        #[attr]
        period: std::time::Duration, //~ not FromValue
    }
    events { EV_TICK }
    states { ST_IDLE }
    machine {
        ST_IDLE { EV_TICK }
    }
}

fn main() {}
