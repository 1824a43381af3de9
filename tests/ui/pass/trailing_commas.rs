// Pass: trailing commas are optional everywhere: in fields, events,
// payloads, states, machine entries and rows, and hooks.
use gaplic::prelude::*;

gobj! {
    struct With {
        #[attr(default = 1,)]
        a: u8,
    }
    events {
        EV_A: input { x: Option<u8>, },
        EV_B,
    }
    states { ST_A, ST_B, }
    machine {
        ST_A { EV_A -> ST_B, EV_B, },
        ST_B { EV_B -> ST_A, },
    }
    hooks { go_out, }
}

impl With {
    fn go_out(&mut self, _cx: &mut Cx<Self>) {}
}

gobj! {
    struct Without {
        #[attr(default = 1)]
        a: u8
    }
    events {
        EV_A: input { x: Option<u8> },
        EV_B
    }
    states { ST_A, ST_B }
    machine {
        ST_A { EV_A -> ST_B, EV_B }
        ST_B { EV_B -> ST_A }
    }
    hooks { go_out }
}

impl Without {
    fn go_out(&mut self, _cx: &mut Cx<Self>) {}
}

fn main() {
    let mut with = Machine::<With>::new("w", &kw! {}).unwrap();
    let mut without = Machine::<Without>::new("wo", &kw! {}).unwrap();
    assert_eq!((with.gobj().a, without.gobj().a), (1, 1));
    with.inject(WithEvent::EV_A, Kw::new()).unwrap();
    without.inject(WithoutEvent::EV_A, Kw::new()).unwrap();
    assert_eq!(with.state(), WithState::ST_B);
    assert_eq!(without.state(), WithoutState::ST_B);
    assert_eq!(With::META.rows(), Without::META.rows());
    assert_eq!(With::META.events().len(), Without::META.events().len());
}
