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

/// At most `limit` waiting messages from `start` on (a key, or empty for the first), in
/// key order: oldest first per recipient and thread.
pub(crate) fn pending_from(
    store: &Store,
    start: &[u8],
    limit: usize,
) -> Result<Vec<Pending>, StoreError> {
    store
        .scan_range(Space::Outbox, start, &[0xFF], limit)?
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

/// Everything waiting, for tests to look at.
#[cfg(test)]
pub(crate) fn pending(store: &Store) -> Result<Vec<Pending>, StoreError> {
    pending_from(store, &[], usize::MAX)
}

/// The first key after `key`.
pub(super) fn after(key: &[u8]) -> Vec<u8> {
    let mut next = key.to_vec();
    next.push(0);
    next
}

/// The first key after every message to `to` (its keys are `to \0 …`; `\x01` sorts
/// right after that separator, before any longer institution id).
pub(super) fn after_recipient(to: &InstitutionId) -> Vec<u8> {
    format!("{to}\x01").into_bytes()
}

/// Whether the message under `key` still waits to be taken.
pub(crate) fn waiting(store: &Store, key: &[u8]) -> Result<bool, StoreError> {
    Ok(store.get(Space::Outbox, key)?.is_some())
}

/// How many messages wait.
pub(crate) fn depth(store: &Store) -> Result<usize, StoreError> {
    store.count_prefix(Space::Outbox, b"")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn id(s: &str) -> InstitutionId {
        s.parse().unwrap()
    }

    #[test]
    fn the_outbox_reads_in_pages_and_jumps_a_whole_recipient() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut batch = Batch::new();
        // "dlut-x" sorts after every key of "dlut" (its separator \0 before '-').
        for (to, n) in [("dlut", 300u64), ("dlut-x", 2), ("neu", 3)] {
            for sequence in 0..n {
                enqueue(&mut batch, key(&id(to), "t", sequence), vec![1]);
            }
        }
        store.commit_blocking(batch).unwrap();

        // Pages of 256 give every message once, in order.
        let mut start = Vec::new();
        let mut read = Vec::new();
        loop {
            let page = pending_from(&store, &start, 256).unwrap();
            let Some(last) = page.last() else { break };
            start = after(&last.key);
            read.extend(page.into_iter().map(|p| p.key));
        }
        assert_eq!(read.len(), 305);
        assert!(read.windows(2).all(|w| w[0] < w[1]));

        // Jumping past "dlut" lands on the first message to "dlut-x".
        let next = pending_from(&store, &after_recipient(&id("dlut")), 1).unwrap();
        assert_eq!(next[0].to, id("dlut-x"));
        assert_eq!(next[0].key, key(&id("dlut-x"), "t", 0));
        let next = pending_from(&store, &after_recipient(&id("dlut-x")), 1).unwrap();
        assert_eq!(next[0].to, id("neu"));
    }
}
