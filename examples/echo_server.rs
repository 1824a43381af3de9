//! An echo server made of gobjs: a `GServerSock` makes a `GSock` per
//! connection, and the `Echo` gobj sends back whatever each one receives.
//!
//! ```text
//! cargo run --release --example echo_server                    # 127.0.0.1:7007
//! cargo run --release --example echo_server -- 127.0.0.1:9000
//! cargo run --release --example echo_server -- unix:/tmp/echo.sock
//! ```
//!
//! Try it with `cargo run --release --example echo_client`. It runs until
//! interrupted; with `--for SECONDS` it stops by itself.

use std::time::Duration;

use gaplic::prelude::*;
use gaplic::{GServerSock, GSockEvent};

gobj! {
    /// Echoes every connection's bytes back to it.
    pub struct Echo {
        /// Where to listen.
        #[attr(default = "127.0.0.1:7007")]
        address: String,
        server: Option<GobjId>,
        connections: u64,
        bytes: u64,
    }
    events {
        /// A client connected (from its GSock).
        EV_CONNECTED: input bottom { peername: String },
        /// Bytes arrived (from a GSock).
        EV_RX_DATA: input bottom { data: Vec<u8> },
        /// A client left.
        EV_DISCONNECTED: input bottom { reason: String },
        /// A GSock's output buffer drained.
        EV_TX_READY: input bottom,
    }
    states { ST_SERVING }
    machine {
        ST_SERVING {
            EV_CONNECTED => connected,
            EV_RX_DATA => echo,
            EV_DISCONNECTED => disconnected,
            EV_TX_READY,
        }
    }
    hooks { start_up }
}

impl Echo {
    fn start_up(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        let server =
            cx.create_child::<GServerSock>("server", kw! { "address" => self.address.clone() })?;
        self.server = Some(server);
        let listening = cx
            .gaplic()?
            .gobj::<GServerSock>(server)
            .map(|s| s.local_address().to_owned())
            .unwrap_or_default();
        println!("echo server listening on {listening}");
        Ok(())
    }

    fn connected(&mut self, _cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.connections += 1;
        tracing::debug!(peer = %ev.get::<String>("peername")?, "connected");
        Ok(Value::Null)
    }

    fn echo(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let gsock = ev
            .source()
            .ok_or_else(|| GobjError::failed("data without a socket"))?;
        let data = ev.kw().value("data").cloned().unwrap_or_default();
        self.bytes += data.as_bytes().map_or(0, |b| b.len() as u64);
        // The socket is mid-action (publishing this data): post the answer,
        // it is written as soon as that action returns.
        cx.post(gsock, GSockEvent::EV_SEND_DATA, kw! { "data" => data })?;
        Ok(Value::Null)
    }

    fn disconnected(&mut self, _cx: &mut Cx<Self>, ev: &Event) -> Ret {
        tracing::debug!(reason = %ev.get::<String>("reason")?, "disconnected");
        Ok(Value::Null)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let mut args = std::env::args().skip(1);
    let mut kw = Kw::new();
    let mut run_for = None;
    while let Some(arg) = args.next() {
        if arg == "--for" {
            let seconds: f64 = args.next().ok_or("`--for` needs seconds")?.parse()?;
            run_for = Some(Duration::from_secs_f64(seconds));
        } else {
            kw.insert("address", arg);
        }
    }
    let mut gaplic = Gaplic::new("echo")?;
    let echo = gaplic.create_unique_gobj::<Echo>("echo", None, kw)?;
    if let Some(limit) = run_for {
        gaplic.set_timer(limit, |gaplic| gaplic.stop());
    }
    gaplic.run()?;
    if let Some(echo) = gaplic.gobj::<Echo>(echo) {
        println!(
            "served {} connections, echoed {} bytes",
            echo.connections, echo.bytes
        );
    }
    Ok(())
}
