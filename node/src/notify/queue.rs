//! The durable queue of notices: written in the same commit as the event it tells of
//! where the caller can (a booking's new state and its notice land together), read by
//! the delivery task in order of when each is due.

use std::sync::Arc;

use alliance_protocol::UnixTime;

use super::notice::Notice;
use crate::store::{Batch, Space, Store, StoreError};

/// Notices read per round of delivery.
pub(super) const ROUND: usize = 64;

/// What is due: notices with their keys, and when the next one after them is.
pub(super) struct Due {
    pub due: Vec<(Vec<u8>, Notice)>,
    pub next: Option<UnixTime>,
}

/// The queue. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Notices {
    store: Store,
    /// Off when no channel is configured: nothing is queued then.
    enabled: bool,
    wake: Arc<tokio::sync::Notify>,
}

/// A notice's key: when it is due, then its event.
fn key(due: UnixTime, event_id: &str) -> Vec<u8> {
    let mut key = u64::try_from(due.0.max(0))
        .unwrap_or(0)
        .to_be_bytes()
        .to_vec();
    key.push(0);
    key.extend_from_slice(event_id.as_bytes());
    key
}

impl Notices {
    /// A queue in `store`; `enabled` when e-mail or a webhook is configured.
    pub fn new(store: Store, enabled: bool) -> Self {
        Notices {
            store,
            enabled,
            wake: Arc::default(),
        }
    }

    /// Adds `notice`, due now, to `batch` (nothing when notices are off). Call
    /// [`Self::wake`] once the batch is committed.
    pub fn put(&self, batch: &mut Batch, notice: &Notice) -> Result<(), StoreError> {
        if self.enabled {
            batch.put_json(Space::Notices, key(notice.at, &notice.event_id), notice)?;
        }
        Ok(())
    }

    /// Adds `notice` to `batch` unless its event was told of before (reminders, found
    /// again by every scan until the event passes); true if it was added.
    pub fn put_once(&self, batch: &mut Batch, notice: &Notice) -> Result<bool, StoreError> {
        if !self.enabled
            || self
                .store
                .get(Space::NoticeMarks, notice.event_id.as_bytes())?
                .is_some()
        {
            return Ok(false);
        }
        let at = u64::try_from(notice.at.0.max(0)).unwrap_or(0);
        batch.put(
            Space::NoticeMarks,
            notice.event_id.as_bytes().to_vec(),
            at.to_be_bytes().to_vec(),
        );
        self.put(batch, notice)?;
        Ok(true)
    }

    /// Forgets the marks of events told of before `before` (their events are long past).
    pub async fn forget_marks_before(&self, before: UnixTime) -> Result<usize, StoreError> {
        let mut batch = Batch::new();
        for (key, value) in self.store.scan_prefix(Space::NoticeMarks, b"")? {
            let at = value
                .get(..8)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map_or(0, u64::from_be_bytes);
            if i64::try_from(at).unwrap_or(i64::MAX) < before.0 {
                batch.delete(Space::NoticeMarks, key);
            }
        }
        let forgotten = batch.len();
        if forgotten > 0 {
            self.store.commit(batch).await?;
        }
        Ok(forgotten)
    }

    /// Commits `batch` and wakes the delivery.
    pub async fn commit(&self, batch: Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        self.store.commit(batch).await?;
        self.wake();
        Ok(())
    }

    /// Queues `notice` on its own and wakes the delivery.
    pub async fn send(&self, notice: &Notice) -> Result<(), StoreError> {
        if !self.enabled {
            return Ok(());
        }
        let mut batch = Batch::new();
        self.put(&mut batch, notice)?;
        self.store.commit(batch).await?;
        self.wake();
        Ok(())
    }

    /// Tells the delivery task that something was queued.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub(super) async fn woken(&self) {
        self.wake.notified().await;
    }

    /// Up to [`ROUND`] notices due by `now`, with their keys, the earliest first; and
    /// when the next one not yet due is. An entry that does not read is logged and
    /// dropped, so it cannot hold up those behind it.
    pub(super) async fn due(&self, now: UnixTime) -> Result<Due, StoreError> {
        let mut due = Vec::new();
        let mut broken = Batch::new();
        let mut next = None;
        for (key, value) in self
            .store
            .scan_range(Space::Notices, &[], &[0xff; 9], ROUND + 1)?
        {
            let notice: Notice = match serde_json::from_slice(&value) {
                Ok(notice) => notice,
                Err(e) => {
                    tracing::error!(error = %e, "an unreadable notice is dropped");
                    broken.delete(Space::Notices, key);
                    continue;
                }
            };
            let at = key
                .get(..8)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map_or(0, u64::from_be_bytes);
            let at = UnixTime(i64::try_from(at).unwrap_or(i64::MAX));
            if at > now || due.len() == ROUND {
                next = Some(at);
                break;
            }
            due.push((key, notice));
        }
        if !broken.is_empty() {
            self.store.commit(broken).await?;
        }
        Ok(Due { due, next })
    }

    /// Replaces the notice under `old` by `next` (other recipients, or the same one due
    /// later), in one commit.
    pub(super) async fn replace(
        &self,
        old: &[u8],
        next: &[(UnixTime, Notice)],
    ) -> Result<(), StoreError> {
        let mut batch = Batch::new();
        batch.delete(Space::Notices, old.to_vec());
        for (due, notice) in next {
            batch.put_json(Space::Notices, key(*due, &notice.event_id), notice)?;
        }
        self.store.commit(batch).await
    }

    /// Notices waiting, for the status page and metrics.
    pub fn waiting(&self) -> Result<usize, StoreError> {
        self.store.count_prefix(Space::Notices, b"")
    }
}
