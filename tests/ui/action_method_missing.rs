// Rule: an action must be a method of the gclass (GinsFSM scenario 7:
// action `'hi'`, a string where a function is expected). Here the row names
// `hi`, which the impl does not define, so rustc reports it at the name.
use gaplic::prelude::*;

gobj! {
    struct Greeter {}
    events { EV_GREET }
    states { ST_IDLE }
    machine {
        ST_IDLE { EV_GREET => hi } //~ no method `hi`
    }
}

impl Greeter {
    #[allow(dead_code)]
    fn hello(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        Ok(Value::Null)
    }
}

fn main() {}
