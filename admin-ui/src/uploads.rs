//! Uploaded spreadsheets kept between the preview and the confirmation of an import, so
//! the user does not pick the file twice. Held in memory for a short while, per user.

/// Largest file accepted (the body limit of the upload routes, pages and API, is set
/// from it).
pub(crate) const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// How long a checked upload waits for its confirmation.
const TTL: Duration = Duration::from_secs(30 * 60);
/// Most uploads held at once; the oldest goes first.
const MAX_HELD: usize = 32;

/// One checked file.
#[derive(Debug, Clone)]
pub(crate) struct Upload {
    pub owner: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
    at: Instant,
}

/// The uploads waiting for confirmation. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub(crate) struct Uploads {
    held: Arc<Mutex<HashMap<String, Upload>>>,
}

impl Uploads {
    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<String, Upload>> {
        // Entries are inserted and removed whole; a poisoned map is still consistent.
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Keeps a file for `owner`; returns the token that claims it.
    pub(crate) fn put(&self, owner: &str, file_name: &str, bytes: Vec<u8>) -> String {
        let token = hex::encode(rand::random::<[u8; 16]>());
        let mut held = self.held();
        held.retain(|_, u| u.at.elapsed() < TTL);
        while held.len() >= MAX_HELD {
            let Some(oldest) = held
                .iter()
                .min_by_key(|(_, u)| u.at)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            held.remove(&oldest);
        }
        held.insert(
            token.clone(),
            Upload {
                owner: owner.to_owned(),
                file_name: file_name.to_owned(),
                bytes,
                at: Instant::now(),
            },
        );
        token
    }

    /// Takes the file of `token` if it belongs to `owner` and has not expired.
    pub(crate) fn take(&self, owner: &str, token: &str) -> Option<Upload> {
        let mut held = self.held();
        let upload = held.get(token)?;
        if upload.owner != owner || upload.at.elapsed() >= TTL {
            return None;
        }
        held.remove(token)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn an_upload_is_claimed_once_and_only_by_its_owner() {
        let uploads = Uploads::default();
        let token = uploads.put("alice", "a.xlsx", vec![1, 2]);
        assert!(uploads.take("mallory", &token).is_none());
        assert_eq!(uploads.take("alice", &token).unwrap().bytes, vec![1, 2]);
        assert!(uploads.take("alice", &token).is_none());
    }

    #[test]
    fn the_oldest_upload_makes_room() {
        let uploads = Uploads::default();
        let first = uploads.put("a", "f", vec![]);
        for _ in 0..MAX_HELD {
            uploads.put("a", "f", vec![]);
        }
        assert!(uploads.take("a", &first).is_none());
    }
}
