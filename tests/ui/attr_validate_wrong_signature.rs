// Rule: a `validate` function takes the attr by reference and returns
// `Result<(), impl Display>`. One that takes another type is refused at
// the function's name.
use gaplic::prelude::*;

fn positive(value: &i64) -> Result<(), String> {
    if *value > 0 { Ok(()) } else { Err("not positive".into()) }
}

gobj! {
    struct Timer {
        #[attr(default = 2, validate = positive)] //~ takes &i64, not &u64
        seconds: u64,
    }
    events { EV_TICK }
    states { ST_IDLE }
    machine {
        ST_IDLE { EV_TICK }
    }
}

fn main() {}
