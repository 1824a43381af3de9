// Rule: `start_up` has the signature
// `fn(&mut self, &mut Cx<Self>) -> Result<(), GobjError>`: its error aborts
// the creation. This one returns `()`, so it cannot be the hook.
use gaplic::prelude::*;

gobj! {
    struct Door {}
    events { EV_OPEN }
    states { ST_CLOSED }
    machine {
        ST_CLOSED { EV_OPEN }
    }
    hooks { start_up } //~ `start_up` returns `()`
}

impl Door {
    fn start_up(&mut self, _cx: &mut Cx<Self>) {}
}

fn main() {}
