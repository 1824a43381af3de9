// Pass: a tuple struct is a gclass whose plain fields start from
// `Default::default()`.
use gaplic::prelude::*;

gobj! {
    struct Counter(u32, String);
    events { EV_ADD }
    states { ST_ON }
    machine {
        ST_ON { EV_ADD => add }
    }
}

impl Counter {
    fn add(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.0 += 1;
        self.1.push('+');
        Ok(Value::from(self.0))
    }
}

fn main() {
    let mut m = Machine::<Counter>::new("c", &kw! {}).unwrap();
    assert_eq!((m.gobj().0, m.gobj().1.as_str()), (0, ""));
    m.inject(CounterEvent::EV_ADD, Kw::new()).unwrap();
    assert_eq!(
        m.inject(CounterEvent::EV_ADD, Kw::new()).unwrap(),
        Value::Int(2)
    );
    assert_eq!(m.gobj().1, "++");
}
