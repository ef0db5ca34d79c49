//! Fuzzes every protobuf message a node decodes from a peer.
//! Input and properties: `alliance_protocol::fuzzing::messages`,
//! which the test suite also runs over the committed corpus.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| alliance_protocol::fuzzing::messages::test_one_input(data));
