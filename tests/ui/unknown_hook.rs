// Rule: the hooks are `start_up` and `go_out`. Another name (here a
// misspelling) would never be called.
use gaplic::prelude::*;

gobj! {
    struct Door {}
    events { EV_OPEN }
    states { ST_CLOSED }
    machine {
        ST_CLOSED { EV_OPEN }
    }
    hooks { startup } //~ not a hook
}

impl Door {
    #[allow(dead_code)]
    fn startup(&mut self, _cx: &mut Cx<Self>) -> Result<(), GobjError> {
        Ok(())
    }
}

fn main() {}
