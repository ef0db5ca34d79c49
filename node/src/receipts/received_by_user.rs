//! Each user's receipts by the start of the use, latest first — all of them, those
//! waiting for the user's answer, those answered — so the user's lists, counts and the
//! menu's badge read a page of keys instead of every receipt the user ever had.
//!
//! A receipt is filed in the batch that keeps it and moved in the batch that keeps the
//! user's answer; receipts kept before the index existed are filed once, when the
//! node starts.

use alliance_protocol::UnixTime;

use super::received::Received;
use crate::store::{
    Batch, Space, Store, StoreError,
    time_index::{Order, Span, TimeIndex},
};

/// Set once every receipt kept before the index is filed.
const INDEXED: &[u8] = b"received_by_user_indexed";

const INDEX: TimeIndex = TimeIndex {
    space: Space::ReceivedByUser,
    order: Order::NewestFirst,
};

/// Which of a user's receipts a list holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceivedList {
    All,
    /// Waiting for the user's answer.
    Waiting,
    /// Confirmed and rated, or disputed.
    Answered,
}

impl ReceivedList {
    /// The group: the list's letter, `/`, the user (user names hold no `/`).
    fn group(self, user_id: &str) -> Vec<u8> {
        let letter = match self {
            ReceivedList::All => '*',
            ReceivedList::Waiting => 'w',
            ReceivedList::Answered => 'a',
        };
        format!("{letter}/{user_id}").into_bytes()
    }
}

fn start(received: &Received) -> UnixTime {
    received.receipt.start
}

/// Files `received` (kept under `key`) in its user's lists, in `batch`.
pub(super) fn file(batch: &mut Batch, key: &[u8], received: &Received) {
    let user = &received.receipt.user_id;
    let (now_in, not_in) = if received.answer.is_some() {
        (ReceivedList::Answered, ReceivedList::Waiting)
    } else {
        (ReceivedList::Waiting, ReceivedList::Answered)
    };
    INDEX.put(batch, &ReceivedList::All.group(user), start(received), key);
    INDEX.put(batch, &now_in.group(user), start(received), key);
    INDEX.delete(batch, &not_in.group(user), start(received), key);
}

/// Files every receipt kept before the index existed (once).
pub(super) fn index_once(store: &Store) -> Result<(), StoreError> {
    if store.get(Space::Meta, INDEXED)?.is_some() {
        return Ok(());
    }
    let mut batch = Batch::new();
    for (key, received) in store.scan_prefix_json::<Received>(Space::ReceivedReceipts, b"")? {
        file(&mut batch, &key, &received);
    }
    batch.put(Space::Meta, INDEXED.to_vec(), Vec::new());
    store.commit_blocking(batch)
}

/// How many receipts `user_id`'s `list` holds of uses starting within `span`, and
/// `limit` of them, latest use first, after skipping `offset`.
pub(super) fn page(
    store: &Store,
    user_id: &str,
    (list, span): (ReceivedList, Span),
    offset: usize,
    limit: usize,
) -> Result<(usize, Vec<Received>), StoreError> {
    let group = list.group(user_id);
    let total = INDEX.count(store, &group, span)?;
    let mut items = Vec::new();
    for key in INDEX.page(store, &group, span, offset, limit)? {
        if let Some(received) = store.get_json(Space::ReceivedReceipts, &key)? {
            items.push(received);
        }
    }
    Ok((total, items))
}
