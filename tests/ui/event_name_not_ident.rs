// Rule: an event name is an identifier. GinsFSM writes event names as
// strings; in `gobj!` they become enum variants, so a string literal is
// refused at the literal.
use gaplic::prelude::*;

gobj! {
    struct Door {}
    events {
        EV_OPEN,
        "EV_CLOSE", //~ a string, not a name
    }
    states { ST_CLOSED }
    machine {
        ST_CLOSED { EV_OPEN => open }
    }
}

impl Door {
    fn open(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        Ok(Value::Null)
    }
}

fn main() {}
