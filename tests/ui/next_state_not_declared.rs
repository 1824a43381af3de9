// Rule: the next state of a row must be in the `states` list (GinsFSM
// scenario 7: an undeclared next state). The machine could not move there.
use gaplic::prelude::*;

gobj! {
    struct Door {}
    events { EV_OPEN, EV_CLOSE }
    states { ST_CLOSED, ST_OPEN }
    machine {
        ST_CLOSED { EV_OPEN -> ST_OPEN }
        ST_OPEN { EV_CLOSE -> ST_SHUT } //~ ST_SHUT is not declared
    }
}

fn main() {
    let _ = DoorState::ST_OPEN;
}
