// Rule: an action name is an identifier, and a Rust keyword is not one:
// the action is a method, which cannot be called `move`.
use gaplic::prelude::*;

gobj! {
    struct Door {}
    events { EV_PUSH }
    states { ST_CLOSED }
    machine {
        ST_CLOSED { EV_PUSH => move } //~ `move` is a keyword
    }
}

fn main() {}
