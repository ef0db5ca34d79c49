//! Watermarks raised through origins' checkpoints (see [`alliance_protocol::checkpoint`]).
//!
//! Revisions that were superseded leave gaps no peer can fill, so contiguity alone would
//! hold a watermark back forever. A peer's word cannot raise it either: it may hold
//! back a newer version of one slot and vouch for the rest. Only the origin's own signed
//! list of its slots can: when what this node holds of an origin, up to the checkpoint's
//! revision, is exactly that list, it holds every change of the origin up to there.

use alliance_protocol::{
    InstitutionId,
    checkpoint::{Checkpoint, SlotDigest, UnverifiedCheckpoint},
};

use super::{Replica, Versions, corrupt, entry_key};
use crate::store::{Batch, Space, StoreError};

/// What taking a checkpoint did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointOutcome {
    /// What this node holds matches: the watermark now stands at least at its revision.
    Raised,
    /// The watermark was already there.
    Behind,
    /// What this node holds differs (a slot missing, older or newer than listed): kept
    /// for relaying if newest, but nothing raised.
    Differs,
}

/// A checkpoint held for serving: what it says and its signed bytes.
#[derive(Debug, Clone)]
pub(super) struct HeldCheckpoint {
    pub checkpoint: Checkpoint,
    pub bytes: Vec<u8>,
}

impl Versions {
    /// The digest of `origin`'s held slots at revisions up to `up_to`.
    fn slot_digest(&self, origin: &InstitutionId, up_to: u64) -> (u64, [u8; 32]) {
        let start = entry_key(origin, "");
        let mut end = start.clone();
        if let Some(last) = end.last_mut() {
            *last = 1;
        }
        let mut digest = SlotDigest::new();
        for (key, revision) in self.held.range(start.clone()..end) {
            if *revision <= up_to {
                digest.add(&key[start.len()..], *revision);
            }
        }
        digest.finish()
    }
}

impl Replica {
    /// Loads the checkpoints kept for relaying.
    pub(super) fn load_checkpoints(
        store: &crate::store::Store,
        versions: &mut Versions,
    ) -> Result<(), StoreError> {
        for (key, value) in store.scan_prefix(Space::Checkpoints, b"")? {
            let origin = std::str::from_utf8(&key)
                .ok()
                .and_then(|o| o.parse::<InstitutionId>().ok())
                .ok_or_else(|| corrupt("checkpoint key"))?;
            let checkpoint =
                UnverifiedCheckpoint::decode_stored(&value).map_err(|_| corrupt("checkpoint"))?;
            versions.checkpoints.insert(
                origin,
                HeldCheckpoint {
                    checkpoint,
                    bytes: value,
                },
            );
        }
        Ok(())
    }

    /// What this node holds of `origin` now, as the checkpoint it would sign: its
    /// highest revision and the digest of its slots.
    pub fn current_checkpoint(&self, origin: &InstitutionId) -> Checkpoint {
        let versions = self.versions();
        let revision = versions.highest.get(origin).copied().unwrap_or(0);
        let (slots, digest) = versions.slot_digest(origin, revision);
        Checkpoint {
            origin: origin.clone(),
            revision,
            slots,
            digest,
        }
    }

    /// The checkpoint held of `origin` and its signed bytes.
    pub fn checkpoint(&self, origin: &InstitutionId) -> Option<(Checkpoint, Vec<u8>)> {
        self.versions()
            .checkpoints
            .get(origin)
            .map(|h| (h.checkpoint.clone(), h.bytes.clone()))
    }

    /// Serves this node's own freshly signed checkpoint from now on (in memory: it is
    /// signed again whenever what this node holds of its own moved).
    pub fn keep_own_checkpoint(&self, checkpoint: Checkpoint, bytes: Vec<u8>) {
        self.versions().checkpoints.insert(
            checkpoint.origin.clone(),
            HeldCheckpoint { checkpoint, bytes },
        );
    }

    /// Takes a verified checkpoint (signed by its origin): kept for relaying if it is the
    /// newest held, and the origin's watermark raised to its revision if what this node
    /// holds matches it.
    pub async fn take_checkpoint(
        &self,
        checkpoint: &Checkpoint,
        bytes: &[u8],
    ) -> Result<CheckpointOutcome, StoreError> {
        let _writer = self.writer.lock().await;
        let origin = &checkpoint.origin;
        let mut batch = Batch::new();
        let (newest, outcome) = {
            let versions = self.versions();
            let newest = versions
                .checkpoints
                .get(origin)
                .is_none_or(|held| held.checkpoint.revision < checkpoint.revision);
            let mark = versions.watermarks.get(origin).copied().unwrap_or(0);
            let outcome = if mark >= checkpoint.revision {
                CheckpointOutcome::Behind
            } else if versions.slot_digest(origin, checkpoint.revision)
                == (checkpoint.slots, checkpoint.digest)
            {
                CheckpointOutcome::Raised
            } else {
                CheckpointOutcome::Differs
            };
            (newest, outcome)
        };
        if newest {
            batch.put(
                Space::Checkpoints,
                origin.as_str().as_bytes().to_vec(),
                bytes.to_vec(),
            );
        }
        let marks = if outcome == CheckpointOutcome::Raised {
            let raised = std::collections::BTreeMap::from([(origin.clone(), checkpoint.revision)]);
            self.extend_watermarks(&Default::default(), &[], &mut batch, Some(&raised))?
        } else {
            Default::default()
        };
        if batch.is_empty() {
            return Ok(outcome);
        }
        self.store.commit(batch).await?;
        let mut versions = self.versions();
        if newest {
            versions.checkpoints.insert(
                origin.clone(),
                HeldCheckpoint {
                    checkpoint: checkpoint.clone(),
                    bytes: bytes.to_vec(),
                },
            );
        }
        versions.watermarks.extend(marks);
        Ok(outcome)
    }
}
