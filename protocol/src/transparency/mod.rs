//! The province's transparency log (R5, R14): every usage receipt it accepts is appended
//! to an append-only Merkle tree in the manner of RFC 6962 / RFC 9162, so members can
//! check that a receipt is in the log ([`verify_inclusion`]) and that the log only ever
//! grew ([`verify_consistency`]) — the province cannot drop or rewrite a receipt without
//! members noticing.
//!
//! The tree and its proofs are the `ct-merkle` crate's (RFC 6962 hashing with SHA-256);
//! this module fixes what a leaf is, signs tree heads, and turns every malformed input
//! into an error. A leaf is the SHA-256 of an entry's bytes, so the leaf hash is
//! `SHA-256(0x00 ‖ SHA-256(entry))`: the log keeps 32 bytes per entry in memory whatever
//! the entry's size.

mod log;

use ct_merkle::{ConsistencyProof, InclusionProof, RootHash};
use prost::Message;
use sha2::{Digest, Sha256};

pub use log::MerkleLog;

use crate::{
    envelope::{Domain, EnvelopeError, SignedEnvelope},
    keys::{PublicKey, SecretKey},
    proto,
    time::UnixTime,
};

impl Domain {
    /// A tree head of the receipt log, signed by the province.
    pub const TREE_HEAD: Domain = Domain("alliance/tree-head/v1");
}

/// Hashes in the longest proof: a tree of 2⁶⁴ leaves needs at most 2 × 64.
const MAX_PROOF_HASHES: usize = 128;

/// Most entries a log can have (2⁶³): the Merkle tree arithmetic overflows past it. A
/// tree head claiming more is refused.
pub const MAX_LOG_SIZE: u64 = 1 << 63;

/// Why a tree head or proof was refused.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    #[error("tree head is not valid protobuf: {0}")]
    Malformed(String),
    #[error("tree head root is {0} bytes, not 32")]
    BadRoot(usize),
    #[error("tree head claims {0} entries, more than a log can have")]
    TooLarge(u64),
    #[error("proof is malformed")]
    MalformedProof,
    #[error("entry {index} is not in a log of {size} entries")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("the entry is not at that index of the log with this tree head")]
    NotIncluded,
    #[error("the log of {new} entries does not extend the log of {old} entries this node saw")]
    Inconsistent { old: u64, new: u64 },
}

/// The province's signed word on its log: `size` entries whose Merkle root is `root`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TreeHead {
    pub size: u64,
    #[serde(with = "hex_root")]
    pub root: [u8; 32],
    pub timestamp: UnixTime,
}

impl TreeHead {
    /// Signs with the province's key; returns the encoded envelope.
    pub fn seal(&self, province: &SecretKey) -> Vec<u8> {
        let raw = proto::TreeHead {
            size: self.size,
            root: self.root.to_vec(),
            timestamp: self.timestamp.0,
        };
        SignedEnvelope::seal(province, Domain::TREE_HEAD, raw.encode_to_vec()).encode()
    }

    /// Reads a tree head signed by `province`.
    pub fn open(bytes: &[u8], province: &PublicKey) -> Result<TreeHead, LogError> {
        let envelope = SignedEnvelope::decode(bytes)?;
        let payload = envelope.open_from(Domain::TREE_HEAD, province)?;
        let raw =
            proto::TreeHead::decode(payload).map_err(|e| LogError::Malformed(e.to_string()))?;
        let root = <[u8; 32]>::try_from(raw.root.as_slice())
            .map_err(|_| LogError::BadRoot(raw.root.len()))?;
        if raw.size > MAX_LOG_SIZE {
            return Err(LogError::TooLarge(raw.size));
        }
        Ok(TreeHead {
            size: raw.size,
            root,
            timestamp: UnixTime(raw.timestamp),
        })
    }

    fn root_hash(&self) -> RootHash<Sha256> {
        RootHash::new(self.root.into(), self.size)
    }
}

/// What the log stores for an entry: its SHA-256.
pub fn entry_hash(entry: &[u8]) -> [u8; 32] {
    Sha256::digest(entry).into()
}

fn checked_proof_bytes(proof: &[u8]) -> Result<Vec<u8>, LogError> {
    if !proof.len().is_multiple_of(32) || proof.len() / 32 > MAX_PROOF_HASHES {
        return Err(LogError::MalformedProof);
    }
    Ok(proof.to_vec())
}

/// Checks that `entry` is at `index` of the log `head` describes, by `proof` (the
/// concatenated hashes the province sent). Never panics.
pub fn verify_inclusion(
    head: &TreeHead,
    entry: &[u8],
    index: u64,
    proof: &[u8],
) -> Result<(), LogError> {
    if head.size > MAX_LOG_SIZE {
        return Err(LogError::TooLarge(head.size));
    }
    if index >= head.size {
        return Err(LogError::IndexOutOfRange {
            index,
            size: head.size,
        });
    }
    let proof = InclusionProof::<Sha256>::try_from_bytes(checked_proof_bytes(proof)?)
        .map_err(|_| LogError::MalformedProof)?;
    head.root_hash()
        .verify_inclusion(&entry_hash(entry), index, &proof)
        .map_err(|_| LogError::NotIncluded)
}

/// Checks that the log `new` describes extends the one `old` describes, by `proof`. An
/// empty old log is extended by any log; logs of the same size must have the same root.
/// Never panics.
pub fn verify_consistency(old: &TreeHead, new: &TreeHead, proof: &[u8]) -> Result<(), LogError> {
    let inconsistent = LogError::Inconsistent {
        old: old.size,
        new: new.size,
    };
    if new.size > MAX_LOG_SIZE {
        return Err(LogError::TooLarge(new.size));
    }
    if old.size > new.size {
        return Err(inconsistent);
    }
    if old.size == 0 {
        return Ok(());
    }
    if old.size == new.size {
        return if old.root == new.root && proof.is_empty() {
            Ok(())
        } else {
            Err(inconsistent)
        };
    }
    let proof = ConsistencyProof::<Sha256>::try_from_bytes(checked_proof_bytes(proof)?)
        .map_err(|_| LogError::MalformedProof)?;
    new.root_hash()
        .verify_consistency(&old.root_hash(), &proof)
        .map_err(|_| inconsistent)
}

pub(crate) mod hex_root {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(crate) fn serialize<S: Serializer>(root: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(root))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        let bytes = hex::decode(&text).map_err(D::Error::custom)?;
        <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| D::Error::custom("a root is 32 bytes"))
    }
}

#[cfg(test)]
mod tests;
