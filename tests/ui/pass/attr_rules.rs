// Every attr rule: `range`, `one_of`, `validate`, alone and together, on
// integers, floats and strings; they run at creation.
use gaplic::prelude::*;

fn short(name: &String) -> Result<(), &'static str> {
    if name.len() <= 8 { Ok(()) } else { Err("at most 8 bytes") }
}

gobj! {
    struct Rules {
        #[attr(default = 5, range = 1..=10)]
        small: u8,
        #[attr(default = 0.5, range = 0.0..1.0)]
        ratio: f64,
        #[attr(default = "b", one_of = ["a", "b"], validate = short)]
        pick: String,
        #[attr(default = 3, one_of = [1, 3, 5])]
        odd: i64,
    }
    events { EV_TICK }
    states { ST_IDLE }
    machine {
        ST_IDLE { EV_TICK }
    }
}

fn main() {
    assert!(Machine::<Rules>::new("ok", &Kw::new()).is_ok());
    assert!(Machine::<Rules>::new("bad", &kw! { "ratio" => 1.0 }).is_err());
    assert!(Machine::<Rules>::new("bad", &kw! { "pick" => "c" }).is_err());
    assert!(Machine::<Rules>::new("bad", &kw! { "odd" => 2 }).is_err());
    assert_eq!(Rules::META.attrs()[0].rules(), "range 1..=10");
}
