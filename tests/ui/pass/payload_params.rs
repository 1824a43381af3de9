// Pass: declared payload keys, required and `Option`, checked before the
// action runs; an event without a declaration takes any payload.
use gaplic::prelude::*;

gobj! {
    struct OnTimer {
        seconds: i64,
        autostart: bool,
    }
    events {
        EV_SET_TIMER: input { seconds: i64, autostart: Option<bool> },
        EV_ANY,
    }
    states { ST_IDLE }
    machine {
        ST_IDLE {
            EV_SET_TIMER => set_timer,
            EV_ANY,
        }
    }
}

impl OnTimer {
    fn set_timer(&mut self, _cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.seconds = ev.get("seconds")?;
        self.autostart = ev.get::<Option<bool>>("autostart")?.unwrap_or(false);
        Ok(Value::from(self.seconds))
    }
}

fn main() {
    let mut m = Machine::<OnTimer>::new("t", &kw! {}).unwrap();
    let ret = m.inject(OnTimerEvent::EV_SET_TIMER, kw! { "seconds" => 5 });
    assert_eq!(ret.unwrap(), Value::Int(5));
    assert!(!m.gobj().autostart);
    let ret = m.inject(
        OnTimerEvent::EV_SET_TIMER,
        kw! { "seconds" => 6, "autostart" => true },
    );
    assert_eq!(ret.unwrap(), Value::Int(6));
    assert!(m.gobj().autostart);

    let missing = m.inject(OnTimerEvent::EV_SET_TIMER, kw! { "autostart" => true });
    assert!(matches!(missing.as_ref().map_err(GobjError::kind), Err(ErrorKind::BadPayload { .. })));
    let wrong = m.inject(OnTimerEvent::EV_SET_TIMER, kw! { "seconds" => "5" });
    assert!(matches!(wrong.as_ref().map_err(GobjError::kind), Err(ErrorKind::BadPayload { .. })));
    let wrong = m.inject(
        OnTimerEvent::EV_SET_TIMER,
        kw! { "seconds" => 1, "autostart" => 1 },
    );
    assert!(matches!(wrong.as_ref().map_err(GobjError::kind), Err(ErrorKind::BadPayload { .. })));
    assert_eq!(m.gobj().seconds, 6);

    assert_eq!(
        m.inject(OnTimerEvent::EV_ANY, kw! { "whatever" => 1 })
            .unwrap(),
        Value::Null
    );

    let params = OnTimer::META.event("EV_SET_TIMER").unwrap().params();
    assert_eq!(params.len(), 2);
    assert_eq!((params[0].name(), params[0].ty()), ("seconds", "i64"));
    assert_eq!(
        (params[1].name(), params[1].ty()),
        ("autostart", "Option<bool>")
    );
    assert!(OnTimer::META.event("EV_ANY").unwrap().params().is_empty());
}
