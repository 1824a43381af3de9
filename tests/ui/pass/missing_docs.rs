//! Pass: in a crate that denies `missing_docs`, a documented `pub` gclass
//! compiles, so every item `gobj!` generates (the event and state enums,
//! their variants, the trait impl) carries documentation.
#![deny(missing_docs)]

use gaplic::prelude::*;

gobj! {
    /// A documented public gclass.
    pub struct Documented {
        /// Seconds between runs.
        #[attr(default = 2)]
        pub seconds: u64,
    }
    events {
        /// Fires.
        EV_TICK,
        EV_UNDOCUMENTED: output,
    }
    states {
        /// The only state.
        ST_ON,
        ST_OFF,
    }
    machine {
        ST_ON { EV_TICK -> ST_OFF }
        ST_OFF {}
    }
}

fn main() {
    let mut m = Machine::<Documented>::new("d", &kw! {}).unwrap();
    assert_eq!(m.gobj().seconds, 2);
    m.inject(DocumentedEvent::EV_TICK, Kw::new()).unwrap();
    assert_eq!(m.state(), DocumentedState::ST_OFF);
    assert_eq!(DocumentedEvent::EV_UNDOCUMENTED.name(), "EV_UNDOCUMENTED");
}
