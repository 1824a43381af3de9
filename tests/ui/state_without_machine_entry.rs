// Rule: every declared state needs an entry in `machine`, even an empty
// `ST_X {}` (GinsFSM scenario 3: a state in the state list with no machine
// key). A state without one is most likely a forgotten one.
use gaplic::prelude::*;

gobj! {
    struct Door {}
    events { EV_OPEN }
    states {
        ST_CLOSED,
        ST_OPEN, //~ no machine entry for ST_OPEN
    }
    machine {
        ST_CLOSED { EV_OPEN -> ST_OPEN }
    }
}

fn main() {
    let _ = DoorState::ST_OPEN;
}
