//! Two gaplics of one process, each with a router, on loopback: events by
//! name and by role, answers, external subscriptions, failures told to the
//! sender, a flood through the window.

mod support;

use gaplic::prelude::*;
use support::{Peer, WAIT, is, text};

/// A server gaplic `srv` (role `storage`) and a client `cli` dialing it.
fn pair(tag: &str) -> (Peer, Peer) {
    pair_with(tag, Kw::new())
}

/// As [`pair`], with more attrs for the client's router.
fn pair_with(tag: &str, client_kw: Kw) -> (Peer, Peer) {
    let srv_name = format!("srv-{tag}");
    let srv = Peer::start(
        &srv_name,
        &["storage"],
        kw! { "server" => true },
        &["probe"],
    );
    let url = format!("ws://{}", srv.listen.clone().unwrap());
    let mut router_kw = client_kw;
    router_kw.insert("static_routes", format!("{srv_name}, storage, {url}"));
    let cli = Peer::start(
        &format!("cli-{tag}"),
        &["front"],
        router_kw,
        &["probe", "probe2"],
    );
    let opened = cli.wait(WAIT, "route opened", |s| is(s, "probe", "EV_ROUTE_OPENED"));
    assert_eq!(text(&opened.kw, "gaplic"), srv_name);
    assert_eq!(
        text(&opened.kw, "mode"),
        "gaplic",
        "two gaplic routers use the extensions"
    );
    assert_eq!(text(&opened.kw, "kind"), "static");
    let opened = srv.wait(WAIT, "route opened", |s| is(s, "probe", "EV_ROUTE_OPENED"));
    assert_eq!(text(&opened.kw, "kind"), "dynamic");
    (srv, cli)
}

#[test]
fn events_and_answers_by_name_and_by_role() {
    let (srv, cli) = pair("name");
    cli.post(
        "probe",
        "EV_SEND",
        kw! { "gaplic" => "srv-name", "gobj" => "probe", "event" => "EV_QUERY", "kw" => kw! { "data" => "q1" } },
    );
    let query = srv.wait(WAIT, "the query", |s| is(s, "probe", "EV_QUERY"));
    assert_eq!(text(&query.kw, "data"), "q1");
    let origin = query.origin.expect("the query has its origin");
    assert_eq!((&*origin.gaplic, &*origin.gobj), ("cli-name", "probe"));
    let answer = cli.wait(WAIT, "the answer", |s| is(s, "probe", "EV_QUERY_ANSWER"));
    assert_eq!(text(&answer.kw, "data"), "q1");

    // By role: the client reaches any gaplic with role `storage`; the
    // server answers the client back by its name.
    cli.post(
        "probe2",
        "EV_SEND",
        kw! { "role" => "storage", "gobj" => "probe", "event" => "EV_QUERY", "kw" => kw! { "data" => "by-role" } },
    );
    let answer = cli.wait(WAIT, "the answer by role", |s| {
        is(s, "probe2", "EV_QUERY_ANSWER")
    });
    assert_eq!(text(&answer.kw, "data"), "by-role");

    // The server reaches the client by its name over the dynamic route.
    srv.post(
        "probe",
        "EV_SEND",
        kw! { "gaplic" => "cli-name", "gobj" => "probe2", "event" => "EV_NOTE", "kw" => kw! { "n" => 7, "big" => u64::MAX } },
    );
    let note = cli.wait(WAIT, "the note", |s| is(s, "probe2", "EV_NOTE"));
    assert_eq!(note.kw.get::<i64>("n"), Ok(7));
    assert_eq!(note.kw.get::<u64>("big"), Ok(u64::MAX));
    cli.stop();
    srv.stop();
}

#[test]
fn failures_reach_the_sender() {
    let (srv, cli) = pair("fail");
    cli.post(
        "probe",
        "EV_SEND",
        kw! { "gaplic" => "srv-fail", "gobj" => "nobody", "event" => "EV_QUERY" },
    );
    let failed = cli.wait(WAIT, "the nack", |s| is(s, "probe", "EV_SEND_FAILED"));
    assert!(
        text(&failed.kw, "reason").contains("GObj 'nobody' UNKNOWN"),
        "{}",
        failed.kw
    );
    assert_eq!(text(&failed.kw, "gobj"), "nobody");

    // Delivered but refused by the machine: with a gaplic peer the nack
    // carries the receiver's error.
    cli.post(
        "probe",
        "EV_SEND",
        kw! { "gaplic" => "srv-fail", "gobj" => "probe", "event" => "EV_NOT_DECLARED" },
    );
    let failed = cli.wait(WAIT, "the refusal", |s| is(s, "probe", "EV_SEND_FAILED"));
    assert!(
        text(&failed.kw, "reason").contains("EV_NOT_DECLARED"),
        "{}",
        failed.kw
    );

    // No route at all: the send itself fails.
    cli.post(
        "probe",
        "EV_SEND",
        kw! { "gaplic" => "elsewhere", "gobj" => "probe", "event" => "EV_QUERY" },
    );
    let failed = cli.wait(WAIT, "no route", |s| is(s, "probe", "EV_SEND_FAILED"));
    assert!(
        text(&failed.kw, "reason").contains("no route to gobj `probe` of gaplic `elsewhere`"),
        "{}",
        failed.kw
    );

    // A payload JSON cannot carry.
    cli.post(
        "probe",
        "EV_SEND",
        kw! { "gaplic" => "srv-fail", "gobj" => "probe", "event" => "EV_NOTE", "kw" => kw! { "raw" => vec![1_u8] } },
    );
    let failed = cli.wait(WAIT, "refused payload", |s| {
        is(s, "probe", "EV_SEND_FAILED")
    });
    assert!(
        text(&failed.kw, "reason").contains("kw key `raw` cannot be sent"),
        "{}",
        failed.kw
    );
    cli.stop();
    srv.stop();
}

#[test]
fn every_remote_subscriber_receives_broadcasts_until_it_unsubscribes() {
    let (srv, cli) = pair("subs");
    for probe in ["probe", "probe2"] {
        cli.post(
            probe,
            "EV_SUBSCRIBE",
            kw! { "gaplic" => "srv-subs", "gobj" => "probe", "event" => "EV_EMITTED" },
        );
    }
    // The subscriptions are made when their events are acked; an event
    // sent after them on the same route arrives after them.
    cli.post(
        "probe",
        "EV_SEND",
        kw! { "gaplic" => "srv-subs", "gobj" => "probe", "event" => "EV_QUERY", "kw" => kw! { "data" => "sync" } },
    );
    cli.wait(WAIT, "the answer", |s| is(s, "probe", "EV_QUERY_ANSWER"));
    srv.post("probe", "EV_EMIT", kw! { "data" => "first" });
    let mut got = Vec::new();
    for _ in 0..2 {
        let seen = cli.wait(WAIT, "a broadcast", |s| s.event == "EV_EMITTED");
        assert_eq!(text(&seen.kw, "data"), "first");
        assert_eq!(text(&seen.kw, "original_event_name"), "EV_EMITTED");
        assert!(!text(&seen.kw, "__subscription_reference__").is_empty());
        got.push(seen.probe);
    }
    got.sort();
    assert_eq!(got, ["probe", "probe2"]);

    cli.post(
        "probe2",
        "EV_UNSUBSCRIBE",
        kw! { "gaplic" => "srv-subs", "gobj" => "probe", "event" => "EV_EMITTED" },
    );
    cli.post(
        "probe2",
        "EV_SEND",
        kw! { "gaplic" => "srv-subs", "gobj" => "probe", "event" => "EV_QUERY", "kw" => kw! { "data" => "sync2" } },
    );
    cli.wait(WAIT, "the answer", |s| is(s, "probe2", "EV_QUERY_ANSWER"));
    srv.post("probe", "EV_EMIT", kw! { "data" => "second" });
    let seen = cli.wait(WAIT, "the second broadcast", |s| s.event == "EV_EMITTED");
    assert_eq!(
        (seen.probe.as_str(), text(&seen.kw, "data").as_str()),
        ("probe", "second")
    );
    srv.post("probe", "EV_EMIT", kw! { "data" => "third" });
    let seen = cli.wait(WAIT, "the third broadcast", |s| s.event == "EV_EMITTED");
    assert_eq!(seen.probe, "probe", "probe2 unsubscribed");
    cli.stop();
    srv.stop();
}

#[test]
fn a_flood_arrives_whole_and_in_order_through_the_window() {
    let (srv, cli) = pair_with("flood", kw! { "queue_limit" => 4096 });
    const N: i64 = 2000;
    for i in 0..N {
        cli.post(
            "probe",
            "EV_SEND",
            kw! { "gaplic" => "srv-flood", "gobj" => "probe", "event" => "EV_NOTE", "kw" => kw! { "i" => i } },
        );
    }
    for i in 0..N {
        let note = srv.wait(WAIT, "a note of the flood", |s| is(s, "probe", "EV_NOTE"));
        assert_eq!(note.kw.get::<i64>("i"), Ok(i));
    }
    cli.stop();
    srv.stop();
}

#[test]
fn a_full_queue_refuses_the_send() {
    let (srv, cli) = pair_with("full", kw! { "queue_limit" => 2, "window" => 1 });
    for i in 0..50 {
        cli.post(
            "probe",
            "EV_SEND",
            kw! { "gaplic" => "srv-full", "gobj" => "probe", "event" => "EV_NOTE", "kw" => kw! { "i" => i } },
        );
    }
    let failed = cli.wait(WAIT, "a refusal", |s| is(s, "probe", "EV_SEND_FAILED"));
    assert!(
        text(&failed.kw, "reason")
            .contains("the queue of the route to `srv-full` is full (2 events)"),
        "{}",
        failed.kw
    );
    cli.stop();
    srv.stop();
}

#[test]
fn after_a_reconnect_what_was_not_acked_is_sent_again_and_delivered_once() {
    let (srv, cli) = pair_with(
        "again",
        kw! { "queue_limit" => 10_000, "reconnect_delay" => 0.05 },
    );
    const N: i64 = 3000;
    for i in 0..N {
        cli.post(
            "probe",
            "EV_SEND",
            kw! { "gaplic" => "srv-again", "gobj" => "probe", "event" => "EV_NOTE", "kw" => kw! { "i" => i } },
        );
    }
    let mut dropped = false;
    for i in 0..N {
        let note = srv.wait(WAIT, "a note", |s| is(s, "probe", "EV_NOTE"));
        assert_eq!(note.kw.get::<i64>("i"), Ok(i), "each note once, in order");
        if i == 300 {
            // Cut the connection under the flood, from the server's side.
            cut_connections(&srv);
            dropped = true;
        }
    }
    assert!(dropped);
    let closed = cli.wait(WAIT, "the route closed", |s| {
        is(s, "probe", "EV_ROUTE_CLOSED")
    });
    assert_eq!(text(&closed.kw, "gaplic"), "srv-again");
    cli.wait(WAIT, "the route opened again", |s| {
        is(s, "probe", "EV_ROUTE_OPENED")
    });
    // Nothing more: no duplicate after the last one.
    srv.post("probe", "EV_NOTE", kw! { "i" => -1 });
    let last = srv.wait(WAIT, "the marker", |s| is(s, "probe", "EV_NOTE"));
    assert_eq!(last.kw.get::<i64>("i"), Ok(-1));
    cli.stop();
    srv.stop();
}

/// A server with `server_secret` and a client with `client_secret`, the
/// client sending one query as soon as it starts.
fn secret_pair(tag: &str, server_secret: &str, client_secret: &str) -> (Peer, Peer) {
    let srv_name = format!("srv-{tag}");
    let srv = Peer::start(
        &srv_name,
        &["storage"],
        kw! { "server" => true, "secret" => server_secret, "handshake_timeout" => 1.0 },
        &["probe"],
    );
    let url = format!("ws://{}", srv.listen.clone().unwrap());
    let cli = Peer::start(
        &format!("cli-{tag}"),
        &["front"],
        kw! { "static_routes" => format!("{srv_name}, storage, {url}"), "secret" => client_secret },
        &["probe"],
    );
    cli.post(
        "probe",
        "EV_SEND",
        kw! { "gaplic" => srv_name, "gobj" => "probe", "event" => "EV_QUERY", "kw" => kw! { "data" => "secret" } },
    );
    (srv, cli)
}

#[test]
fn a_shared_secret_lets_in_only_the_peers_that_prove_it() {
    let (srv, cli) = secret_pair("secret-ok", "s3cret", "s3cret");
    let answer = cli.wait(WAIT, "the answer", |s| is(s, "probe", "EV_QUERY_ANSWER"));
    assert_eq!(text(&answer.kw, "data"), "secret");
    cli.stop();
    srv.stop();

    // A client with another secret refuses the server's proof, and tells
    // its sender.
    let (srv, cli) = secret_pair("secret-bad", "s3cret", "guess");
    let failed = cli.wait(WAIT, "the refusal", |s| is(s, "probe", "EV_SEND_FAILED"));
    assert!(
        text(&failed.kw, "reason").contains("failed the shared secret check"),
        "{}",
        failed.kw
    );
    cli.stop();
    srv.stop();

    // A client without a secret is answered with nacks.
    let (srv, cli) = secret_pair("secret-none", "s3cret", "");
    let failed = cli.wait(WAIT, "the nack", |s| is(s, "probe", "EV_SEND_FAILED"));
    assert!(
        text(&failed.kw, "reason").contains("prove its shared secret"),
        "{}",
        failed.kw
    );
    cli.stop();
    srv.stop();
}

/// Drops the server side of every connection of `peer`'s router.
fn cut_connections(peer: &Peer) {
    peer.handle
        .call(|gaplic| {
            let router = gaplic.find_unique_gobj("router").unwrap();
            let listeners: Vec<GobjId> = gaplic.children_of(router).collect();
            for listener in listeners {
                let socks: Vec<GobjId> = gaplic.children_of(listener).collect();
                for sock in socks {
                    gaplic.post(sock, "EV_DROP", Kw::new()).unwrap();
                }
            }
        })
        .unwrap();
}

#[test]
fn a_subscription_is_made_again_when_its_route_reopens() {
    let (srv, cli) = pair_with("resub", kw! { "reconnect_delay" => 0.05 });
    cli.post(
        "probe",
        "EV_SUBSCRIBE",
        kw! { "gaplic" => "srv-resub", "gobj" => "probe", "event" => "EV_EMITTED" },
    );
    let sync = |tag: &str| {
        cli.post(
            "probe",
            "EV_SEND",
            kw! { "gaplic" => "srv-resub", "gobj" => "probe", "event" => "EV_QUERY", "kw" => kw! { "data" => tag } },
        );
        let answer = cli.wait(WAIT, "the answer", |s| is(s, "probe", "EV_QUERY_ANSWER"));
        assert_eq!(text(&answer.kw, "data"), tag);
    };
    sync("before");
    srv.post("probe", "EV_EMIT", kw! { "data" => "one" });
    let seen = cli.wait(WAIT, "the first broadcast", |s| {
        is(s, "probe", "EV_EMITTED")
    });
    assert_eq!(text(&seen.kw, "data"), "one");

    cut_connections(&srv);
    cli.wait(WAIT, "the route closed", |s| {
        is(s, "probe", "EV_ROUTE_CLOSED")
    });
    cli.wait(WAIT, "the route reopened", |s| {
        is(s, "probe", "EV_ROUTE_OPENED")
    });
    sync("after");
    srv.post("probe", "EV_EMIT", kw! { "data" => "two" });
    srv.post("probe", "EV_EMIT", kw! { "data" => "three" });
    for data in ["two", "three"] {
        let seen = cli.wait(WAIT, "a broadcast after the reconnect", |s| {
            is(s, "probe", "EV_EMITTED")
        });
        assert_eq!(text(&seen.kw, "data"), data, "once each, in order");
    }
    cli.stop();
    srv.stop();
}

#[test]
fn an_event_for_another_gaplic_is_forwarded() {
    // fx-z dials fx-y, which dials fx-x: fx-z reaches fx-x's role through
    // fx-y, which reports it as `*xrole` in its card ack.
    let x = Peer::start("fx-x", &["xrole"], kw! { "server" => true }, &["probe"]);
    let x_url = format!("ws://{}", x.listen.clone().unwrap());
    let y = Peer::start(
        "fx-y",
        &["yrole"],
        kw! { "server" => true, "static_routes" => format!("fx-x, xrole, {x_url}") },
        &["probe"],
    );
    y.wait(WAIT, "fx-y's route to fx-x", |s| {
        is(s, "probe", "EV_ROUTE_OPENED")
    });
    let y_url = format!("ws://{}", y.listen.clone().unwrap());
    let z = Peer::start(
        "fx-z",
        &["zrole"],
        kw! { "static_routes" => format!("fx-y, yrole, {y_url}") },
        &["probe"],
    );
    z.wait(WAIT, "fx-z's route to fx-y", |s| {
        is(s, "probe", "EV_ROUTE_OPENED")
    });
    z.post(
        "probe",
        "EV_SEND",
        kw! { "gaplic" => "fx-x", "role" => "xrole", "gobj" => "probe", "event" => "EV_NOTE", "kw" => kw! { "hops" => 2 } },
    );
    let note = x.wait(WAIT, "the forwarded note", |s| is(s, "probe", "EV_NOTE"));
    assert_eq!(note.kw.get::<i64>("hops"), Ok(2));
    let origin = note.origin.expect("the note has its origin");
    assert_eq!(&*origin.gaplic, "fx-z");

    // fx-y has no route to a gaplic of that name or role: nacked there.
    z.post(
        "probe",
        "EV_SEND",
        kw! { "gaplic" => "fx-y", "gobj" => "nobody", "event" => "EV_NOTE" },
    );
    let failed = z.wait(WAIT, "the nack", |s| is(s, "probe", "EV_SEND_FAILED"));
    assert!(
        text(&failed.kw, "reason").contains("GObj 'nobody' UNKNOWN"),
        "{}",
        failed.kw
    );
    z.stop();
    y.stop();
    x.stop();
}

#[test]
fn a_gaplic_peer_that_does_not_come_back_fails_what_waits_for_it() {
    let srv = Peer::start(
        "srv-linger",
        &["storage"],
        kw! { "server" => true, "route_linger" => 0.3 },
        &["probe"],
    );
    let url = format!("ws://{}", srv.listen.clone().unwrap());
    let cli = Peer::start(
        "cli-linger",
        &["front"],
        kw! { "static_routes" => format!("srv-linger, storage, {url}") },
        &["probe"],
    );
    srv.wait(WAIT, "the route opened", |s| {
        is(s, "probe", "EV_ROUTE_OPENED")
    });
    cli.stop();
    srv.wait(WAIT, "the route closed", |s| {
        is(s, "probe", "EV_ROUTE_CLOSED")
    });
    // The route waits for the peer: the event is queued, not refused...
    srv.post(
        "probe",
        "EV_SEND",
        kw! { "gaplic" => "cli-linger", "gobj" => "probe", "event" => "EV_NOTE" },
    );
    // ...and fails when the peer has not come back in time.
    let failed = srv.wait(WAIT, "the failure", |s| is(s, "probe", "EV_SEND_FAILED"));
    assert!(
        text(&failed.kw, "reason")
            .contains("route to `cli-linger` closed: the peer did not come back"),
        "{}",
        failed.kw
    );
    srv.stop();
}

#[test]
fn remote_subscriptions_are_bounded() {
    let srv = Peer::start(
        "srv-cap",
        &["storage"],
        kw! { "server" => true, "max_remote_subscriptions" => 1 },
        &["probe"],
    );
    let url = format!("ws://{}", srv.listen.clone().unwrap());
    let cli = Peer::start(
        "cli-cap",
        &["front"],
        kw! { "static_routes" => format!("srv-cap, storage, {url}") },
        &["probe", "probe2"],
    );
    for probe in ["probe", "probe2"] {
        cli.post(
            probe,
            "EV_SUBSCRIBE",
            kw! { "gaplic" => "srv-cap", "gobj" => "probe", "event" => "EV_EMITTED" },
        );
    }
    let failed = cli.wait(WAIT, "the refusal", |s| is(s, "probe2", "EV_SEND_FAILED"));
    assert!(
        text(&failed.kw, "reason").contains("1 remote subscriptions already"),
        "{}",
        failed.kw
    );
    cli.stop();
    srv.stop();
}
