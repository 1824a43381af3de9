// Rule: a gclass is not generic. It is created by name, from config files
// and other processes, which have no way to choose the type parameters.
use gaplic::prelude::*;

gobj! {
    struct Buffer<T> { //~ generic parameter
        items: Vec<T>,
    }
    events { EV_PUSH }
    states { ST_IDLE }
    machine {
        ST_IDLE { EV_PUSH => push }
    }
}

impl<T> Buffer<T> {
    #[allow(dead_code)]
    fn push(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        Ok(Value::from(self.items.len() as u64))
    }
}

fn main() {}
