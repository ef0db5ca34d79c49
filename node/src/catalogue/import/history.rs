//! The institution's import history: every spreadsheet imported (not the checks before),
//! who imported it, when, and what came of it, newest first, a page at a time.

use alliance_protocol::UnixTime;
use serde::{Deserialize, Serialize};

use crate::store::{Batch, Space, Store, StoreError};

/// One import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRecord {
    pub at: UnixTime,
    /// The username of who imported it.
    pub by: String,
    pub file_name: String,
    /// Rows that were good and bad, and the records written (new or changed).
    pub good: usize,
    pub bad: usize,
    pub imported: usize,
}

/// The history. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ImportHistory {
    store: Store,
}

/// Newest first: the time of keeping in microseconds counted down (two imports in one
/// second keep their order), then a random tail so that neither overwrites the other.
fn key() -> Vec<u8> {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
    let mut key = (u64::MAX - micros).to_be_bytes().to_vec();
    key.extend_from_slice(&rand::random::<[u8; 4]>());
    key
}

impl ImportHistory {
    pub fn new(store: Store) -> Self {
        ImportHistory { store }
    }

    /// Keeps one import.
    pub async fn record(&self, record: &ImportRecord) -> Result<(), StoreError> {
        let mut batch = Batch::new();
        batch.put_json(Space::ImportLog, key(), record)?;
        self.store.commit(batch).await
    }

    /// How many imports there were, and `limit` of them after the newest `offset`.
    pub fn page(
        &self,
        offset: usize,
        limit: usize,
    ) -> Result<(usize, Vec<ImportRecord>), StoreError> {
        let total = self.store.count_prefix(Space::ImportLog, b"")?;
        let end = [0xFF; 13];
        let records = self
            .store
            .scan_range(Space::ImportLog, b"", &end, offset.saturating_add(limit))?
            .into_iter()
            .skip(offset)
            .map(|(_, value)| serde_json::from_slice(&value))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((total, records))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn imports_come_back_newest_first_a_page_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let history = ImportHistory::new(Store::open(dir.path()).unwrap());
        // All in the same second: the order they were kept in still holds.
        for n in 0..25 {
            history
                .record(&ImportRecord {
                    at: UnixTime(1_800_000_000),
                    by: "admin".into(),
                    file_name: format!("清单{n}.xlsx"),
                    good: 10,
                    bad: 1,
                    imported: 3,
                })
                .await
                .unwrap();
        }
        let (total, first) = history.page(0, 20).unwrap();
        assert_eq!((total, first.len()), (25, 20));
        assert_eq!(first[0].file_name, "清单24.xlsx");
        let (_, rest) = history.page(20, 20).unwrap();
        assert_eq!(rest.len(), 5);
        assert_eq!(rest[4].file_name, "清单0.xlsx");
        assert!(history.page(usize::MAX, 20).unwrap().1.is_empty());
    }
}
