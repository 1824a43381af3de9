// Rule: a declared hook is a method of the gclass. `go_out` is declared
// but the impl does not define it, so rustc reports it at the hook name.
use gaplic::prelude::*;

gobj! {
    struct Door {}
    events { EV_OPEN }
    states { ST_CLOSED }
    machine {
        ST_CLOSED { EV_OPEN }
    }
    hooks { go_out } //~ no method `go_out`
}

fn main() {}
