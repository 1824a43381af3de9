// Rule: an input event must be accepted by at least one state (GinsFSM
// scenario 5). An input event no row accepts can only ever be refused: a
// row is missing, or the event should be declared `output` (see
// pass/output_event_not_in_machine.rs).
use gaplic::prelude::*;

gobj! {
    struct Door {}
    events {
        EV_OPEN,
        EV_LOCK: input, //~ no state accepts EV_LOCK
    }
    states { ST_CLOSED, ST_OPEN }
    machine {
        ST_CLOSED { EV_OPEN -> ST_OPEN }
        ST_OPEN {}
    }
}

fn main() {
    let _ = DoorEvent::EV_LOCK;
}
