//! The machine core's semantics: GinsFSM's smachine scenarios (numbered as
//! in its acceptance list) and the rules gaplic adds.

use gaplic::prelude::*;
use gaplic::{GobjError, KwError};

gobj! {
    /// GinsFSM's M8: three events, one of them output only.
    struct M8 {
        calls: u32,
    }
    events {
        EV_TEST1: input,
        EV_TEST2: input,
        EV_TEST3: output,
    }
    states { ST_STATE1, ST_STATE2 }
    machine {
        ST_STATE1 {
            EV_TEST1 -> ST_STATE2,
        }
        ST_STATE2 {
            EV_TEST1 => answer_ok -> ST_STATE2,
            EV_TEST2 => back_to_state1,
        }
    }
}

impl M8 {
    fn answer_ok(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.calls += 1;
        Ok(Value::from("OK"))
    }

    fn back_to_state1(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.calls += 1;
        cx.set_state(M8State::ST_STATE1);
        Ok(Value::Null)
    }
}

fn m8() -> Machine<M8> {
    Machine::new("m8", &Kw::new()).expect("M8 builds")
}

#[test]
fn scenario_1_setting_an_unknown_state_is_an_error() {
    let mut m = m8();
    let error = m.set_state_by_name("STATE").unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::UnknownState { .. }));
    assert_eq!(error.to_string(), "`M8` has no state `STATE`");
    assert_eq!(m.state(), M8State::ST_STATE1);
    m.set_state_by_name("ST_STATE2").unwrap();
    assert_eq!(m.state(), M8State::ST_STATE2);
}

#[test]
fn scenario_8_event_lists_come_from_the_table() {
    let names: Vec<&str> = M8::META.events().iter().map(|e| e.name()).collect();
    assert_eq!(names, ["EV_TEST1", "EV_TEST2", "EV_TEST3"]);
    assert_eq!(M8::META.output_events().collect::<Vec<_>>(), ["EV_TEST3"]);
    assert_eq!(
        M8::META.input_events().collect::<Vec<_>>(),
        ["EV_TEST1", "EV_TEST2"]
    );
    assert_eq!(M8Event::ALL.len(), 3);
    assert_eq!(M8::INITIAL_STATE, M8State::ST_STATE1);
}

#[test]
fn scenario_9_injecting_in_sequence() {
    let mut m = m8();
    // GinsFSM's `{}` (not an event name) and an unknown name: both refused.
    for bad in ["", "EV_XXX", "EV_TEST3"] {
        let error = m.inject_by_name(bad, Kw::new()).unwrap_err();
        assert!(
            matches!(error.kind(), ErrorKind::UnknownEvent { event, .. } if event == bad),
            "{error}"
        );
        assert!(error.is_not_accepted());
    }
    let error = m.inject(M8Event::EV_TEST2, Kw::new()).unwrap_err();
    assert!(matches!(
        error.kind(),
        ErrorKind::NotAccepted {
            gclass: "M8",
            state: "ST_STATE1",
            event: "EV_TEST2",
            ..
        }
    ));
    assert_eq!(m.state(), M8State::ST_STATE1);

    assert_eq!(m.inject(M8Event::EV_TEST1, Kw::new()).unwrap(), Value::Null);
    assert_eq!(m.state(), M8State::ST_STATE2);
    assert_eq!(
        m.inject_by_name("EV_TEST1", Kw::new()).unwrap(),
        Value::from("OK")
    );
    assert_eq!(m.state(), M8State::ST_STATE2);
    assert_eq!(m.inject(M8Event::EV_TEST2, Kw::new()).unwrap(), Value::Null);
    assert_eq!(m.state(), M8State::ST_STATE1);
    assert_eq!(m.gobj().calls, 2);
}

#[test]
fn not_accepted_names_gclass_gobj_state_and_event() {
    let mut m = m8();
    let error = m.inject(M8Event::EV_TEST2, Kw::new()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "event `EV_TEST2` not accepted by gobj `m8` of `M8` in state `ST_STATE1`"
    );
    let error = m.inject_by_name("EV_NOPE", Kw::new()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "event `EV_NOPE` is not an input event of gobj `m8` of `M8`"
    );
}

gobj! {
    /// Scenario 10: the action sees the next state; an error leaves it set.
    struct Seer {
        fail: bool,
    }
    events { EV_GO, EV_SET_FAIL }
    states { ST_A, ST_B }
    machine {
        ST_A {
            EV_GO => report_state -> ST_B,
            EV_SET_FAIL => set_fail,
        }
        ST_B {}
    }
}

impl Seer {
    fn report_state(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        if self.fail {
            return Err(GobjError::failed("the action failed"));
        }
        Ok(Value::from(cx.state().name()))
    }

    fn set_fail(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.fail = true;
        Ok(Value::Null)
    }
}

#[test]
fn scenario_10_next_state_is_set_before_the_action() {
    let mut m = Machine::<Seer>::new("seer", &Kw::new()).unwrap();
    assert_eq!(
        m.inject(SeerEvent::EV_GO, Kw::new()).unwrap(),
        Value::from("ST_B")
    );
    assert_eq!(m.state(), SeerState::ST_B);
}

#[test]
fn scenario_10_an_action_error_propagates_and_the_state_stays_changed() {
    let mut m = Machine::<Seer>::new("seer", &Kw::new()).unwrap();
    m.inject(SeerEvent::EV_SET_FAIL, Kw::new()).unwrap();
    let error = m.inject(SeerEvent::EV_GO, Kw::new()).unwrap_err();
    assert_eq!(error.to_string(), "the action failed");
    assert_eq!(m.state(), SeerState::ST_B);
}

gobj! {
    /// Declared payloads, attrs and hooks.
    pub struct Timer {
        /// Seconds between runs.
        #[attr(default = 2)]
        seconds: u64,
        /// Command to run.
        #[attr(default = "ls")]
        command: String,
        /// A label, no default given: `Default`.
        #[attr]
        label: Option<String>,
        armed: Option<i64>,
        log: Vec<String>,
    }
    events {
        /// Arms or disarms.
        EV_SET_TIMER: input bottom { seconds: i64, autostart: Option<bool> },
        EV_TIMEOUT: input bottom,
        EV_FIRED: output top,
    }
    states { ST_IDLE, ST_ARMED }
    machine {
        ST_IDLE { EV_SET_TIMER => set_timer -> ST_ARMED }
        ST_ARMED {
            EV_SET_TIMER => set_timer,
            EV_TIMEOUT => timeout -> ST_IDLE,
        }
    }
    hooks { start_up, go_out }
}

impl Timer {
    fn set_timer(&mut self, _cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let seconds: i64 = ev.get("seconds")?;
        let autostart: Option<bool> = ev.get("autostart")?;
        self.armed = Some(seconds);
        self.log.push(format!("set {seconds} {autostart:?}"));
        Ok(Value::Null)
    }

    fn timeout(&mut self, _cx: &mut Cx<Self>, ev: &Event) -> Ret {
        // Not declared for EV_TIMEOUT: read with `?`, the error names it.
        let extra: u8 = ev.get("extra")?;
        Ok(Value::from(extra))
    }

    fn start_up(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        if self.seconds == 0 {
            return Err(GobjError::failed("seconds must be positive"));
        }
        self.log
            .push(format!("start_up {} in {:?}", cx.name(), cx.state()));
        Ok(())
    }

    fn go_out(&mut self, cx: &mut Cx<Self>) {
        self.log.push(format!("go_out {}", cx.name()));
    }
}

#[test]
fn attrs_take_defaults_then_creation_keywords() {
    let m = Machine::<Timer>::new("t", &Kw::new()).unwrap();
    assert_eq!(m.gobj().seconds, 2);
    assert_eq!(m.gobj().command, "ls");
    assert_eq!(m.gobj().label, None);
    assert_eq!(m.gobj().armed, None);

    let kw = kw! { "seconds" => 5, "label" => "five" };
    let m = Machine::<Timer>::new("t", &kw).unwrap();
    assert_eq!(m.gobj().seconds, 5);
    assert_eq!(m.gobj().command, "ls");
    assert_eq!(m.gobj().label.as_deref(), Some("five"));
}

#[test]
fn bad_creation_keywords_are_named() {
    let error = Machine::<Timer>::new("t", &kw! { "secs" => 5 }).unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::UnknownAttr { gclass: "Timer", attr } if attr == "secs")
    );
    assert_eq!(error.to_string(), "`Timer` has no attr `secs`");

    let error = Machine::<Timer>::new("t", &kw! { "seconds" => "5" }).unwrap_err();
    assert_eq!(
        error.to_string(),
        "bad attr of `Timer`: key `seconds`: expected u64, found string"
    );
    let error = Machine::<Timer>::new("t", &kw! { "seconds" => -5 }).unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::BadAttr { .. }), "{error}");
}

#[test]
fn hooks_run_at_creation_and_destruction() {
    let m = Machine::<Timer>::new("t", &Kw::new()).unwrap();
    let timer = m.destroy();
    assert_eq!(timer.log, ["start_up t in ST_IDLE", "go_out t"]);

    let error = Machine::<Timer>::new("t", &kw! { "seconds" => 0 }).unwrap_err();
    assert_eq!(error.to_string(), "seconds must be positive");
}

#[test]
fn declared_payload_keys_are_checked_before_the_action() {
    let mut m = Machine::<Timer>::new("t", &Kw::new()).unwrap();
    let error = m.inject(TimerEvent::EV_SET_TIMER, Kw::new()).unwrap_err();
    assert!(matches!(error.kind(),
        ErrorKind::BadPayload { event: "EV_SET_TIMER", error: KwError::Missing { key }, .. } if key == "seconds"
    ));
    assert_eq!(
        error.to_string(),
        "event `EV_SET_TIMER` for gobj `t` of `Timer` has a bad payload: key `seconds` is missing"
    );
    let error = m
        .inject_by_name("EV_SET_TIMER", kw! { "seconds" => 1, "autostart" => "yes" })
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "event `EV_SET_TIMER` for gobj `t` of `Timer` has a bad payload: key `autostart`: expected bool, found string"
    );
    // Neither refusal changed the state or reached the action.
    assert_eq!(m.state(), TimerState::ST_IDLE);
    assert_eq!(m.gobj().log.len(), 1);

    m.inject(TimerEvent::EV_SET_TIMER, kw! { "seconds" => 3 })
        .unwrap();
    m.inject(
        TimerEvent::EV_SET_TIMER,
        kw! { "seconds" => 4, "autostart" => true },
    )
    .unwrap();
    assert_eq!(m.state(), TimerState::ST_ARMED);
    assert_eq!(m.gobj().armed, Some(4));
    assert_eq!(&m.gobj().log[1..], ["set 3 None", "set 4 Some(true)"]);
}

#[test]
fn an_action_reading_a_bad_key_gets_a_named_error() {
    let mut m = Machine::<Timer>::new("t", &Kw::new()).unwrap();
    m.inject(TimerEvent::EV_SET_TIMER, kw! { "seconds" => 1 })
        .unwrap();
    let error = m.inject(TimerEvent::EV_TIMEOUT, Kw::new()).unwrap_err();
    assert_eq!(error.to_string(), "bad payload: key `extra` is missing");
    assert_eq!(
        m.inject(TimerEvent::EV_SET_TIMER, kw! { "seconds" => 1 })
            .unwrap(),
        Value::Null
    );
    assert_eq!(
        m.inject(TimerEvent::EV_TIMEOUT, kw! { "extra" => 7 })
            .unwrap(),
        Value::Int(7)
    );
}

#[test]
fn metadata_describes_the_tables() {
    let meta = Timer::META;
    assert_eq!(meta.name(), "Timer");
    assert_eq!(meta.doc(), "Declared payloads, attrs and hooks.");
    let set = meta.event("EV_SET_TIMER").unwrap();
    assert!(set.input() && !set.output() && set.bottom() && !set.top());
    assert_eq!(set.doc(), "Arms or disarms.");
    let params: Vec<(&str, &str)> = set.params().iter().map(|p| (p.name(), p.ty())).collect();
    assert_eq!(params, [("seconds", "i64"), ("autostart", "Option<bool>")]);
    let fired = meta.event("EV_FIRED").unwrap();
    assert!(fired.output() && !fired.input() && fired.top());

    assert_eq!(
        meta.states().iter().map(|s| s.name()).collect::<Vec<_>>(),
        ["ST_IDLE", "ST_ARMED"]
    );
    let row = meta.row("ST_ARMED", "EV_TIMEOUT").unwrap();
    assert_eq!(row.action(), Some("timeout"));
    assert_eq!(row.next(), Some("ST_IDLE"));
    assert!(meta.row("ST_IDLE", "EV_TIMEOUT").is_none());
    assert_eq!(meta.rows().len(), 3);

    let attrs: Vec<(&str, &str, &str)> = meta
        .attrs()
        .iter()
        .map(|a| (a.name(), a.ty(), a.default()))
        .collect();
    assert_eq!(
        attrs,
        [
            ("seconds", "u64", "2"),
            ("command", "String", "\"ls\""),
            ("label", "Option<String>", "Default::default()"),
        ]
    );
    assert_eq!(meta.attr("seconds").unwrap().doc(), "Seconds between runs.");
}

gobj! {
    /// Attr defaults of several shapes.
    struct Defaults {
        #[attr(default = -1.5)]
        offset: f64,
        #[attr(default = 16_777_216)]
        buffer: u64,
        #[attr(default = Some(-3))]
        retries: Option<i64>,
        #[attr(default = vec!["a".to_owned(), "b".to_owned()])]
        names: Vec<String>,
        #[attr(default = u32::MAX - 1)]
        limit: u32,
    }
    events { EV_GO }
    states { ST_ONE }
    machine { ST_ONE { EV_GO } }
}

#[test]
fn attr_defaults_read_as_written() {
    let defaults: Vec<&str> = Defaults::META.attrs().iter().map(|a| a.default()).collect();
    assert_eq!(
        defaults,
        [
            "-1.5",
            "16_777_216",
            "Some(-3)",
            "vec![\"a\".to_owned(), \"b\".to_owned()]",
            "u32::MAX - 1",
        ]
    );
    let seconds = gaplic::GTimer::META.attr("seconds").unwrap();
    assert_eq!(seconds.default(), "-1.0");
    // The values themselves are the defaults' values.
    let gobj = Machine::<Defaults>::new("d", &Kw::new()).unwrap().destroy();
    assert_eq!((gobj.offset, gobj.buffer), (-1.5, 16_777_216));
    assert_eq!((gobj.retries, gobj.limit), (Some(-3), u32::MAX - 1));
    assert_eq!(gobj.names, ["a", "b"]);
}

#[test]
fn a_declared_payload_key_checks_payloads() {
    let params = Timer::META.event("EV_SET_TIMER").unwrap().params();
    let (seconds, autostart) = (&params[0], &params[1]);
    assert!(seconds.check(&kw! { "seconds" => 5 }).is_ok());
    assert!(matches!(
        seconds.check(&Kw::new()),
        Err(KwError::Missing { key }) if key == "seconds"
    ));
    assert!(matches!(
        seconds.check(&kw! { "seconds" => "5" }),
        Err(KwError::WrongType { key, .. }) if key == "seconds"
    ));
    // An `Option` key may be missing, not of another type.
    assert!(autostart.check(&Kw::new()).is_ok());
    assert!(autostart.check(&kw! { "autostart" => 1 }).is_err());
}

#[test]
fn symbols_convert_names_both_ways() {
    for (i, event) in TimerEvent::ALL.iter().enumerate() {
        assert_eq!(event.index(), i);
        assert_eq!(TimerEvent::from_name(event.name()), Some(*event));
        assert_eq!(Timer::META.events()[i].name(), event.name());
    }
    assert_eq!(TimerEvent::from_name("EV_SET_TIMER "), None);
    assert_eq!(
        TimerState::from_name("ST_ARMED"),
        Some(TimerState::ST_ARMED)
    );
    assert_eq!(TimerState::ST_ARMED.index(), 1);
}
