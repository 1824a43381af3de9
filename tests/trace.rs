//! The machine trace: with tracing on for a gobj or for all, each dispatch
//! writes a line carrying gclass, gobj, state, event, source and action.

use std::io::Write;
use std::sync::{Arc, Mutex};

use gaplic::prelude::*;
use gaplic::set_trace_all;

gobj! {
    struct Door {}
    events { EV_OPEN, EV_CLOSE }
    states { ST_CLOSED, ST_OPEN }
    machine {
        ST_CLOSED { EV_OPEN => swing -> ST_OPEN }
        ST_OPEN { EV_CLOSE -> ST_CLOSED }
    }
}

impl Door {
    fn swing(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        Ok(Value::from("creak"))
    }
}

/// A writer that appends to a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// Runs `f` with a subscriber that records every event as text.
fn capture(f: impl FnOnce()) -> String {
    let out = Captured::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .without_time()
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    out.text()
}

// One test only: `set_trace_all` is process-wide, and tests of a binary
// run in parallel.
#[test]
fn trace_lines_per_gobj_and_for_all() {
    let mut door = Machine::<Door>::new("front", &Kw::new()).unwrap();

    let quiet = capture(|| {
        door.inject(DoorEvent::EV_OPEN, Kw::new()).unwrap();
    });
    assert_eq!(quiet, "", "no trace unless asked");

    door.set_trace(true);
    let traced = capture(|| {
        door.inject(DoorEvent::EV_CLOSE, Kw::new()).unwrap();
        let ev = Event::new("EV_OPEN", Kw::new(), Some(GobjId::new(4, 2)));
        door.inject_event(DoorEvent::EV_OPEN, &ev).unwrap();
    });
    let lines: Vec<&str> = traced.lines().collect();
    assert_eq!(lines.len(), 4, "{traced}");
    for expected in [
        "-> mach",
        "gclass=\"Door\"",
        "gobj=front",
        "state=\"ST_OPEN\"",
        "event=\"EV_CLOSE\"",
        "source=\"-\"",
        "action=\"-\"",
    ] {
        assert!(lines[0].contains(expected), "{expected} in {}", lines[0]);
    }
    assert!(lines[1].contains("<- mach") && lines[1].contains("state=\"ST_CLOSED\""));
    assert!(lines[2].contains("action=\"swing\"") && lines[2].contains("source=\"#4.2\""));
    assert!(lines[3].contains("ret=\"creak\"") && lines[3].contains("state=\"ST_OPEN\""));

    door.set_trace(false);
    set_trace_all(true);
    let all = capture(|| {
        let _ = door.inject(DoorEvent::EV_OPEN, Kw::new());
    });
    set_trace_all(false);
    assert!(
        all.contains("-> mach") && all.contains("event=\"EV_OPEN\""),
        "{all}"
    );
    // A refusal is traced (as GinsFSM warns) even without the trace on.
    assert!(
        all.contains("WARN") && all.contains("not accepted by gobj `front`"),
        "{all}"
    );
}
