// Pass: every event attribute, alone and combined: none (input by
// default), `input`, `output`, `top`, `bottom`, `input output`, and an
// output event no state accepts.
use gaplic::prelude::*;

gobj! {
    struct Link {}
    events {
        EV_PLAIN,
        EV_IN: input,
        EV_TOP: input top,
        EV_BOTTOM: bottom,
        EV_BOTH: input output,
        EV_OUT: output top,
        EV_OUT_LOW: output bottom,
    }
    states { ST_UP }
    machine {
        ST_UP { EV_PLAIN, EV_IN, EV_TOP, EV_BOTTOM, EV_BOTH }
    }
}

fn main() {
    let flags: Vec<(&str, bool, bool, bool, bool)> = Link::META
        .events()
        .iter()
        .map(|e| (e.name(), e.input(), e.output(), e.top(), e.bottom()))
        .collect();
    assert_eq!(
        flags,
        [
            ("EV_PLAIN", true, false, false, false),
            ("EV_IN", true, false, false, false),
            ("EV_TOP", true, false, true, false),
            ("EV_BOTTOM", true, false, false, true),
            ("EV_BOTH", true, true, false, false),
            ("EV_OUT", false, true, true, false),
            ("EV_OUT_LOW", false, true, false, true),
        ]
    );
    let inputs: Vec<&str> = Link::META.input_events().collect();
    assert_eq!(
        inputs,
        ["EV_PLAIN", "EV_IN", "EV_TOP", "EV_BOTTOM", "EV_BOTH"]
    );
    let outputs: Vec<&str> = Link::META.output_events().collect();
    assert_eq!(outputs, ["EV_BOTH", "EV_OUT", "EV_OUT_LOW"]);

    let mut m = Machine::<Link>::new("link", &kw! {}).unwrap();
    assert!(m.inject_by_name("EV_BOTTOM", Kw::new()).is_ok());
    assert!(
        m.inject_by_name("EV_OUT", Kw::new())
            .unwrap_err()
            .is_not_accepted()
    );
    assert_eq!(LinkEvent::ALL.len(), 7);
}
