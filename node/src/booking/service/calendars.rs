//! Shows calendar changes in every node's calendar: republishes the availability digests
//! of instruments whose bookings or blackouts changed, coalescing bursts.
//!
//! The first change after a quiet spell is republished at once; changes that arrive
//! while a digest is being signed and gossiped, or within [`COOLDOWN`] of it, are
//! republished together afterwards, each instrument once. A burst of bookings thus costs
//! every node a few digests to sign, verify and store rather than one per booking, and a
//! change still shows everywhere well within a second.

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio_util::task::TaskTracker;

use crate::catalogue::Catalogue;

/// Shortest time between two rounds of republishing.
const COOLDOWN: Duration = Duration::from_millis(200);

/// Instruments whose digests are due, and whether a worker is republishing them.
#[derive(Debug, Default)]
struct Due {
    local_ids: BTreeSet<String>,
    working: bool,
}

/// Coalesces digest republishing. Cheap to clone.
#[derive(Debug, Clone)]
pub(super) struct CalendarRefresh {
    catalogue: Catalogue,
    due: Arc<Mutex<Due>>,
    /// Where workers run (the node waits for them when it stops).
    tasks: TaskTracker,
}

impl CalendarRefresh {
    pub(super) fn new(catalogue: Catalogue, tasks: TaskTracker) -> Self {
        CalendarRefresh {
            catalogue,
            due: Arc::default(),
            tasks,
        }
    }

    fn due(&self) -> std::sync::MutexGuard<'_, Due> {
        // Only sets are changed under this lock; a poisoned one is still sound.
        self.due
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Marks an instrument's calendar as changed; its digest is republished soon, without
    /// holding up the caller.
    pub(super) fn changed(&self, local_id: &str) {
        let start_worker = {
            let mut due = self.due();
            due.local_ids.insert(local_id.to_owned());
            !std::mem::replace(&mut due.working, true)
        };
        if start_worker {
            self.tasks.spawn(self.clone().work());
        }
    }

    /// Republishes what is due, round after round, until nothing is; then stops (the next
    /// change starts a new worker).
    async fn work(self) {
        loop {
            let round = {
                let mut due = self.due();
                if due.local_ids.is_empty() {
                    due.working = false;
                    return;
                }
                std::mem::take(&mut due.local_ids)
            };
            for local_id in &round {
                if let Err(e) = self.catalogue.republish_digest(local_id).await {
                    tracing::warn!(local_id, error = %e, "cannot republish an availability digest");
                }
            }
            tokio::time::sleep(COOLDOWN).await;
        }
    }
}
