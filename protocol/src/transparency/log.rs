//! [`MerkleLog`]: the tree itself, in memory, from which the province answers with tree
//! heads and proofs. It holds 32 bytes per entry plus the tree's nodes (about 100 bytes
//! per entry in all); the entries themselves live in the province's store, which rebuilds
//! the tree from their hashes when it starts.

use ct_merkle::mem_backed_tree::MemoryBackedTree;
use sha2::Sha256;

use super::{TreeHead, entry_hash};
use crate::time::UnixTime;

/// An append-only Merkle tree of entry hashes.
#[derive(Debug, Clone, Default)]
pub struct MerkleLog {
    tree: MemoryBackedTree<Sha256, [u8; 32]>,
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
        let index = self.tree.len();
        self.tree.push(hash);
        index
    }

    /// Entries in the log.
    pub fn len(&self) -> u64 {
        self.tree.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }

    /// The Merkle root of the log as it is now.
    pub fn root(&self) -> [u8; 32] {
        (*self.tree.root().as_bytes()).into()
    }

    /// The tree head of the log as it is now (to be signed by the province).
    pub fn head(&self, timestamp: UnixTime) -> TreeHead {
        TreeHead {
            size: self.len(),
            root: self.root(),
            timestamp,
        }
    }

    /// The proof that the entry at `index` is in the log as it is now; `None` if there is
    /// no such entry.
    pub fn prove_inclusion(&self, index: u64) -> Option<Vec<u8>> {
        let index = usize::try_from(index).ok()?;
        (index < self.tree.items().len())
            .then(|| self.tree.prove_inclusion(index).as_bytes().to_vec())
    }

    /// The proof that the log as it is now extends its first `old_size` entries; `None`
    /// if it has fewer. Empty for an empty old log or the log itself.
    pub fn prove_consistency(&self, old_size: u64) -> Option<Vec<u8>> {
        let len = self.len();
        if old_size > len {
            return None;
        }
        if old_size == 0 || old_size == len {
            return Some(Vec::new());
        }
        let additions = usize::try_from(len - old_size).ok()?;
        Some(self.tree.prove_consistency(additions).as_bytes().to_vec())
    }

    /// The proof that the log of its first `second` entries extends that of its first
    /// `first`, as RFC 9162's get-sth-consistency serves for any two heads; `None` unless
    /// `first <= second <= len`. For an earlier `second` the tree of that size is rebuilt
    /// (linear in `second`): members ask for one only to check a head older than the
    /// newest they verified, which is rare.
    pub fn prove_consistency_between(&self, first: u64, second: u64) -> Option<Vec<u8>> {
        if first > second || second > self.len() {
            return None;
        }
        if second == self.len() {
            return self.prove_consistency(first);
        }
        let mut earlier = MerkleLog::new();
        for hash in self.tree.items().iter().take(usize::try_from(second).ok()?) {
            earlier.push_hash(*hash);
        }
        earlier.prove_consistency(first)
    }
}
