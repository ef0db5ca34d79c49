//! The fuzz targets' committed corpus (`fuzz/corpus/<target>/`: seeds, inputs that once
//! crashed a target, and what fuzzing found), each input run once through the very
//! properties its target checks. A reintroduced bug that an input once found fails here.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{panic::AssertUnwindSafe, path::PathBuf};

/// What a fuzz target runs on one input.
type TestOneInput = fn(&[u8]);

/// Every target with the function its fuzz target calls.
const TARGETS: [(&str, TestOneInput); 6] = [
    (
        "messages",
        alliance_protocol::fuzzing::messages::test_one_input,
    ),
    (
        "envelope",
        alliance_protocol::fuzzing::envelope::test_one_input,
    ),
    (
        "import_csv",
        alliance_node::fuzzing::import_csv::test_one_input,
    ),
    (
        "import_xlsx",
        alliance_node::fuzzing::import_xlsx::test_one_input,
    ),
    (
        "search_query",
        alliance_web::fuzzing::search_query::test_one_input,
    ),
    (
        "booking_form",
        alliance_web::fuzzing::booking_form::test_one_input,
    ),
];

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    files
}

#[test]
fn every_committed_fuzz_input_keeps_its_targets_properties() {
    let mut failed = Vec::new();
    for (target, test_one_input) in TARGETS {
        let inputs = corpus(target);
        assert!(!inputs.is_empty(), "no corpus for {target}");
        for path in inputs {
            let data = std::fs::read(&path).unwrap();
            if std::panic::catch_unwind(AssertUnwindSafe(|| test_one_input(&data))).is_err() {
                failed.push(path.display().to_string());
            }
        }
    }
    assert!(
        failed.is_empty(),
        "inputs failing their target: {failed:#?}"
    );
}
