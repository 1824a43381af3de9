// Rule: a gclass has an `events` section. Without events the machine has
// nothing to react to.
use gaplic::prelude::*;

gobj! {
    struct Door {} //~ no `events` section
    states { ST_CLOSED, ST_OPEN }
    machine {
        ST_CLOSED { EV_OPEN -> ST_OPEN }
        ST_OPEN {}
    }
}

fn main() {
    let _ = DoorState::ST_OPEN;
}
