// Rule: a machine row is `EVENT`, then optionally `=> action`, then
// optionally `-> NEXT_STATE`. Here the `->` is forgotten, so the next
// state stands right after the event and is refused there.
use gaplic::prelude::*;

gobj! {
    struct Door {}
    events { EV_OPEN }
    states { ST_CLOSED, ST_OPEN }
    machine {
        ST_CLOSED { EV_OPEN ST_OPEN } //~ missing `->`
        ST_OPEN {}
    }
}

fn main() {}
