// Pass: `ST_X {}` declares a state that accepts no event on purpose; every
// event is refused there and the state does not change.
use gaplic::prelude::*;

gobj! {
    struct Fuse {}
    events { EV_BLOW, EV_RESET }
    states { ST_OK, ST_BLOWN }
    machine {
        ST_OK { EV_BLOW -> ST_BLOWN, EV_RESET }
        ST_BLOWN {}
    }
}

fn main() {
    let mut m = Machine::<Fuse>::new("fuse", &kw! {}).unwrap();
    m.inject(FuseEvent::EV_BLOW, Kw::new()).unwrap();
    assert_eq!(m.state(), FuseState::ST_BLOWN);
    for event in FuseEvent::ALL {
        let error = m.inject(*event, Kw::new()).unwrap_err();
        assert!(matches!(error.kind(),
            ErrorKind::NotAccepted {
                state: "ST_BLOWN",
                ..
            }
        ));
    }
    assert_eq!(m.state(), FuseState::ST_BLOWN);
    assert!(Fuse::META.rows().iter().all(|r| r.state() != "ST_BLOWN"));
}
