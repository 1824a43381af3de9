//! The router's decoders on arbitrary bytes: intra-event messages, and
//! websocket frames from a client after its handshake.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    gaplic_router::fuzzing::decode_all(data);
});
