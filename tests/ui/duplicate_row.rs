// Rule: a state has one row per event. GinsFSM silently kept the last of
// two rows for the same (state, event) pair; here it is an error.
use gaplic::prelude::*;

gobj! {
    struct Door {}
    events { EV_OPEN, EV_CLOSE }
    states { ST_CLOSED, ST_OPEN }
    machine {
        ST_CLOSED {
            EV_OPEN -> ST_OPEN,
            EV_OPEN => complain, //~ second row for EV_OPEN in ST_CLOSED
        }
        ST_OPEN { EV_CLOSE -> ST_CLOSED }
    }
}

impl Door {
    #[allow(dead_code)]
    fn complain(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        Ok(Value::Null)
    }
}

fn main() {}
