// Rule: an attr's default has the attr's type, also when it is not a
// literal. The macro cannot type an expression, so rustc reports this one,
// at the default expression.
use gaplic::prelude::*;

gobj! {
    struct Timer {
        #[attr(default = String::from("2"))] //~ a String for a u64
        seconds: u64,
    }
    events { EV_TICK }
    states { ST_IDLE }
    machine {
        ST_IDLE { EV_TICK }
    }
}

fn main() {
    let _ = Machine::<Timer>::new("timer", &kw! {});
}
