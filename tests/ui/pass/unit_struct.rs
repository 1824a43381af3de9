// Pass: a unit struct is a gclass with no fields at all.
use gaplic::prelude::*;

gobj! {
    struct Switch;
    events { EV_FLIP }
    states { ST_OFF, ST_ON }
    machine {
        ST_OFF { EV_FLIP => answer -> ST_ON }
        ST_ON { EV_FLIP -> ST_OFF }
    }
}

impl Switch {
    fn answer(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        Ok(Value::from(cx.state().name()))
    }
}

fn main() {
    let mut m = Machine::<Switch>::new("s", &kw! {}).unwrap();
    assert_eq!(
        m.inject(SwitchEvent::EV_FLIP, Kw::new()).unwrap(),
        Value::from("ST_ON")
    );
    m.inject(SwitchEvent::EV_FLIP, Kw::new()).unwrap();
    assert_eq!(m.state(), SwitchState::ST_OFF);
    assert!(Switch::META.attrs().is_empty());
}
