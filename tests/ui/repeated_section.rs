// Rule: each section is given once. With two `states` sections it would be
// unclear which one counts.
use gaplic::prelude::*;

gobj! {
    struct Door {}
    events { EV_OPEN }
    states { ST_CLOSED }
    machine {
        ST_CLOSED { EV_OPEN }
    }
    states { ST_OPEN } //~ second `states` section
}

fn main() {}
