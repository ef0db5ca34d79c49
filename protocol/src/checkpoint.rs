//! Catalogue checkpoints: an origin's signed "at revision r I hold these slots, each at
//! this revision".
//!
//! Anti-entropy cannot tell a revision that was superseded from one that was withheld:
//! both are simply absent. A peer's word that it sent everything is worth nothing (it
//! may hold back an old slot's newer version, and the requester would never ask again).
//! A checkpoint is the origin's own word: a node whose held slots of that origin, up to
//! the checkpoint's revision, are exactly the listed ones holds every change up to it.
//! The list itself travels as a digest; the node recomputes it from what it holds.

use prost::Message;
use sha2::{Digest, Sha256};

use crate::{
    envelope::{Domain, EnvelopeError, SignedEnvelope},
    ids::{IdError, InstitutionId},
    keys::{PublicKey, SecretKey},
    limits::MAX_GOSSIP_BYTES,
    proto,
};

impl Domain {
    /// A catalogue checkpoint, signed by the origin's node key.
    pub const CHECKPOINT: Domain = Domain("alliance/checkpoint/v1");
}

/// Why a checkpoint was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("checkpoint is {0} bytes, more than allowed")]
    TooLarge(usize),
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    #[error("checkpoint is not valid protobuf: {0}")]
    Malformed(String),
    #[error("checkpoint: {0}")]
    InstitutionId(#[from] IdError),
    #[error("checkpoint digest is {0} bytes, not 32")]
    Digest(usize),
}

/// What an origin held at one revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: InstitutionId,
    pub revision: u64,
    /// How many slots.
    pub slots: u64,
    /// [`SlotDigest`] of the (slot, revision) pairs.
    pub digest: [u8; 32],
}

/// A checkpoint decoded but not verified: who signed it must be looked up first.
#[derive(Debug, Clone)]
pub struct UnverifiedCheckpoint {
    envelope: SignedEnvelope,
}

impl Checkpoint {
    /// Signs with the origin's node key; returns the encoded envelope.
    pub fn seal(&self, key: &SecretKey) -> Vec<u8> {
        let raw = proto::CatalogueCheckpoint {
            origin: self.origin.to_string(),
            revision: self.revision,
            slots: self.slots,
            digest: self.digest.to_vec(),
        };
        SignedEnvelope::seal(key, Domain::CHECKPOINT, raw.encode_to_vec()).encode()
    }
}

impl UnverifiedCheckpoint {
    /// Reads the envelope, checking its size and domain.
    pub fn decode(bytes: &[u8]) -> Result<Self, CheckpointError> {
        if bytes.len() > MAX_GOSSIP_BYTES {
            return Err(CheckpointError::TooLarge(bytes.len()));
        }
        let envelope = SignedEnvelope::decode(bytes)?;
        if envelope.domain() != Domain::CHECKPOINT.0 {
            return Err(EnvelopeError::WrongDomain {
                expected: Domain::CHECKPOINT.0.to_owned(),
                found: envelope.domain().to_owned(),
            }
            .into());
        }
        Ok(UnverifiedCheckpoint { envelope })
    }

    /// The claimed signer's key, for looking up its certificate.
    pub fn signer_bytes(&self) -> [u8; 32] {
        self.envelope.signer_bytes()
    }

    /// Checks the signature with `signer` (a certified key) and decodes. The caller
    /// checks that the signer's institution is the checkpoint's origin.
    pub fn verify(&self, signer: &PublicKey) -> Result<Checkpoint, CheckpointError> {
        decode_payload(self.envelope.open_from(Domain::CHECKPOINT, signer)?)
    }

    /// Decodes bytes whose signature was verified before they were stored.
    pub fn decode_stored(bytes: &[u8]) -> Result<Checkpoint, CheckpointError> {
        decode_payload(SignedEnvelope::decode(bytes)?.payload_unverified())
    }
}

fn decode_payload(payload: &[u8]) -> Result<Checkpoint, CheckpointError> {
    let raw = proto::CatalogueCheckpoint::decode(payload)
        .map_err(|e| CheckpointError::Malformed(e.to_string()))?;
    let digest: [u8; 32] = raw
        .digest
        .as_slice()
        .try_into()
        .map_err(|_| CheckpointError::Digest(raw.digest.len()))?;
    Ok(Checkpoint {
        origin: InstitutionId::try_from(raw.origin)?,
        revision: raw.revision,
        slots: raw.slots,
        digest,
    })
}

/// The digest of an origin's (slot, revision) pairs, fed in slot order.
#[derive(Debug, Clone, Default)]
pub struct SlotDigest {
    hasher: Sha256,
    slots: u64,
}

impl SlotDigest {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one slot; slots must come in ascending byte order.
    pub fn add(&mut self, slot: &[u8], revision: u64) {
        self.hasher.update((slot.len() as u64).to_be_bytes());
        self.hasher.update(slot);
        self.hasher.update(revision.to_be_bytes());
        self.slots += 1;
    }

    /// (slot count, digest).
    pub fn finish(self) -> (u64, [u8; 32]) {
        (self.slots, self.hasher.finalize().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(pairs: &[(&str, u64)]) -> (u64, [u8; 32]) {
        let mut d = SlotDigest::new();
        for (slot, revision) in pairs {
            d.add(slot.as_bytes(), *revision);
        }
        d.finish()
    }

    #[test]
    fn a_checkpoint_round_trips_and_only_its_signer_opens_it() {
        let key = SecretKey::generate();
        let (slots, digest) = digest(&[("a/X", 4), ("i/X", 3)]);
        let checkpoint = Checkpoint {
            origin: "dlut".parse().unwrap(),
            revision: 4,
            slots,
            digest,
        };
        let bytes = checkpoint.seal(&key);
        let unverified = UnverifiedCheckpoint::decode(&bytes).unwrap();
        assert_eq!(unverified.signer_bytes(), key.public().to_bytes());
        assert_eq!(unverified.verify(&key.public()).unwrap(), checkpoint);
        assert_eq!(
            UnverifiedCheckpoint::decode_stored(&bytes).unwrap(),
            checkpoint
        );
        let other = SecretKey::generate().public();
        assert!(unverified.verify(&other).is_err());
        let mut altered = bytes.clone();
        let at = altered.windows(4).position(|w| w == b"dlut").unwrap();
        altered[at] = b'x';
        let forged = UnverifiedCheckpoint::decode(&altered).unwrap();
        assert!(forged.verify(&key.public()).is_err());
    }

    #[test]
    fn the_digest_names_every_slot_and_revision() {
        let base = digest(&[("a/X", 4), ("i/X", 3)]);
        assert_eq!(base.0, 2);
        assert_ne!(base, digest(&[("a/X", 4), ("i/X", 2)]));
        assert_ne!(base, digest(&[("a/X", 4)]));
        assert_ne!(base, digest(&[("a/X", 4), ("i/X", 3), ("i/Y", 1)]));
        // Lengths are part of the digest: slots cannot be re-split.
        assert_ne!(
            digest(&[("ab", 1), ("c", 1)]),
            digest(&[("a", 1), ("bc", 1)])
        );
    }

    #[test]
    fn other_envelopes_are_not_checkpoints() {
        let key = SecretKey::generate();
        let other = SignedEnvelope::seal(&key, Domain::CERTIFICATE, vec![]).encode();
        assert!(matches!(
            UnverifiedCheckpoint::decode(&other),
            Err(CheckpointError::Envelope(EnvelopeError::WrongDomain { .. }))
        ));
        assert!(UnverifiedCheckpoint::decode(&vec![0; MAX_GOSSIP_BYTES + 1]).is_err());
    }
}
