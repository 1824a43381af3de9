// Rule: an event attribute is given once. A repeat says nothing more and is
// most likely a slip for another attribute.
use gaplic::prelude::*;

gobj! {
    struct Door {}
    events {
        EV_OPEN: input top input, //~ `input` twice
    }
    states { ST_CLOSED }
    machine {
        ST_CLOSED { EV_OPEN }
    }
}

fn main() {}
