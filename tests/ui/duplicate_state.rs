// Rule: a state is declared once (GinsFSM scenario 3: a state listed twice,
// "OVERFILLED"). Each name becomes an enum variant and a metadata entry.
use gaplic::prelude::*;

gobj! {
    struct Door {}
    events { EV_OPEN }
    states {
        ST_CLOSED,
        ST_OPEN,
        ST_CLOSED, //~ ST_CLOSED listed twice
    }
    machine {
        ST_CLOSED { EV_OPEN -> ST_OPEN }
        ST_OPEN {}
    }
}

fn main() {
    let _ = DoorState::ST_OPEN;
}
