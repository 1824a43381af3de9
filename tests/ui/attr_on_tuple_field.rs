// Rule: `#[attr]` goes on a named field. An attr is set by name from
// config, and a tuple field has no name.
use gaplic::prelude::*;

gobj! {
    struct Timer(
        #[attr(default = 2)] //~ tuple field has no name
        u64,
    );
    events { EV_TICK }
    states { ST_IDLE }
    machine {
        ST_IDLE { EV_TICK }
    }
}

fn main() {}
