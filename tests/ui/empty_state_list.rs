// Rule: a gclass has at least one state (GinsFSM scenario 1: empty state
// list). A gobj starts in the first state; with none it has nowhere to be.
use gaplic::prelude::*;

gobj! {
    struct Door {}
    events { EV_OPEN }
    states {} //~ no state at all
    machine {}
}

fn main() {}
