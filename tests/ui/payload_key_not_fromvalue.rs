// Rule: a payload key's type implements `FromValue`, since the payload is
// dynamic data checked against the declared type before the action runs.
// `Instant` cannot be read out of a `Value`.
use gaplic::prelude::*;

gobj! {
    struct Timer {}
    events {
        EV_SET_TIMER: input {
            seconds: u64,
            since: std::time::Instant, //~ not FromValue
        },
    }
    states { ST_IDLE }
    machine {
        ST_IDLE { EV_SET_TIMER }
    }
}

fn main() {}
