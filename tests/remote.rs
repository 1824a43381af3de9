//! Events addressed to gobjs of other gaplics (`Dest::Remote`): the runtime
//! chooses the way, this gaplic, another gaplic of the process by name or
//! role, or the gaplic's router for the rest.

mod support;

use std::sync::mpsc::{Sender, channel};
use std::time::Duration;

use gaplic::prelude::*;
use gaplic::{Dest, GaplicHandle, Origin};
use support::join_within;

const LIMIT: Duration = Duration::from_secs(5);

gobj! {
    /// Reports every event it gets, with its origin; answers `EV_ASK` by
    /// reply, and sends what `EV_GO` says where it says.
    struct Teller {
        report: Option<Sender<String>>,
    }
    events {
        EV_ASK,
        EV_ANSWER,
        EV_GO: input { gaplic: Option<String>, role: Option<String>, gobj: String },
    }
    states { ST_IDLE }
    machine {
        ST_IDLE {
            EV_ASK => ask,
            EV_ANSWER => answer,
            EV_GO => go,
        }
    }
}

impl Teller {
    fn tell(&self, line: String) {
        if let Some(report) = &self.report {
            let _ = report.send(line);
        }
    }

    fn ask(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let origin = ev.origin().map(|o| format!("{}/{}", o.gaplic, o.gobj));
        self.tell(format!("{} asked from {origin:?}", cx.name()));
        let sent = cx.reply(ev, "EV_ANSWER", Kw::new())?;
        assert!(sent.is_queued(), "across gaplics an answer is posted");
        Ok(Value::Null)
    }

    fn answer(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let origin = ev.origin().map(|o| format!("{}/{}", o.gaplic, o.gobj));
        self.tell(format!("{} answered from {origin:?}", cx.name()));
        Ok(Value::Null)
    }

    fn go(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let gobj = ev.get::<String>("gobj")?;
        let dst = match (
            ev.get::<Option<String>>("gaplic")?,
            ev.get::<Option<String>>("role")?,
        ) {
            (Some(gaplic), _) => Dest::in_gaplic(gaplic, gobj),
            (None, Some(role)) => Dest::in_role(role, gobj),
            (None, None) => return Err(GobjError::failed("nowhere to go")),
        };
        let sent = cx.send(dst, "EV_ASK", Kw::new())?;
        assert!(sent.is_queued(), "another gaplic cannot run on this thread");
        Ok(Value::Null)
    }
}

fn teller(name: &str, gaplic: &str, role: Option<&str>, report: Sender<String>) -> GaplicHandle {
    let mut builder = Gaplic::builder(gaplic);
    if let Some(role) = role {
        builder = builder.role(role);
    }
    let name = name.to_owned();
    gaplic::spawn_with(builder, move |g| {
        let id = g.create_unique_gobj::<Teller>(&name, None, Kw::new())?;
        g.gobj_mut::<Teller>(id).unwrap().report = Some(report);
        Ok(())
    })
    .unwrap()
}

#[test]
fn a_gaplic_of_the_process_is_reached_by_name_or_role_and_answers_back() {
    let (tx, rx) = channel();
    let bank = teller("teller", "remote-bank", Some("banking"), tx.clone());
    let shop = teller("clerk", "remote-shop", None, tx);
    for (key, value) in [("gaplic", "remote-bank"), ("role", "banking")] {
        shop.post("clerk", "EV_GO", kw! { key => value, "gobj" => "teller" })
            .unwrap();
        assert_eq!(
            rx.recv_timeout(LIMIT).unwrap(),
            "teller asked from Some(\"remote-shop/clerk\")"
        );
        assert_eq!(
            rx.recv_timeout(LIMIT).unwrap(),
            "clerk answered from Some(\"remote-bank/teller\")"
        );
    }
    assert_eq!(
        GaplicHandle::find_role("banking").map(|h| h.name().to_owned()),
        Some("remote-bank".to_owned())
    );
    assert!(GaplicHandle::find_role("nobody-has-this-role").is_none());
    for handle in [bank, shop] {
        handle.stop().unwrap();
        join_within(&handle, LIMIT).unwrap();
    }
}

gobj! {
    /// Stands in for a router: keeps what it is handed.
    struct FakeRouter {
        handed: Vec<(Kw, Option<GobjId>)>,
    }
    events { EV_SEND_EVENT }
    states { ST_IDLE }
    machine { ST_IDLE { EV_SEND_EVENT => keep } }
}

impl FakeRouter {
    /// Keeps what it is handed; refuses `EV_NOWHERE`, as a router with no
    /// route there would.
    fn keep(&mut self, _cx: &mut Cx<Self>, ev: &Event) -> Ret {
        if ev.get::<String>("event")? == "EV_NOWHERE" {
            return Err(GobjError::failed("no route to gaplic `far`"));
        }
        self.handed.push((ev.kw().clone(), ev.source()));
        Ok(Value::Null)
    }
}

/// A gaplic that knows no gaplic of the name or role hands the event to
/// its unique gobj `router`, which carries it to other processes; without
/// one, the post fails with the name it could not find.
#[test]
fn an_unknown_gaplic_is_reached_through_the_router_or_refused() {
    let mut g = Gaplic::builder("remote-here")
        .virtual_clock()
        .build()
        .unwrap();
    let (tx, _rx) = channel();
    let me = g
        .create_unique_gobj::<Teller>("me", None, Kw::new())
        .unwrap();
    g.gobj_mut::<Teller>(me).unwrap().report = Some(tx);
    let error = g
        .post(Dest::in_gaplic("remote-far-away", "x"), "EV_ASK", Kw::new())
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "no gaplic named `remote-far-away` runs in this process"
    );

    let router = g
        .create_unique_gobj::<FakeRouter>(gaplic::ROUTER, None, Kw::new())
        .unwrap();
    g.send(me, "EV_GO", kw! { "role" => "far-role", "gobj" => "desk" })
        .unwrap();
    g.post(
        Dest::in_gaplic("remote-far-away", "x"),
        "EV_ASK",
        kw! { "n" => 1 },
    )
    .unwrap();
    g.run_until_idle();
    let handed = &g.gobj::<FakeRouter>(router).unwrap().handed;
    assert_eq!(handed.len(), 2);
    let (first, source) = &handed[0];
    assert_eq!(*source, Some(me), "the sender is the source");
    assert_eq!(first.get::<String>("role").unwrap(), "far-role");
    assert_eq!(first.get::<Option<String>>("gaplic").unwrap(), None);
    assert_eq!(first.get::<String>("gobj").unwrap(), "desk");
    assert_eq!(first.get::<String>("event").unwrap(), "EV_ASK");
    assert_eq!(first.get::<String>("from").unwrap(), "me", "for replies");
    let (second, source) = &handed[1];
    assert_eq!(*source, None);
    assert_eq!(second.get::<String>("gaplic").unwrap(), "remote-far-away");
    assert_eq!(second.get::<Kw>("kw").unwrap(), kw! { "n" => 1 });

    // What the router refuses at once is the caller's error.
    let error = g
        .post(Dest::in_gaplic("far", "x"), "EV_NOWHERE", Kw::new())
        .unwrap_err();
    assert_eq!(error.to_string(), "no route to gaplic `far`");
}

/// An event delivered on behalf of a gobj of another gaplic carries that
/// origin, and the receiver's reply goes back to it, by the gaplic's name
/// or, when it came with none, by its role.
#[test]
fn an_event_on_behalf_of_another_gaplic_is_answered_there() {
    let mut g = Gaplic::builder("remote-receiver")
        .virtual_clock()
        .build()
        .unwrap();
    let teller = g
        .create_unique_gobj::<Teller>("teller", None, Kw::new())
        .unwrap();
    let router = g
        .create_unique_gobj::<FakeRouter>(gaplic::ROUTER, None, Kw::new())
        .unwrap();
    let by_name = Origin::new("far", "asker").with_role("askers");
    let by_role = Origin::new("", "asker").with_role("askers");
    for origin in [by_name, by_role] {
        g.send_with_origin(teller, "EV_ASK", Kw::new(), origin)
            .unwrap();
    }
    let nobody = Origin::new("", "asker");
    let error = g
        .send_with_origin(teller, "EV_ASK", Kw::new(), nobody)
        .unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::NoSender { .. }),
        "an origin with neither gaplic nor role cannot be answered: {error}"
    );
    let handed = &g.gobj::<FakeRouter>(router).unwrap().handed;
    let answers: Vec<_> = handed
        .iter()
        .map(|(kw, source)| {
            (
                kw.get::<Option<String>>("gaplic").unwrap(),
                kw.get::<Option<String>>("role").unwrap(),
                kw.get::<String>("gobj").unwrap(),
                kw.get::<String>("event").unwrap(),
                *source,
            )
        })
        .collect();
    let answer = |gaplic: Option<&str>, role: Option<&str>| {
        (
            gaplic.map(str::to_owned),
            role.map(str::to_owned),
            "asker".to_owned(),
            "EV_ANSWER".to_owned(),
            Some(teller),
        )
    };
    assert_eq!(
        answers,
        [answer(Some("far"), None), answer(None, Some("askers"))]
    );
}

/// Addressed by its own gaplic's name or role, a gobj is reached here;
/// a subscription across gaplics is the router's business.
#[test]
fn this_gaplic_by_name_or_role_is_here_and_subscriptions_stay_local() {
    let mut g = Gaplic::builder("remote-self")
        .role("self-role")
        .virtual_clock()
        .build()
        .unwrap();
    let (tx, rx) = channel();
    let me = g
        .create_unique_gobj::<Teller>("me", None, Kw::new())
        .unwrap();
    g.gobj_mut::<Teller>(me).unwrap().report = Some(tx);
    for dst in [
        Dest::in_gaplic("remote-self", "me"),
        Dest::in_role("self-role", "me"),
    ] {
        g.post(dst, "EV_ANSWER", Kw::new()).unwrap();
    }
    g.run_until_idle();
    assert_eq!(
        rx.try_iter().collect::<Vec<_>>(),
        [
            "me answered from Some(\"remote-self/\")",
            "me answered from Some(\"remote-self/\")"
        ]
    );
    let error = g
        .subscribe(
            me,
            None,
            Dest::in_gaplic("elsewhere", "x"),
            SubscribeOptions::new(),
        )
        .unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::NotLocal { .. }),
        "{error}"
    );
}

/// A gaplic of the process keeps the handle of a gaplic it posted to; when
/// that one stops, the next post says it is gone, and a gaplic started
/// again under the same name or role is found anew.
#[test]
fn a_gaplic_started_again_under_its_name_or_role_is_found_again() {
    let (tx, rx) = channel();
    let mut here = Gaplic::new("remote-caller").unwrap();
    for _ in 0..2 {
        let bank = teller("teller", "remote-again", Some("again"), tx.clone());
        for dst in [
            Dest::in_gaplic("remote-again", "teller"),
            Dest::in_role("again", "teller"),
        ] {
            here.post(dst, "EV_ASK", Kw::new()).unwrap();
            assert_eq!(
                rx.recv_timeout(LIMIT).unwrap(),
                "teller asked from Some(\"remote-caller/\")"
            );
        }
        bank.stop().unwrap();
        join_within(&bank, LIMIT).unwrap();
        for dst in [
            Dest::in_gaplic("remote-again", "teller"),
            Dest::in_role("again", "teller"),
        ] {
            let error = here.post(dst, "EV_ASK", Kw::new()).unwrap_err();
            assert!(
                matches!(error.kind(), ErrorKind::UnknownGaplic { .. }),
                "{error}"
            );
        }
    }
}
