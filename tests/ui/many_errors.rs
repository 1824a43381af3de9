// Rule: every mistake of one invocation is reported in the same build, each
// at its own token, instead of one per build. Four mistakes of four rules
// here: an attr default of the wrong type, an unknown event attribute, a
// machine entry for an undeclared state and a row for an undeclared event.
use gaplic::prelude::*;

gobj! {
    struct OnTimer {
        #[attr(default = "2")] //~ string for a u64
        seconds: u64,
    }
    events {
        EV_TIMEOUT: input botom, //~ typo of `bottom`
        EV_STOP,
    }
    states { ST_IDLE, ST_BUSY }
    machine {
        ST_IDLE { EV_TIMEOUT => exec_command -> ST_BUSY }
        ST_BUSY { EV_STOP -> ST_IDLE, EV_START -> ST_BUSY } //~ EV_START undeclared
        ST_DONE {} //~ ST_DONE undeclared
    }
}

impl OnTimer {
    fn exec_command(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        Ok(Value::from(self.seconds))
    }
}

fn main() {
    let _ = OnTimerState::ST_BUSY;
}
