//! Loads that used to abort the process: deep queues of events for a busy
//! gobj, long chains and cycles of direct sends, a panicking owned-event
//! filter. Each runs in a child process of its own, so that an abort (a
//! stack overflow ends the process) fails only its test, with a message
//! that says so.

mod support;

use std::sync::mpsc::channel;
use std::time::Duration;

use gaplic::prelude::*;
use support::{in_own_process, join_within, warnings};

/// Runs `body` in a child process of its own (this test binary, running
/// only the test called `name`), where an abort fails only this test.
fn isolated(name: &str, body: impl FnOnce()) {
    if in_own_process(name) {
        body();
    }
}

gobj! {
    /// Sends itself a burst of events while it is mid-action: they all
    /// queue behind the action.
    struct Burst {
        got: Vec<i64>,
    }
    events {
        EV_BURST: input { n: i64 },
        EV_ONE: input { i: i64 },
    }
    states { ST_IDLE }
    machine {
        ST_IDLE {
            EV_BURST => burst,
            EV_ONE => one,
        }
    }
}

impl Burst {
    fn burst(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let me = cx.id().expect("in a gaplic");
        for i in 0..ev.get::<i64>("n")? {
            let sent = cx.send(me, BurstEvent::EV_ONE, kw! { "i" => i })?;
            assert!(sent.is_queued());
        }
        Ok(Value::Null)
    }

    fn one(&mut self, _cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.got.push(ev.get("i")?);
        Ok(Value::Null)
    }
}

/// 10 000 events queued for a busy gobj used to be drained by recursion
/// (each delivery ended by delivering the next) and overflowed the stack of
/// a spawned thread at about 1 000 in a debug build.
#[test]
fn ten_thousand_sends_to_a_busy_gobj_are_delivered_in_order_on_a_spawned_thread() {
    isolated(
        "ten_thousand_sends_to_a_busy_gobj_are_delivered_in_order_on_a_spawned_thread",
        || {
            let (tx, rx) = channel();
            let handle = gaplic::spawn("limits-burst", |g| {
                g.create_unique_gobj::<Burst>("burst", None, Kw::new())?;
                Ok(())
            })
            .unwrap();
            handle
                .call(move |g| {
                    let burst = g.find_unique_gobj("burst").unwrap();
                    g.send(burst, BurstEvent::EV_BURST, kw! { "n" => 10_000 })
                        .unwrap();
                    tx.send(g.gobj::<Burst>(burst).unwrap().got.clone())
                        .unwrap();
                    g.stop();
                })
                .unwrap();
            let got = rx.recv_timeout(Duration::from_secs(60)).unwrap();
            assert_eq!(got, (0..10_000).collect::<Vec<i64>>());
            join_within(&handle, Duration::from_secs(10)).unwrap();
        },
    );
}

gobj! {
    /// Publishes `EV_HOP` and, hearing one from its peer, publishes the
    /// next, until `hops` is 0.
    struct Relay {}
    events {
        EV_HEAR: input { hops: i64 },
        EV_HOP: output { hops: i64 },
    }
    states { ST_IDLE }
    machine { ST_IDLE { EV_HEAR => hear } }
}

impl Relay {
    fn hear(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let hops = ev.get::<i64>("hops")?;
        if hops > 0 {
            cx.broadcast(RelayEvent::EV_HOP, kw! { "hops" => hops - 1 })?;
        }
        Ok(Value::from(hops))
    }
}

/// Two gobjs subscribed to each other by send used to abort at about
/// 20 000 hops (each hop delivered from inside the previous one); the
/// events for a busy gobj now wait in its queue, so the cycle runs at a
/// constant depth until it ends.
#[test]
fn a_send_mode_subscription_cycle_of_a_hundred_thousand_hops_ends() {
    isolated(
        "a_send_mode_subscription_cycle_of_a_hundred_thousand_hops_ends",
        || {
            let mut g = Gaplic::builder("limits-cycle")
                .virtual_clock()
                .build()
                .unwrap();
            let a = g.create_gobj::<Relay>("a", None, Kw::new()).unwrap();
            let b = g.create_gobj::<Relay>("b", None, Kw::new()).unwrap();
            let renamed = SubscribeOptions::new().rename("EV_HEAR");
            g.subscribe(a, Some("EV_HOP"), b, renamed.clone()).unwrap();
            g.subscribe(b, Some("EV_HOP"), a, renamed).unwrap();
            let sent = g.send(a, RelayEvent::EV_HEAR, kw! { "hops" => 100_000 });
            assert_eq!(sent.unwrap(), Value::from(100_000));
            g.run_until_idle();
        },
    );
}

gobj! {
    /// A link of a chain: passes `EV_PASS` on to `next` by a direct send.
    struct Link {
        #[attr]
        next: Option<GobjId>,
    }
    events { EV_PASS }
    states { ST_IDLE }
    machine { ST_IDLE { EV_PASS => pass } }
}

impl Link {
    fn pass(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        match self.next {
            Some(next) => {
                cx.send(next, LinkEvent::EV_PASS, Kw::new())?;
                Ok(Value::from("passed"))
            }
            None => Ok(Value::from("end")),
        }
    }
}

/// A chain of `len` links in `g`; returns its first link.
fn chain(g: &mut Gaplic, len: usize) -> GobjId {
    let mut next = None;
    for i in (0..len).rev() {
        let kw = match next {
            Some(id) => kw! { "next" => id },
            None => Kw::new(),
        };
        next = Some(
            g.create_gobj::<Link>(&format!("link-{i}"), None, kw)
                .unwrap(),
        );
    }
    next.unwrap()
}

/// A chain of direct sends deeper than the limit ends in a clear error at
/// the limit, not in a stack overflow: here on a spawned thread (2 MiB of
/// stack), whose stack the default limit fits in a debug build.
#[test]
fn a_chain_of_sends_deeper_than_the_limit_is_refused_with_an_error() {
    isolated(
        "a_chain_of_sends_deeper_than_the_limit_is_refused_with_an_error",
        || {
            let (tx, rx) = channel();
            let handle = gaplic::spawn("limits-chain", move |g| {
                let first = chain(g, 1_000);
                let (result, traces) = warnings(|| g.send(first, LinkEvent::EV_PASS, Kw::new()));
                let error = result.unwrap_err();
                tx.send((error.to_string(), traces)).unwrap();
                g.stop();
                Ok(())
            })
            .unwrap();
            let (error, traces) = rx.recv_timeout(Duration::from_secs(60)).unwrap();
            assert!(
                error.contains(&format!(
                    "direct sends nested deeper than {}",
                    gaplic::DEFAULT_MAX_SEND_DEPTH
                )),
                "{error}"
            );
            assert!(traces.contains("event `EV_PASS`"), "{traces}");
            join_within(&handle, Duration::from_secs(10)).unwrap();
        },
    );
}

/// Within the limit the chain runs; the limit and the thread's stack are
/// the caller's to raise together.
#[test]
fn a_bigger_stack_and_limit_let_a_long_chain_through() {
    isolated("a_bigger_stack_and_limit_let_a_long_chain_through", || {
        let mut g = Gaplic::builder("limits-short")
            .virtual_clock()
            .build()
            .unwrap();
        let first = chain(&mut g, gaplic::DEFAULT_MAX_SEND_DEPTH);
        assert_eq!(
            g.send(first, LinkEvent::EV_PASS, Kw::new()).unwrap(),
            Value::from("passed")
        );

        let (tx, rx) = channel();
        let builder = Gaplic::builder("limits-long")
            .virtual_clock()
            .max_send_depth(3_000)
            .stack_size(256 << 20);
        let handle = gaplic::spawn_with(builder, move |g| {
            let first = chain(g, 2_500);
            let ret = g.send(first, LinkEvent::EV_PASS, Kw::new());
            tx.send(
                ret.map(|sent| sent == Value::from("passed"))
                    .map_err(|e| e.to_string()),
            )
            .unwrap();
            g.stop();
            Ok(())
        })
        .unwrap();
        assert_eq!(rx.recv_timeout(Duration::from_secs(60)).unwrap(), Ok(true));
        join_within(&handle, Duration::from_secs(10)).unwrap();
    });
}

gobj! {
    /// Publishes `EV_NEWS`.
    struct Paper {}
    events { EV_PRINT, EV_NEWS: output }
    states { ST_IDLE }
    machine { ST_IDLE { EV_PRINT => print } }
}

impl Paper {
    fn print(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        cx.broadcast(PaperEvent::EV_NEWS, Kw::new())?;
        Ok(Value::Null)
    }
}

gobj! {
    /// Counts the news it reads.
    struct Reader { read: u32 }
    events { EV_NEWS }
    states { ST_IDLE }
    machine { ST_IDLE { EV_NEWS => read } }
}

impl Reader {
    fn read(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.read += 1;
        Ok(Value::Null)
    }
}

/// A panic in an owned-event filter used to escape `broadcast`: it is
/// caught and traced like a panic in an action, and the broadcast goes on.
#[test]
fn a_panicking_owned_event_filter_is_contained() {
    let mut g = Gaplic::builder("limits-filter")
        .virtual_clock()
        .build()
        .unwrap();
    let paper = g.create_gobj::<Paper>("paper", None, Kw::new()).unwrap();
    let readers: Vec<GobjId> = (0..3)
        .map(|i| {
            let r = g
                .create_gobj::<Reader>(&format!("r{i}"), None, Kw::new())
                .unwrap();
            g.subscribe(paper, Some("EV_NEWS"), r, SubscribeOptions::new())
                .unwrap();
            r
        })
        .collect();
    g.set_owned_event_filter(paper, |_| panic!("the filter breaks"))
        .unwrap();
    let (result, traces) = warnings(|| g.send(paper, PaperEvent::EV_PRINT, Kw::new()));
    assert_eq!(result.unwrap(), Value::Null);
    assert!(traces.contains("owned-event filter panicked"), "{traces}");
    assert!(traces.contains("the filter breaks"), "{traces}");
    for r in readers {
        assert_eq!(g.gobj::<Reader>(r).unwrap().read, 1);
    }
    // And the gaplic goes on.
    assert_eq!(
        g.send(paper, PaperEvent::EV_PRINT, Kw::new()).unwrap(),
        Value::Null
    );
}
