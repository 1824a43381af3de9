//! Events between gobjs of one gaplic: send, post, run to completion
//! (GinsFSM scenarios 12, 13 and 27), refused events, panics, sources, and
//! events whose gobj was destroyed.

mod support;

use std::time::Duration;

use gaplic::prelude::*;
use support::{Parent, ParentEvent, ParentState, gaplic_with_p_and_c, warnings};

thread_local! {
    /// The data of every `EV_B` any `Echo` of this thread handled, even
    /// one that is gone since.
    static HANDLED: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

gobj! {
    /// Records the `EV_B`s it gets; the other events make it send or post.
    struct Echo {
        /// The data of each `EV_B`, in arrival order.
        log: Vec<String>,
        /// The source of each `EV_B`.
        sources: Vec<Option<GobjId>>,
        /// What its sends to itself returned.
        self_sends: Vec<Result<Sent, String>>,
    }
    events {
        EV_B: input { data: String },
        EV_START,
        EV_SEND_THREE,
        EV_POST_TO: input { to: GobjId },
        EV_SEND_TO: input { to: GobjId },
        EV_BOOM,
        EV_QUEUE_THEN_BOOM,
        EV_QUEUE_THEN_DIE,
        EV_IDLE_ONLY,
    }
    states { ST_IDLE, ST_AFTER_BOOM }
    machine {
        ST_IDLE {
            EV_B => record,
            EV_START => post_then_send,
            EV_SEND_THREE => send_three,
            EV_POST_TO => post_to,
            EV_SEND_TO => send_to,
            EV_BOOM => boom -> ST_AFTER_BOOM,
            EV_QUEUE_THEN_BOOM => queue_then_boom,
            EV_QUEUE_THEN_DIE => queue_then_die,
            EV_IDLE_ONLY => idle_only,
        }
        ST_AFTER_BOOM {
            EV_B => record,
            EV_BOOM => boom,
        }
    }
}

impl Echo {
    fn record(&mut self, _cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let data: String = ev.get("data")?;
        HANDLED.with(|h| h.borrow_mut().push(data.clone()));
        self.log.push(data.clone());
        self.sources.push(ev.source());
        Ok(Value::from(format!("got {data}")))
    }

    fn send_to_self(&mut self, cx: &mut Cx<Self>, data: &str) {
        let me = cx.id().expect("in a gaplic");
        let ret = cx.send(me, EchoEvent::EV_B, kw! { "data" => data });
        self.self_sends.push(ret.map_err(|e| e.to_string()));
    }

    /// GinsFSM's scenario 27: posts EV_B("posted"), then sends EV_B("sent").
    fn post_then_send(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        let me = cx.id().expect("in a gaplic");
        cx.post(me, EchoEvent::EV_B, kw! { "data" => "posted" })?;
        self.send_to_self(cx, "sent");
        self.log.push("start returns".to_owned());
        Ok(Value::from("started"))
    }

    fn send_three(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        for data in ["one", "two", "three"] {
            self.send_to_self(cx, data);
        }
        self.log.push("send_three returns".to_owned());
        Ok(Value::Null)
    }

    fn post_to(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        cx.post(ev.get::<GobjId>("to")?, "EV_B", kw! { "data" => "posted" })?;
        Ok(Value::Null)
    }

    fn send_to(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let sent = cx.send(ev.get::<GobjId>("to")?, "EV_B", kw! { "data" => "sent" })?;
        Ok(sent.into_value().unwrap_or(Value::from("queued")))
    }

    fn boom(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        panic!("boom!");
    }

    fn queue_then_boom(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.send_to_self(cx, "queued before the panic");
        panic!("boom after queueing");
    }

    fn queue_then_die(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.send_to_self(cx, "never delivered");
        let me = cx.id().expect("in a gaplic");
        cx.gaplic()?.destroy_gobj(me)?;
        Ok(Value::Null)
    }

    fn idle_only(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        Ok(Value::from("idle"))
    }
}

fn gaplic(name: &str) -> Gaplic {
    Gaplic::builder(name).virtual_clock().build().unwrap()
}

fn echo(gaplic: &mut Gaplic, name: &str) -> GobjId {
    gaplic
        .create_unique_gobj::<Echo>(name, None, Kw::new())
        .unwrap()
}

fn log_of(gaplic: &Gaplic, id: GobjId) -> Vec<String> {
    gaplic.gobj::<Echo>(id).unwrap().log.clone()
}

// ----- GinsFSM's test_gobj1 ---------------------------------------------------

/// Run to completion (DESIGN.md, "where we deliberately do better"): C's
/// answer, sent to P while P's forwarding action still runs, is queued
/// (C's send returns `Sent::Queued`) and delivered right after that
/// action returns, with P already in ST_WAIT_RESP. GinsFSM runs it
/// re-entrantly inside the action instead. The result the sender of the
/// query gets is thus what C returned, not P's "Done".
#[test]
fn scenario_12_a_direct_query_is_answered_after_the_forwarding_action() {
    let (mut g, p, c) = gaplic_with_p_and_c("ev-12");
    let ret = g
        .send(
            p,
            ParentEvent::EV_QUERY_BY_DIRECT,
            kw! { "data" => "query1" },
        )
        .unwrap();
    assert_eq!(ret, Value::from("reply queued"));
    let child = g.gobj::<support::Child>(c).unwrap();
    assert!(child.last_reply_queued, "{:?}", child.last_reply);
    let parent = g.gobj::<Parent>(p).unwrap();
    assert_eq!(parent.response.as_deref(), Some("OK"));
    assert_eq!(parent.answer_source, Some(c));
    assert_eq!(g.state_of(p), Some(ParentState::ST_IDLE.name()));

    g.send(
        p,
        ParentEvent::EV_QUERY_BY_DIRECT,
        kw! { "data" => "query2" },
    )
    .unwrap();
    assert_eq!(
        g.gobj::<Parent>(p).unwrap().response.as_deref(),
        Some("ERROR")
    );
    assert_eq!(g.state_of(p), Some("ST_IDLE"));
    assert_eq!(g.queued(), 0, "nothing went through the loop");
}

/// In GinsFSM the answer reaches P while P is in ST_IDLE, which refuses
/// it. In gaplic that still happens when the query reaches C while P is
/// not mid-action (here: from outside): C's send comes back NotAccepted.
/// When P itself sends the query (from its forwarding action), run to
/// completion (DESIGN.md, "where we deliberately do better") queues the
/// answer until P's action has returned, so it arrives in ST_WAIT_RESP and
/// the NotAccepted of GinsFSM does not happen.
#[test]
fn scenario_13_an_answer_to_an_idle_parent_is_not_accepted() {
    let (mut g, p, c) = gaplic_with_p_and_c("ev-13");
    let (error, traces) = warnings(|| {
        g.send(c, "EV_QUERY_BY_DIRECT", kw! { "data" => "query1" })
            .unwrap_err()
    });
    assert!(
        matches!(
            error.kind(),
            ErrorKind::NotAccepted {
                gclass: "Parent",
                state: "ST_IDLE",
                event: "EV_RESP_OK",
                ..
            }
        ),
        "{error}"
    );
    assert!(traces.contains("not accepted"), "{traces}");
    assert_eq!(g.gobj::<Parent>(p).unwrap().response, None);
    assert_eq!(g.state_of(p), Some("ST_IDLE"));

    // Through P, the answer waits for P's action and is accepted.
    g.send(p, "EV_QUERY_BY_DIRECT", kw! { "data" => "query1" })
        .unwrap();
    assert_eq!(g.gobj::<Parent>(p).unwrap().response.as_deref(), Some("OK"));
    assert_eq!(g.state_of(p), Some("ST_IDLE"));
}

/// GinsFSM handles the send at once, re-entrantly, inside the action. With
/// run to completion (DESIGN.md, "where we deliberately do better") the
/// send is queued (the sender gets `Sent::Queued`) and handled right
/// after the action returns, before the send that started it returns;
/// "posted" still waits for the next turn of the loop.
#[test]
fn scenario_27_a_send_to_itself_runs_after_the_action_a_post_on_the_next_turn() {
    let mut g = gaplic("ev-27");
    let e = echo(&mut g, "e");
    let ret = g.send(e, EchoEvent::EV_START, Kw::new()).unwrap();
    assert_eq!(ret, Value::from("started"));
    let echo = g.gobj::<Echo>(e).unwrap();
    assert_eq!(echo.log, ["start returns", "sent"]);
    assert_eq!(echo.self_sends, [Ok(Sent::Queued)]);
    assert_eq!(g.queued(), 1);

    assert!(!g.turn());
    assert_eq!(log_of(&g, e), ["start returns", "sent", "posted"]);
    assert_eq!(g.queued(), 0);
}

// ----- send and post --------------------------------------------------------------

#[test]
fn send_returns_the_action_result_by_id_or_unique_name_typed_or_by_name() {
    let mut g = gaplic("ev-send");
    let e = echo(&mut g, "e");
    let got = |s: &str| Value::from(format!("got {s}"));
    assert_eq!(
        g.send(e, EchoEvent::EV_B, kw! { "data" => "1" }).unwrap(),
        got("1")
    );
    assert_eq!(
        g.send("e", "EV_B", kw! { "data" => "2" }).unwrap(),
        got("2")
    );
    let name = String::from("e");
    assert_eq!(
        g.send(&name, String::from("EV_B"), kw! { "data" => "3" })
            .unwrap(),
        got("3")
    );
    // A typed event of another gclass is resolved by its name.
    let (mut g2, p, _c) = gaplic_with_p_and_c("ev-send-2");
    let error = g2.send(p, EchoEvent::EV_START, Kw::new()).unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::UnknownEvent { gclass: "Parent", event, .. } if event == "EV_START"),
        "{error}"
    );
    let e2 = echo(&mut g2, "e2");
    assert!(
        g2.send(e2, ParentEvent::EV_QUERY_BY_DIRECT, Kw::new())
            .unwrap_err()
            .is_not_accepted()
    );
    assert_eq!(log_of(&g, e), ["1", "2", "3"]);
    assert!(!g.has_work());
}

#[test]
fn an_unknown_unique_name_is_refused() {
    let mut g = gaplic("ev-unknown-name");
    echo(&mut g, "e");
    let error = g.send("nobody", "EV_B", kw! { "data" => "x" }).unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::UnknownGobj { name } if name == "nobody"),
        "{error}"
    );
    assert_eq!(error.to_string(), "no gobj is named `nobody`");
    let error = g.post("nobody", "EV_B", kw! { "data" => "x" }).unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::UnknownGobj { name } if name == "nobody"),
        "{error}"
    );
    assert_eq!(g.queued(), 0, "a refused post is not queued");
}

#[test]
fn an_unknown_event_or_one_the_state_does_not_accept_is_refused_and_the_state_stays() {
    let mut g = gaplic("ev-not-accepted");
    let e = echo(&mut g, "e");
    let (error, traces) = warnings(|| g.send(e, "EV_NOPE", Kw::new()).unwrap_err());
    assert!(
        matches!(error.kind(), ErrorKind::UnknownEvent { gclass: "Echo", gobj, event } if &**gobj == "e" && event == "EV_NOPE"),
        "{error}"
    );
    assert!(error.is_not_accepted());
    assert!(traces.contains("EV_NOPE"), "{traces}");

    // Move to ST_AFTER_BOOM, which does not accept EV_IDLE_ONLY.
    g.send(e, EchoEvent::EV_BOOM, Kw::new()).unwrap_err();
    assert_eq!(g.state_of(e), Some("ST_AFTER_BOOM"));
    let (error, traces) = warnings(|| g.send(e, EchoEvent::EV_IDLE_ONLY, Kw::new()).unwrap_err());
    assert!(
        matches!(
            error.kind(),
            ErrorKind::NotAccepted {
                gclass: "Echo",
                state: "ST_AFTER_BOOM",
                event: "EV_IDLE_ONLY",
                ..
            }
        ),
        "{error}"
    );
    assert!(
        traces.contains(
            "event `EV_IDLE_ONLY` not accepted by gobj `e` of `Echo` in state `ST_AFTER_BOOM`"
        ),
        "{traces}"
    );
    assert_eq!(g.state_of(e), Some("ST_AFTER_BOOM"));
}

#[test]
fn a_bad_payload_is_refused_before_the_action() {
    let mut g = gaplic("ev-bad-payload");
    let e = echo(&mut g, "e");
    let error = g.send(e, EchoEvent::EV_B, kw! { "data" => 5 }).unwrap_err();
    assert!(
        matches!(
            error.kind(),
            ErrorKind::BadPayload {
                gclass: "Echo",
                event: "EV_B",
                ..
            }
        ),
        "{error}"
    );
    let error = g.send(e, EchoEvent::EV_B, Kw::new()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "event `EV_B` for gobj `e` of `Echo` has a bad payload: key `data` is missing"
    );
    assert!(log_of(&g, e).is_empty());
}

#[test]
fn a_posted_event_that_is_refused_is_traced_and_the_loop_goes_on() {
    let mut g = gaplic("ev-posted-refused");
    let e = echo(&mut g, "e");
    g.send(e, EchoEvent::EV_BOOM, Kw::new()).unwrap_err();
    g.post(e, EchoEvent::EV_IDLE_ONLY, Kw::new()).unwrap();
    g.post(e, "EV_NOPE", Kw::new()).unwrap();
    g.post(e, EchoEvent::EV_B, kw! { "data" => "after" })
        .unwrap();
    let ((), traces) = warnings(|| g.run_until_idle());
    assert!(
        traces.contains("event failed and nobody receives its result"),
        "{traces}"
    );
    assert!(traces.contains("EV_IDLE_ONLY"), "{traces}");
    assert!(traces.contains("EV_NOPE"), "{traces}");
    assert_eq!(log_of(&g, e), ["after"]);
}

/// GinsFSM re-sends a posted event with the gaplic as its source; gaplic
/// keeps the real one (DESIGN.md, "where we deliberately do better").
#[test]
fn posted_events_keep_their_real_source() {
    let mut g = gaplic("ev-source");
    let a = echo(&mut g, "a");
    let b = echo(&mut g, "b");
    g.send(a, EchoEvent::EV_POST_TO, kw! { "to" => b }).unwrap();
    assert!(log_of(&g, b).is_empty(), "not before the loop");
    g.send(a, EchoEvent::EV_SEND_TO, kw! { "to" => b }).unwrap();
    g.post(b, EchoEvent::EV_B, kw! { "data" => "from outside" })
        .unwrap();
    g.run_until_idle();
    let got = g.gobj::<Echo>(b).unwrap();
    assert_eq!(got.log, ["sent", "posted", "from outside"]);
    assert_eq!(got.sources, [Some(a), Some(a), None]);
}

#[test]
fn sends_to_a_gobj_mid_action_are_delivered_in_order_after_it_with_their_source() {
    let mut g = gaplic("ev-rtc-order");
    let e = echo(&mut g, "e");
    g.send(e, EchoEvent::EV_SEND_THREE, Kw::new()).unwrap();
    let echo = g.gobj::<Echo>(e).unwrap();
    assert_eq!(echo.log, ["send_three returns", "one", "two", "three"]);
    assert_eq!(echo.sources, [Some(e); 3]);
    assert_eq!(echo.self_sends, vec![Ok(Sent::Queued); 3]);
}

// ----- panics ---------------------------------------------------------------------

/// "A panic inside a user action is caught, traced, and reported as an
/// error without taking the gaplic down" (DESIGN.md, "Bad input"). As with
/// an action's error (GinsFSM scenario 10), the next state stays set.
#[test]
fn a_panicking_action_is_reported_to_the_sender_and_the_gaplic_goes_on() {
    let mut g = gaplic("ev-panic");
    let e = echo(&mut g, "e");
    let other = echo(&mut g, "other");
    let (error, traces) = warnings(|| g.send(e, EchoEvent::EV_BOOM, Kw::new()).unwrap_err());
    assert!(
        matches!(error.kind(), ErrorKind::Panicked { gclass: "Echo", gobj, event: "EV_BOOM", message }
            if &**gobj == "e" && message == "boom!"),
        "{error}"
    );
    assert_eq!(
        error.to_string(),
        "gobj `e` of `Echo` panicked handling `EV_BOOM`: boom!"
    );
    assert!(
        traces.contains("panicked handling `EV_BOOM`: boom!"),
        "{traces}"
    );
    assert_eq!(g.state_of(e), Some("ST_AFTER_BOOM"));

    // The gobj still answers, and so does everyone else.
    assert_eq!(
        g.send(e, EchoEvent::EV_B, kw! { "data" => "alive" })
            .unwrap(),
        Value::from("got alive")
    );
    assert_eq!(
        g.send(other, EchoEvent::EV_B, kw! { "data" => "alive" })
            .unwrap(),
        Value::from("got alive")
    );
    assert_eq!(
        g.send(other, EchoEvent::EV_SEND_TO, kw! { "to" => e })
            .unwrap(),
        Value::from("got sent")
    );
    // And it panics again when told to.
    let error = g.send(e, EchoEvent::EV_BOOM, Kw::new()).unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::Panicked { .. }),
        "{error}"
    );
}

#[test]
fn events_queued_before_a_panic_are_still_delivered() {
    let mut g = gaplic("ev-panic-queued");
    let e = echo(&mut g, "e");
    let error = g
        .send(e, EchoEvent::EV_QUEUE_THEN_BOOM, Kw::new())
        .unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::Panicked { event: "EV_QUEUE_THEN_BOOM", message, .. } if message == "boom after queueing"),
        "{error}"
    );
    assert_eq!(log_of(&g, e), ["queued before the panic"]);
}

#[test]
fn a_panicking_posted_event_is_traced_and_the_loop_goes_on() {
    let mut g = gaplic("ev-panic-posted");
    let e = echo(&mut g, "e");
    g.post(e, EchoEvent::EV_BOOM, Kw::new()).unwrap();
    g.post(e, EchoEvent::EV_B, kw! { "data" => "next" })
        .unwrap();
    let (more, traces) = warnings(|| g.turn());
    assert!(!more);
    assert!(
        traces.contains("panicked handling `EV_BOOM`: boom!"),
        "{traces}"
    );
    assert_eq!(log_of(&g, e), ["next"]);
    assert_eq!(g.state_of(e), Some("ST_AFTER_BOOM"));
}

// ----- events for destroyed gobjs ----------------------------------------------

#[test]
fn posted_events_for_a_destroyed_gobj_are_dropped_with_a_trace_and_never_reach_its_slot() {
    let mut g = gaplic("ev-posted-destroyed");
    let a = echo(&mut g, "a");
    g.post(a, EchoEvent::EV_B, kw! { "data" => "for a" })
        .unwrap();
    g.post("a", EchoEvent::EV_B, kw! { "data" => "for a too" })
        .unwrap();
    g.destroy_gobj(a).unwrap();
    let b = echo(&mut g, "b");
    assert_eq!(b.index(), a.index());
    let ((), traces) = warnings(|| g.run_until_idle());
    assert!(log_of(&g, b).is_empty());
    assert!(
        traces.contains("event failed and nobody receives its result"),
        "{traces}"
    );
    assert!(
        traces.contains(&format!("gobj {a} is destroyed")),
        "{traces}"
    );
    assert_eq!(traces.matches("EV_B").count(), 2, "{traces}");
}

/// `destroy_gobj`: "events queued for it are dropped with a trace", also
/// the one it sent itself before asking for its destruction: it never runs
/// after `go_out`.
#[test]
fn an_event_pending_for_a_gobj_destroyed_mid_action_is_dropped_with_a_trace() {
    let mut g = gaplic("ev-pending-destroyed");
    let a = echo(&mut g, "a");
    let (ret, traces) = warnings(|| g.send(a, EchoEvent::EV_QUEUE_THEN_DIE, Kw::new()));
    assert_eq!(ret.unwrap(), Value::Null);
    assert!(!g.contains(a));
    let handled = HANDLED.with(|h| h.borrow().clone());
    assert!(
        handled.is_empty(),
        "handled by the destroyed gobj: {handled:?}"
    );
    assert!(
        traces.contains("event dropped: its gobj was destroyed before it could be delivered"),
        "{traces}"
    );
    assert!(traces.contains("EV_B"), "{traces}");
    let b = echo(&mut g, "b");
    assert_eq!(b.index(), a.index());
    g.run_until_idle();
    assert!(log_of(&g, b).is_empty());
}

// ----- deferring is not failing; errors nobody receives are traced -----------------

gobj! {
    /// Asks its peer, and notes the answer when it comes.
    struct Asker {
        #[attr]
        peer: Option<GobjId>,
        log: Vec<String>,
    }
    events {
        EV_GO,
        EV_POST_GO,
        EV_ANSWER: input { n: i64 },
    }
    states { ST_IDLE }
    machine {
        ST_IDLE {
            EV_GO => go,
            EV_POST_GO => post_go,
            EV_ANSWER => answer,
        }
    }
}

impl Asker {
    fn go(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        let peer = self.peer.expect("given at creation");
        let sent = cx.send(peer, "EV_ASK", Kw::new())?;
        self.log.push(format!("asked: {sent:?}"));
        Ok(Value::Null)
    }

    fn post_go(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        let peer = self.peer.expect("given at creation");
        cx.post(peer, "EV_ASK", Kw::new())?;
        self.log.push("posted".to_owned());
        Ok(Value::Null)
    }

    fn answer(&mut self, _cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.log.push(format!("answer {}", ev.get::<i64>("n")?));
        Ok(Value::from("thanks"))
    }
}

gobj! {
    /// Answers whoever asks, then goes on with its action.
    struct Answerer {
        answers: i64,
        log: Vec<String>,
    }
    events { EV_ASK }
    states { ST_IDLE }
    machine { ST_IDLE { EV_ASK => ask } }
}

impl Answerer {
    fn ask(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.answers += 1;
        let sent = cx.reply(ev, "EV_ANSWER", kw! { "n" => self.answers })?;
        self.log.push(format!("replied: {sent:?}"));
        Ok(Value::from(self.answers))
    }
}

/// A new user answered a socket from inside an action with `cx.send(...)?`;
/// the receiver was mid-action, `send` returned `Err(Queued)` and `?`
/// aborted the action half-way, silently. Deferring is not a failure now:
/// the answer is queued behind the asker's action and the answerer's
/// action goes on.
#[test]
fn a_reply_to_a_sender_that_is_mid_action_is_queued_and_the_action_goes_on() {
    let mut g = gaplic("ev-reply-busy");
    let answerer = g
        .create_gobj::<Answerer>("answerer", None, Kw::new())
        .unwrap();
    let asker = g
        .create_gobj::<Asker>("asker", None, kw! { "peer" => answerer })
        .unwrap();
    let ((), traces) = warnings(|| {
        g.send(asker, AskerEvent::EV_GO, Kw::new()).unwrap();
    });
    assert!(traces.is_empty(), "{traces}");
    assert_eq!(
        g.gobj::<Asker>(asker).unwrap().log,
        ["asked: Done(Int(1))", "answer 1"]
    );
    assert_eq!(
        g.gobj::<Answerer>(answerer).unwrap().log,
        ["replied: Queued"]
    );

    // Asked by post, the asker is idle when the answer comes: a direct send.
    g.send(asker, AskerEvent::EV_POST_GO, Kw::new()).unwrap();
    g.run_until_idle();
    assert_eq!(
        g.gobj::<Asker>(asker).unwrap().log[2..],
        ["posted", "answer 2"]
    );
    assert_eq!(
        g.gobj::<Answerer>(answerer).unwrap().log[1],
        r#"replied: Done(Str("thanks"))"#
    );
}

#[test]
fn a_reply_to_an_event_from_no_gobj_is_an_error_that_names_the_event() {
    let mut g = gaplic("ev-reply-nobody");
    let answerer = g
        .create_gobj::<Answerer>("answerer", None, Kw::new())
        .unwrap();
    let error = g.send(answerer, "EV_ASK", Kw::new()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "event `EV_ASK` came from no gobj: there is nobody to reply to"
    );
}

gobj! {
    /// Fails every event it gets, in state `ST_GRUMPY`; on `EV_SELF`,
    /// sends itself `EV_FAIL` (queued behind that action).
    struct Grump {}
    events { EV_FAIL, EV_NEWS, EV_SELF }
    states { ST_GRUMPY }
    machine {
        ST_GRUMPY {
            EV_FAIL => fail,
            EV_NEWS => fail,
            EV_SELF => send_self,
        }
    }
}

impl Grump {
    fn send_self(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        let me = cx.id().expect("in a gaplic");
        assert!(cx.send(me, GrumpEvent::EV_FAIL, Kw::new())?.is_queued());
        Ok(Value::Null)
    }

    fn fail(&mut self, _cx: &mut Cx<Self>, ev: &Event) -> Ret {
        Err(GobjError::failed(format!("grumpy about {}", ev.name())))
    }
}

gobj! {
    /// Publishes EV_NEWS.
    struct Crier {}
    events { EV_CRY, EV_NEWS: output }
    states { ST_IDLE }
    machine { ST_IDLE { EV_CRY => cry } }
}

impl Crier {
    fn cry(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        cx.broadcast(CrierEvent::EV_NEWS, Kw::new())?;
        Ok(Value::Null)
    }
}

/// An `Err` that no caller receives is traced at WARN with the gclass, the
/// gobj, its state and the event, whatever path the event took.
#[test]
fn errors_nobody_receives_are_traced_with_gclass_gobj_state_and_event() {
    let mut g = gaplic("ev-unreceived");
    let grump = g.create_gobj::<Grump>("grump", None, Kw::new()).unwrap();
    let crier = g.create_gobj::<Crier>("crier", None, Kw::new()).unwrap();
    g.subscribe(crier, Some("EV_NEWS"), grump, SubscribeOptions::new())
        .unwrap();
    let line = |event: &str| {
        format!(
            r#"gclass="Grump" gobj="grump" id={grump} state="ST_GRUMPY" event="{event}" error=grumpy about {event}"#
        )
    };
    type Cause = Box<dyn FnOnce(&mut Gaplic)>;
    let paths: [(&str, &str, Cause); 4] = [
        (
            "posted",
            "EV_FAIL",
            Box::new(move |g| g.post(grump, GrumpEvent::EV_FAIL, Kw::new()).unwrap()),
        ),
        (
            "timer",
            "EV_FAIL",
            Box::new(move |g| {
                g.set_gobj_timer(
                    grump,
                    Duration::from_millis(1),
                    GrumpEvent::EV_FAIL,
                    Kw::new(),
                )
                .unwrap();
            }),
        ),
        (
            "broadcast",
            "EV_NEWS",
            Box::new(move |g| {
                g.send(crier, CrierEvent::EV_CRY, Kw::new()).unwrap();
            }),
        ),
        (
            "queued send",
            "EV_FAIL",
            Box::new(move |g| {
                g.send(grump, GrumpEvent::EV_SELF, Kw::new()).unwrap();
            }),
        ),
    ];
    for (path, event, cause) in paths {
        let ((), traces) = warnings(|| {
            cause(&mut g);
            g.advance(Duration::from_millis(5));
        });
        assert!(
            traces.contains("nobody receives its result"),
            "{path}: {traces}"
        );
        assert!(traces.contains(&line(event)), "{path}: {traces}");
    }
}
