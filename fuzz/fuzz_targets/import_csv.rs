//! Fuzzes the catalogue's CSV import.
//! Input and properties: `alliance_node::fuzzing::import_csv`,
//! which the test suite also runs over the committed corpus.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| alliance_node::fuzzing::import_csv::test_one_input(data));
