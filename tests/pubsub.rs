//! Publish / subscribe: GinsFSM scenarios 15 to 19 and 21, and every
//! subscription option.

mod support;

use std::cell::RefCell;

use gaplic::SubscriptionId;
use gaplic::prelude::*;
use support::{Parent, ParentEvent, gaplic_with_p_and_c, warnings};

thread_local! {
    /// The names of the listeners in the order they got events.
    static ORDER: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

fn take_order() -> Vec<String> {
    ORDER.with(|o| std::mem::take(&mut *o.borrow_mut()))
}

gobj! {
    /// Publishes EV_A and EV_B; notes the new-subscriber notices it gets.
    struct Publisher {
        notices: Vec<Kw>,
    }
    events {
        EV_NEW_SUBSCRIBER,
        EV_INPUT_ONLY,
        EV_A: output,
        EV_B: output,
    }
    states { ST_IDLE }
    machine {
        ST_IDLE {
            EV_NEW_SUBSCRIBER => note,
            EV_INPUT_ONLY -> ST_IDLE,
        }
    }
}

impl Publisher {
    fn note(&mut self, _cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.notices.push(ev.kw().clone());
        Ok(Value::Null)
    }
}

gobj! {
    /// Keeps every event it gets.
    struct Listener {
        /// On its next EV_A, subscribes this gobj to the publisher's EV_A.
        #[attr]
        recruit: Option<GobjId>,
        /// On its next EV_A, destroys this gobj.
        #[attr]
        victim: Option<GobjId>,
        /// Panics on EV_B.
        #[attr(default = false)]
        panic_on_b: bool,
        /// On each EV_A, unsubscribes these gobjs from the publisher's EV_A.
        #[attr]
        unsubscribe: Vec<Value>,
        /// On each EV_A, subscribes itself to the publisher's EV_A again.
        #[attr(default = false)]
        resubscribe: bool,
        got: Vec<Event>,
    }
    events { EV_A, EV_B, EV_RENAMED }
    states { ST_IDLE }
    machine {
        ST_IDLE {
            EV_A => keep,
            EV_B => keep,
            EV_RENAMED => keep,
        }
    }
}

impl Listener {
    fn keep(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        ORDER.with(|o| o.borrow_mut().push(cx.name().to_owned()));
        if self.panic_on_b && ev.name() == "EV_B" {
            panic!("{} panics on EV_B", cx.name());
        }
        self.got.push(ev.clone());
        if let Some(victim) = self.victim.take() {
            cx.gaplic()?.destroy_gobj(victim)?;
        }
        if let (Some(recruit), Some(publisher)) = (self.recruit.take(), ev.source()) {
            cx.gaplic()?
                .subscribe(publisher, Some("EV_A"), recruit, SubscribeOptions::new())?;
        }
        if let Some(publisher) = ev.source().filter(|_| ev.name() == "EV_A") {
            for other in &self.unsubscribe {
                let other = GobjId::from_value(other).expect("gobj ids");
                cx.gaplic()?
                    .unsubscribe(publisher, Some("EV_A"), other, false)?;
            }
            if self.resubscribe {
                cx.subscribe(publisher, Some("EV_A"), SubscribeOptions::new())?;
            }
        }
        Ok(Value::from(cx.name()))
    }
}

fn gaplic(name: &str) -> Gaplic {
    Gaplic::builder(name).virtual_clock().build().unwrap()
}

fn publisher(g: &mut Gaplic) -> GobjId {
    g.create_gobj::<Publisher>("pub", None, Kw::new()).unwrap()
}

fn listener(g: &mut Gaplic, name: &str) -> GobjId {
    g.create_gobj::<Listener>(name, None, Kw::new()).unwrap()
}

fn got(g: &Gaplic, listener: GobjId) -> Vec<Event> {
    g.gobj::<Listener>(listener).unwrap().got.clone()
}

fn names(g: &Gaplic, listener: GobjId) -> Vec<&'static str> {
    got(g, listener).iter().map(Event::name).collect()
}

fn plain() -> SubscribeOptions {
    SubscribeOptions::new()
}

// ----- GinsFSM's test_gobj1 ---------------------------------------------------

/// The broadcast reaches P, by send, while P's forwarding action still
/// runs: run to completion (DESIGN.md, "where we deliberately do better")
/// delivers it right after that action, in ST_WAIT_RESP, as GinsFSM's
/// re-entrant send did inside it.
#[test]
fn scenario_15_a_repeated_subscription_replaces_the_first() {
    let (mut g, p, c) = gaplic_with_p_and_c("ps-15");
    let first = g.subscribe(c, Some("EV_RESP_OK"), p, plain()).unwrap();
    let second = g.subscribe(c, Some("EV_RESP_OK"), p, plain()).unwrap();
    assert_eq!(g.subscription_count(c), 1);
    assert_eq!(first, second, "updated in place, keeping its identity");

    let ret = g
        .send(
            p,
            ParentEvent::EV_QUERY_BY_BROADCAST,
            kw! { "data" => "query3" },
        )
        .unwrap();
    assert_eq!(ret, Value::from("broadcast"));
    let parent = g.gobj::<Parent>(p).unwrap();
    assert_eq!(parent.response.as_deref(), Some("OK"));
    assert_eq!(parent.answer_source, Some(c));
    assert_eq!(g.state_of(p), Some("ST_IDLE"));

    assert!(g.delete_subscription(second, false).is_ok());
    assert_eq!(g.subscription_count(c), 0);
    g.gobj_mut::<Parent>(p).unwrap().response = None;
    g.send(
        p,
        ParentEvent::EV_QUERY_BY_BROADCAST,
        kw! { "data" => "query3" },
    )
    .unwrap();
    assert_eq!(g.gobj::<Parent>(p).unwrap().response, None);
    assert_eq!(g.state_of(p), Some("ST_WAIT_RESP"), "nobody answered");
}

/// GinsFSM's `(None,)` is the same as `None` there; gaplic has only `None`.
#[test]
fn scenario_16_subscribing_to_several_or_to_all_events() {
    let both: [Option<&str>; 2] = [Some("EV_RESP_OK"), Some("EV_RESP_ERROR")];
    let all: [Option<&str>; 1] = [None];
    let cases: [&[Option<&str>]; 2] = [&both, &all];
    for (i, events) in cases.into_iter().enumerate() {
        let (mut g, p, c) = gaplic_with_p_and_c(&format!("ps-16-{i}"));
        for event in events {
            g.subscribe(c, *event, p, plain()).unwrap();
        }
        assert_eq!(g.subscription_count(c), events.len());
        g.send(
            p,
            ParentEvent::EV_QUERY_BY_BROADCAST,
            kw! { "data" => "query4" },
        )
        .unwrap();
        assert_eq!(
            g.gobj::<Parent>(p).unwrap().response.as_deref(),
            Some("ERROR"),
            "{events:?}"
        );
        assert_eq!(g.state_of(p), Some("ST_IDLE"));
    }

    // Subscribed to EV_RESP_OK only, the error answer does not come.
    let (mut g, p, c) = gaplic_with_p_and_c("ps-16-ok-only");
    g.subscribe(c, Some("EV_RESP_OK"), p, plain()).unwrap();
    g.send(
        p,
        ParentEvent::EV_QUERY_BY_BROADCAST,
        kw! { "data" => "query4" },
    )
    .unwrap();
    assert_eq!(g.gobj::<Parent>(p).unwrap().response, None);
    assert_eq!(g.state_of(p), Some("ST_WAIT_RESP"));
}

#[test]
fn scenario_17_a_renamed_subscription() {
    let (mut g, p, c) = gaplic_with_p_and_c("ps-17");
    g.subscribe(
        c,
        Some("EV_RESP_OK"),
        p,
        plain().rename("EV_RESP_RENAME_OK"),
    )
    .unwrap();
    g.send(
        p,
        ParentEvent::EV_QUERY_BY_BROADCAST,
        kw! { "data" => "query3" },
    )
    .unwrap();
    let parent = g.gobj::<Parent>(p).unwrap();
    assert_eq!(parent.response.as_deref(), Some("OKrenamed"));
    assert_eq!(parent.original.as_deref(), Some("EV_RESP_OK"));
    assert_eq!(parent.reference, None);
    assert_eq!(g.state_of(p), Some("ST_IDLE"));
}

/// GinsFSM's subscriber `1`, the event list `(EV_RESP_OK, 1)` and
/// `_add_child` of a gobj that has a parent are refused at run time; in
/// gaplic the subscriber is a `GobjId` or a name, the event an
/// `Option<&str>`, and the parent is fixed at creation, so those do not
/// compile. The run-time refusals are checked here.
#[test]
fn scenario_18_subscription_errors() {
    let (mut g, p, c) = gaplic_with_p_and_c("ps-18");
    for event in ["EV_XXX", "EV_QUERY_BY_DIRECT"] {
        let error = g.subscribe(c, Some(event), p, plain()).unwrap_err();
        assert!(
            matches!(error.kind(), ErrorKind::NotOutput { gclass: "Child", event: e } if e == event),
            "{error}"
        );
    }
    assert_eq!(
        g.subscribe(c, Some("EV_XXX"), p, plain())
            .unwrap_err()
            .to_string(),
        "event `EV_XXX` is not an output event of `Child`"
    );
    assert_eq!(g.subscription_count(c), 0, "nothing was stored");

    let gone = g.create_gobj::<Listener>("gone", None, Kw::new()).unwrap();
    g.destroy_gobj(gone).unwrap();
    let error = g
        .subscribe(c, Some("EV_RESP_OK"), gone, plain())
        .unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::Destroyed { gobj } if *gobj == gone),
        "{error}"
    );
    let error = g.subscribe(gone, Some("EV_A"), p, plain()).unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::Destroyed { gobj } if *gobj == gone),
        "{error}"
    );

    let id = g.subscribe(c, Some("EV_RESP_OK"), p, plain()).unwrap();
    assert!(g.delete_subscription(id, false).is_ok());
    assert!(g.delete_subscription(id, false).is_err());
    assert!(g.unsubscribe(c, Some("EV_RESP_OK"), p, false).is_err());
    assert!(g.unsubscribe(c, Some("EV_XXX"), p, true).is_err());
    assert!(g.unsubscribe(gone, None, p, true).is_err());
}

gobj! {
    /// A receptor of scenario 19: answers `true` to the pulse of its index.
    struct Receptor {
        #[attr(default = 0)]
        index: i64,
        hits: u32,
        seen: u32,
    }
    events { EV_PULSE: input { n: i64 } }
    states { ST_IDLE }
    machine { ST_IDLE { EV_PULSE => pulse } }
}

impl Receptor {
    fn pulse(&mut self, _cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.seen += 1;
        let mine = ev.get::<i64>("n")? == self.index;
        if mine {
            self.hits += 1;
        }
        Ok(Value::from(mine))
    }
}

gobj! {
    /// Sends the pulses of scenario 19.
    struct Pulser {}
    events { EV_NOTHING, EV_PULSE: output }
    states { ST_IDLE }
    machine { ST_IDLE { EV_NOTHING -> ST_IDLE } }
}

/// GinsFSM delivers in hash order, so which receptors a stopped broadcast
/// reached depends on it (GINSFSM.md, section 9); gaplic delivers in
/// subscription order (`Gaplic::broadcast`), so the receptors reached are
/// exactly 1..=n.
#[test]
fn scenario_19_the_owned_event_filter_stops_the_broadcast() {
    let mut g = gaplic("ps-19");
    let pulser = g.create_gobj::<Pulser>("pulser", None, Kw::new()).unwrap();
    let receptors: Vec<GobjId> = (1..=4)
        .map(|i| {
            let r = g
                .create_gobj::<Receptor>(&format!("r{i}"), None, kw! { "index" => i })
                .unwrap();
            g.subscribe(pulser, Some("EV_PULSE"), r, plain()).unwrap();
            r
        })
        .collect();
    g.set_owned_event_filter(pulser, |ret| matches!(ret, Ok(Value::Bool(true))))
        .unwrap();

    let expected = [[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]];
    for (n, counts) in (1_i64..).zip(expected) {
        g.broadcast(pulser, "EV_PULSE", kw! { "n" => n }).unwrap();
        let hits: Vec<u32> = receptors
            .iter()
            .map(|r| g.gobj::<Receptor>(*r).unwrap().hits)
            .collect();
        assert_eq!(hits, counts, "after pulse {n}");
    }
    let seen: Vec<u32> = receptors
        .iter()
        .map(|r| g.gobj::<Receptor>(*r).unwrap().seen)
        .collect();
    assert_eq!(seen, [4, 3, 2, 1]);
}

#[test]
fn the_owned_event_filter_sees_only_sent_deliveries() {
    let mut g = gaplic("ps-filter-post");
    let publisher = publisher(&mut g);
    let by_post = listener(&mut g, "by-post");
    let by_send = listener(&mut g, "by-send");
    let after = listener(&mut g, "after");
    g.subscribe(publisher, Some("EV_A"), by_post, plain().post())
        .unwrap();
    g.subscribe(publisher, Some("EV_A"), by_send, plain())
        .unwrap();
    g.subscribe(publisher, Some("EV_A"), after, plain())
        .unwrap();
    let seen = std::rc::Rc::new(RefCell::new(Vec::new()));
    let seen_in_filter = seen.clone();
    g.set_owned_event_filter(publisher, move |ret| {
        seen_in_filter.borrow_mut().push(ret.as_ref().ok().cloned());
        true
    })
    .unwrap();
    g.broadcast(publisher, "EV_A", Kw::new()).unwrap();
    g.run_until_idle();
    assert_eq!(*seen.borrow(), [Some(Value::from("by-send"))]);
    assert_eq!(names(&g, by_post), ["EV_A"]);
    assert_eq!(names(&g, by_send), ["EV_A"]);
    assert!(
        names(&g, after).is_empty(),
        "the filter stopped the broadcast"
    );
}

// ----- subscribers --------------------------------------------------------------

/// GinsFSM's string subscriber: the name is looked up at each delivery.
#[test]
fn scenario_21_a_unique_name_subscriber_is_resolved_at_delivery() {
    let mut g = gaplic("ps-21");
    let publisher = publisher(&mut g);
    g.subscribe(publisher, Some("EV_A"), "principal", plain())
        .unwrap();
    let ((), traces) = warnings(|| g.broadcast(publisher, "EV_A", Kw::new()).unwrap());
    assert!(traces.contains("subscriber not found"), "{traces}");

    let first = g
        .create_unique_gobj::<Listener>("principal", None, Kw::new())
        .unwrap();
    g.broadcast(publisher, "EV_A", Kw::new()).unwrap();
    assert_eq!(names(&g, first), ["EV_A"]);

    g.destroy_gobj(first).unwrap();
    assert_eq!(
        g.subscription_count(publisher),
        1,
        "a name outlives its gobj"
    );
    let second = g
        .create_unique_gobj::<Listener>("principal", None, Kw::new())
        .unwrap();
    g.broadcast(publisher, "EV_A", kw! { "n" => 2 }).unwrap();
    let second_got = got(&g, second);
    assert_eq!(second_got.len(), 1);
    assert_eq!(second_got[0].get::<i64>("n"), Ok(2));
    assert_eq!(second_got[0].source(), Some(publisher));
}

#[test]
fn broadcast_reaches_subscribers_in_subscription_order_with_the_payload() {
    let mut g = gaplic("ps-order");
    let publisher = publisher(&mut g);
    let ids: Vec<GobjId> = ["l3", "l1", "l2"]
        .iter()
        .map(|n| listener(&mut g, n))
        .collect();
    for id in [ids[1], ids[2], ids[0]] {
        g.subscribe(publisher, Some("EV_A"), id, plain()).unwrap();
    }
    take_order();
    g.broadcast(publisher, "EV_A", kw! { "x" => 1, "y" => "two" })
        .unwrap();
    assert_eq!(take_order(), ["l1", "l2", "l3"]);
    let event = &got(&g, ids[0])[0];
    assert_eq!(event.kw(), &kw! { "x" => 1, "y" => "two" });
    assert_eq!(event.source(), Some(publisher));
}

#[test]
fn subscribing_with_none_gets_every_output_event() {
    let mut g = gaplic("ps-all");
    let publisher = publisher(&mut g);
    let all = listener(&mut g, "all");
    let only_b = listener(&mut g, "only-b");
    g.subscribe(publisher, None, all, plain()).unwrap();
    g.subscribe(publisher, Some("EV_B"), only_b, plain())
        .unwrap();
    g.broadcast(publisher, "EV_A", Kw::new()).unwrap();
    g.broadcast(publisher, "EV_B", Kw::new()).unwrap();
    assert_eq!(names(&g, all), ["EV_A", "EV_B"]);
    assert_eq!(names(&g, only_b), ["EV_B"]);
    assert!(g.unsubscribe(publisher, None, all, false).is_ok());
    g.broadcast(publisher, "EV_A", Kw::new()).unwrap();
    assert_eq!(names(&g, all), ["EV_A", "EV_B"]);
}

/// GINSFSM.md (section 3): a broadcast "delivers at most once per
/// subscriber", which DESIGN.md keeps ("broadcast reaches subscribers of an
/// output event ... with GinsFSM's subscription options").
#[test]
fn a_subscriber_gets_a_broadcast_once_even_when_subscribed_twice() {
    let mut g = gaplic("ps-once");
    let publisher = publisher(&mut g);
    let l = listener(&mut g, "l");
    g.subscribe(publisher, Some("EV_A"), l, plain()).unwrap();
    g.subscribe(publisher, None, l, plain()).unwrap();
    assert_eq!(g.subscription_count(publisher), 2);
    g.broadcast(publisher, "EV_A", Kw::new()).unwrap();
    assert_eq!(names(&g, l), ["EV_A"]);
}

#[test]
fn a_subscription_made_during_a_broadcast_waits_for_the_next_one() {
    let mut g = gaplic("ps-snapshot");
    let publisher = publisher(&mut g);
    let late = listener(&mut g, "late");
    let recruiter = g
        .create_gobj::<Listener>("recruiter", None, kw! { "recruit" => late })
        .unwrap();
    g.subscribe(publisher, Some("EV_A"), recruiter, plain())
        .unwrap();
    g.broadcast(publisher, "EV_A", Kw::new()).unwrap();
    assert_eq!(g.subscription_count(publisher), 2);
    assert!(names(&g, late).is_empty());
    g.broadcast(publisher, "EV_A", Kw::new()).unwrap();
    assert_eq!(names(&g, late), ["EV_A"]);
    assert_eq!(names(&g, recruiter), ["EV_A", "EV_A"]);
}

/// GinsFSM lets an action destroy gobjs in the middle of a broadcast
/// (GINSFSM.md, section 9); here a subscriber destroyed by an earlier one
/// is skipped, and so is everyone once the publisher itself is gone.
#[test]
fn a_gobj_destroyed_during_a_broadcast_gets_nothing_more() {
    let mut g = gaplic("ps-destroy-mid");
    let publisher = publisher(&mut g);
    let victim = listener(&mut g, "victim");
    let killer = g
        .create_gobj::<Listener>("killer", None, kw! { "victim" => victim })
        .unwrap();
    let witness = listener(&mut g, "witness");
    for id in [killer, victim, witness] {
        g.subscribe(publisher, Some("EV_A"), id, plain()).unwrap();
    }
    take_order();
    g.broadcast(publisher, "EV_A", Kw::new()).unwrap();
    assert_eq!(take_order(), ["killer", "witness"]);
    assert!(!g.contains(victim));

    let killer2 = g
        .create_gobj::<Listener>("killer-2", None, kw! { "victim" => publisher })
        .unwrap();
    let late = listener(&mut g, "late");
    // Subscribed in this order: killer, witness, killer-2, late.
    g.subscribe(publisher, Some("EV_A"), killer2, plain())
        .unwrap();
    g.subscribe(publisher, Some("EV_A"), late, plain()).unwrap();
    g.broadcast(publisher, "EV_A", Kw::new()).unwrap();
    assert_eq!(take_order(), ["killer", "witness", "killer-2"]);
    assert!(!g.contains(publisher));
    assert!(names(&g, late).is_empty());
}

/// In GinsFSM an exception in one subscriber escapes the broadcast and the
/// remaining subscribers are skipped (GINSFSM.md, section 9).
#[test]
fn a_panicking_subscriber_does_not_stop_the_broadcast() {
    let mut g = gaplic("ps-panic");
    let publisher = publisher(&mut g);
    let bad = g
        .create_gobj::<Listener>("bad", None, kw! { "panic_on_b" => true })
        .unwrap();
    let good = listener(&mut g, "good");
    g.subscribe(publisher, None, bad, plain()).unwrap();
    g.subscribe(publisher, None, good, plain()).unwrap();
    let (result, traces) = warnings(|| g.broadcast(publisher, "EV_B", Kw::new()));
    result.unwrap();
    assert!(traces.contains("bad panics on EV_B"), "{traces}");
    assert_eq!(names(&g, good), ["EV_B"]);
    g.broadcast(publisher, "EV_A", Kw::new()).unwrap();
    assert_eq!(names(&g, bad), ["EV_A"], "it still answers");
}

// ----- options ----------------------------------------------------------------

#[test]
fn a_posting_subscription_delivers_through_the_queue_with_the_publisher_as_source() {
    let mut g = gaplic("ps-post");
    let publisher = publisher(&mut g);
    let l = listener(&mut g, "l");
    g.subscribe(publisher, Some("EV_A"), l, plain().post())
        .unwrap();
    g.broadcast(publisher, "EV_A", kw! { "n" => 1 }).unwrap();
    assert!(names(&g, l).is_empty(), "not before the loop");
    assert_eq!(g.queued(), 1);
    assert!(!g.turn());
    let event = &got(&g, l)[0];
    assert_eq!(event.name(), "EV_A");
    assert_eq!(event.source(), Some(publisher));
    assert_eq!(event.get::<i64>("n"), Ok(1));
}

#[test]
fn rename_and_reference_are_added_to_the_payload() {
    let mut g = gaplic("ps-rename");
    let publisher = publisher(&mut g);
    let renamed = listener(&mut g, "renamed");
    let referenced = listener(&mut g, "referenced");
    let both = listener(&mut g, "both");
    g.subscribe(
        publisher,
        Some("EV_A"),
        renamed,
        plain().rename("EV_RENAMED"),
    )
    .unwrap();
    g.subscribe(publisher, Some("EV_A"), referenced, plain().reference(7))
        .unwrap();
    g.subscribe(
        publisher,
        Some("EV_A"),
        both,
        plain().rename("EV_RENAMED").reference("ref-1").post(),
    )
    .unwrap();
    g.broadcast(publisher, "EV_A", kw! { "data" => "d" })
        .unwrap();
    g.run_until_idle();

    let event = &got(&g, renamed)[0];
    assert_eq!(event.name(), "EV_RENAMED");
    assert_eq!(
        event.kw(),
        &kw! { "data" => "d", "original_event_name" => "EV_A" }
    );
    let event = &got(&g, referenced)[0];
    assert_eq!(event.name(), "EV_A");
    assert_eq!(
        event.kw(),
        &kw! { "data" => "d", "subscription_reference" => 7 }
    );
    let event = &got(&g, both)[0];
    assert_eq!(event.name(), "EV_RENAMED");
    assert_eq!(event.get::<String>("original_event_name").unwrap(), "EV_A");
    assert_eq!(
        event.get::<String>("subscription_reference").unwrap(),
        "ref-1"
    );
}

#[test]
fn a_subscribers_error_is_traced_not_returned_to_the_publisher() {
    let mut g = gaplic("ps-sub-error");
    let publisher = publisher(&mut g);
    let wrong = listener(&mut g, "wrong");
    let fine = listener(&mut g, "fine");
    g.subscribe(publisher, Some("EV_A"), wrong, plain().rename("EV_UNKNOWN"))
        .unwrap();
    g.subscribe(publisher, Some("EV_A"), fine, plain()).unwrap();
    let (result, traces) = warnings(|| g.broadcast(publisher, "EV_A", Kw::new()));
    result.unwrap();
    assert!(traces.contains("EV_UNKNOWN"), "{traces}");
    assert_eq!(names(&g, fine), ["EV_A"]);
}

/// Re-subscribing updates the subscription in place: same id, the new
/// options, but a hard subscription stays hard (only force ends it).
#[test]
fn a_repeated_subscription_updates_the_earlier_one_in_place_and_stays_hard() {
    let mut g = gaplic("ps-replace");
    let publisher = publisher(&mut g);
    let l = listener(&mut g, "l");
    let first = g
        .subscribe(
            publisher,
            Some("EV_A"),
            l,
            plain().rename("EV_RENAMED").hard(),
        )
        .unwrap();
    let second = g.subscribe(publisher, Some("EV_A"), l, plain()).unwrap();
    assert_eq!(first, second);
    assert_eq!(g.subscription_count(publisher), 1);
    g.broadcast(publisher, "EV_A", Kw::new()).unwrap();
    assert_eq!(names(&g, l), ["EV_A"], "the new options: no rename");
    let error = g.delete_subscription(second, false).unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::HardSubscription { .. }),
        "{error}"
    );
    assert!(g.unsubscribe(publisher, Some("EV_A"), l, false).is_err());
    assert_eq!(g.delete_subscriptions(publisher, false).unwrap(), 0);
    assert!(g.delete_subscription(second, true).is_ok());
    // Another event, or all events, is another subscription.
    g.subscribe(publisher, Some("EV_A"), l, plain()).unwrap();
    g.subscribe(publisher, Some("EV_B"), l, plain()).unwrap();
    g.subscribe(publisher, None, l, plain()).unwrap();
    assert_eq!(g.subscription_count(publisher), 3);
}

#[test]
fn hard_subscriptions_resist_unsubscribe_and_delete_unless_forced() {
    let mut g = gaplic("ps-hard");
    let publisher = publisher(&mut g);
    let l1 = listener(&mut g, "l1");
    let l2 = listener(&mut g, "l2");
    let hard = g
        .subscribe(publisher, Some("EV_A"), l1, plain().hard())
        .unwrap();
    g.subscribe(publisher, Some("EV_B"), l1, plain()).unwrap();
    g.subscribe(publisher, Some("EV_A"), l2, plain()).unwrap();

    assert!(g.unsubscribe(publisher, Some("EV_A"), l1, false).is_err());
    assert!(g.delete_subscription(hard, false).is_err());
    assert_eq!(g.delete_subscriptions(publisher, false).unwrap(), 2);
    assert_eq!(g.subscription_count(publisher), 1);
    g.broadcast(publisher, "EV_A", Kw::new()).unwrap();
    assert_eq!(names(&g, l1), ["EV_A"]);
    assert!(names(&g, l2).is_empty());

    assert!(g.unsubscribe(publisher, Some("EV_A"), l1, true).is_ok());
    assert_eq!(g.subscription_count(publisher), 0);

    g.subscribe(publisher, Some("EV_A"), l1, plain().hard())
        .unwrap();
    g.subscribe(publisher, Some("EV_B"), l2, plain()).unwrap();
    assert_eq!(g.delete_subscriptions(publisher, true).unwrap(), 2);
    assert_eq!(g.subscription_count(publisher), 0);

    let hard = g
        .subscribe(publisher, Some("EV_A"), l1, plain().hard())
        .unwrap();
    assert!(g.delete_subscription(hard, true).is_ok());
    assert!(g.delete_subscription(hard, true).is_err());
}

#[test]
fn a_first_shot_subscription_ends_after_one_delivery() {
    let mut g = gaplic("ps-first-shot");
    let publisher = publisher(&mut g);
    let once = listener(&mut g, "once");
    let always = listener(&mut g, "always");
    g.subscribe(publisher, Some("EV_A"), once, plain().first_shot())
        .unwrap();
    g.subscribe(publisher, Some("EV_A"), always, plain())
        .unwrap();
    for _ in 0..3 {
        g.broadcast(publisher, "EV_A", Kw::new()).unwrap();
    }
    assert_eq!(names(&g, once), ["EV_A"]);
    assert_eq!(names(&g, always), ["EV_A", "EV_A", "EV_A"]);
    assert_eq!(g.subscription_count(publisher), 1);
}

/// GinsFSM's misspelt notice event fails only at the first subscription,
/// after storing it (GINSFSM.md, section 3); gaplic checks the name when
/// it is set.
#[test]
fn a_new_subscriber_notice_reaches_the_publisher() {
    let mut g = gaplic("ps-notice");
    let publisher = publisher(&mut g);
    let l = listener(&mut g, "l");
    for bad in ["EV_A", "EV_NOPE"] {
        let error = g.set_new_subscriber_event(publisher, bad).unwrap_err();
        assert!(
            matches!(error.kind(), ErrorKind::UnknownEvent { gclass: "Publisher", event, .. } if event == bad),
            "{error}"
        );
    }
    g.subscribe(publisher, Some("EV_B"), l, plain()).unwrap();
    assert!(g.gobj::<Publisher>(publisher).unwrap().notices.is_empty());

    g.set_new_subscriber_event(publisher, "EV_NEW_SUBSCRIBER")
        .unwrap();
    g.subscribe(publisher, Some("EV_A"), l, plain()).unwrap();
    g.subscribe(publisher, None, "someone", plain()).unwrap();
    assert_eq!(
        g.gobj::<Publisher>(publisher).unwrap().notices,
        [
            kw! { "subscriber" => l, "event" => "EV_A" },
            kw! { "subscriber" => "someone", "event" => Value::Null },
        ]
    );

    let gone = publisher;
    g.destroy_gobj(gone).unwrap();
    let error = g
        .set_new_subscriber_event(gone, "EV_NEW_SUBSCRIBER")
        .unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::Destroyed { .. }),
        "{error}"
    );
}

// ----- both ends ----------------------------------------------------------------

#[test]
fn broadcast_errors() {
    let mut g = gaplic("ps-broadcast-errors");
    let publisher = publisher(&mut g);
    for bad in ["EV_INPUT_ONLY", "EV_NOPE"] {
        let error = g.broadcast(publisher, bad, Kw::new()).unwrap_err();
        assert!(
            matches!(error.kind(), ErrorKind::NotOutput { gclass: "Publisher", event } if event == bad),
            "{error}"
        );
    }
    g.destroy_gobj(publisher).unwrap();
    let error = g.broadcast(publisher, "EV_A", Kw::new()).unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::Destroyed { gobj } if *gobj == publisher),
        "{error}"
    );
}

/// GinsFSM keeps a destroyed gobj's subscriptions on other publishers
/// (GINSFSM.md, section 9); in gaplic they die with either end (DESIGN.md,
/// "where we deliberately do better"), hard ones too.
#[test]
fn subscriptions_die_with_the_subscriber() {
    let mut g = gaplic("ps-die-subscriber");
    let publisher = publisher(&mut g);
    let l = listener(&mut g, "l");
    let hard = g
        .subscribe(publisher, Some("EV_A"), l, plain().hard())
        .unwrap();
    let soft = g.subscribe(publisher, None, l, plain().post()).unwrap();
    g.destroy_gobj(l).unwrap();
    assert_eq!(g.subscription_count(publisher), 0);
    assert!(g.delete_subscription(hard, true).is_err());
    assert!(g.delete_subscription(soft, true).is_err());

    let heir = listener(&mut g, "heir");
    assert_eq!(heir.index(), l.index());
    g.broadcast(publisher, "EV_A", Kw::new()).unwrap();
    g.run_until_idle();
    assert!(names(&g, heir).is_empty());
}

#[test]
fn subscriptions_die_with_the_publisher() {
    let mut g = gaplic("ps-die-publisher");
    let old = publisher(&mut g);
    let l = listener(&mut g, "l");
    let ids: Vec<SubscriptionId> = vec![
        g.subscribe(old, Some("EV_A"), l, plain().hard()).unwrap(),
        g.subscribe(old, Some("EV_B"), l, plain()).unwrap(),
    ];
    g.destroy_gobj(old).unwrap();
    for id in ids {
        assert!(g.delete_subscription(id, true).is_err());
    }
    assert!(g.unsubscribe(old, Some("EV_A"), l, true).is_err());

    let heir = publisher(&mut g);
    assert_eq!(heir.index(), old.index());
    assert_eq!(g.subscription_count(heir), 0);
    g.broadcast(heir, "EV_A", Kw::new()).unwrap();
    g.broadcast(heir, "EV_B", Kw::new()).unwrap();
    assert!(names(&g, l).is_empty());
    // The listener itself lives on and can subscribe again.
    g.subscribe(heir, Some("EV_A"), l, plain()).unwrap();
    g.broadcast(heir, "EV_A", Kw::new()).unwrap();
    assert_eq!(names(&g, l), ["EV_A"]);
}

// ----- subscriptions changed during a broadcast --------------------------------

/// A subscriber that unsubscribes two others from inside its action used
/// to make them miss the broadcast in progress: who gets a broadcast is
/// fixed when it starts.
#[test]
fn subscriptions_ended_during_a_broadcast_still_get_that_one() {
    let mut g = gaplic("ps-unsub-mid");
    let publisher = publisher(&mut g);
    let second = listener(&mut g, "second");
    let third = listener(&mut g, "third");
    let first = g
        .create_gobj::<Listener>(
            "first",
            None,
            kw! { "unsubscribe" => vec![Value::Gobj(second), Value::Gobj(third)] },
        )
        .unwrap();
    for id in [first, second, third] {
        g.subscribe(publisher, Some("EV_A"), id, plain()).unwrap();
    }
    g.broadcast(publisher, "EV_A", Kw::new()).unwrap();
    assert_eq!(take_order(), ["first", "second", "third"]);
    assert_eq!(g.subscription_count(publisher), 1);
    g.gobj_mut::<Listener>(first).unwrap().unsubscribe.clear();
    g.broadcast(publisher, "EV_A", Kw::new()).unwrap();
    assert_eq!(take_order(), ["first"], "they are gone from the next one");
}

/// A handler that re-subscribes to what it is handling used to miss every
/// broadcast: the re-subscription removed and re-inserted it under a new
/// id, which the running broadcast skipped. It is updated in place now.
#[test]
fn a_subscriber_that_resubscribes_during_each_broadcast_gets_every_one() {
    let mut g = gaplic("ps-resub-mid");
    let publisher = publisher(&mut g);
    let before = listener(&mut g, "before");
    let again = g
        .create_gobj::<Listener>("again", None, kw! { "resubscribe" => true })
        .unwrap();
    let after = listener(&mut g, "after");
    g.subscribe(publisher, Some("EV_A"), before, plain())
        .unwrap();
    let id = g
        .subscribe(publisher, Some("EV_A"), again, plain())
        .unwrap();
    g.subscribe(publisher, Some("EV_A"), after, plain())
        .unwrap();
    for _ in 0..3 {
        g.broadcast(publisher, "EV_A", Kw::new()).unwrap();
        assert_eq!(take_order(), ["before", "again", "after"], "its place too");
    }
    assert_eq!(names(&g, again), ["EV_A"; 3]);
    assert_eq!(
        g.unsubscribe(publisher, Some("EV_A"), again, false)
            .unwrap(),
        id
    );
}

/// A plain subscribe of the same subscriber to the same event as a hard
/// subscription used to replace it with a soft one, which a later
/// non-forced delete removed.
#[test]
fn a_hard_subscription_survives_a_soft_resubscription() {
    let mut g = gaplic("ps-hard-resub");
    let publisher = publisher(&mut g);
    let l = listener(&mut g, "l");
    let hard = g
        .subscribe(publisher, Some("EV_A"), l, plain().hard())
        .unwrap();
    assert_eq!(
        g.subscribe(publisher, Some("EV_A"), l, plain().post())
            .unwrap(),
        hard
    );
    assert_eq!(g.delete_subscriptions(publisher, false).unwrap(), 0);
    let error = g
        .unsubscribe(publisher, Some("EV_A"), l, false)
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("the subscription to `EV_A` of gobj {publisher} is hard: only force ends it")
    );
    g.broadcast(publisher, "EV_A", Kw::new()).unwrap();
    assert!(
        names(&g, l).is_empty(),
        "by post now: the new options apply"
    );
    g.run_until_idle();
    assert_eq!(names(&g, l), ["EV_A"]);
    assert_eq!(g.delete_subscriptions(publisher, true).unwrap(), 1);
}

gobj! {
    /// Broadcasts `EV_A` from its own action.
    struct Announcer {}
    events { EV_ANNOUNCE, EV_A: output }
    states { ST_IDLE }
    machine { ST_IDLE { EV_ANNOUNCE => announce } }
}

impl Announcer {
    fn announce(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        cx.broadcast("EV_A", Kw::new())?;
        Ok(Value::Null)
    }
}

/// A publisher that broadcasts from its own action and whose destruction a
/// subscriber asks for goes when its action returns; the rest of that
/// broadcast is not delivered, as for a publisher destroyed outright.
#[test]
fn a_publisher_asked_to_go_during_its_own_broadcast_publishes_no_more() {
    let mut g = gaplic("ps-announcer-goes");
    let announcer = g
        .create_gobj::<Announcer>("announcer", None, Kw::new())
        .unwrap();
    let killer = g
        .create_gobj::<Listener>("killer", None, kw! { "victim" => announcer })
        .unwrap();
    let late = listener(&mut g, "late");
    for id in [killer, late] {
        g.subscribe(announcer, Some("EV_A"), id, plain()).unwrap();
    }
    take_order();
    g.send(announcer, AnnouncerEvent::EV_ANNOUNCE, Kw::new())
        .unwrap();
    assert_eq!(take_order(), ["killer"]);
    assert!(!g.contains(announcer), "gone once its action returned");
    assert!(names(&g, late).is_empty());
}
