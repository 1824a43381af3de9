//! A router faced with bad peers: malformed JSON, missing or mistyped
//! fields, unknown message types, frames over the limit, handshakes and
//! cards that never come, floods, a peer that never reads. Each gets a
//! nack or a closed link with a reason; the router goes on serving.

mod support;

use std::io::{ErrorKind as IoKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use gaplic::prelude::*;
use serde_json::{Value as Json, json};
use support::{Peer, WAIT, is};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Message, WebSocket};

fn server(name: &str) -> Peer {
    Peer::start(
        name,
        &["bad"],
        kw! {
            "server" => true,
            "max_message_size" => 1024,
            "handshake_timeout" => 0.3,
            "ping_interval" => 0.2,
            "tx_limit" => 16_384,
        },
        &["probe"],
    )
}

/// A websocket client written by hand, blocking, with timeouts.
fn connect(peer: &Peer) -> WebSocket<TcpStream> {
    let addr = peer.listen.clone().unwrap();
    let stream = TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let (ws, _) = tungstenite::client(format!("ws://{addr}/"), stream).unwrap();
    ws
}

fn send(ws: &mut WebSocket<TcpStream>, json: Json) {
    ws.send(Message::text(json.to_string())).unwrap();
}

/// The next JSON message, skipping pings.
fn next(ws: &mut WebSocket<TcpStream>) -> Json {
    loop {
        match ws.read().unwrap() {
            Message::Text(text) => return serde_json::from_str(text.as_str()).unwrap(),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

fn card(ws: &mut WebSocket<TcpStream>, name: &str) {
    send(
        ws,
        json!({"message_type": "__identity_card__", "my_gaplic_name": name, "my_roles": ["raw"]}),
    );
    let ack = next(ws);
    assert_eq!(ack["message_type"], "__identity_card_ack__", "{ack}");
}

fn event(serial: u64, gobj: &str, kw: Json) -> Json {
    json!({
        "message_type": "__event__", "serial": serial, "event_name": "EV_NOTE",
        "destination_gaplic": null, "destination_role": "bad", "destination_gobj": gobj,
        "origin_gaplic": "raw", "origin_role": "raw", "origin_gobj": "me", "kw": kw,
    })
}

/// Whether the server ends the connection within `within`: EOF, a reset,
/// or a close frame.
fn ends_within(ws: &mut WebSocket<TcpStream>, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        match ws.read() {
            Ok(Message::Close(_)) => return true,
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(e.kind(), IoKind::WouldBlock | IoKind::TimedOut) => {}
            Err(_) => return true,
        }
    }
    false
}

#[test]
fn malformed_messages_are_nacked_or_dropped_and_the_link_lives() {
    let srv = server("bad-srv");
    let mut ws = connect(&srv);
    card(&mut ws, "raw");
    // Not JSON, not an object, an unknown type: dropped, traced.
    ws.send(Message::text("{not json")).unwrap();
    ws.send(Message::text("[1, 2]")).unwrap();
    send(&mut ws, json!({"message_type": "__gossip__"}));
    // An event without its destination gobj: nacked, naming the field.
    let mut missing = event(1, "probe", json!({}));
    missing.as_object_mut().unwrap().remove("destination_gobj");
    send(&mut ws, missing);
    let nack = next(&mut ws);
    assert_eq!(nack["message_type"], "__event_nack__");
    assert_eq!(nack["serial"], 1);
    assert_eq!(
        nack["error_message"],
        "message refused: __event__ without field `destination_gobj`"
    );
    // A mistyped field.
    let mut mistyped = event(2, "probe", json!({}));
    mistyped["kw"] = json!("not a map");
    send(&mut ws, mistyped);
    let nack = next(&mut ws);
    assert_eq!(
        nack["error_message"],
        "message refused: field `kw`: expected an object, found string \"not a map\""
    );
    // The link still carries events.
    send(&mut ws, event(3, "probe", json!({"ok": true})));
    let ack = next(&mut ws);
    assert_eq!(
        (ack["message_type"].as_str(), ack["serial"].as_u64()),
        (Some("__event_ack__"), Some(3))
    );
    let note = srv.wait(WAIT, "the good event", |s| is(s, "probe", "EV_NOTE"));
    assert_eq!(note.kw.get::<bool>("ok"), Ok(true));
    srv.stop();
}

#[test]
fn a_frame_over_the_limit_closes_the_link_with_the_reason() {
    let srv = server("big-srv");
    let mut ws = connect(&srv);
    card(&mut ws, "raw");
    ws.send(Message::text("x".repeat(2000))).unwrap();
    let close = loop {
        match ws.read() {
            Ok(Message::Close(frame)) => break frame.expect("a close frame with a reason"),
            Ok(_) => {}
            Err(e) => panic!("no close frame: {e}"),
        }
    };
    assert_eq!(close.code, CloseCode::Size);
    assert!(
        close.reason.contains("over the 1024-byte limit"),
        "{}",
        close.reason
    );
    let closed = srv.wait(WAIT, "the route closed", |s| {
        is(s, "probe", "EV_ROUTE_CLOSED")
    });
    assert!(support::text(&closed.kw, "reason").contains("1024-byte limit"));
    srv.stop();
}

#[test]
fn handshakes_and_cards_that_never_come_are_timed_out() {
    let srv = server("slow-srv");
    // Half a request, then silence.
    let mut raw = TcpStream::connect(srv.listen.clone().unwrap()).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    raw.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    let started = Instant::now();
    let mut buf = [0_u8; 256];
    let n = raw.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "closed without an answer");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    // A websocket without an identity card.
    let mut ws = connect(&srv);
    assert!(ends_within(&mut ws, Duration::from_secs(3)));
    srv.stop();
}

#[test]
fn a_flood_of_events_is_acked_one_by_one() {
    let srv = server("flood-srv");
    let mut ws = connect(&srv);
    card(&mut ws, "raw");
    for serial in 1..=500 {
        send(&mut ws, event(serial, "probe", json!({"n": serial})));
    }
    for serial in 1..=500 {
        let ack = next(&mut ws);
        assert_eq!(ack["message_type"], "__event_ack__", "{ack}");
        assert_eq!(ack["serial"], serial, "{ack}");
    }
    for n in 1..=500 {
        let note = srv.wait(WAIT, "a note", |s| is(s, "probe", "EV_NOTE"));
        assert_eq!(note.kw.get::<i64>("n"), Ok(n));
    }
    srv.stop();
}

#[test]
fn a_peer_that_never_reads_is_cut_off_and_the_router_goes_on() {
    let srv = server("deaf-srv");
    let mut deaf = connect(&srv);
    card(&mut deaf, "deaf");
    deaf.get_ref()
        .set_write_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    // Events whose acks it never reads, as fast as it can, for a while.
    let started = Instant::now();
    let mut serial = 0;
    while started.elapsed() < Duration::from_secs(3) {
        serial += 1;
        if deaf
            .send(Message::text(event(serial, "probe", json!({})).to_string()))
            .is_err()
        {
            break;
        }
    }
    let closed = srv.wait(WAIT, "the route closed", |s| {
        is(s, "probe", "EV_ROUTE_CLOSED")
    });
    assert_eq!(support::text(&closed.kw, "gaplic"), "deaf");
    let reason = support::text(&closed.kw, "reason");
    // Whichever comes first: no pong, the output over its limit, or the
    // socket's own idle timeout once it stopped reading the peer.
    assert!(
        ["no answer to pings", "output buffer full", "idle for"]
            .iter()
            .any(|why| reason.contains(why)),
        "{reason}"
    );
    // Another client is served as before.
    let mut ws = connect(&srv);
    card(&mut ws, "fine");
    send(&mut ws, event(1, "probe", json!({"after": true})));
    assert_eq!(next(&mut ws)["message_type"], "__event_ack__");
    srv.stop();
}

#[test]
fn a_nameless_client_gets_a_route_named_after_both_ends() {
    let srv = server("anon-srv");
    let mut ws = connect(&srv);
    let local = ws.get_ref().local_addr().unwrap().to_string();
    send(
        &mut ws,
        json!({"message_type": "__identity_card__", "my_gaplic_name": null, "my_roles": [null]}),
    );
    assert_eq!(next(&mut ws)["message_type"], "__identity_card_ack__");
    let opened = srv.wait(WAIT, "the route opened", |s| {
        is(s, "probe", "EV_ROUTE_OPENED")
    });
    let name = support::text(&opened.kw, "gaplic");
    assert_eq!(
        name,
        format!("^{local}{}", srv.listen.clone().unwrap()),
        "GinsFSM names it `^<peer><local>`"
    );
    srv.stop();
}
