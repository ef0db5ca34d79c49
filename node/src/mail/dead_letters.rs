//! Dead letters: mail the recipient refused for good, or addressed to an institution that
//! is no longer a member. Taken out of the outbox in the same commit as it is written
//! here, with the reason, so an administrator can see what never arrived and why.
//!
//! Keys are the outbox keys (so a capability can tell a dead letter from a delivered
//! message); at most [`MAX_DEAD_LETTERS`] are kept, the oldest going first.

use alliance_protocol::{InstitutionId, UnixTime};
use serde::{Deserialize, Serialize};

use crate::store::{Batch, Space, Store, StoreError};

/// Most dead letters kept: they are for people to read, and a peer refusing everything
/// must not grow this node's disk.
pub(crate) const MAX_DEAD_LETTERS: usize = 10_000;

/// A message that will never be delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub to: InstitutionId,
    /// The message's kind (its signing domain), or empty if it did not decode.
    pub kind: String,
    /// The refusal's code (`not_a_member` for a recipient that left the alliance).
    pub code: String,
    pub reason: String,
    pub at: UnixTime,
    /// The signed message, hex.
    pub message: String,
}

/// Moves the outbox message under `key` here, in `batch`.
pub(super) fn bury(
    store: &Store,
    batch: &mut Batch,
    key: &[u8],
    letter: &DeadLetter,
) -> Result<(), StoreError> {
    batch.delete(Space::Outbox, key.to_vec());
    keep(store, batch, key.to_vec(), letter)
}

/// Keeps `letter` under `key`, in `batch` (whatever outbox it left: the caller takes it
/// out of that one in the same batch).
pub(crate) fn keep(
    store: &Store,
    batch: &mut Batch,
    key: Vec<u8>,
    letter: &DeadLetter,
) -> Result<(), StoreError> {
    batch.put_json(Space::DeadLetters, key, letter)?;
    // Room for this one: drop the oldest beyond the cap.
    let held = store.count_prefix(Space::DeadLetters, b"")?;
    if held >= MAX_DEAD_LETTERS {
        let mut all = store.scan_prefix_json::<DeadLetter>(Space::DeadLetters, b"")?;
        all.sort_by_key(|(_, l)| l.at);
        for (old, _) in all.into_iter().take(held + 1 - MAX_DEAD_LETTERS) {
            batch.delete(Space::DeadLetters, old);
        }
    }
    Ok(())
}

/// Whether the message under the outbox key `key` was given up.
pub(crate) fn is_dead(store: &Store, key: &[u8]) -> Result<bool, StoreError> {
    Ok(store.get(Space::DeadLetters, key)?.is_some())
}

/// Dead letters, newest first: `limit` of them after skipping `offset`.
pub(crate) fn list(
    store: &Store,
    offset: usize,
    limit: usize,
) -> Result<Vec<DeadLetter>, StoreError> {
    let mut all: Vec<DeadLetter> = store
        .scan_prefix_json::<DeadLetter>(Space::DeadLetters, b"")?
        .into_iter()
        .map(|(_, l)| l)
        .collect();
    all.sort_by_key(|l| std::cmp::Reverse(l.at));
    Ok(all.into_iter().skip(offset).take(limit).collect())
}

/// How many dead letters are kept.
pub(crate) fn count(store: &Store) -> Result<usize, StoreError> {
    store.count_prefix(Space::DeadLetters, b"")
}
