//! An SMTP server session as a gclass: the order of commands is the machine.
//!
//! Reads a client transcript (a file given as the first argument, or `-` for
//! standard input, or the built-in one), turns each line into an event by
//! name, as a network boundary does, and answers each with the SMTP reply
//! the machine gives. Commands out of order get `503` because the current
//! state does not accept them, with no `if` in the code. Accepted messages
//! are written to `target/smtp-mailbox/` as `.eml` files.
//!
//! ```text
//! cargo run --example smtp_session
//! cargo run --example smtp_session -- my_transcript.txt
//! ```
//!
//! The machine trace of every event is printed to standard error.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;

use gaplic::prelude::*;

gobj! {
    /// The server side of one SMTP session (RFC 5321, the core commands).
    pub struct SmtpSession {
        /// The name the server greets with.
        #[attr(default = "mx.example.org")]
        hostname: String,
        /// The most recipients one message may have.
        #[attr(default = 3)]
        max_recipients: u32,
        /// Where accepted messages are written.
        #[attr(default = "target/smtp-mailbox")]
        mailbox: String,
        client: String,
        sender: String,
        recipients: Vec<String>,
        body: Vec<String>,
        delivered: u32,
    }
    events {
        /// `HELO <domain>`: the client names itself.
        EV_HELO: input top { domain: String },
        /// `MAIL FROM:<address>`: a new message.
        EV_MAIL: input top { from: String },
        /// `RCPT TO:<address>`: one more recipient.
        EV_RCPT: input top { to: String },
        /// `DATA`: the body follows.
        EV_DATA: input top,
        /// One line of the body.
        EV_LINE: input bottom { text: String },
        /// The `.` line that ends the body.
        EV_END_DATA: input bottom,
        /// `RSET`: forget the message in progress.
        EV_RSET: input top,
        /// `NOOP`.
        EV_NOOP: input top,
        /// `QUIT`.
        EV_QUIT: input top,
    }
    states {
        /// Waiting for `HELO`.
        ST_CONNECTED,
        /// Greeted; no message in progress.
        ST_READY,
        /// `MAIL` given; waiting for recipients.
        ST_MAIL,
        /// At least one recipient; more may follow, or `DATA`.
        ST_RCPT,
        /// Reading the body.
        ST_DATA,
        /// The session is over.
        ST_CLOSED,
    }
    machine {
        ST_CONNECTED {
            EV_HELO => helo -> ST_READY,
            EV_NOOP => noop,
            EV_QUIT => quit -> ST_CLOSED,
        }
        ST_READY {
            EV_MAIL => mail -> ST_MAIL,
            EV_RSET => reset,
            EV_NOOP => noop,
            EV_QUIT => quit -> ST_CLOSED,
        }
        ST_MAIL {
            EV_RCPT => rcpt -> ST_RCPT,
            EV_RSET => reset -> ST_READY,
            EV_NOOP => noop,
            EV_QUIT => quit -> ST_CLOSED,
        }
        ST_RCPT {
            EV_RCPT => rcpt,
            EV_DATA => data -> ST_DATA,
            EV_RSET => reset -> ST_READY,
            EV_NOOP => noop,
            EV_QUIT => quit -> ST_CLOSED,
        }
        ST_DATA {
            EV_LINE => line,
            EV_END_DATA => deliver -> ST_READY,
        }
        ST_CLOSED {}
    }
}

impl SmtpSession {
    fn helo(&mut self, _cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.client = ev.get("domain")?;
        Ok(Value::from(format!(
            "250 {} greets {}",
            self.hostname, self.client
        )))
    }

    fn mail(&mut self, _cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.sender = ev.get("from")?;
        Ok(Value::from("250 OK"))
    }

    fn rcpt(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        if self.recipients.len() as u32 >= self.max_recipients {
            // Refused, but the message in progress is kept: stay where we
            // were (the row would move to ST_RCPT).
            if self.recipients.is_empty() {
                cx.set_state(SmtpSessionState::ST_MAIL);
            }
            return Ok(Value::from("452 too many recipients"));
        }
        self.recipients.push(ev.get("to")?);
        Ok(Value::from("250 OK"))
    }

    fn data(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        Ok(Value::from("354 end data with <CR><LF>.<CR><LF>"))
    }

    fn line(&mut self, _cx: &mut Cx<Self>, ev: &Event) -> Ret {
        self.body.push(ev.get("text")?);
        Ok(Value::Null)
    }

    fn deliver(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.delivered += 1;
        let dir = PathBuf::from(&self.mailbox);
        let path = dir.join(format!("{}.eml", self.delivered));
        let mut text = format!(
            "Return-Path: <{}>\nX-Original-To: {}\nReceived: from {} by {}\n",
            self.sender,
            self.recipients.join(", "),
            self.client,
            self.hostname
        );
        for line in &self.body {
            text.push_str(line);
            text.push('\n');
        }
        let written = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, &text));
        let bytes = text.len();
        self.clear_message();
        match written {
            Ok(()) => Ok(Value::from(format!(
                "250 OK: {bytes} bytes queued as {}",
                path.display()
            ))),
            Err(error) => Ok(Value::from(format!(
                "451 cannot store the message: {error}"
            ))),
        }
    }

    fn reset(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.clear_message();
        Ok(Value::from("250 OK"))
    }

    fn noop(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        Ok(Value::from("250 OK"))
    }

    fn quit(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        Ok(Value::from(format!("221 {} closing", self.hostname)))
    }

    fn clear_message(&mut self) {
        self.sender.clear();
        self.recipients.clear();
        self.body.clear();
    }
}

/// The event a client line stands for, with its payload. In `ST_DATA` every
/// line is body text; elsewhere the first word is the command.
fn event_of(line: &str, state: SmtpSessionState) -> (String, Kw) {
    if state == SmtpSessionState::ST_DATA {
        return match line {
            "." => ("EV_END_DATA".into(), Kw::new()),
            // RFC 5321 dot-stuffing: a leading dot is doubled by the client.
            text => {
                let text = text.strip_prefix('.').unwrap_or(text);
                ("EV_LINE".into(), kw! { "text" => text })
            }
        };
    }
    let (verb, rest) = line.split_once(' ').unwrap_or((line, ""));
    let verb = verb.to_ascii_uppercase();
    let address = |prefix: &str| {
        rest.get(..prefix.len())
            .filter(|head| head.eq_ignore_ascii_case(prefix))
            .map(|_| {
                rest[prefix.len()..]
                    .trim()
                    .trim_matches(['<', '>'])
                    .to_owned()
            })
    };
    let kw = match verb.as_str() {
        "HELO" | "EHLO" if !rest.is_empty() => kw! { "domain" => rest.trim() },
        "MAIL" => address("FROM:").map_or_else(Kw::new, |a| kw! { "from" => a }),
        "RCPT" => address("TO:").map_or_else(Kw::new, |a| kw! { "to" => a }),
        _ => Kw::new(),
    };
    let verb = if verb == "EHLO" { "HELO".into() } else { verb };
    (format!("EV_{verb}"), kw)
}

/// The SMTP reply for what the machine answered.
fn reply(result: Ret) -> Option<String> {
    let error = match result {
        Ok(Value::Null) => return None,
        Ok(value) => return Some(value.as_str().unwrap_or("250 OK").to_owned()),
        Err(error) => error,
    };
    Some(match error.kind() {
        ErrorKind::UnknownEvent { .. } => "500 command unrecognized".into(),
        ErrorKind::NotAccepted { .. } => "503 bad sequence of commands".into(),
        ErrorKind::BadPayload { error, .. } => format!("501 syntax error: {error}"),
        _ => format!("451 local error: {error}"),
    })
}

const TRANSCRIPT: &str = "\
MAIL FROM:<early@example.com>
EHLO client.example.com
DATA
MAIL FROM:<alice@example.com>
RCPT TO:<bob@example.org>
RCPT TO:<carol@example.org>
DATA
Subject: quarterly numbers

The numbers are in.
..and this line started with a dot.
.
MAIL FROM:<alice@example.com>
RCPT
RCPT TO:<dave@example.org>
RSET
VRFY bob
NOOP
QUIT
HELO again.example.com
";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();

    let input: Box<dyn Read> = match std::env::args().nth(1).as_deref() {
        None => Box::new(TRANSCRIPT.as_bytes()),
        Some("-") => Box::new(std::io::stdin()),
        Some(path) => Box::new(std::fs::File::open(path)?),
    };

    let mut session = Machine::<SmtpSession>::new("session-1", &Kw::new())?;
    session.set_trace(true);
    println!("S: 220 {} ready", session.gobj().hostname);
    for line in BufReader::new(input).lines() {
        let line = line?;
        println!("C: {line}");
        let (event, kw) = event_of(&line, session.state());
        if let Some(answer) = reply(session.inject_by_name(&event, kw)) {
            println!("S: {answer}");
        }
        if session.state() == SmtpSessionState::ST_CLOSED {
            break;
        }
    }
    let delivered = session.gobj().delivered;
    println!(
        "session ended in {:?}; {delivered} message(s) delivered",
        session.state()
    );
    Ok(())
}
