//! The receipts this node issued, by standing and time of issue, newest first: the keys
//! a manager's list pages through (and filters by date) without reading every receipt.
//! Each receipt has two keys — one under "all", one under its standing — moved in the
//! same commit as the standing changes.

use alliance_protocol::UnixTime;

use super::Standing;
use crate::store::{
    Batch, Space, Store, StoreError,
    time_index::{Order, Span, TimeIndex},
};

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

/// The index, newest first.
const INDEX: TimeIndex = TimeIndex {
    space: Space::IssuedByTime,
    order: Order::NewestFirst,
};

/// Files a newly issued receipt, in `batch`.
pub(super) fn put(batch: &mut Batch, issued_at: UnixTime, receipt_id: &str, standing: &Standing) {
    for group in [ALL, code(standing)] {
        INDEX.put(batch, &[group], issued_at, receipt_id.as_bytes());
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
        INDEX.delete(batch, &[code(from)], issued_at, receipt_id.as_bytes());
        INDEX.put(batch, &[code(to)], issued_at, receipt_id.as_bytes());
    }
}

/// How many receipts of `group` were issued from `from` to `to`.
pub(super) fn count(
    store: &Store,
    group: u8,
    from: Option<UnixTime>,
    to: Option<UnixTime>,
) -> Result<usize, StoreError> {
    INDEX.count(store, &[group], (from, to))
}

/// The ids of `limit` receipts of `group` issued from `from` to `to`, newest first,
/// after skipping `offset`.
pub(super) fn page(
    store: &Store,
    group: u8,
    span: Span,
    offset: usize,
    limit: usize,
) -> Result<Vec<String>, StoreError> {
    Ok(INDEX
        .page(store, &[group], span, offset, limit)?
        .into_iter()
        .map(|id| String::from_utf8_lossy(&id).into_owned())
        .collect())
}
