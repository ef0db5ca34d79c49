//! The catalogue's CSV import as a node runs it on an uploaded file
//! (`alliance_node::catalogue::import::parse` with a `.csv` name).
//!
//! Properties: never panics; rows stay within the import limits; every row it reports good
//! is a record that peers accept as it is (see `common/import.rs`).
#![no_main]

#[path = "common/import.rs"]
mod common;

use alliance_node::catalogue::import;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(report) = import::parse(
        "instruments.csv",
        data,
        &common::INSTITUTION,
        &common::CLASSIFICATION,
    ) {
        common::check(&report);
    }
});
