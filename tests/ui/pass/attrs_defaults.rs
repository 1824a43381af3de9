// Pass: `#[attr]` fields with and without a default, a string default into
// a `String`, an expression default, plain fields, and keywords overriding
// the defaults at creation.
use gaplic::prelude::*;

gobj! {
    struct OnTimer {
        #[attr(default = 2)]
        seconds: u64,
        #[attr(default = "ls")]
        command: String,
        #[attr(default = true)]
        autostart: bool,
        #[attr(default = 0.5)]
        ratio: f64,
        #[attr(default = vec![String::from("-l")])]
        args: Vec<String>,
        #[attr]
        label: String,
        #[attr]
        retries: Option<u8>,
        runs: u32,
    }
    events { EV_TIMEOUT }
    states { ST_IDLE }
    machine {
        ST_IDLE { EV_TIMEOUT }
    }
}

fn main() {
    let m = Machine::<OnTimer>::new("t", &kw! {}).unwrap();
    let t = m.gobj();
    assert_eq!(t.seconds, 2);
    assert_eq!(t.command, "ls");
    assert!(t.autostart);
    assert_eq!(t.ratio, 0.5);
    assert_eq!(t.args, ["-l"]);
    assert_eq!(t.label, "");
    assert_eq!(t.retries, None);
    assert_eq!(t.runs, 0);

    let m = Machine::<OnTimer>::new(
        "t",
        &kw! { "seconds" => 7, "command" => "pwd", "label" => "x", "retries" => 3 },
    )
    .unwrap();
    let t = m.gobj();
    assert_eq!(t.seconds, 7);
    assert_eq!(t.command, "pwd");
    assert_eq!(t.label, "x");
    assert_eq!(t.retries, Some(3));

    assert!(Machine::<OnTimer>::new("t", &kw! { "runs" => 1 }).is_err());
    assert!(Machine::<OnTimer>::new("t", &kw! { "seconds" => "7" }).is_err());

    let attrs = OnTimer::META.attrs();
    let names: Vec<&str> = attrs.iter().map(|a| a.name()).collect();
    assert_eq!(
        names,
        [
            "seconds",
            "command",
            "autostart",
            "ratio",
            "args",
            "label",
            "retries"
        ]
    );
    assert_eq!(attrs[0].ty(), "u64");
    assert_eq!(attrs[0].default(), "2");
    assert_eq!(attrs[1].default(), "\"ls\"");
    assert_eq!(attrs[6].ty(), "Option<u8>");
    assert_eq!(attrs[6].default(), "Default::default()");
}
