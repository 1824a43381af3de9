// Rule: an action returns `Ret` (`Result<Value, GobjError>`), the answer
// to the sender. This one returns `()`, so it cannot be called as an action.
use gaplic::prelude::*;

gobj! {
    struct Greeter {}
    events { EV_GREET }
    states { ST_IDLE }
    machine {
        ST_IDLE { EV_GREET => greet } //~ `greet` returns `()`
    }
}

impl Greeter {
    fn greet(&mut self, _cx: &mut Cx<Self>, _ev: &Event) {}
}

fn main() {}
