//! TCP echo, 100 connections, 64-byte messages, on loopback: the gaplic echo
//! server (a `GServerSock` and its `GSock` children, one thread) against a
//! tokio current-thread echo server, driven by the same client in the same
//! run. Prints round trips per second and the ratio.
//!
//! `cargo bench --bench echo`

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use gaplic::prelude::*;
use gaplic::{GServerSock, GSockEvent};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

const CONNECTIONS: usize = 100;
const MESSAGE: usize = 64;
const ROUND_TRIPS: usize = 200_000;
const RUNS: usize = 3;

gobj! {
    /// Echoes what each connection sends.
    pub struct Echo {}
    events {
        EV_RX_DATA: input bottom { data: Vec<u8> },
        EV_CONNECTED: input bottom,
        EV_DISCONNECTED: input bottom,
        EV_TX_READY: input bottom,
    }
    states { ST_SERVING }
    machine {
        ST_SERVING {
            EV_RX_DATA => echo,
            EV_CONNECTED,
            EV_DISCONNECTED,
            EV_TX_READY,
        }
    }
}

impl Echo {
    fn echo(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let gsock = ev.source().ok_or_else(|| GobjError::failed("no source"))?;
        let data = ev.kw().value("data").cloned().unwrap_or_default();
        cx.post(gsock, GSockEvent::EV_SEND_DATA, kw! { "data" => data })?;
        Ok(Value::Null)
    }
}

/// A running server: its address, and what stops it.
type Server = (SocketAddr, Box<dyn FnOnce()>);

/// Starts the gaplic echo server on a thread.
fn gaplic_server() -> Server {
    let (tx, rx) = mpsc::channel();
    let handle = gaplic::spawn("bench-echo", move |gaplic| {
        let echo = gaplic.create_gobj::<Echo>("echo", None, Kw::new())?;
        let server = gaplic.create_gobj::<GServerSock>(
            "server",
            Some(echo),
            kw! { "address" => "127.0.0.1:0" },
        )?;
        let address = gaplic
            .gobj::<GServerSock>(server)
            .map(|s| s.local_address().to_owned())
            .unwrap_or_default();
        tx.send(address).ok();
        Ok(())
    })
    .expect("the gaplic echo server starts");
    let address = rx.recv().expect("address").parse().expect("socket address");
    (
        address,
        Box::new(move || {
            handle.stop().ok();
            handle.join().expect("the gaplic echo server ends cleanly");
        }),
    )
}

/// Starts a tokio current-thread echo server on a thread.
fn tokio_server() -> Server {
    let (tx, rx) = mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            tx.send(listener.local_addr().expect("address")).ok();
            let accept = async {
                loop {
                    let Ok((mut socket, _)) = listener.accept().await else {
                        continue;
                    };
                    socket.set_nodelay(true).ok();
                    tokio::task::spawn_local(async move {
                        use tokio::io::{AsyncReadExt, AsyncWriteExt};
                        let mut buffer = vec![0_u8; 65_536];
                        loop {
                            match socket.read(&mut buffer).await {
                                Ok(0) | Err(_) => break,
                                Ok(n) => {
                                    if socket.write_all(&buffer[..n]).await.is_err() {
                                        break;
                                    }
                                }
                            }
                        }
                    });
                }
            };
            let local = tokio::task::LocalSet::new();
            local
                .run_until(async {
                    tokio::select! {
                        _ = accept => {}
                        _ = stop_rx => {}
                    }
                })
                .await;
        });
    });
    let address = rx.recv().expect("address");
    (
        address,
        Box::new(move || {
            stop_tx.send(()).ok();
            thread.join().expect("the tokio echo server ends cleanly");
        }),
    )
}

/// The client: `CONNECTIONS` sockets on one mio poll, each sending a
/// message and waiting for its echo, `ROUND_TRIPS` in all; checks every
/// byte. Returns round trips per second.
fn client(address: SocketAddr) -> f64 {
    let mut poll = Poll::new().expect("poll");
    let mut events = Events::with_capacity(1024);
    let mut sockets: HashMap<Token, (TcpStream, Vec<u8>, u8)> = HashMap::new();
    for i in 0..CONNECTIONS {
        let std = std::net::TcpStream::connect(address).expect("connect");
        std.set_nodelay(true).expect("nodelay");
        std.set_nonblocking(true).expect("nonblocking");
        let mut stream = TcpStream::from_std(std);
        poll.registry()
            .register(&mut stream, Token(i), Interest::READABLE)
            .expect("register");
        sockets.insert(Token(i), (stream, Vec::with_capacity(MESSAGE), 0));
    }
    let started = Instant::now();
    let mut sent = 0;
    let mut done = 0;
    for (stream, _, seq) in sockets.values_mut() {
        stream.write_all(&[*seq; MESSAGE]).expect("write");
        sent += 1;
    }
    let mut buffer = [0_u8; 4096];
    while done < ROUND_TRIPS {
        poll.poll(&mut events, Some(Duration::from_secs(10)))
            .expect("poll");
        assert!(!events.is_empty(), "the echo server stopped answering");
        for event in &events {
            let (stream, got, seq) = sockets.get_mut(&event.token()).expect("socket");
            loop {
                match stream.read(&mut buffer) {
                    Ok(0) => panic!("the echo server closed a connection"),
                    Ok(n) => got.extend_from_slice(&buffer[..n]),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => panic!("read: {e}"),
                }
            }
            while got.len() >= MESSAGE {
                assert!(got[..MESSAGE].iter().all(|b| b == seq), "echo differs");
                got.drain(..MESSAGE);
                done += 1;
                *seq = seq.wrapping_add(1);
                if sent < ROUND_TRIPS {
                    stream.write_all(&[*seq; MESSAGE]).expect("write");
                    sent += 1;
                }
            }
        }
    }
    ROUND_TRIPS as f64 / started.elapsed().as_secs_f64()
}

fn best_of(make: fn() -> Server) -> f64 {
    let (address, stop) = make();
    let best = (0..RUNS).map(|_| client(address)).fold(0.0, f64::max);
    stop();
    best
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("echo: bench");
        return;
    }
    let mut gaplic_best: f64 = 0.0;
    let mut tokio_best: f64 = 0.0;
    for _ in 0..2 {
        tokio_best = tokio_best.max(best_of(tokio_server));
        gaplic_best = gaplic_best.max(best_of(gaplic_server));
    }
    println!(
        "ratio echo/100x64B gaplic/tokio = {:.2} (gaplic {:.0} round trips/s, tokio {:.0} round trips/s)",
        gaplic_best / tokio_best,
        gaplic_best,
        tokio_best
    );
}
