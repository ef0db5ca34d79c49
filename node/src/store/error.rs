//! Errors of the store. Engine errors are kept as text: one failed group commit is
//! reported to every writer of the group, so the error must be reproducible per writer.

use std::path::{Path, PathBuf};

/// What can go wrong opening, reading or writing the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The directory is already open, by another process or another [`super::Store`].
    #[error("the store at {} is already open (locked by another process or Store)", path.display())]
    Locked {
        /// The store directory.
        path: PathBuf,
    },
    /// The directory could not be opened or created, or its data could not be recovered.
    #[error("cannot open the store at {}: {message}", path.display())]
    Open {
        /// The store directory.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The engine failed to read or write. After a failed write or fsync the engine refuses
    /// further writes until the store is reopened.
    #[error("storage engine: {0}")]
    Engine(String),
    /// A value could not be encoded to or decoded from JSON.
    #[error("stored JSON value: {0}")]
    Json(#[from] serde_json::Error),
    /// The committer thread is gone; nothing more can be written.
    #[error("the store's committer has stopped; the write was not made")]
    Closed,
}

impl StoreError {
    pub(super) fn open(path: &Path, error: &dyn std::fmt::Display) -> Self {
        StoreError::Open {
            path: path.to_owned(),
            message: error.to_string(),
        }
    }

    pub(super) fn from_open(path: &Path, error: fjall::Error) -> Self {
        match error {
            fjall::Error::Locked => StoreError::Locked {
                path: path.to_owned(),
            },
            other => StoreError::Open {
                path: path.to_owned(),
                message: describe(&other),
            },
        }
    }

    pub(super) fn engine(error: fjall::Error) -> Self {
        StoreError::Engine(describe(&error))
    }
}

/// A readable sentence for an engine error (the engine's own `Display` is its `Debug`).
pub(super) fn describe(error: &fjall::Error) -> String {
    match error {
        fjall::Error::Io(e) => format!("I/O error: {e}"),
        fjall::Error::Poisoned => {
            "an earlier write or fsync failed; writes are refused until the store is reopened"
                .to_owned()
        }
        fjall::Error::Locked => "the database is locked by another user".to_owned(),
        other => format!("{other:?}"),
    }
}
