// Rule: an action takes `&mut self`, since it runs with the gobj borrowed
// mutably. This one takes `&self`, so it cannot be called as an action.
use gaplic::prelude::*;

gobj! {
    struct Greeter {}
    events { EV_GREET }
    states { ST_IDLE }
    machine {
        ST_IDLE { EV_GREET => greet } //~ `greet` takes `&self`
    }
}

impl Greeter {
    fn greet(&self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        Ok(Value::Null)
    }
}

fn main() {}
