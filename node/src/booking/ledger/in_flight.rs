//! Requests the ledger has decided but whose writes are not durable yet.
//!
//! The ledger lets go of an instrument's lock as soon as a booking's write is queued, so
//! requests for one instrument no longer wait for each other's fsyncs. Until the write is
//! durable the booking is not in the store, so this registry answers for it: a retry with
//! the same id waits for the same write and gets the same answer, and the same id asked
//! for another slot meanwhile is refused as reused. Its entries are keyed by booking key
//! across all instruments.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
};

use alliance_protocol::UnixTime;
use futures::future::{BoxFuture, FutureExt, Shared};

use super::Answered;
use crate::store::{Durable, StoreError};

/// A queued write, awaitable by everyone who needs it durable.
pub(super) type SharedDurable = Shared<BoxFuture<'static, Result<(), String>>>;

/// Shares a queued write's durability between its request, its retries and later writes
/// of the same instrument.
pub(super) fn share(durable: Durable) -> SharedDurable {
    durable
        .map(|r| r.map_err(|e| e.to_string()))
        .boxed()
        .shared()
}

/// Waits for a shared write; its failure as a store error.
pub(super) async fn settled(durable: SharedDurable) -> Result<(), StoreError> {
    durable.await.map_err(StoreError::Engine)
}

/// What a request asks for, to tell a retry from a reused id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Asked {
    pub local_id: String,
    pub start: UnixTime,
    pub end: UnixTime,
}

#[derive(Clone)]
struct Entry {
    asked: Asked,
    /// `None` while the request is being decided (its instrument's lock is held).
    queued: Option<(Answered, SharedDurable)>,
}

/// What the registry says about a booking key.
pub(super) enum Reservation {
    /// Nobody else is deciding or writing this key: the caller now is, until it drops
    /// the guard or hands the key over with [`Reserved::queued`].
    Reserved(Reserved),
    /// The same request is queued: its answer, once the write is durable.
    Queued(Answered, SharedDurable),
    /// The key is taken by a request for another slot.
    Reused,
}

/// The registry. Cheap to clone.
#[derive(Clone, Default)]
pub(super) struct InFlight {
    entries: Arc<Mutex<HashMap<Vec<u8>, Entry>>>,
}

impl InFlight {
    fn entries(&self) -> MutexGuard<'_, HashMap<Vec<u8>, Entry>> {
        // Every change under this lock is a single insert or remove; a poisoned one is sound.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Looks `key` up and, if nobody holds it, reserves it for `asked`.
    pub(super) fn reserve(&self, key: &[u8], asked: Asked) -> Reservation {
        let mut entries = self.entries();
        match entries.get(key) {
            Some(entry) if entry.asked != asked => Reservation::Reused,
            Some(Entry {
                queued: Some((answered, durable)),
                ..
            }) => Reservation::Queued(answered.clone(), durable.clone()),
            // Being decided under the same instrument's lock, which the caller holds:
            // cannot happen, and refusing is the safe answer if it ever did.
            Some(_) => Reservation::Reused,
            None => {
                entries.insert(
                    key.to_vec(),
                    Entry {
                        asked,
                        queued: None,
                    },
                );
                Reservation::Reserved(Reserved {
                    registry: self.clone(),
                    key: Some(key.to_vec()),
                })
            }
        }
    }
}

/// A key reserved while its request is decided; released on drop.
pub(super) struct Reserved {
    registry: InFlight,
    key: Option<Vec<u8>>,
}

impl Reserved {
    /// The request's write is queued: retries get `answered` once `durable` resolves, and
    /// the key is released then (by the returned task), whatever becomes of the caller.
    /// `undo` runs if the write fails, before the key is released.
    pub(super) fn queued(
        mut self,
        answered: Answered,
        durable: SharedDurable,
        undo: impl Future<Output = ()> + Send + 'static,
    ) {
        let Some(key) = self.key.take() else { return };
        let registry = self.registry.clone();
        if let Some(entry) = registry.entries().get_mut(&key) {
            entry.queued = Some((answered, durable.clone()));
        }
        tokio::spawn(async move {
            if durable.await.is_err() {
                undo.await;
            }
            registry.entries().remove(&key);
        });
    }
}

impl Drop for Reserved {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.registry.entries().remove(&key);
        }
    }
}
