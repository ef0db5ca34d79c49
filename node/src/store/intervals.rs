//! Times of use per instrument that may not overlap: the receipts the province logged,
//! and those an owner issued. Keyed `instrument \0 start (u64 BE) receipt id`, valued
//! the end (u64 BE), so the one use that could overlap a new one is the last to start
//! before the new one ends: the stored uses never overlap each other, so it also ends
//! last among them.

use super::{Batch, Space, Store, StoreError};

/// A use already recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Use {
    pub receipt_id: String,
    pub start: i64,
    pub end: i64,
}

fn prefix(instrument: &str) -> Vec<u8> {
    let mut key = instrument.as_bytes().to_vec();
    key.push(0);
    key
}

fn bound(instrument: &str, at: i64) -> Vec<u8> {
    let mut key = prefix(instrument);
    key.extend_from_slice(&(at.max(0) as u64).to_be_bytes());
    key
}

/// Records the use `[start, end)` of `instrument` by `receipt_id` in `batch`.
pub fn put(batch: &mut Batch, space: Space, instrument: &str, receipt_id: &str, span: (i64, i64)) {
    let mut key = bound(instrument, span.0);
    key.extend_from_slice(receipt_id.as_bytes());
    batch.put(space, key, (span.1.max(0) as u64).to_be_bytes().to_vec());
}

/// The recorded use of `instrument` that overlaps `[start, end)`, if any.
pub fn overlapping(
    store: &Store,
    space: Space,
    instrument: &str,
    (start, end): (i64, i64),
) -> Result<Option<Use>, StoreError> {
    let Some((key, value)) =
        store.last_in_range(space, &prefix(instrument), &bound(instrument, end))?
    else {
        return Ok(None);
    };
    let corrupt = || StoreError::Engine("a malformed time of use".into());
    let at = prefix(instrument).len();
    let found_start = key
        .get(at..at + 8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_be_bytes)
        .ok_or_else(corrupt)? as i64;
    let found_end = <[u8; 8]>::try_from(value.as_slice())
        .map(u64::from_be_bytes)
        .map_err(|_| corrupt())? as i64;
    let receipt_id = String::from_utf8_lossy(&key[at + 8..]).into_owned();
    Ok((found_end > start).then_some(Use {
        receipt_id,
        start: found_start,
        end: found_end,
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test]
    async fn a_use_overlapping_a_recorded_one_is_found_and_adjacent_ones_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut batch = Batch::new();
        put(
            &mut batch,
            Space::LogUses,
            "dlut/XPS-1",
            "r1",
            (1_000, 2_000),
        );
        put(
            &mut batch,
            Space::LogUses,
            "dlut/XPS-1",
            "r2",
            (5_000, 9_000),
        );
        put(
            &mut batch,
            Space::LogUses,
            "dlut/NMR-1",
            "r3",
            (2_000, 5_000),
        );
        store.commit(batch).await.unwrap();
        let find = |span| overlapping(&store, Space::LogUses, "dlut/XPS-1", span).unwrap();
        // Before, between and after: free, touching ends included.
        assert_eq!(find((0, 1_000)), None);
        assert_eq!(find((2_000, 5_000)), None);
        assert_eq!(find((9_000, 9_500)), None);
        // Inside, across a start, across an end, around.
        for span in [
            (1_200, 1_300),
            (500, 1_001),
            (1_999, 3_000),
            (4_000, 10_000),
        ] {
            assert!(find(span).is_some(), "{span:?}");
        }
        assert_eq!(find((8_000, 8_500)).unwrap().receipt_id, "r2");
        // Another instrument's use is its own.
        assert_eq!(
            overlapping(&store, Space::LogUses, "dlut/NMR-1", (1_000, 2_000)).unwrap(),
            None
        );
    }
}
