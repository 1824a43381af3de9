// Rule: an action has the signature
// `fn(&mut self, &mut Cx<Self>, &Event) -> Ret`. This one forgets the
// context argument, so it cannot be called as an action.
use gaplic::prelude::*;

gobj! {
    struct Greeter {}
    events { EV_GREET }
    states { ST_IDLE }
    machine {
        ST_IDLE { EV_GREET => greet } //~ `greet` lacks the `cx` argument
    }
}

impl Greeter {
    fn greet(&mut self, _ev: &Event) -> Ret {
        Ok(Value::Null)
    }
}

fn main() {}
