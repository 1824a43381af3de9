// Pass: a `pub` gclass is usable, with its generated enums, from outside
// its module; a private one in the same module is usable there.
mod timers {
    use gaplic::prelude::*;

    gobj! {
        pub struct Public {
            pub ticks: u32,
        }
        events { EV_TICK }
        states { ST_ON }
        machine {
            ST_ON { EV_TICK => tick }
        }
    }

    impl Public {
        fn tick(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
            self.ticks += 1;
            Ok(Value::Null)
        }
    }

    gobj! {
        struct Private {}
        events { EV_TICK }
        states { ST_OFF }
        machine {
            ST_OFF { EV_TICK }
        }
    }

    pub fn private_state() -> &'static str {
        let m = Machine::<Private>::new("p", &kw! {}).unwrap();
        m.state().name()
    }
}

use gaplic::prelude::*;
use timers::{Public, PublicEvent, PublicState};

fn main() {
    let mut m = Machine::<Public>::new("pub", &kw! {}).unwrap();
    m.inject(PublicEvent::EV_TICK, Kw::new()).unwrap();
    assert_eq!(m.gobj().ticks, 1);
    assert_eq!(m.state(), PublicState::ST_ON);
    assert_eq!(timers::private_state(), "ST_OFF");
}
