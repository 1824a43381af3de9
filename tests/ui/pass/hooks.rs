// Pass: the `hooks` section: `start_up` runs at creation and can refuse
// it, `go_out` runs at destruction; a gclass may declare one or none.
use gaplic::prelude::*;

gobj! {
    struct Both {
        #[attr]
        fail: bool,
        started: bool,
        log: Vec<String>,
    }
    events { EV_A }
    states { ST_A, ST_B }
    machine {
        ST_A { EV_A }
        ST_B {}
    }
    hooks { start_up, go_out }
}

impl Both {
    fn start_up(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        if self.fail {
            return Err(GobjError::failed("refused"));
        }
        self.started = true;
        self.log.push(format!("up {}", cx.name()));
        cx.set_state(BothState::ST_B);
        Ok(())
    }

    fn go_out(&mut self, cx: &mut Cx<Self>) {
        self.log.push(format!("out {}", cx.name()));
    }
}

gobj! {
    struct OnlyOut {
        out: bool,
    }
    hooks { go_out }
    events { EV_A }
    states { ST_A }
    machine {
        ST_A { EV_A }
    }
}

impl OnlyOut {
    fn go_out(&mut self, _cx: &mut Cx<Self>) {
        self.out = true;
    }
}

gobj! {
    struct NoHooks {}
    events { EV_A }
    states { ST_A }
    machine {
        ST_A { EV_A }
    }
    hooks {}
}

fn main() {
    let m = Machine::<Both>::new("b", &kw! {}).unwrap();
    assert!(m.gobj().started);
    assert_eq!(m.state(), BothState::ST_B);
    let gobj = m.destroy();
    assert_eq!(gobj.log, ["up b", "out b"]);
    let error = Machine::<Both>::new("b", &kw! { "fail" => true }).unwrap_err();
    assert_eq!(error.to_string(), "refused");

    assert!(Both::HOOKS.start_up.is_some() && Both::HOOKS.go_out.is_some());
    assert!(OnlyOut::HOOKS.start_up.is_none());
    let m = Machine::<OnlyOut>::new("o", &kw! {}).unwrap();
    assert!(!m.gobj().out);
    assert!(m.destroy().out);
    assert!(NoHooks::HOOKS.start_up.is_none() && NoHooks::HOOKS.go_out.is_none());
}
