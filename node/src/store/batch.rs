//! [`Batch`]: the writes of one commit, applied atomically. A batch is inert until it is
//! given to [`super::Store::commit`], which is the only way anything reaches the disk.

use serde::Serialize;

use super::{Space, StoreError};

/// One write: `value: None` deletes the key.
#[derive(Debug)]
pub(super) struct Op {
    pub space: Space,
    pub key: Vec<u8>,
    pub value: Option<Vec<u8>>,
}

/// Writes to commit together, atomically and durably, with [`super::Store::commit`].
/// Later writes to the same key win.
#[derive(Debug, Default)]
pub struct Batch {
    ops: Vec<Op>,
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Self {
        Batch::default()
    }

    /// Sets `key` in `space` to `value`.
    pub fn put(
        &mut self,
        space: Space,
        key: impl Into<Vec<u8>>,
        value: impl Into<Vec<u8>>,
    ) -> &mut Self {
        self.ops.push(Op {
            space,
            key: key.into(),
            value: Some(value.into()),
        });
        self
    }

    /// Sets `key` in `space` to `value` encoded as JSON.
    pub fn put_json<T: Serialize>(
        &mut self,
        space: Space,
        key: impl Into<Vec<u8>>,
        value: &T,
    ) -> Result<&mut Self, StoreError> {
        let bytes = serde_json::to_vec(value)?;
        Ok(self.put(space, key, bytes))
    }

    /// Deletes `key` in `space` (deleting a missing key is not an error).
    pub fn delete(&mut self, space: Space, key: impl Into<Vec<u8>>) -> &mut Self {
        self.ops.push(Op {
            space,
            key: key.into(),
            value: None,
        });
        self
    }

    /// Whether the batch holds no writes.
    /// Adds `other`'s operations after this one's.
    pub fn append(&mut self, other: Batch) -> &mut Self {
        self.ops.extend(other.ops);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Number of writes in the batch.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Empties the batch, handing its writes to the committer.
    pub(super) fn take_ops(&mut self) -> Vec<Op> {
        std::mem::take(&mut self.ops)
    }
}
