// Rule: a gclass has a `machine` section. Without it no state accepts any
// event, which is not a machine.
use gaplic::prelude::*;

gobj! {
    struct Door {} //~ no `machine` section
    events { EV_OPEN }
    states { ST_CLOSED }
}

fn main() {}
