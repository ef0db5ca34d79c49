//! Agent tokens: the secret an instrument's agent presents when it posts a state. The
//! instrument manager issues one per instrument and sees it once; the node keeps only its
//! SHA-256, so a copy of the store does not let anyone post as an agent. Issuing again
//! replaces the old token, which is how a manager rotates it.

use alliance_protocol::record::is_valid_local_id;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::MonitoringError;
use crate::store::{Batch, Space, Store};

/// The agent tokens of this node's instruments. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AgentTokens {
    store: Store,
}

fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn key(local_id: &str) -> Result<&[u8], MonitoringError> {
    if !is_valid_local_id(local_id) {
        return Err(MonitoringError::LocalId(local_id.to_owned()));
    }
    Ok(local_id.as_bytes())
}

impl AgentTokens {
    /// The tokens kept in `store`.
    pub fn new(store: Store) -> Self {
        AgentTokens { store }
    }

    /// Makes a new token for the instrument, replacing any earlier one, and returns it:
    /// the only time it can be read.
    pub async fn issue(&self, local_id: &str) -> Result<String, MonitoringError> {
        let key = key(local_id)?;
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes);
        let token = hex::encode(bytes);
        let mut batch = Batch::new();
        batch.put(Space::AgentTokens, key, hash(&token).to_vec());
        self.store.commit(batch).await?;
        Ok(token)
    }

    /// Whether `token` is the instrument's current token. The comparison takes the same
    /// time wherever the hashes differ.
    pub fn check(&self, local_id: &str, token: &str) -> Result<bool, MonitoringError> {
        let Ok(key) = key(local_id) else {
            return Ok(false);
        };
        Ok(match self.store.get(Space::AgentTokens, key)? {
            Some(stored) => bool::from(stored.as_slice().ct_eq(&hash(token))),
            None => false,
        })
    }

    /// Withdraws the instrument's token: its agent can no longer post.
    pub async fn revoke(&self, local_id: &str) -> Result<(), MonitoringError> {
        let mut batch = Batch::new();
        batch.delete(Space::AgentTokens, key(local_id)?);
        self.store.commit(batch).await?;
        Ok(())
    }

    /// Whether the instrument has a token.
    pub fn has_token(&self, local_id: &str) -> Result<bool, MonitoringError> {
        let Ok(key) = key(local_id) else {
            return Ok(false);
        };
        Ok(self.store.get(Space::AgentTokens, key)?.is_some())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test]
    async fn only_the_current_token_of_the_instrument_is_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let tokens = AgentTokens::new(Store::open(dir.path()).unwrap());
        assert!(!tokens.has_token("XPS-1").unwrap());
        assert!(!tokens.check("XPS-1", "").unwrap());

        let first = tokens.issue("XPS-1").await.unwrap();
        assert_eq!(first.len(), 64);
        assert!(tokens.has_token("XPS-1").unwrap());
        assert!(tokens.check("XPS-1", &first).unwrap());
        // Another instrument's token, a wrong one, and the right one for the wrong
        // instrument are all refused.
        let other = tokens.issue("NMR-600").await.unwrap();
        assert_ne!(first, other);
        assert!(!tokens.check("XPS-1", &other).unwrap());
        assert!(!tokens.check("NMR-600", &first).unwrap());
        assert!(!tokens.check("XPS-1", &first[..63]).unwrap());
        assert!(!tokens.check("XPS-1", "").unwrap());
        assert!(!tokens.check("../XPS-1", &first).unwrap());

        // Rotating: the new token works, the old one no longer does.
        let second = tokens.issue("XPS-1").await.unwrap();
        assert_ne!(first, second);
        assert!(tokens.check("XPS-1", &second).unwrap());
        assert!(!tokens.check("XPS-1", &first).unwrap());

        tokens.revoke("XPS-1").await.unwrap();
        assert!(!tokens.has_token("XPS-1").unwrap());
        assert!(!tokens.check("XPS-1", &second).unwrap());
        assert!(tokens.check("NMR-600", &other).unwrap());
    }

    #[tokio::test]
    async fn only_hashes_are_stored_and_they_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let token = {
            let tokens = AgentTokens::new(Store::open(dir.path()).unwrap());
            tokens.issue("XPS-1").await.unwrap()
        };
        let store = Store::open(dir.path()).unwrap();
        let stored = store.get(Space::AgentTokens, b"XPS-1").unwrap().unwrap();
        assert_eq!(stored, Sha256::digest(token.as_bytes()).to_vec());
        assert!(AgentTokens::new(store).check("XPS-1", &token).unwrap());
    }

    #[tokio::test]
    async fn an_invalid_instrument_id_gets_no_token() {
        let dir = tempfile::tempdir().unwrap();
        let tokens = AgentTokens::new(Store::open(dir.path()).unwrap());
        assert!(matches!(
            tokens.issue("a/b").await,
            Err(MonitoringError::LocalId(_))
        ));
        assert!(matches!(
            tokens.issue("").await,
            Err(MonitoringError::LocalId(_))
        ));
    }
}
