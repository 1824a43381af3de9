// Rule: a gclass has a `states` section. A gobj starts in the first state
// declared there; without one it has no state to be in.
use gaplic::prelude::*;

gobj! {
    struct Door {} //~ no `states` section
    events { EV_OPEN }
    machine {
        ST_CLOSED { EV_OPEN }
    }
}

fn main() {
    let _ = DoorEvent::EV_OPEN;
}
