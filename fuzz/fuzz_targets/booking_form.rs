//! Fuzzes the booking form and its JSON.
//! Input and properties: `alliance_web::fuzzing::booking_form`,
//! which the test suite also runs over the committed corpus.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| alliance_web::fuzzing::booking_form::test_one_input(data));
