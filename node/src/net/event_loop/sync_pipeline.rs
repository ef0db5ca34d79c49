//! One anti-entropy sync with one peer, pipelined: the next page is asked for while the
//! pages before it are verified and stored, so the peer's reading, the wire, signature
//! checks and this node's writes overlap instead of taking turns.
//!
//! Pages are still *stored* strictly in order, by one applier task per sync, and a page's
//! checkpoints are taken after its entries.

use alliance_protocol::{
    checkpoint::Checkpoint,
    limits::MAX_ROSTER_MEMBERS,
    rpc::{OriginRevision, SyncResponse},
};
use libp2p::PeerId;
use tokio::{sync::mpsc, task::JoinHandle};

use crate::{
    catalogue::{
        Catalogue, CatalogueError,
        admission::{self, KeyDirectory},
    },
    net::Command,
};

/// Pages of one sync requested or received but not stored yet. Three keep the wire, the
/// verifying threads and the writer busy at once, with at most 3 × 6 MiB of pages held.
pub(super) const PIPELINE_DEPTH: usize = 3;

/// A page on its way to the store: its signatures are being checked on the blocking pool.
struct PendingPage {
    verified: JoinHandle<VerifiedPage>,
}

/// The admitted entries and checkpoints of a page and why others were refused.
struct VerifiedPage {
    admitted: Vec<alliance_protocol::Entry>,
    checkpoints: Vec<(Checkpoint, Vec<u8>)>,
    refused: Vec<admission::RejectionKind>,
}

/// The event loop's record of a running sync.
#[derive(Debug)]
pub(super) struct SyncRun {
    /// Tells this run's reports from those of an earlier run with the same peer.
    pub id: u64,
    pages: mpsc::Sender<PendingPage>,
    /// Pages requested and not stored yet.
    pub unstored: usize,
    /// Where the next page starts, when the pipeline was full as its cursor arrived.
    pub deferred: Option<OriginRevision>,
    /// Whether the peer's last page has arrived.
    pub last_received: bool,
    /// Entries that were news so far.
    pub fresh: usize,
}

impl std::fmt::Debug for PendingPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingPage").finish_non_exhaustive()
    }
}

impl SyncRun {
    /// Starts the applier task of a new sync with `peer`; it reports every stored page
    /// with [`Command::SyncPageDone`] on `commands`.
    pub(super) fn start(
        id: u64,
        peer: PeerId,
        catalogue: Catalogue,
        commands: mpsc::Sender<Command>,
    ) -> SyncRun {
        let (pages, queue) = mpsc::channel(PIPELINE_DEPTH);
        tokio::spawn(apply_in_order(id, peer, catalogue, queue, commands));
        SyncRun {
            id,
            pages,
            unstored: 0,
            deferred: None,
            last_received: false,
            fresh: 0,
        }
    }

    /// Hands a received page over: its verification starts now, its storing after the
    /// pages before it.
    pub(super) fn received(&mut self, page: SyncResponse, directory: std::sync::Arc<KeyDirectory>) {
        let SyncResponse {
            entries,
            next,
            mut checkpoints,
        } = page;
        self.last_received = next.is_none();
        // One per origin at most; a page cannot make this node check more.
        checkpoints.truncate(MAX_ROSTER_MEMBERS);
        let verified = tokio::task::spawn_blocking(move || {
            let mut page = verify_page(&entries, &directory);
            for bytes in checkpoints {
                match admission::admit_checkpoint(&bytes, &directory) {
                    Ok(checkpoint) => page.checkpoints.push((checkpoint, bytes)),
                    Err(rejection) => {
                        tracing::warn!(reason = %rejection, "sync page checkpoint refused");
                        page.refused.push(rejection.kind());
                    }
                }
            }
            page
        });
        // The channel holds PIPELINE_DEPTH pages and no more are ever unstored, so this
        // only fails if the applier is gone (the sync is being dropped anyway).
        if self.pages.try_send(PendingPage { verified }).is_err() {
            tracing::debug!("sync applier gone; page dropped");
        }
    }

    /// Whether another page may be requested now.
    pub(super) fn has_room(&self) -> bool {
        self.unstored < PIPELINE_DEPTH
    }

    /// Whether every page of the sync is stored.
    pub(super) fn finished(&self) -> bool {
        self.last_received && self.unstored == 0
    }
}

/// Checks a page's signatures, spread over the cores.
fn verify_page(entries: &[Vec<u8>], directory: &KeyDirectory) -> VerifiedPage {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = entries.len().div_ceil(threads).max(1);
    let results: Vec<Vec<Result<alliance_protocol::Entry, admission::Rejection>>> =
        std::thread::scope(|scope| {
            let workers: Vec<_> = entries
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .map(|bytes| admission::admit(bytes, directory))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().unwrap_or_default())
                .collect()
        });
    let mut page = VerifiedPage {
        admitted: Vec::with_capacity(entries.len()),
        checkpoints: Vec::new(),
        refused: Vec::new(),
    };
    for result in results.into_iter().flatten() {
        match result {
            Ok(entry) => page.admitted.push(entry),
            Err(rejection) => {
                tracing::warn!(reason = %rejection, "sync page entry refused");
                page.refused.push(rejection.kind());
            }
        }
    }
    page
}

/// Stores the pages of one sync in the order they arrived; stops at the first failure.
async fn apply_in_order(
    run: u64,
    peer: PeerId,
    catalogue: Catalogue,
    mut queue: mpsc::Receiver<PendingPage>,
    commands: mpsc::Sender<Command>,
) {
    while let Some(page) = queue.recv().await {
        let outcome = store_page(&catalogue, page).await;
        let failed = outcome.is_err();
        if let Err(e) = &outcome {
            tracing::error!(%peer, error = %e, "cannot store a sync page");
        }
        let done = Command::SyncPageDone {
            peer,
            run,
            fresh: outcome.unwrap_or(0),
            failed,
        };
        if commands.send(done).await.is_err() || failed {
            return;
        }
    }
}

/// Stores a verified page, then takes its checkpoints (each is the origin's own word,
/// checked against what is held, so a refused entry beside it changes nothing); returns
/// how many entries were news.
async fn store_page(catalogue: &Catalogue, page: PendingPage) -> Result<usize, CatalogueError> {
    let verified = page.verified.await.map_err(|e| CatalogueError::Invalid {
        field: "sync",
        message: e.to_string(),
    })?;
    for kind in &verified.refused {
        catalogue.count_rejection(*kind);
    }
    let fresh = catalogue.receive(verified.admitted).await?;
    catalogue.take_checkpoints(&verified.checkpoints).await?;
    Ok(fresh)
}
