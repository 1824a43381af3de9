// Rule: every event a machine row accepts must be in the `events` list
// (GinsFSM scenario 4). An undeclared event has no variant and no metadata.
use gaplic::prelude::*;

gobj! {
    struct Door {}
    events { EV_OPEN }
    states { ST_CLOSED, ST_OPEN }
    machine {
        ST_CLOSED { EV_OPEN -> ST_OPEN }
        ST_OPEN { EV_CLOSE -> ST_CLOSED } //~ EV_CLOSE is not declared
    }
}

fn main() {
    let _ = DoorEvent::EV_OPEN;
}
