//! The durable outbox of booking messages to other institutions: owners' updates to
//! homes, homes' cancels to owners. A message is written in the same commit as the change
//! it reports, and stays until the other side acknowledges it, across restarts.
//!
//! Keys: `to \0 booking id \0 sequence (u64 BE)`, so one booking's messages go out in
//! order and a later one never overtakes an earlier one for the same booking.

use alliance_protocol::InstitutionId;

use crate::store::{Batch, Space, Store, StoreError};

/// One message waiting for its acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub key: Vec<u8>,
    pub to: InstitutionId,
    pub message: Vec<u8>,
}

/// The key of a message to `to` about `booking_id`, `sequence` (a version) in its order.
pub fn key(to: &InstitutionId, booking_id: &str, sequence: u64) -> Vec<u8> {
    let mut key = format!("{to}\0{booking_id}\0").into_bytes();
    key.extend_from_slice(&sequence.to_be_bytes());
    key
}

/// Adds a message to `batch` (committed with the change it reports).
pub fn enqueue(batch: &mut Batch, key: Vec<u8>, message: Vec<u8>) {
    batch.put(Space::Outbox, key, message);
}

/// Everything waiting, oldest first per destination and booking.
pub fn pending(store: &Store) -> Result<Vec<Pending>, StoreError> {
    store
        .scan_prefix(Space::Outbox, b"")?
        .into_iter()
        .map(|(key, message)| {
            let to = key
                .split(|b| *b == 0)
                .next()
                .and_then(|t| std::str::from_utf8(t).ok())
                .and_then(|t| t.parse().ok())
                .ok_or_else(|| StoreError::Engine("outbox holds a malformed key".into()))?;
            Ok(Pending { key, to, message })
        })
        .collect()
}

/// How many messages wait.
pub fn depth(store: &Store) -> Result<usize, StoreError> {
    store.count_prefix(Space::Outbox, b"")
}

/// Removes an acknowledged message.
pub async fn acknowledged(store: &Store, key: &[u8]) -> Result<(), StoreError> {
    let mut batch = Batch::new();
    batch.delete(Space::Outbox, key.to_vec());
    store.commit(batch).await
}
