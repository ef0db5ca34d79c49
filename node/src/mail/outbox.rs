//! The durable outbox of mail to other institutions. A message is written in the same
//! commit as the change it reports (by the capability that owns it), and stays until the
//! recipient takes it or refuses it for good, across restarts.
//!
//! Keys: `to \0 thread \0 sequence (u64 BE)`. A thread is whatever the owning capability
//! orders its messages by (a booking id, `receipt:<id>`, `publication:<id>`), so a later
//! message of a thread never overtakes an earlier one to the same recipient.

use alliance_protocol::InstitutionId;

use crate::store::{Batch, Space, Store, StoreError};

/// One message waiting to be taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pending {
    pub key: Vec<u8>,
    pub to: InstitutionId,
    pub message: Vec<u8>,
}

/// The key of a message to `to` in `thread`, `sequence` (e.g. a version) in its order.
pub(crate) fn key(to: &InstitutionId, thread: &str, sequence: u64) -> Vec<u8> {
    let mut key = format!("{to}\0{thread}\0").into_bytes();
    key.extend_from_slice(&sequence.to_be_bytes());
    key
}

/// The recipient named in a key.
pub(super) fn recipient(key: &[u8]) -> Result<InstitutionId, StoreError> {
    key.split(|b| *b == 0)
        .next()
        .and_then(|t| std::str::from_utf8(t).ok())
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| StoreError::Engine("outbox holds a malformed key".into()))
}

/// Adds a message to `batch` (committed with the change it reports). Poke the mail
/// service ([`super::Mail::poke`]) once the batch is committed.
pub(crate) fn enqueue(batch: &mut Batch, key: Vec<u8>, message: Vec<u8>) {
    batch.put(Space::Outbox, key, message);
}

/// Everything waiting, oldest first per recipient and thread.
pub(crate) fn pending(store: &Store) -> Result<Vec<Pending>, StoreError> {
    store
        .scan_prefix(Space::Outbox, b"")?
        .into_iter()
        .map(|(key, message)| {
            Ok(Pending {
                to: recipient(&key)?,
                key,
                message,
            })
        })
        .collect()
}

/// Whether the message under `key` still waits to be taken.
pub(crate) fn waiting(store: &Store, key: &[u8]) -> Result<bool, StoreError> {
    Ok(store.get(Space::Outbox, key)?.is_some())
}

/// How many messages wait.
pub(crate) fn depth(store: &Store) -> Result<usize, StoreError> {
    store.count_prefix(Space::Outbox, b"")
}
