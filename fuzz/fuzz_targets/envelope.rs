//! Fuzzes the signed envelope every signed message travels in.
//! Input and properties: `alliance_protocol::fuzzing::envelope`,
//! which the test suite also runs over the committed corpus.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| alliance_protocol::fuzzing::envelope::test_one_input(data));
