// Rule: a payload key is declared once per event. The key is read by name;
// two declarations would disagree on its type.
use gaplic::prelude::*;

gobj! {
    struct Timer {}
    events {
        EV_SET_TIMER: input {
            seconds: u64,
            autostart: Option<bool>,
            seconds: i64, //~ `seconds` twice
        },
    }
    states { ST_IDLE }
    machine {
        ST_IDLE { EV_SET_TIMER }
    }
}

fn main() {}
