// Rule: an event faces either the gobj's parent (`top`) or its children
// (`bottom`), not both: they are opposite sides.
use gaplic::prelude::*;

gobj! {
    struct Door {}
    events {
        EV_OPEN: input top bottom, //~ both sides
    }
    states { ST_CLOSED }
    machine {
        ST_CLOSED { EV_OPEN }
    }
}

fn main() {}
