// Pass: an event declared `input output` is accepted by the machine and
// published too; it is listed among both the input and the output events.
use gaplic::prelude::*;

gobj! {
    struct Relay {
        relayed: u32,
    }
    events {
        EV_DATA: input output,
    }
    states { ST_ON }
    machine {
        ST_ON { EV_DATA => relay }
    }
}

impl Relay {
    fn relay(&mut self, _cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.relayed += 1;
        Ok(Value::from(ev.name()))
    }
}

fn main() {
    let mut m = Machine::<Relay>::new("relay", &kw! {}).unwrap();
    assert_eq!(
        m.inject_by_name("EV_DATA", Kw::new()).unwrap(),
        Value::from("EV_DATA")
    );
    assert_eq!(m.gobj().relayed, 1);
    let ev = Relay::META.event("EV_DATA").unwrap();
    assert!(ev.input() && ev.output());
    assert_eq!(Relay::META.input_events().collect::<Vec<_>>(), ["EV_DATA"]);
    assert_eq!(Relay::META.output_events().collect::<Vec<_>>(), ["EV_DATA"]);
}
