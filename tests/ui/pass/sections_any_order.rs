// Pass: the sections may come in any order; the first declared state is
// still the initial one.
use gaplic::prelude::*;

gobj! {
    struct Backwards {}
    hooks { go_out }
    machine {
        ST_SECOND { EV_GO -> ST_FIRST }
        ST_FIRST { EV_GO -> ST_SECOND }
    }
    states { ST_FIRST, ST_SECOND }
    events { EV_GO }
}

impl Backwards {
    fn go_out(&mut self, _cx: &mut Cx<Self>) {}
}

fn main() {
    let mut m = Machine::<Backwards>::new("b", &kw! {}).unwrap();
    assert_eq!(m.state(), BackwardsState::ST_FIRST);
    assert_eq!(Backwards::INITIAL_STATE, BackwardsState::ST_FIRST);
    m.inject(BackwardsEvent::EV_GO, Kw::new()).unwrap();
    assert_eq!(m.state(), BackwardsState::ST_SECOND);
    assert_eq!(Backwards::META.rows()[0].state(), "ST_SECOND");
}
