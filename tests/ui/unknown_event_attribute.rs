// Rule: an event's attributes are `input`, `output`, `top` and `bottom`.
// Any other word is most likely a typo that would silently change nothing.
use gaplic::prelude::*;

gobj! {
    struct Door {}
    events {
        EV_OPEN: input,
        EV_OPENED: ouptut, //~ typo of `output`
    }
    states { ST_CLOSED }
    machine {
        ST_CLOSED { EV_OPEN, EV_OPENED }
    }
}

fn main() {}
