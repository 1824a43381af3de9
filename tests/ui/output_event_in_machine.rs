// Rule: only input events can be accepted by a state. An event declared
// `output` alone is published by the gobj, never received, so a row for it
// is an error; `input output` is the way to declare both.
use gaplic::prelude::*;

gobj! {
    struct Door {}
    events {
        EV_OPEN,
        EV_OPENED: output,
    }
    states { ST_CLOSED, ST_OPEN }
    machine {
        ST_CLOSED { EV_OPEN -> ST_OPEN }
        ST_OPEN { EV_OPENED } //~ EV_OPENED is output only
    }
}

fn main() {}
