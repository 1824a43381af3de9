//! Websocket framing over bytes a gobj feeds in and drains out: no IO.
//!
//! A [`Link`] runs tungstenite over an in-memory duplex buffer: the router
//! [`feed`](Link::feed)s it what a socket's `EV_RX_DATA` brings and sends
//! what [`take_output`](Link::take_output) gives as `EV_SEND_DATA`. It does
//! the client or server handshake, then carries text messages, answers
//! pings, and closes.
//!
//! What a GinsFSM peer needs, and this does:
//! - nothing follows the handshake in the same write: the 101 response (or
//!   the request) is drained alone, and the router speaks only after it;
//! - messages are single text frames, never fragmented;
//! - any `Sec-WebSocket-Key` is accepted (an unpatched GinsFSM client
//!   sends `b'...'`), and a pong with an empty payload is fine;
//! - frames and messages over the size limit close the link with a reason,
//!   as does anything that breaks the protocol (a binary frame included:
//!   the router speaks text).

use std::io::{self, Read, Write};

use tungstenite::error::{CapacityError, ProtocolError};
use tungstenite::handshake::client::{ClientHandshake, Request};
use tungstenite::handshake::server::{NoCallback, ServerHandshake};
use tungstenite::handshake::{HandshakeError, MidHandshake};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tungstenite::{Error, Message as WsMessage, WebSocket};

/// What the link's peer did, from [`Link::feed`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkEvent {
    /// The handshake completed: messages may go both ways.
    Opened,
    /// A text message arrived.
    Text(String),
    /// The link is closed, for this reason; nothing more comes.
    Closed(String),
}

/// Bytes in from the socket, bytes out to it. Reading an empty input says
/// `WouldBlock`, as a nonblocking socket does.
#[derive(Debug, Default)]
pub struct Duplex {
    input: Vec<u8>,
    read_at: usize,
    output: Vec<u8>,
}

impl Duplex {
    fn push(&mut self, data: &[u8]) {
        if self.read_at == self.input.len() {
            self.input.clear();
            self.read_at = 0;
        }
        self.input.extend_from_slice(data);
    }
}

impl Read for Duplex {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rest = &self.input[self.read_at..];
        if rest.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.read_at += n;
        Ok(n)
    }
}

impl Write for Duplex {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

enum State {
    Client(MidHandshake<ClientHandshake<Duplex>>),
    Server(MidHandshake<ServerHandshake<Duplex, NoCallback>>),
    Open(Box<WebSocket<Duplex>>),
    Closed,
}

/// One websocket connection's framing, client or server side.
pub struct Link {
    state: State,
    /// Output drained from a finished handshake, before the socket exists.
    output: Vec<u8>,
    limit: usize,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.state {
            State::Client(_) => "client handshake",
            State::Server(_) => "server handshake",
            State::Open(_) => "open",
            State::Closed => "closed",
        };
        f.debug_struct("Link").field("state", &state).finish()
    }
}

/// Bytes tungstenite reads from the duplex at a time. It zeroes its free
/// input capacity before each read, the last of which finds nothing, so a
/// small chunk costs less than its 128 KiB default for the small messages
/// a router carries; a larger message grows the buffer as it needs, and a
/// large input takes more reads of the same cost per byte.
const READ_CHUNK: usize = 2 << 10;

fn config(limit: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_CHUNK)
        .max_message_size(Some(limit))
        .max_frame_size(Some(limit))
}

impl Link {
    /// The client side: its handshake request for `url` (`ws://host:port/path`)
    /// is ready in [`take_output`](Link::take_output). Messages and frames
    /// are limited to `limit` bytes.
    ///
    /// # Errors
    ///
    /// The reason the URL cannot make a request.
    pub fn client(url: &str, limit: usize) -> Result<Link, String> {
        let request: Request = url
            .parse::<tungstenite::http::Uri>()
            .map_err(|e| format!("bad websocket url `{url}`: {e}"))
            .and_then(|uri| {
                tungstenite::client::IntoClientRequest::into_client_request(uri)
                    .map_err(|e| format!("bad websocket url `{url}`: {e}"))
            })?;
        let mut link = Link {
            state: State::Closed,
            output: Vec::new(),
            limit,
        };
        match ClientHandshake::start(Duplex::default(), request, Some(config(limit))) {
            Ok(mid) => {
                link.state = State::Client(mid);
                // Writes the request into the duplex, then waits for input.
                link.advance();
                Ok(link)
            }
            Err(e) => Err(format!("cannot start the handshake with `{url}`: {e}")),
        }
    }

    /// The server side, waiting for a client's handshake request.
    pub fn server(limit: usize) -> Link {
        Link {
            state: State::Server(ServerHandshake::start(
                Duplex::default(),
                NoCallback,
                Some(config(limit)),
            )),
            output: Vec::new(),
            limit,
        }
    }

    /// Whether the handshake is done and the link not closed.
    pub fn is_open(&self) -> bool {
        matches!(self.state, State::Open(_))
    }

    /// Whether the link is closed.
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// The largest message and frame the link takes, in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Takes bytes from the socket; returns what they made happen. After a
    /// [`LinkEvent::Closed`], nothing more is read.
    pub fn feed(&mut self, data: &[u8]) -> Vec<LinkEvent> {
        let mut events = Vec::new();
        match &mut self.state {
            State::Client(mid) => mid.get_mut().get_mut().push(data),
            State::Server(mid) => mid.get_mut().get_mut().push(data),
            State::Open(ws) => ws.get_mut().push(data),
            State::Closed => return events,
        }
        if let Some(event) = self.advance() {
            events.push(event);
        }
        if self.is_open() {
            self.read_messages(&mut events);
        }
        events
    }

    /// Moves a handshake on as far as the input allows.
    fn advance(&mut self) -> Option<LinkEvent> {
        let state = std::mem::replace(&mut self.state, State::Closed);
        let (state, event) = match state {
            State::Client(mid) => match mid.handshake() {
                Ok((ws, _response)) => (State::Open(Box::new(ws)), Some(LinkEvent::Opened)),
                Err(HandshakeError::Interrupted(mut mid)) => {
                    self.output.append(&mut mid.get_mut().get_mut().output);
                    (State::Client(mid), None)
                }
                Err(HandshakeError::Failure(e)) => (
                    State::Closed,
                    Some(LinkEvent::Closed(format!(
                        "websocket handshake failed: {e}"
                    ))),
                ),
            },
            State::Server(mid) => match mid.handshake() {
                Ok(ws) => (State::Open(Box::new(ws)), Some(LinkEvent::Opened)),
                Err(HandshakeError::Interrupted(mut mid)) => {
                    self.output.append(&mut mid.get_mut().get_mut().output);
                    (State::Server(mid), None)
                }
                Err(HandshakeError::Failure(e)) => (
                    State::Closed,
                    Some(LinkEvent::Closed(format!(
                        "websocket handshake refused: {e}"
                    ))),
                ),
            },
            other => (other, None),
        };
        self.state = state;
        if let State::Open(ws) = &mut self.state {
            // The request or the 101 response, alone.
            self.output.append(&mut ws.get_mut().output);
        }
        event
    }

    fn read_messages(&mut self, events: &mut Vec<LinkEvent>) {
        let State::Open(ws) = &mut self.state else {
            return;
        };
        loop {
            match ws.read() {
                Ok(WsMessage::Text(text)) => events.push(LinkEvent::Text(text.as_str().to_owned())),
                Ok(WsMessage::Binary(_)) => {
                    let reason = "binary frame: the router speaks text frames only";
                    self.fail(CloseCode::Unsupported, reason, events);
                    return;
                }
                // Pongs go out with the next flush; pongs and raw frames
                // need nothing.
                Ok(WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_)) => {}
                Ok(WsMessage::Close(frame)) => {
                    // The reply is queued; flush it, then the link is done.
                    let _ = ws.flush();
                    let reason = frame.map_or_else(
                        || "closed by the peer".to_owned(),
                        |f| format!("closed by the peer ({}: {})", u16::from(f.code), f.reason),
                    );
                    self.finish(reason, events);
                    return;
                }
                Err(Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(Error::ConnectionClosed | Error::AlreadyClosed) => {
                    self.finish("closed by the peer".to_owned(), events);
                    return;
                }
                Err(Error::Capacity(CapacityError::MessageTooLong { size, max_size })) => {
                    let reason = format!(
                        "websocket message or frame of {size} bytes is over the {max_size}-byte limit"
                    );
                    self.fail(CloseCode::Size, &reason, events);
                    return;
                }
                Err(Error::Protocol(ProtocolError::ResetWithoutClosingHandshake)) => {
                    self.finish("reset without a closing handshake".to_owned(), events);
                    return;
                }
                Err(e) => {
                    let reason = format!("websocket protocol error: {e}");
                    self.fail(CloseCode::Protocol, &reason, events);
                    return;
                }
            }
        }
        // Pongs queued by pings.
        if let State::Open(ws) = &mut self.state {
            let _ = ws.flush();
            self.output.append(&mut ws.get_mut().output);
        }
    }

    /// Closes after a fault of the peer: a close frame with `code` and
    /// `reason` goes out, and the link is closed.
    fn fail(&mut self, code: CloseCode, reason: &str, events: &mut Vec<LinkEvent>) {
        if let State::Open(ws) = &mut self.state {
            let frame = CloseFrame {
                code,
                reason: truncate(reason, 120).into(),
            };
            let _ = ws.close(Some(frame));
            let _ = ws.flush();
        }
        self.finish(reason.to_owned(), events);
    }

    fn finish(&mut self, reason: String, events: &mut Vec<LinkEvent>) {
        if let State::Open(ws) = &mut self.state {
            self.output.append(&mut ws.get_mut().output);
        }
        self.state = State::Closed;
        events.push(LinkEvent::Closed(reason));
    }

    /// Queues `text` as one text frame.
    ///
    /// # Errors
    ///
    /// The link is not open, or the message is over the limit.
    pub fn send_text(&mut self, text: String) -> Result<(), String> {
        if text.len() > self.limit {
            return Err(format!(
                "message of {} bytes is over the {}-byte limit",
                text.len(),
                self.limit
            ));
        }
        let State::Open(ws) = &mut self.state else {
            return Err("the websocket is not open".to_owned());
        };
        ws.send(WsMessage::text(text))
            .map_err(|e| format!("cannot send on the websocket: {e}"))?;
        self.output.append(&mut ws.get_mut().output);
        Ok(())
    }

    /// Queues a ping, to keep an idle connection alive.
    pub fn ping(&mut self) {
        if let State::Open(ws) = &mut self.state
            && ws.send(WsMessage::Ping(Vec::new().into())).is_ok()
        {
            self.output.append(&mut ws.get_mut().output);
        }
    }

    /// Queues a close frame with `reason`; the link is closed.
    pub fn close(&mut self, reason: &str) {
        if let State::Open(ws) = &mut self.state {
            let frame = CloseFrame {
                code: CloseCode::Normal,
                reason: truncate(reason, 120).into(),
            };
            let _ = ws.close(Some(frame));
            let _ = ws.flush();
            self.output.append(&mut ws.get_mut().output);
        }
        self.state = State::Closed;
    }

    /// The bytes to send to the socket now.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.output)
    }

    /// Whether bytes wait to be sent.
    pub fn has_output(&self) -> bool {
        !self.output.is_empty()
    }
}

/// `text` cut to at most `max` bytes, on a character boundary (a close
/// frame's reason is at most 123 bytes).
fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Moves bytes between two links until neither has output.
    fn pump(a: &mut Link, b: &mut Link) -> (Vec<LinkEvent>, Vec<LinkEvent>) {
        let (mut at_a, mut at_b) = (Vec::new(), Vec::new());
        for _ in 0..16 {
            let out_a = a.take_output();
            let out_b = b.take_output();
            if out_a.is_empty() && out_b.is_empty() {
                break;
            }
            if !out_a.is_empty() {
                at_b.extend(b.feed(&out_a));
            }
            if !out_b.is_empty() {
                at_a.extend(a.feed(&out_b));
            }
        }
        (at_a, at_b)
    }

    #[test]
    fn handshake_messages_and_close() {
        let mut client = Link::client("ws://127.0.0.1:9/", 1024).unwrap();
        let mut server = Link::server(1024);
        let (at_client, at_server) = pump(&mut client, &mut server);
        assert_eq!(at_client, [LinkEvent::Opened]);
        assert_eq!(at_server, [LinkEvent::Opened]);
        client.send_text("hello".into()).unwrap();
        server.send_text("world".into()).unwrap();
        let (at_client, at_server) = pump(&mut client, &mut server);
        assert_eq!(at_client, [LinkEvent::Text("world".into())]);
        assert_eq!(at_server, [LinkEvent::Text("hello".into())]);
        client.ping();
        let (at_client, at_server) = pump(&mut client, &mut server);
        assert!(at_client.is_empty() && at_server.is_empty());
        client.close("done");
        let (_, at_server) = pump(&mut client, &mut server);
        assert_eq!(
            at_server,
            [LinkEvent::Closed("closed by the peer (1000: done)".into())]
        );
    }

    #[test]
    fn a_message_over_the_limit_closes_with_the_reason() {
        let mut client = Link::client("ws://127.0.0.1:9/", 1 << 20).unwrap();
        let mut server = Link::server(100);
        pump(&mut client, &mut server);
        client.send_text("x".repeat(101)).unwrap();
        let (_, at_server) = pump(&mut client, &mut server);
        let [LinkEvent::Closed(reason)] = at_server.as_slice() else {
            panic!("{at_server:?}")
        };
        assert!(reason.contains("over the 100-byte limit"), "{reason}");
        assert!(server.is_closed());
        assert!(server.send_text("late".into()).is_err());
    }

    #[test]
    fn any_key_is_accepted_and_garbage_is_refused() {
        let mut server = Link::server(1024);
        let request = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                       Sec-WebSocket-Key: b'AAAAAAAAAAAAAAAAAAAAAA=='\r\nSec-WebSocket-Version: 13\r\n\r\n";
        assert_eq!(server.feed(request.as_bytes()), [LinkEvent::Opened]);
        let response = String::from_utf8(server.take_output()).unwrap();
        assert!(response.starts_with("HTTP/1.1 101"), "{response}");
        // An unmasked frame from a client breaks the protocol.
        let events = server.feed(&[0x81, 0x02, b'h', b'i']);
        assert!(matches!(events.as_slice(), [LinkEvent::Closed(r)] if r.contains("protocol")));

        let mut server = Link::server(1024);
        let events = server.feed(b"POST / HTTP/1.1\r\n\r\n");
        assert!(matches!(events.as_slice(), [LinkEvent::Closed(r)] if r.contains("refused")));
    }
}
