// Rule: only doc comments can precede an event. Another attribute (here a
// `cfg`) would be silently dropped, since an event is not an item.
use gaplic::prelude::*;

gobj! {
    struct Door {}
    events {
        EV_OPEN,
        #[cfg(test)] //~ not a doc comment
        EV_TEST,
    }
    states { ST_CLOSED }
    machine {
        ST_CLOSED { EV_OPEN, EV_TEST }
    }
}

fn main() {}
