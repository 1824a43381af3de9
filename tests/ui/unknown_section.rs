// Rule: the sections are `events`, `states`, `machine` and `hooks`. Any
// other name (here a plural slip) is refused rather than ignored.
use gaplic::prelude::*;

gobj! {
    struct Door {}
    events { EV_OPEN }
    states { ST_CLOSED }
    machine {
        ST_CLOSED { EV_OPEN => open }
    }
    hook { start_up } //~ `hook` is not a section
}

impl Door {
    fn open(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        Ok(Value::Null)
    }
    fn start_up(&mut self, _cx: &mut Cx<Self>) -> Result<(), GobjError> {
        Ok(())
    }
}

fn main() {
    let _ = DoorState::ST_CLOSED;
}
