//! The catalogue's XLSX import as a node runs it on an uploaded file
//! (`alliance_node::catalogue::import::parse` with an `.xlsx` name), zip-bomb guard first.
//!
//! Input, by the first byte:
//! - even: the rest is the file as uploaded;
//! - odd: the rest is the archive's members, `name NUL content NUL name NUL content …`,
//!   which the target packs into a zip (stored, no compression) before the import — so the
//!   fuzzer mutates the workbook's XML, not compressed bytes and checksums.
//!
//! Properties: never panics and allocates within libFuzzer's limit; rows stay within the
//! import limits; every row it reports good is a record that peers accept as it is.
//!
//! The import catches panics of the XLSX reader (calamine) and refuses such a file; the
//! fuzz target lets those panics unwind to it, and aborts on any other.

use std::io::{Cursor, Write};

use zip::{CompressionMethod, ZipWriter, write::SimpleFileOptions};

use crate::catalogue::import;

fn pack(members: &[u8]) -> Option<Vec<u8>> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    let mut parts = members.split(|&b| b == 0);
    while let Some(name) = parts.next() {
        let content = parts.next().unwrap_or_default();
        let name = std::str::from_utf8(name).ok()?;
        zip.start_file(name, options).ok()?;
        zip.write_all(content).ok()?;
    }
    Some(zip.finish().ok()?.into_inner())
}

/// One input, as the fuzz target gets it: panics where a property fails.
pub fn test_one_input(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let packed;
    let file = if mode % 2 == 0 {
        rest
    } else {
        let Some(bytes) = pack(rest) else {
            return;
        };
        packed = bytes;
        &packed
    };
    if let Ok(report) = import::parse(
        "instruments.xlsx",
        file,
        &super::INSTITUTION,
        &super::CLASSIFICATION,
    ) {
        super::check(&report);
    }
}
