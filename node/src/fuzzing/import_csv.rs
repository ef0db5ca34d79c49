//! The catalogue's CSV import as a node runs it on an uploaded file
//! (`alliance_node::catalogue::import::parse` with a `.csv` name).
//!
//! Properties: never panics; rows stay within the import limits; every row it reports good
//! is a record that peers accept as it is (see the `fuzzing` module).

use crate::catalogue::import;

/// One input, as the fuzz target gets it: panics where a property fails.
pub fn test_one_input(data: &[u8]) {
    if let Ok(report) = import::parse(
        "instruments.csv",
        data,
        &super::INSTITUTION,
        &super::CLASSIFICATION,
    ) {
        super::check(&report);
    }
}
