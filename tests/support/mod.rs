//! Helpers shared by the runtime's integration tests: GinsFSM's test_gobj1
//! parent and child, a trace recorder, and bounded waits on gaplic threads.
//!
//! Every test binary uses a part of this module only.
#![allow(dead_code)]

use std::io::Write;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gaplic::prelude::*;
use gaplic::{GaplicHandle, Kw};

// ----- GinsFSM's test_gobj1: P and C ---------------------------------------

gobj! {
    /// GinsFSM's test_gobj1 parent `P`: in `ST_IDLE` it forwards any query
    /// to its child `C` and moves to `ST_WAIT_RESP`, where the answer is
    /// stored and "Done" returned.
    pub struct Parent {
        /// Its child `C`, made in `start_up`.
        pub child: Option<GobjId>,
        /// The last answer.
        pub response: Option<String>,
        /// `original_event_name` of the last renamed answer.
        pub original: Option<String>,
        /// `subscription_reference` of the last answer.
        pub reference: Option<Value>,
        /// The source of the last answer.
        pub answer_source: Option<GobjId>,
    }
    events {
        EV_QUERY_BY_DIRECT: input { data: String },
        EV_QUERY_BY_BROADCAST: input { data: String },
        EV_RESP_OK: input { response: String },
        EV_RESP_ERROR: input { response: String },
        EV_RESP_RENAME_OK: input { response: String },
    }
    states { ST_IDLE, ST_WAIT_RESP }
    machine {
        ST_IDLE {
            EV_QUERY_BY_DIRECT => forward -> ST_WAIT_RESP,
            EV_QUERY_BY_BROADCAST => forward -> ST_WAIT_RESP,
        }
        ST_WAIT_RESP {
            EV_RESP_OK => store -> ST_IDLE,
            EV_RESP_ERROR => store -> ST_IDLE,
            EV_RESP_RENAME_OK => store_renamed -> ST_IDLE,
        }
    }
    hooks { start_up }
}

impl Parent {
    fn start_up(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        self.child = Some(cx.create_child::<Child>("c", Kw::new())?);
        Ok(())
    }

    /// Forwards the query to `C`; returns what `C` returned.
    fn forward(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let child = self.child.expect("made in start_up");
        let sent = cx.send(child, ev.name(), ev.kw().clone())?;
        Ok(sent.into_value().unwrap_or_default())
    }

    fn store(&mut self, _cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.response = Some(ev.get("response")?);
        self.reference = ev.kw().value("subscription_reference").cloned();
        self.answer_source = ev.source();
        Ok(Value::from("Done"))
    }

    fn store_renamed(&mut self, _cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.response = Some(format!("{}renamed", ev.get::<String>("response")?));
        self.original = Some(ev.get("original_event_name")?);
        self.reference = ev.kw().value("subscription_reference").cloned();
        self.answer_source = ev.source();
        Ok(Value::from("Done"))
    }
}

gobj! {
    /// GinsFSM's test_gobj1 child `C`: answers a direct query by sending
    /// its parent `EV_RESP_OK` ("query1") or `EV_RESP_ERROR`, and a
    /// broadcast query by publishing them ("query3" is the good one).
    pub struct Child {
        /// How its last direct answer to the parent went: `Ok(result)` or
        /// the error's text.
        pub last_reply: Option<Result<Value, String>>,
        /// Whether its last direct answer was queued (parent mid-action).
        pub last_reply_queued: bool,
    }
    events {
        EV_QUERY_BY_DIRECT: input { data: String },
        EV_QUERY_BY_BROADCAST: input { data: String },
        EV_RESP_OK: output,
        EV_RESP_ERROR: output,
    }
    states { ST_IDLE }
    machine {
        ST_IDLE {
            EV_QUERY_BY_DIRECT => answer_direct,
            EV_QUERY_BY_BROADCAST => answer_broadcast,
        }
    }
}

impl Child {
    /// Sends the answer to the parent. A queued answer (the parent is
    /// mid-action) returns "reply queued"; an error is returned.
    fn answer_direct(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        let me = cx.id().expect("in a gaplic");
        let parent = cx.gaplic()?.parent_of(me).expect("C has a parent");
        let (event, response) = if ev.get::<String>("data")? == "query1" {
            ("EV_RESP_OK", "OK")
        } else {
            ("EV_RESP_ERROR", "ERROR")
        };
        let ret = cx.send(parent, event, kw! { "response" => response });
        self.last_reply_queued = matches!(&ret, Ok(Sent::Queued));
        self.last_reply = Some(match &ret {
            Ok(Sent::Done(value)) => Ok(value.clone()),
            Ok(Sent::Queued) => Ok(Value::from("reply queued")),
            Err(error) => Err(error.to_string()),
        });
        match ret? {
            Sent::Queued => Ok(Value::from("reply queued")),
            Sent::Done(value) => Ok(value),
        }
    }

    fn answer_broadcast(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        if ev.get::<String>("data")? == "query3" {
            cx.broadcast(ChildEvent::EV_RESP_OK, kw! { "response" => "OK" })?;
        } else {
            cx.broadcast(ChildEvent::EV_RESP_ERROR, kw! { "response" => "ERROR" })?;
        }
        Ok(Value::from("broadcast"))
    }
}

/// A gaplic on a virtual clock with P (and its child C) in it.
pub fn gaplic_with_p_and_c(name: &str) -> (Gaplic, GobjId, GobjId) {
    let mut gaplic = Gaplic::builder(name).virtual_clock().build().unwrap();
    let p = gaplic.create_gobj::<Parent>("p", None, Kw::new()).unwrap();
    let c = gaplic.gobj::<Parent>(p).unwrap().child.unwrap();
    (gaplic, p, c)
}

// ----- traces ----------------------------------------------------------------

/// A writer that appends to a shared buffer.
#[derive(Clone, Default)]
struct Recorded(Arc<Mutex<Vec<u8>>>);

impl Write for Recorded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `f` on this thread with a subscriber that records every `WARN` and
/// `ERROR` event as text; returns `f`'s result and the text.
pub fn warnings<R>(f: impl FnOnce() -> R) -> (R, String) {
    let out = Recorded::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .without_time()
        .with_writer(move || writer.clone())
        .finish();
    let result = tracing::subscriber::with_default(subscriber, f);
    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    (result, text)
}

// ----- tests in a process of their own -----------------------------------------

/// The environment variable that tells a child process which test it runs.
const CHILD: &str = "GAPLIC_TEST_CHILD";

/// How long a child process may run.
#[cfg(target_os = "linux")]
const CHILD_LIMIT: Duration = Duration::from_secs(60);

/// `true` in the child process that runs test `name`: the caller runs the
/// test's body. In any other process, runs that child, fails with its
/// output when it fails (an abort included), and returns `false`.
#[cfg(target_os = "linux")]
pub fn in_own_process(name: &str) -> bool {
    use std::process::{Command, Stdio};
    if std::env::var_os(CHILD).is_some_and(|v| v == name) {
        return true;
    }
    let exe = std::env::current_exe().expect("the path of this test binary");
    let child = Command::new(exe)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, name)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("a child process");
    let pid = rustix::process::Pid::from_child(&child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let Ok(output) = rx.recv_timeout(CHILD_LIMIT) else {
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
        panic!("the child process running `{name}` did not end within {CHILD_LIMIT:?}");
    };
    let output = output.expect("the child's output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the child process running `{name}` failed: {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        describe_status(output.status)
    );
    assert!(
        stdout.contains("1 passed"),
        "the child process ran no test called `{name}`:\n{stdout}"
    );
    false
}

#[cfg(target_os = "linux")]
fn describe_status(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(6)) => "killed by SIGABRT (an abort)".to_owned(),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => status.to_string(),
    }
}

// ----- gaplics on threads ----------------------------------------------------

/// Waits at most `limit` for the gaplic's thread to end; panics when it
/// does not (the thread is left behind).
pub fn join_within(handle: &GaplicHandle, limit: Duration) -> Result<(), GobjError> {
    let (tx, rx) = mpsc::channel();
    let joiner = handle.clone();
    std::thread::spawn(move || {
        let _ = tx.send(joiner.join());
    });
    match rx.recv_timeout(limit) {
        Ok(result) => result,
        Err(_) => panic!("gaplic `{}` did not end within {limit:?}", handle.name()),
    }
}

/// Stops a gaplic that is still running after `limit`, so a test that
/// waits on its loop cannot hang; dropping it disarms it.
pub struct Watchdog {
    done: Option<mpsc::Sender<()>>,
    fired: mpsc::Receiver<bool>,
}

impl Watchdog {
    pub fn new(handle: GaplicHandle, limit: Duration) -> Self {
        let (done, cancelled) = mpsc::channel::<()>();
        let (fired_tx, fired) = mpsc::channel();
        std::thread::spawn(move || {
            let fired = matches!(
                cancelled.recv_timeout(limit),
                Err(mpsc::RecvTimeoutError::Timeout)
            );
            if fired {
                let _ = handle.stop();
            }
            let _ = fired_tx.send(fired);
        });
        Watchdog {
            done: Some(done),
            fired,
        }
    }

    /// Disarms it; returns whether it had to stop the gaplic.
    pub fn disarm(mut self) -> bool {
        drop(self.done.take());
        self.fired.recv().unwrap_or(false)
    }
}

/// Waits (at most `limit`, without sleeping) until the thread called
/// `name` is blocked in the kernel; returns whether it got there. Where
/// the state of a thread cannot be read, returns `true` at once.
pub fn wait_until_blocked(name: &str, limit: Duration) -> bool {
    let start = std::time::Instant::now();
    loop {
        match thread_is_blocked(name) {
            None => return true,
            Some(true) => return true,
            Some(false) if start.elapsed() >= limit => return false,
            Some(false) => std::thread::yield_now(),
        }
    }
}

/// `Some(blocked)` for the thread of this process called `name` (a thread
/// not found yet is not blocked); `None` where `/proc` cannot be read.
#[cfg(target_os = "linux")]
fn thread_is_blocked(name: &str) -> Option<bool> {
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let path = task.ok()?.path();
        let Ok(comm) = std::fs::read_to_string(path.join("comm")) else {
            continue;
        };
        if comm.trim_end() != name {
            continue;
        }
        let stat = std::fs::read_to_string(path.join("stat")).ok()?;
        let state = stat.rsplit_once(')')?.1.trim_start().chars().next()?;
        if state == 'S' {
            return Some(true);
        }
    }
    Some(false)
}

#[cfg(not(target_os = "linux"))]
fn thread_is_blocked(_name: &str) -> Option<bool> {
    None
}
