//! A load client for an echo server: `connections` sockets, each sending
//! `messages` messages of `size` bytes one after the other, checking every
//! byte that comes back, then printing the round trips per second. Bounded
//! in count and in time (`--seconds`, default 30); loopback or Unix socket
//! addresses only make sense here.
//!
//! ```text
//! cargo run --release --example echo_server &
//! cargo run --release --example echo_client -- --address 127.0.0.1:7007 --connections 100 --messages 1000 --size 64
//! ```

use std::collections::HashMap;
use std::time::{Duration, Instant};

use gaplic::prelude::*;
use gaplic::{GSock, GSockEvent};

gobj! {
    /// Drives the connections and checks the echoes.
    pub struct Loader {
        /// The echo server.
        #[attr(default = "127.0.0.1:7007")]
        address: String,
        /// Sockets at once.
        #[attr(default = 100)]
        connections: u32,
        /// Messages per socket.
        #[attr(default = 1000)]
        messages: u32,
        /// Bytes per message.
        #[attr(default = 64)]
        size: u32,
        conns: HashMap<GobjId, Conn>,
        finished: u32,
        round_trips: u64,
        failures: Vec<String>,
        started: Option<Instant>,
    }
    events {
        EV_CONNECTED: input bottom,
        EV_CONNECT_FAILED: input bottom { reason: String },
        EV_RX_DATA: input bottom { data: Vec<u8> },
        EV_DISCONNECTED: input bottom { reason: String },
        EV_TX_READY: input bottom,
    }
    states { ST_RUNNING }
    machine {
        ST_RUNNING {
            EV_CONNECTED => connected,
            EV_CONNECT_FAILED => failed,
            EV_RX_DATA => received,
            EV_DISCONNECTED => failed,
            EV_TX_READY,
        }
    }
    hooks { start_up }
}

/// One socket's progress.
#[derive(Debug, Default)]
struct Conn {
    index: u32,
    sent: u32,
    received: Vec<u8>,
    done: bool,
}

/// The bytes of message `seq` of connection `index`: different for every
/// message, so a misplaced or stale echo is caught.
fn message(index: u32, seq: u32, size: u32) -> Vec<u8> {
    (0..size)
        .map(|i| (index.wrapping_mul(31) ^ seq.wrapping_mul(17) ^ i) as u8)
        .collect()
}

impl Loader {
    fn start_up(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        self.started = Some(Instant::now());
        for index in 0..self.connections {
            let gsock = cx.create_child::<GSock>(&format!("client-{index}"), Kw::new())?;
            self.conns.insert(
                gsock,
                Conn {
                    index,
                    ..Conn::default()
                },
            );
            let address = self.address.clone();
            cx.post(gsock, GSockEvent::EV_CONNECT, kw! { "address" => address })?;
        }
        Ok(())
    }

    fn connected(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let gsock = ev.source().ok_or_else(|| GobjError::failed("no source"))?;
        self.send_next(cx, gsock)
    }

    fn send_next(&mut self, cx: &mut Cx<Self>, gsock: GobjId) -> Ret {
        let size = self.size;
        let conn = self
            .conns
            .get_mut(&gsock)
            .ok_or_else(|| GobjError::failed("unknown socket"))?;
        let data = message(conn.index, conn.sent, size);
        conn.sent += 1;
        cx.post(gsock, GSockEvent::EV_SEND_DATA, kw! { "data" => data })?;
        Ok(Value::Null)
    }

    fn received(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let gsock = ev.source().ok_or_else(|| GobjError::failed("no source"))?;
        let (size, messages) = (self.size as usize, self.messages);
        let conn = self
            .conns
            .get_mut(&gsock)
            .ok_or_else(|| GobjError::failed("unknown socket"))?;
        conn.received.extend_from_slice(
            ev.kw()
                .value("data")
                .and_then(Value::as_bytes)
                .unwrap_or_default(),
        );
        if conn.received.len() < size {
            return Ok(Value::Null);
        }
        let expected = message(conn.index, conn.sent - 1, self.size);
        if conn.received[..size] != expected[..] || conn.received.len() > size {
            let failure = format!(
                "connection {}: echo of message {} differs",
                conn.index,
                conn.sent - 1
            );
            return self.fail(cx, failure);
        }
        conn.received.clear();
        self.round_trips += 1;
        if conn.sent < messages {
            return self.send_next(cx, gsock);
        }
        conn.done = true;
        self.finished += 1;
        cx.post(gsock, GSockEvent::EV_DROP, Kw::new())?;
        if self.finished == self.connections {
            cx.gaplic()?.stop();
        }
        Ok(Value::Null)
    }

    fn failed(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let done = ev
            .source()
            .and_then(|g| self.conns.get(&g))
            .is_some_and(|c| c.done);
        if done {
            return Ok(Value::Null);
        }
        let reason: String = ev.get("reason")?;
        self.fail(cx, reason)
    }

    fn fail(&mut self, cx: &mut Cx<Self>, failure: String) -> Ret {
        self.failures.push(failure);
        cx.gaplic()?.stop();
        Ok(Value::Null)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut kw = Kw::new();
    let mut limit = Duration::from_secs(30);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| format!("`{flag}` needs a value"))?;
        match flag.as_str() {
            "--address" => {
                kw.insert("address", value);
            }
            "--connections" | "--messages" | "--size" => {
                let n: u32 = value
                    .parse()
                    .map_err(|_| format!("bad number `{value}` for {flag}"))?;
                kw.insert(flag.trim_start_matches("--").to_owned(), n);
            }
            "--seconds" => limit = Duration::from_secs_f64(value.parse()?),
            other => return Err(format!("unknown option `{other}`").into()),
        }
    }
    let mut gaplic = Gaplic::new("echo-client")?;
    let loader = gaplic.create_unique_gobj::<Loader>("loader", None, kw)?;
    gaplic.set_timer(limit, |gaplic| {
        eprintln!("time limit reached");
        gaplic.stop();
    });
    gaplic.run()?;
    let loader = gaplic.gobj::<Loader>(loader).ok_or("the loader is gone")?;
    let elapsed = loader.started.map_or(Duration::ZERO, |s| s.elapsed());
    println!(
        "{} round trips of {} bytes over {} connections in {elapsed:.2?}: {:.0} round trips/s",
        loader.round_trips,
        loader.size,
        loader.connections,
        loader.round_trips as f64 / elapsed.as_secs_f64()
    );
    if !loader.failures.is_empty() || loader.finished != loader.connections {
        return Err(format!(
            "{} of {} connections finished; failures: {:?}",
            loader.finished, loader.connections, loader.failures
        )
        .into());
    }
    Ok(())
}
