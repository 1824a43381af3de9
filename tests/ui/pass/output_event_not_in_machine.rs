// Pass (GinsFSM scenario 5): an event no state accepts is valid when it is
// declared `output`: the gobj publishes it and never receives it.
use gaplic::prelude::*;

gobj! {
    struct Door {}
    events {
        EV_OPEN,
        EV_OPENED: output,
    }
    states { ST_CLOSED, ST_OPEN }
    machine {
        ST_CLOSED { EV_OPEN -> ST_OPEN }
        ST_OPEN {}
    }
}

fn main() {
    let mut m = Machine::<Door>::new("door", &kw! {}).unwrap();
    assert!(
        m.inject_by_name("EV_OPENED", Kw::new())
            .unwrap_err()
            .is_not_accepted()
    );
    m.inject(DoorEvent::EV_OPEN, Kw::new()).unwrap();
    assert_eq!(m.state(), DoorState::ST_OPEN);
    let opened = Door::META.event("EV_OPENED").unwrap();
    assert!(!opened.input() && opened.output());
    assert!(Door::META.rows().iter().all(|r| r.event() != "EV_OPENED"));
}
