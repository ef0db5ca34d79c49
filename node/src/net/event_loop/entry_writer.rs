//! Stores the catalogue entries accepted from gossip, off the swarm task: one writer
//! task behind a bounded queue, taking what has queued up as one batch (one durable
//! commit). When the queue is full, validation ignores the entry instead of waiting or
//! spawning without bound; anti-entropy fetches it later.

use alliance_protocol::Entry;
use tokio::{sync::mpsc, task::JoinHandle};

use crate::catalogue::Catalogue;

/// Entries accepted from gossip and not yet stored.
pub(super) const ENTRY_QUEUE: usize = 1024;
/// Most entries stored in one commit.
const BATCH: usize = 256;

/// Starts the writer; it stops when every sender is dropped.
pub(super) fn start(catalogue: Catalogue) -> (mpsc::Sender<Entry>, JoinHandle<()>) {
    let (entries, queue) = mpsc::channel(ENTRY_QUEUE);
    (entries, tokio::spawn(write(catalogue, queue)))
}

async fn write(catalogue: Catalogue, mut queue: mpsc::Receiver<Entry>) {
    let mut batch = Vec::with_capacity(BATCH);
    while queue.recv_many(&mut batch, BATCH).await > 0 {
        let entries = std::mem::take(&mut batch);
        if let Err(e) = catalogue.receive(entries).await {
            tracing::error!(error = %e, "cannot store gossiped entries");
        }
    }
}
