//! The membership handshake and roster distribution: who is admitted, who is refused,
//! and how a newer roster is installed and passed on.

use alliance_protocol::{
    UnixTime,
    rpc::{Hello, Request},
};
use libp2p::PeerId;

use super::{EventLoop, NetError, ROSTER_KEY};
use crate::{
    membership::{AdmissionError, RosterOutcome},
    net::{NetEvent, topics},
    store::{Batch, Space},
};

impl EventLoop {
    /// Disconnects a peer that is not (or no longer) a member, logging why.
    pub(super) fn refuse(&mut self, peer: PeerId, reason: String) {
        tracing::warn!(%peer, %reason, "refusing peer");
        self.cut_off(peer);
        self.emit(NetEvent::PeerRefused { peer, reason });
    }

    /// Disconnects a peer whose refusal was already logged and announced.
    pub(super) fn cut_off(&mut self, peer: PeerId) {
        self.pending.remove(&peer);
        self.admit_after_roster.remove(&peer);
        self.refusing.remove(&peer);
        self.membership.remove(&peer);
        self.swarm.behaviour_mut().kad.remove_peer(&peer);
        let _ = self.swarm.disconnect_peer_id(peer);
        self.publish_state();
    }

    /// Checks a peer's hello and admits it; `Ok(false)`: its certificate is not in the
    /// roster held but the peer holds a newer one, which is asked for first (the hello is
    /// checked again when it arrives, see [`EventLoop::admit_after_roster`]).
    pub(super) fn admit(&mut self, peer: PeerId, hello: &Hello) -> Result<bool, String> {
        if self.membership.verified(&peer).is_some() {
            return Ok(true);
        }
        let cert = match self.membership.check(&peer, hello, UnixTime::now()) {
            Ok(cert) => cert,
            Err(AdmissionError::NotListed { .. })
                if hello.roster_version > self.membership.roster_version()
                    && !self.admit_after_roster.contains_key(&peer) =>
            {
                tracing::debug!(%peer, "certificate not in our roster; asking for the peer's newer one");
                self.admit_after_roster.insert(peer, hello.clone());
                self.swarm
                    .behaviour_mut()
                    .rpc
                    .send_request(&peer, Request::Roster);
                return Ok(false);
            }
            Err(e) => return Err(e.to_string()),
        };
        tracing::info!(%peer, institution = %cert.institution_id, role = %cert.role, "member verified");
        let institution = cert.institution_id.clone();
        self.pending.remove(&peer);
        self.membership.admit(peer, cert);
        if let Some(addrs) = self.identify_addrs.get(&peer).cloned() {
            for addr in addrs {
                self.swarm.behaviour_mut().kad.add_address(&peer, addr);
            }
            self.discover();
        }
        self.emit(NetEvent::MemberVerified { peer, institution });
        self.publish_state();
        self.witness_hello_head(peer, &hello.head);
        if hello.roster_version > self.membership.roster_version() {
            // Sync once the newer roster is in: it may certify the signers of what the
            // peer will send.
            self.sync_after_roster.insert(peer);
            self.swarm
                .behaviour_mut()
                .rpc
                .send_request(&peer, Request::Roster);
        } else {
            self.start_sync(peer);
        }
        Ok(true)
    }

    /// The roster a peer was asked for while its hello waited has arrived (or the peer
    /// answered without one): its hello is checked again, and refused if still unlisted.
    pub(super) fn admit_after_roster(&mut self, peer: PeerId) {
        let Some(hello) = self.admit_after_roster.remove(&peer) else {
            return;
        };
        match self.admit(peer, &hello) {
            Ok(true) => {}
            Ok(false) | Err(_) => {
                self.admit_after_roster.remove(&peer);
                let reason = "its certificate is not in the roster it showed".to_owned();
                self.refuse(peer, reason);
            }
        }
    }

    /// Our side of the handshake, with the newest head this node published.
    pub(super) fn hello(&self) -> Hello {
        Hello {
            head: self.witnessed_head.clone(),
            ..self.membership.hello()
        }
    }

    /// A verified member's hello carried a tree head: checked like one heard on gossip.
    fn witness_hello_head(&mut self, peer: PeerId, head: &[u8]) {
        if head.is_empty() {
            return;
        }
        match alliance_protocol::transparency::TreeHead::open(head, self.membership.root()) {
            Ok(_) => self.emit(NetEvent::TreeHead {
                signed: head.to_vec(),
            }),
            Err(e) => tracing::warn!(%peer, error = %e, "hello carried a bad tree head"),
        }
    }

    pub(super) async fn offer_roster(
        &mut self,
        bytes: Vec<u8>,
        from: Option<PeerId>,
    ) -> Result<bool, NetError> {
        let outcome = self
            .membership
            .offer_roster(&bytes)
            .map_err(|e| NetError::Roster(e.to_string()))?;
        let RosterOutcome::Installed {
            version,
            revoked,
            unlisted,
        } = outcome
        else {
            return Ok(false);
        };
        let mut batch = Batch::new();
        batch.put(Space::Roster, ROSTER_KEY, bytes.clone());
        if let Err(e) = self.store.commit(batch).await {
            tracing::error!(error = %e, "cannot persist the new roster");
        }
        tracing::info!(version, ?from, revoked = revoked.len(), "roster installed");
        for peer in revoked {
            self.swarm.behaviour_mut().blocked.block_peer(peer);
            self.swarm.behaviour_mut().gossipsub.blacklist_peer(&peer);
            self.refuse(peer, "membership revoked by the roster".into());
        }
        for peer in unlisted {
            self.refuse(peer, "certificate not in the roster".into());
        }
        // Forward only what we originated; gossip re-propagates what we validated.
        if from.is_none()
            && let Err(e) = self
                .swarm
                .behaviour_mut()
                .gossipsub
                .publish(topics::roster(), bytes)
        {
            tracing::debug!(error = %e, "roster not gossiped now; peers fetch it on hello");
        }
        self.emit(NetEvent::RosterInstalled { version });
        self.publish_state();
        Ok(true)
    }
}
