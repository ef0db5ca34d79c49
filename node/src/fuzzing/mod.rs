//! The properties the fuzz targets (`fuzz/`) check of the catalogue's spreadsheet import,
//! one module per target, so that the targets and the test suite's replay of the committed
//! corpus (`tests/tests/it/fuzz_corpus.rs`) run the same code. Support for testing, not
//! for the node: everything here panics where a property fails.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

pub mod import_csv;
pub mod import_xlsx;

use std::sync::LazyLock;

use crate::catalogue::{
    classification::Classification,
    import::{ImportReport, MAX_FEE_ROWS, MAX_ROWS, RowOutcome},
};
use alliance_protocol::{
    InstitutionId, SecretKey, UnverifiedEntry, entry::EntryBody, record::MAX_FEE_ITEMS,
};

static INSTITUTION: LazyLock<InstitutionId> =
    LazyLock::new(|| "dlut".parse().expect("a valid institution id"));
static CLASSIFICATION: LazyLock<Classification> =
    LazyLock::new(|| Classification::default_set().expect("the shipped classification"));
static KEY: LazyLock<SecretKey> =
    LazyLock::new(|| SecretKey::from_seed(&[0x5e; 32]).expect("a 32-byte seed is a key"));

/// Every row is numbered, rows are within the limits, and every good record is one the
/// alliance accepts: published (revision 1), it opens at a peer as the same record.
fn check(report: &ImportReport) {
    assert!(report.rows.len() <= MAX_ROWS + MAX_FEE_ROWS);
    for outcome in &report.rows {
        assert!(
            outcome.row() >= 2,
            "row {} is the header or none",
            outcome.row()
        );
        let RowOutcome::Good { record, .. } = outcome else {
            continue;
        };
        assert_eq!(&record.institution_id, &*INSTITUTION);
        assert!(record.fees.len() <= MAX_FEE_ITEMS);
        let mut published = record.clone();
        published.revision = 1;
        let opened = UnverifiedEntry::decode(&published.seal(&KEY))
            .and_then(|entry| entry.verify(&KEY.public()));
        match opened {
            Ok(entry) => assert_eq!(entry.body, EntryBody::Instrument(Box::new(published))),
            Err(e) => panic!("imported row {} is refused by peers: {e}", outcome.row()),
        }
    }
}
