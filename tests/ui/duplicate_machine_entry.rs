// Rule: a state has one entry in `machine`. Two entries would split its
// rows between two places.
use gaplic::prelude::*;

gobj! {
    struct Door {}
    events { EV_OPEN, EV_CLOSE }
    states { ST_CLOSED, ST_OPEN }
    machine {
        ST_CLOSED { EV_OPEN -> ST_OPEN }
        ST_OPEN { EV_CLOSE -> ST_CLOSED }
        ST_CLOSED {} //~ second entry for ST_CLOSED
    }
}

fn main() {}
