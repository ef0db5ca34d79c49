//! What each person wants to hear of, and in which language.

pub use alliance_web::backend::{NoticeLanguage as Language, NoticePrefs};

use crate::store::{Batch, Space, Store, StoreError};

/// Everyone's choices, kept by username.
#[derive(Debug, Clone)]
pub struct Preferences {
    store: Store,
}

impl Preferences {
    pub fn new(store: Store) -> Self {
        Preferences { store }
    }

    /// `username`'s choices (the defaults if they made none).
    pub fn get(&self, username: &str) -> Result<NoticePrefs, StoreError> {
        Ok(self
            .store
            .get_json(Space::NoticePrefs, username.as_bytes())?
            .unwrap_or_default())
    }

    pub async fn set(&self, username: &str, prefs: &NoticePrefs) -> Result<(), StoreError> {
        let mut batch = Batch::new();
        batch.put_json(Space::NoticePrefs, username.as_bytes().to_vec(), prefs)?;
        self.store.commit(batch).await
    }
}
