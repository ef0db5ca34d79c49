//! The receipts this node issued, by standing and time of issue, newest first: the keys
//! a manager's list pages through (and filters by date) without reading every receipt.
//! Each receipt has two keys — one under "all", one under its standing — moved in the
//! same commit as the standing changes.

use alliance_protocol::UnixTime;

use super::Standing;
use crate::store::{Batch, Space, Store, StoreError};

/// The standings as the index names them, in the order of the page's counts.
pub(super) const STANDINGS: [u8; 4] = [b'w', b'c', b's', b'd'];
/// Every receipt, whatever its standing.
pub(super) const ALL: u8 = b'*';

/// The index's name of `standing`.
pub(super) fn code(standing: &Standing) -> u8 {
    match standing {
        Standing::AwaitingConfirmation { .. } => STANDINGS[0],
        Standing::Confirmed { .. } => STANDINGS[1],
        Standing::SingleSigned => STANDINGS[2],
        Standing::Disputed { .. } => STANDINGS[3],
    }
}

/// Newer first: the time counted down.
fn time_part(at: UnixTime) -> [u8; 8] {
    (u64::MAX - at.0.max(0) as u64).to_be_bytes()
}

fn key(group: u8, issued_at: UnixTime, receipt_id: &str) -> Vec<u8> {
    let mut key = vec![group, 0];
    key.extend_from_slice(&time_part(issued_at));
    key.extend_from_slice(receipt_id.as_bytes());
    key
}

/// Files a newly issued receipt, in `batch`.
pub(super) fn put(batch: &mut Batch, issued_at: UnixTime, receipt_id: &str, standing: &Standing) {
    for group in [ALL, code(standing)] {
        batch.put(
            Space::IssuedByTime,
            key(group, issued_at, receipt_id),
            Vec::new(),
        );
    }
}

/// Moves a receipt from one standing to another, in `batch`.
pub(super) fn moved(
    batch: &mut Batch,
    issued_at: UnixTime,
    receipt_id: &str,
    from: &Standing,
    to: &Standing,
) {
    if code(from) != code(to) {
        batch.delete(Space::IssuedByTime, key(code(from), issued_at, receipt_id));
        batch.put(
            Space::IssuedByTime,
            key(code(to), issued_at, receipt_id),
            Vec::new(),
        );
    }
}

/// The bounds of `group`'s keys issued from `from` to `to` (inclusive, either open).
fn range(group: u8, from: Option<UnixTime>, to: Option<UnixTime>) -> (Vec<u8>, Vec<u8>) {
    let start = match to {
        Some(to) => {
            let mut k = vec![group, 0];
            k.extend_from_slice(&time_part(to));
            k
        }
        None => vec![group, 0],
    };
    let end = match from.and_then(|f| f.0.checked_sub(1)) {
        Some(before) => {
            let mut k = vec![group, 0];
            k.extend_from_slice(&time_part(UnixTime(before)));
            k
        }
        None => vec![group, 1],
    };
    (start, end)
}

/// How many receipts of `group` were issued from `from` to `to`.
pub(super) fn count(
    store: &Store,
    group: u8,
    from: Option<UnixTime>,
    to: Option<UnixTime>,
) -> Result<usize, StoreError> {
    let (start, end) = range(group, from, to);
    store.count_range(Space::IssuedByTime, &start, &end)
}

/// The ids of `limit` receipts of `group` issued from `from` to `to`, newest first,
/// after skipping `offset`.
pub(super) fn page(
    store: &Store,
    group: u8,
    (from, to): (Option<UnixTime>, Option<UnixTime>),
    offset: usize,
    limit: usize,
) -> Result<Vec<String>, StoreError> {
    let (start, end) = range(group, from, to);
    Ok(store
        .keys_in_range(
            Space::IssuedByTime,
            &start,
            &end,
            offset.saturating_add(limit),
        )?
        .into_iter()
        .skip(offset)
        .filter_map(|k| {
            k.get(10..)
                .map(|id| String::from_utf8_lossy(id).into_owned())
        })
        .collect())
}
