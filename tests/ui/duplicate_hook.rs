// Rule: a hook is declared once; it runs once.
use gaplic::prelude::*;

gobj! {
    struct Door {}
    events { EV_OPEN }
    states { ST_CLOSED }
    machine {
        ST_CLOSED { EV_OPEN }
    }
    hooks { go_out, start_up, go_out } //~ `go_out` twice
}

impl Door {
    #[allow(dead_code)]
    fn start_up(&mut self, _cx: &mut Cx<Self>) -> Result<(), GobjError> {
        Ok(())
    }
    #[allow(dead_code)]
    fn go_out(&mut self, _cx: &mut Cx<Self>) {}
}

fn main() {}
