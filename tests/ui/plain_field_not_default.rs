// Rule: a field without `#[attr]` starts from `Default::default()` when the
// gobj is created. `Instant` has no default, so rustc reports it at the
// field's type.
use gaplic::prelude::*;

gobj! {
    struct Timer {
        #[attr(default = 2)]
        seconds: u64,
        started: std::time::Instant, //~ not Default
    }
    events { EV_TICK }
    states { ST_IDLE }
    machine {
        ST_IDLE { EV_TICK }
    }
}

fn main() {}
