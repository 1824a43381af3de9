//! What the router's integration tests share: a probe gobj that records
//! what reaches it and does what the test thread posts it, and gaplics
//! with a router on threads.
#![allow(dead_code)]

use std::process::{Child, ChildStdin};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use gaplic::prelude::*;
use gaplic::{Dest, GaplicHandle, Origin, Remote};
use gaplic_router::{GRouter, ROUTER};

/// Something a probe saw.
#[derive(Clone, Debug)]
pub struct Seen {
    /// The probe's name.
    pub probe: String,
    /// The event.
    pub event: String,
    /// Its payload.
    pub kw: Kw,
    /// Where it came from, when from another gaplic.
    pub origin: Option<Origin>,
}

gobj! {
    /// Records what reaches it, answers queries, and sends, subscribes and
    /// publishes when the test thread posts it to.
    pub struct Probe {
        tx: Option<Sender<Seen>>,
    }
    events {
        /// Send `event` with `kw` to `gobj` of `gaplic`/`role`.
        EV_SEND: input top,
        /// Subscribe to `event` of `gobj` of `gaplic`/`role`.
        EV_SUBSCRIBE: input top,
        /// End that subscription.
        EV_UNSUBSCRIBE: input top,
        /// Publish EV_EMITTED with `data`.
        EV_EMIT: input top,
        /// Answered with EV_QUERY_ANSWER to its origin; returns {echo: data}.
        EV_QUERY: input top,
        /// Published here, received from remote publishers.
        EV_EMITTED: input output top,
        EV_QUERY_ANSWER: input top,
        EV_NOTE: input top,
        EV_ROUTE_OPENED: input bottom,
        EV_ROUTE_CLOSED: input bottom,
        EV_SEND_FAILED: input bottom,
    }
    states { ST_IDLE }
    machine {
        ST_IDLE {
            EV_SEND => send,
            EV_SUBSCRIBE => subscription,
            EV_UNSUBSCRIBE => subscription,
            EV_EMIT => emit,
            EV_QUERY => query,
            EV_EMITTED => record,
            EV_QUERY_ANSWER => record,
            EV_NOTE => record,
            EV_ROUTE_OPENED => record,
            EV_ROUTE_CLOSED => record,
            EV_SEND_FAILED => record,
        }
    }
}

fn opt(ev: &Event, key: &str) -> Option<String> {
    ev.get::<Option<String>>(key)
        .ok()
        .flatten()
        .filter(|s| !s.is_empty())
}

impl Probe {
    fn record(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        if let Some(tx) = &self.tx {
            let _ = tx.send(Seen {
                probe: cx.name().to_owned(),
                event: ev.name().to_owned(),
                kw: ev.kw().clone(),
                origin: ev.origin().cloned(),
            });
        }
        Ok(Value::Null)
    }

    fn send(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let kw = ev.get::<Option<Kw>>("kw")?.unwrap_or_default();
        // Addressed as any event for another gaplic: the runtime hands it
        // to the router, since no gaplic of this process has that name.
        let dst = Dest::Remote(Remote {
            gaplic: opt(ev, "gaplic").map(Into::into),
            role: opt(ev, "role").map(Into::into),
            gobj: ev.get::<String>("gobj")?.into(),
        });
        let sent = cx.send(dst, ev.get::<String>("event")?, kw);
        if let Err(error) = sent {
            self.record(
                cx,
                &Event::new(
                    "EV_SEND_FAILED",
                    kw! { "reason" => error.to_string() },
                    None,
                ),
            )?;
        }
        Ok(Value::Null)
    }

    /// `EV_SUBSCRIBE` or `EV_UNSUBSCRIBE`.
    fn subscription(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let hand = if ev.name() == "EV_SUBSCRIBE" {
            gaplic_router::subscribe_outside
        } else {
            gaplic_router::unsubscribe_outside
        };
        hand(
            cx,
            opt(ev, "gaplic").as_deref(),
            opt(ev, "role").as_deref(),
            &ev.get::<String>("gobj")?,
            &ev.get::<String>("event")?,
        )?;
        Ok(Value::Null)
    }

    fn emit(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let data: String = ev.get("data")?;
        cx.broadcast(ProbeEvent::EV_EMITTED, kw! { "data" => data })?;
        Ok(Value::Null)
    }

    fn query(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.record(cx, ev)?;
        let data = ev.kw().value("data").cloned().unwrap_or_default();
        cx.reply(ev, "EV_QUERY_ANSWER", kw! { "data" => data.clone() })?;
        Ok(Value::Map(kw! { "echo" => data }))
    }
}

/// A gaplic on its own thread with a router made with `router_kw` and the
/// probes named `probes`, each subscribed to the router's route events.
///
/// The gaplic is not in the process's directory of gaplics, as if it ran
/// in a process of its own: what other peers send it goes through the
/// routers, not from thread to thread.
pub struct Peer {
    pub handle: GaplicHandle,
    thread: JoinHandle<Result<(), GobjError>>,
    /// Where the router listens, with `server`.
    pub listen: Option<String>,
    pub seen: Receiver<Seen>,
}

/// Traces to standard error as `RUST_LOG` says (nothing by default).
pub fn trace() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

impl Peer {
    pub fn start(name: &str, roles: &[&str], router_kw: Kw, probes: &[&str]) -> Peer {
        trace();
        let (tx, seen) = channel();
        let probes: Vec<String> = probes.iter().map(|p| p.to_string()).collect();
        let mut builder = Gaplic::builder(name);
        for role in roles {
            builder = builder.role(*role);
        }
        let (started_tx, started) = channel();
        let thread = std::thread::spawn(move || {
            let setup = || -> Result<Gaplic, GobjError> {
                let mut gaplic = builder.build()?;
                let router = gaplic.create_unique_gobj::<GRouter>(ROUTER, None, router_kw)?;
                for probe in &probes {
                    let id = gaplic.create_unique_gobj::<Probe>(probe, None, Kw::new())?;
                    gaplic.gobj_mut::<Probe>(id).unwrap().tx = Some(tx.clone());
                    gaplic.subscribe(
                        router,
                        Some("EV_ROUTE_OPENED"),
                        id,
                        SubscribeOptions::new(),
                    )?;
                    gaplic.subscribe(
                        router,
                        Some("EV_ROUTE_CLOSED"),
                        id,
                        SubscribeOptions::new(),
                    )?;
                }
                Ok(gaplic)
            };
            let mut gaplic = setup().expect("the gaplic starts");
            let listen = gaplic
                .find_unique_gobj(ROUTER)
                .and_then(|router| gaplic.gobj::<GRouter>(router))
                .and_then(|router| router.listen_address(&gaplic));
            started_tx.send((gaplic.handle(), listen)).unwrap();
            gaplic.run()
        });
        let (handle, listen) = started.recv().expect("the gaplic starts");
        Peer {
            handle,
            thread,
            listen,
            seen,
        }
    }

    /// Waits for what `pick` accepts, skipping the rest, for at most
    /// `within`.
    pub fn wait(&self, within: Duration, what: &str, pick: impl Fn(&Seen) -> bool) -> Seen {
        let deadline = Instant::now() + within;
        let mut skipped = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.seen.recv_timeout(left) {
                Ok(seen) if pick(&seen) => return seen,
                Ok(seen) => skipped.push(format!("{} {}: {}", seen.probe, seen.event, seen.kw)),
                Err(_) => panic!(
                    "no {what} within {within:?}; saw instead:\n  {}",
                    skipped.join("\n  ")
                ),
            }
        }
    }

    /// Posts `event` to probe `probe`.
    pub fn post(&self, probe: &str, event: &str, kw: Kw) {
        self.handle.post(probe, event, kw).expect("the gaplic runs");
    }

    pub fn stop(self) {
        let _ = self.handle.stop();
        let ended = self
            .thread
            .join()
            .expect("the gaplic's thread does not panic");
        ended.expect("the gaplic ends cleanly");
    }
}

/// Whether `seen` is `event` at probe `probe`.
pub fn is(seen: &Seen, probe: &str, event: &str) -> bool {
    seen.probe == probe && seen.event == event
}

/// A string of a payload, or "".
pub fn text(kw: &Kw, key: &str) -> String {
    kw.get::<Option<String>>(key)
        .ok()
        .flatten()
        .unwrap_or_default()
}

pub const WAIT: Duration = Duration::from_secs(10);

/// Ends a child process that stops at the end of its input: closes
/// `stdin`, waits up to `patience` for the child to end, and kills it if
/// it has not.
pub fn end_child(child: &mut Child, stdin: Option<ChildStdin>, patience: Duration) {
    drop(stdin);
    let deadline = Instant::now() + patience;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}
