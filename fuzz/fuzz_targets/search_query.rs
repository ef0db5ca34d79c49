//! Fuzzes the instrument search's query string.
//! Input and properties: `alliance_web::fuzzing::search_query`,
//! which the test suite also runs over the committed corpus.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| alliance_web::fuzzing::search_query::test_one_input(data));
