//! The input the fuzz target `decode` (in `fuzz/`) feeds the router's
//! decoders with; `cargo test` replays its committed corpus through the
//! same function.

use crate::wire::{self, Message};
use crate::ws::{Link, LinkEvent};

/// The limit the fuzzed decoders run with: small, so the size checks are
/// reached.
pub const FUZZ_LIMIT: usize = 4096;

/// A client's handshake request, fed to a server link before the fuzzed
/// frames.
const REQUEST: &[u8] =
    b"GET / HTTP/1.1\r\nHost: fuzz\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// Runs `data` through the decoders. The first byte picks the path:
/// - even: `data[1..]` is a message for [`wire::decode`]; one that
///   decodes must encode and decode back to itself;
/// - odd: `data[1..]` is bytes from a client, after a valid handshake,
///   for a server [`Link`] (split in two feeds at the second byte's
///   value), and each text message it yields goes to [`wire::decode`].
///
/// # Panics
///
/// When a decoded message does not survive the round trip: that is the
/// bug the fuzzer looks for. Nothing else here may panic.
pub fn decode_all(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    if selector % 2 == 0 {
        round_trip(rest);
        return;
    }
    let mut link = Link::server(FUZZ_LIMIT);
    let opened = link.feed(REQUEST);
    assert_eq!(
        opened,
        [LinkEvent::Opened],
        "a valid request opens the link"
    );
    let cut = rest.first().map_or(0, |&b| usize::from(b)).min(rest.len());
    let (first, second) = rest.split_at(cut);
    for part in [first, second] {
        for event in link.feed(part) {
            if let LinkEvent::Text(text) = event {
                round_trip(text.as_bytes());
            }
        }
    }
    let _ = link.take_output();
}

fn round_trip(bytes: &[u8]) {
    let decoded = wire::decode(bytes, FUZZ_LIMIT);
    if bytes.len() <= FUZZ_LIMIT {
        // The fast path and the long way agree, from bytes and from text.
        assert_eq!(
            decoded,
            wire::decode_reference(bytes),
            "the two decoders disagree"
        );
        if let Ok(text) = std::str::from_utf8(bytes) {
            assert_eq!(
                wire::decode_text(text, FUZZ_LIMIT),
                decoded,
                "text and bytes disagree"
            );
        }
    }
    let Ok(message) = decoded else {
        return;
    };
    let encoded = match wire::encode(&message) {
        Ok(encoded) => encoded,
        // Decoded JSON is always encodable.
        Err(error) => panic!("decoded message does not encode: {error}"),
    };
    let again: Message = match wire::decode(&encoded, usize::MAX) {
        Ok(again) => again,
        Err(error) => panic!("encoded message does not decode: {error}"),
    };
    assert_eq!(again, message, "the round trip changed the message");
}
