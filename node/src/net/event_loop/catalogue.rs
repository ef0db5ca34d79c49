//! Catalogue replication: own entries out on gossip, peers' entries in through gossip
//! validation, and anti-entropy — a sync with every newly verified member and with a
//! random one periodically, page by page, served from and applied to the replica.
//!
//! Pages are pipelined (see `sync_pipeline.rs`): verifying and storing happen off the
//! swarm task, which hears back through `Command::SyncPageDone`.

use alliance_protocol::{
    UnixTime,
    rpc::{OriginRevision, Request, Response, SyncResponse},
};
use libp2p::{PeerId, request_response::OutboundRequestId};

use super::{EventLoop, sync_pipeline::SyncRun};
use crate::{
    catalogue::admission,
    net::{NetEvent, topics},
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
        if self.syncs.contains_key(&peer) {
            return;
        }
        self.sync_runs += 1;
        let run = SyncRun::start(
            self.sync_runs,
            peer,
            self.catalogue.clone(),
            self.own_commands.clone(),
        );
        self.syncs.insert(peer, run);
        self.request_page(peer, None);
    }

    fn request_page(&mut self, peer: PeerId, after: Option<OriginRevision>) {
        let Some(run) = self.syncs.get_mut(&peer) else {
            return;
        };
        run.unstored += 1;
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
            .filter(|peer| !self.syncs.contains_key(peer))
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

    /// A sync request failed or was refused: the sync with that peer is over (pages
    /// already received are still stored).
    pub(super) fn sync_failed(&mut self, request_id: &OutboundRequestId) {
        if let Some(peer) = self.sync_requests.remove(request_id) {
            self.syncs.remove(&peer);
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
        if self.membership.verified(&peer).is_none() {
            self.syncs.remove(&peer);
            return;
        }
        self.catalogue
            .count_sync_page(page.entries.iter().map(Vec::len).sum());
        let next = page.next.clone();
        let directory = self.catalogue.key_directory();
        let Some(run) = self.syncs.get_mut(&peer) else {
            return;
        };
        run.received(page, directory);
        if let Some(after) = next {
            if run.has_room() {
                self.request_page(peer, Some(after));
            } else {
                run.deferred = Some(after);
            }
        }
    }

    pub(super) fn on_sync_page_done(
        &mut self,
        peer: PeerId,
        run_id: u64,
        fresh: usize,
        failed: bool,
    ) {
        let Some(run) = self.syncs.get_mut(&peer).filter(|r| r.id == run_id) else {
            return;
        };
        run.unstored = run.unstored.saturating_sub(1);
        run.fresh += fresh;
        if failed {
            self.syncs.remove(&peer);
            return;
        }
        if let Some(after) = run.deferred.take() {
            self.request_page(peer, Some(after));
        } else if run.finished() {
            let total = run.fresh;
            self.syncs.remove(&peer);
            self.catalogue.mark_synced();
            tracing::debug!(%peer, fresh = total, "catalogue sync finished");
            self.emit(NetEvent::CatalogueSynced { peer, fresh: total });
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
