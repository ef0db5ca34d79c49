//! Catalogue replication: own entries out on gossip, peers' entries in through gossip
//! validation, and anti-entropy — a sync with every newly verified member and with a
//! random one periodically, page by page, served from and applied to the replica.
//!
//! Pages are pipelined (see `sync_pipeline.rs`): verifying and storing happen off the
//! swarm task, which hears back through `Command::SyncPageDone`. Pages asked of this node
//! are read on the blocking pool, one at a time per peer and a few at once in all, and
//! answered through `Command::SyncServed`.
//!
//! Entries from gossip count against their origin's hourly quota (`net::quota`) and are
//! stored by the entry writer (`entry_writer.rs`), never on this task.

use alliance_protocol::{
    InstitutionId, UnixTime,
    rpc::{OriginRevision, Request, Response, SyncRequest, SyncResponse},
};
use libp2p::{
    PeerId,
    request_response::{OutboundRequestId, ResponseChannel},
};

use super::{
    EventLoop,
    gossip::{Verdict, blame},
    sync_pipeline::SyncRun,
};
use crate::{
    catalogue::admission,
    net::{Command, NetEvent, quota::QuotaKind, topics},
};

/// Sync pages being read for peers at once; more requests are answered `busy` (the
/// asking node tries again at its next anti-entropy round).
pub(super) const SERVING_AT_ONCE: usize = 4;

/// Entries asked for per sync page.
pub(super) const SYNC_PAGE: u32 = 1_000;

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

    /// Reads a sync page for `peer` on the blocking pool; the answer leaves through
    /// [`Command::SyncServed`]. One page at a time per peer, [`SERVING_AT_ONCE`] in all.
    pub(super) fn serve_sync(
        &mut self,
        peer: PeerId,
        request: SyncRequest,
        channel: ResponseChannel<Response>,
    ) {
        if self.serving.contains(&peer) || self.serving.len() >= SERVING_AT_ONCE {
            self.respond(
                channel,
                Response::error("busy", "a sync page is already being read; try again"),
            );
            return;
        }
        self.serving.insert(peer);
        let catalogue = self.catalogue.clone();
        let commands = self.own_commands.clone();
        tokio::spawn(async move {
            let read = tokio::task::spawn_blocking(move || catalogue.page(&request)).await;
            let response = match read {
                Ok(Ok(page)) => Response::Sync(page),
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "cannot serve a sync page");
                    Response::error("internal", "the catalogue could not be read")
                }
                Err(e) => {
                    tracing::error!(error = %e, "sync page reader failed");
                    Response::error("internal", "the catalogue could not be read")
                }
            };
            let _ = commands
                .send(Command::SyncServed {
                    peer,
                    channel,
                    response,
                })
                .await;
        });
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

    /// Gossips one of this node's own entries, within half of the hourly quota peers
    /// apply to it (see `net::quota`); past that, peers get it through anti-entropy.
    pub(super) fn publish_entry(&mut self, bytes: Vec<u8>) {
        let kind = match alliance_protocol::UnverifiedEntry::decode_stored(&bytes) {
            Ok(body) => QuotaKind::of(&body),
            Err(e) => {
                tracing::error!(error = %e, "an own entry does not read; not gossiped");
                return;
            }
        };
        let own = self.membership.own().institution_id.clone();
        if !self.own_quota.take(&own, kind) {
            tracing::debug!(
                ?kind,
                "own gossip budget used up; entry left to anti-entropy"
            );
            return;
        }
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

    /// Validates a catalogue gossip message from `author` (a current member of
    /// `author_institution`), relayed by `source`.
    pub(super) fn validate_catalogue_gossip(
        &mut self,
        source: &PeerId,
        author: &PeerId,
        author_institution: &InstitutionId,
        data: &[u8],
    ) -> Verdict {
        let directory = self.catalogue.key_directory();
        let entry = match admission::admit(data, &directory) {
            Ok(entry) => entry,
            Err(rejection) => {
                self.catalogue.count_rejection(rejection.kind());
                return match rejection {
                    // Whose keys are current is this node's view of the roster.
                    admission::Rejection::NotMember => blame(source, author, rejection.to_string()),
                    _ => Verdict::Reject(rejection.to_string()),
                };
            }
        };
        if entry.body.origin() != author_institution {
            // Only the origin publishes its entries on gossip; a member re-publishing
            // another's (even genuinely signed) entry is replaying it.
            self.catalogue
                .count_rejection(admission::RejectionKind::WrongOwner);
            return Verdict::Reject(format!(
                "{author_institution} published an entry of {}",
                entry.body.origin()
            ));
        }
        if !self.catalogue.is_fresh(&entry.body) {
            self.catalogue.count_stale();
            return Verdict::Ignore;
        }
        if !self
            .quotas
            .take(author_institution, QuotaKind::of(&entry.body))
        {
            self.catalogue.count_over_quota();
            return blame(
                source,
                author,
                format!("{author_institution} is past its hourly gossip quota"),
            );
        }
        if self.entries.try_send(entry).is_err() {
            tracing::warn!("catalogue writer is behind; gossiped entry left to anti-entropy");
            return Verdict::Ignore;
        }
        Verdict::Accept
    }
}
