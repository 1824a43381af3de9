// Rule: an event is declared once (GinsFSM scenario 6: an event listed
// twice). Each name becomes an enum variant and a metadata entry.
use gaplic::prelude::*;

gobj! {
    struct Door {}
    events {
        EV_OPEN,
        EV_CLOSE,
        EV_OPEN: input, //~ EV_OPEN listed twice
    }
    states { ST_CLOSED, ST_OPEN }
    machine {
        ST_CLOSED { EV_OPEN -> ST_OPEN }
        ST_OPEN { EV_CLOSE -> ST_CLOSED }
    }
}

fn main() {
    let _ = DoorEvent::EV_CLOSE;
}
