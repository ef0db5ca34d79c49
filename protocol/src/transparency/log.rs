//! [`MerkleLog`]: the tree itself, in memory, from which the province answers with tree
//! heads and proofs. It keeps the hash of every complete subtree (each leaf, each aligned
//! pair, each aligned four, …): about 64 bytes per entry. Every root and proof of any size
//! up to the log's — RFC 9162's MTH, PATH and PROOF — is then built from O(log² n) of
//! them, never by rebuilding a tree; the entries themselves live in the province's store,
//! which rebuilds these hashes from theirs when it starts. Verification stays with the
//! `ct-merkle` crate ([`super::verify_inclusion`], [`super::verify_consistency`]), which
//! the tests check these proofs against.

use sha2::{Digest, Sha256};

use super::{TreeHead, entry_hash};
use crate::time::UnixTime;

type Hash = [u8; 32];

/// An append-only Merkle tree of entry hashes (RFC 6962 hashing).
#[derive(Debug, Clone, Default)]
pub struct MerkleLog {
    /// `levels[h][i]`: the hash of the complete subtree of the `2^h` leaves from
    /// `i × 2^h`. Level 0 holds the leaf hashes.
    levels: Vec<Vec<Hash>>,
}

fn leaf_hash(entry_hash: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry_hash);
    h.finalize().into()
}

fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The largest power of two below `n` (`n` > 1).
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

impl MerkleLog {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an entry; returns its index.
    pub fn push(&mut self, entry: &[u8]) -> u64 {
        self.push_hash(entry_hash(entry))
    }

    /// Appends an entry by its [`entry_hash`]; returns its index.
    pub fn push_hash(&mut self, hash: [u8; 32]) -> u64 {
        let index = self.len();
        let mut node = leaf_hash(&hash);
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            self.levels[level].push(node);
            let row = &self.levels[level];
            if !row.len().is_multiple_of(2) {
                break;
            }
            node = node_hash(&row[row.len() - 2], &row[row.len() - 1]);
            level += 1;
        }
        index
    }

    /// Entries in the log.
    pub fn len(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// MTH of the `count` leaves from `start` (all within the log, `count` ≥ 1).
    fn subtree(&self, start: u64, count: u64) -> Hash {
        if count.is_power_of_two() && start.is_multiple_of(count) {
            let level = count.trailing_zeros() as usize;
            return self.levels[level][(start / count) as usize];
        }
        let k = split(count);
        node_hash(&self.subtree(start, k), &self.subtree(start + k, count - k))
    }

    /// The Merkle root of the log's first `size` entries.
    fn root_of(&self, size: u64) -> Hash {
        if size == 0 {
            return Sha256::digest(b"").into();
        }
        self.subtree(0, size)
    }

    /// The Merkle root of the log as it is now.
    pub fn root(&self) -> [u8; 32] {
        self.root_of(self.len())
    }

    /// The tree head of the log as it is now (to be signed by the province).
    pub fn head(&self, timestamp: UnixTime) -> TreeHead {
        TreeHead {
            size: self.len(),
            root: self.root(),
            timestamp,
        }
    }

    /// RFC 9162 PATH(m, D[start : start + count]), leaf first.
    fn path(&self, m: u64, start: u64, count: u64, out: &mut Vec<u8>) {
        if count <= 1 {
            return;
        }
        let k = split(count);
        if m < k {
            self.path(m, start, k, out);
            out.extend_from_slice(&self.subtree(start + k, count - k));
        } else {
            self.path(m - k, start + k, count - k, out);
            out.extend_from_slice(&self.subtree(start, k));
        }
    }

    /// The proof that the entry at `index` is in the log as it is now; `None` if there is
    /// no such entry.
    pub fn prove_inclusion(&self, index: u64) -> Option<Vec<u8>> {
        if index >= self.len() {
            return None;
        }
        let mut proof = Vec::new();
        self.path(index, 0, self.len(), &mut proof);
        Some(proof)
    }

    /// RFC 9162 SUBPROOF(m, D[start : start + count], complete).
    fn subproof(&self, m: u64, start: u64, count: u64, complete: bool, out: &mut Vec<u8>) {
        if m == count {
            if !complete {
                out.extend_from_slice(&self.subtree(start, count));
            }
            return;
        }
        let k = split(count);
        if m <= k {
            self.subproof(m, start, k, complete, out);
            out.extend_from_slice(&self.subtree(start + k, count - k));
        } else {
            self.subproof(m - k, start + k, count - k, false, out);
            out.extend_from_slice(&self.subtree(start, k));
        }
    }

    /// The proof that the log as it is now extends its first `old_size` entries; `None`
    /// if it has fewer. Empty for an empty old log or the log itself.
    pub fn prove_consistency(&self, old_size: u64) -> Option<Vec<u8>> {
        self.prove_consistency_between(old_size, self.len())
    }

    /// The proof that the log of its first `second` entries extends that of its first
    /// `first`, as RFC 9162's get-sth-consistency serves for any two heads; `None` unless
    /// `first <= second <= len`. Built from stored subtree hashes in O(log² n), whatever
    /// the sizes: a member asking for old sizes costs the province next to nothing.
    pub fn prove_consistency_between(&self, first: u64, second: u64) -> Option<Vec<u8>> {
        if first > second || second > self.len() {
            return None;
        }
        let mut proof = Vec::new();
        if first > 0 && first < second {
            self.subproof(first, 0, second, true, &mut proof);
        }
        Some(proof)
    }
}
