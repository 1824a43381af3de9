// Rule: every state that has an entry in `machine` must be in the `states`
// list (GinsFSM scenario 2: "machine key not in state_list"). An entry for
// an undeclared state could never be reached, so it is an error.
use gaplic::prelude::*;

gobj! {
    struct Door {}
    events { EV_OPEN, EV_CLOSE }
    states { ST_CLOSED }
    machine {
        ST_CLOSED { EV_OPEN -> ST_CLOSED }
        ST_OPEN { EV_CLOSE -> ST_CLOSED } //~ ST_OPEN is not declared
    }
}

fn main() {
    let _ = DoorState::ST_CLOSED;
}
