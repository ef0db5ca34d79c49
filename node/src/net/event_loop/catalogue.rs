//! Catalogue replication: own entries out on gossip, peers' entries in through gossip
//! validation, and anti-entropy — a sync with every newly verified member and with a
//! random one periodically, page by page, served from and applied to the replica.
//!
//! Verifying and storing a page happens in a spawned task so the swarm keeps running; the
//! task reports back with [`Command::SyncPageDone`], which asks for the next page.

use alliance_protocol::{
    UnixTime,
    rpc::{OriginRevision, Request, Response, SyncResponse},
};
use libp2p::{PeerId, request_response::OutboundRequestId};

use super::EventLoop;
use crate::{
    catalogue::{
        Catalogue,
        admission::{self, KeyDirectory},
    },
    net::{Command, NetEvent, topics},
};

/// Entries asked for per sync page.
pub const SYNC_PAGE: u32 = 1_000;

impl EventLoop {
    /// Refreshes the catalogue's view of who may sign (after any membership change).
    pub(super) fn refresh_directory(&self) {
        self.catalogue
            .set_directory(self.membership.key_directory(UnixTime::now()));
    }

    /// Starts a sync with `peer` unless one is running.
    pub(super) fn start_sync(&mut self, peer: PeerId) {
        if !self.syncing.insert(peer) {
            return;
        }
        self.request_page(peer, None);
    }

    fn request_page(&mut self, peer: PeerId, after: Option<OriginRevision>) {
        let request = self.catalogue.sync_request(after, SYNC_PAGE);
        let id = self
            .swarm
            .behaviour_mut()
            .rpc
            .send_request(&peer, Request::Sync(request));
        self.sync_requests.insert(id, peer);
    }

    /// Periodic anti-entropy with one random verified member.
    pub(super) fn sync_with_random_member(&mut self) {
        let peers: Vec<PeerId> = self
            .membership
            .verified_peers()
            .map(|(peer, _)| *peer)
            .filter(|peer| !self.syncing.contains(peer))
            .collect();
        if peers.is_empty() {
            return;
        }
        let pick = rand::random_range(0..peers.len());
        self.start_sync(peers[pick]);
    }

    pub(super) fn serve_sync(&self, request: &alliance_protocol::rpc::SyncRequest) -> Response {
        match self.catalogue.page(request) {
            Ok(page) => Response::Sync(page),
            Err(e) => {
                tracing::error!(error = %e, "cannot serve a sync page");
                Response::error("internal", "the catalogue could not be read")
            }
        }
    }

    /// A sync request failed or was refused: the sync with that peer is over.
    pub(super) fn sync_failed(&mut self, request_id: &OutboundRequestId) {
        if let Some(peer) = self.sync_requests.remove(request_id) {
            self.syncing.remove(&peer);
        }
    }

    pub(super) fn on_sync_page(
        &mut self,
        peer: PeerId,
        request_id: OutboundRequestId,
        page: SyncResponse,
    ) {
        if self.sync_requests.remove(&request_id).is_none() {
            return;
        }
        let catalogue = self.catalogue.clone();
        catalogue.count_sync_page(page.entries.iter().map(Vec::len).sum());
        let directory = catalogue.key_directory();
        let commands = self.own_commands.clone();
        tokio::spawn(async move {
            let next = page.next.clone();
            let fresh = match apply_page(&catalogue, &directory, page).await {
                Ok(fresh) => fresh,
                Err(e) => {
                    tracing::error!(%peer, error = %e, "cannot store a sync page");
                    let _ = commands
                        .send(Command::SyncPageDone {
                            peer,
                            next: None,
                            fresh: 0,
                            failed: true,
                        })
                        .await;
                    return;
                }
            };
            let _ = commands
                .send(Command::SyncPageDone {
                    peer,
                    next,
                    fresh,
                    failed: false,
                })
                .await;
        });
    }

    pub(super) fn on_sync_page_done(
        &mut self,
        peer: PeerId,
        next: Option<OriginRevision>,
        fresh: usize,
        failed: bool,
    ) {
        match next {
            Some(after) if !failed && self.membership.verified(&peer).is_some() => {
                self.sync_fresh
                    .entry(peer)
                    .and_modify(|n| *n += fresh)
                    .or_insert(fresh);
                self.request_page(peer, Some(after));
            }
            _ => {
                self.syncing.remove(&peer);
                let total = self.sync_fresh.remove(&peer).unwrap_or(0) + fresh;
                if !failed {
                    self.catalogue.mark_synced();
                    tracing::debug!(%peer, fresh = total, "catalogue sync finished");
                    self.emit(NetEvent::CatalogueSynced { peer, fresh: total });
                }
            }
        }
    }

    /// Gossips one of this node's own entries.
    pub(super) fn publish_entry(&mut self, bytes: Vec<u8>) {
        if let Err(e) = self
            .swarm
            .behaviour_mut()
            .gossipsub
            .publish(topics::catalogue(), bytes)
        {
            // Anti-entropy still delivers it.
            tracing::debug!(error = %e, "catalogue entry not gossiped");
        }
    }

    /// Validates a catalogue gossip message from `author` (a current member). `Ok(true)`
    /// accept, `Ok(false)` ignore (not news), `Err` reject.
    pub(super) fn validate_catalogue_gossip(
        &mut self,
        author_institution: &alliance_protocol::InstitutionId,
        data: &[u8],
    ) -> Result<bool, String> {
        let directory = self.catalogue.key_directory();
        let entry = match admission::admit(data, &directory) {
            Ok(entry) => entry,
            Err(rejection) => {
                self.catalogue.count_rejection(rejection.kind());
                return Err(rejection.to_string());
            }
        };
        if entry.body.origin() != author_institution {
            // Only the origin publishes its entries on gossip; a member re-publishing
            // another's (even genuinely signed) entry is replaying it.
            self.catalogue
                .count_rejection(admission::RejectionKind::WrongOwner);
            return Err(format!(
                "{author_institution} published an entry of {}",
                entry.body.origin()
            ));
        }
        if !self.catalogue.is_fresh(&entry.body) {
            self.catalogue.count_stale();
            return Ok(false);
        }
        let catalogue = self.catalogue.clone();
        tokio::spawn(async move {
            if let Err(e) = catalogue.receive(vec![entry]).await {
                tracing::error!(error = %e, "cannot store a gossiped entry");
            }
        });
        Ok(true)
    }
}

/// Admits and stores one page; returns how many entries were news. The page's "complete"
/// watermarks are taken only if every entry in it was admitted: a page with a refused
/// entry vouches for nothing.
async fn apply_page(
    catalogue: &Catalogue,
    directory: &KeyDirectory,
    page: SyncResponse,
) -> Result<usize, crate::catalogue::CatalogueError> {
    let SyncResponse {
        entries, complete, ..
    } = page;
    let checker = catalogue.clone();
    let directory = directory.clone();
    // Signature checks are CPU work: keep them off the async threads, and spread a page
    // over the cores.
    let (admitted, refused) = tokio::task::spawn_blocking(move || {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = entries.len().div_ceil(threads).max(1);
        let results: Vec<Vec<Result<alliance_protocol::Entry, admission::Rejection>>> =
            std::thread::scope(|scope| {
                let workers: Vec<_> = entries
                    .chunks(chunk)
                    .map(|part| {
                        let directory = &directory;
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
        let mut refused = 0usize;
        let mut admitted = Vec::with_capacity(entries.len());
        for result in results.into_iter().flatten() {
            match result {
                Ok(entry) => admitted.push(entry),
                Err(rejection) => {
                    tracing::warn!(reason = %rejection, "sync page entry refused");
                    checker.count_rejection(rejection.kind());
                    refused += 1;
                }
            }
        }
        (admitted, refused)
    })
    .await
    .map_err(|e| crate::catalogue::CatalogueError::Invalid {
        field: "sync",
        message: e.to_string(),
    })?;
    let fresh = catalogue.receive(admitted).await?;
    if refused == 0 {
        catalogue.finish_page(&complete).await?;
    }
    Ok(fresh)
}
