// Rule: a state name is an identifier. It becomes an enum variant, so a
// number is refused at the number.
use gaplic::prelude::*;

gobj! {
    struct Door {}
    events { EV_OPEN }
    states {
        ST_CLOSED,
        2, //~ a number, not a name
    }
    machine {
        ST_CLOSED { EV_OPEN }
    }
}

fn main() {}
