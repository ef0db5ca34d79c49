//! Gossip: this node's announcements, and the validation every received message gets
//! exactly once — accept, ignore (stale, or not the forwarder's fault) or reject (lowers
//! the forwarder's score; see `net::gossip_params`).
//!
//! A forwarder is penalised for what every honest node refuses (a bad signature, an
//! entry of another owner, a roster not authored by the province). Refusals that depend
//! on this node's own state — a roster that does not list the author yet, an origin past
//! its quota here — penalise only a peer that authored the message itself: an honest
//! relay may see the alliance a moment differently.

use alliance_protocol::{NodeAnnouncement, Role, UnixTime};
use libp2p::{PeerId, gossipsub};

use super::EventLoop;
use crate::net::{NetEvent, SeenNode, gossip_params::GRAYLIST_THRESHOLD, topics};

/// What validation decided about a gossip message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Valid and news: forward it.
    Accept,
    /// Not forwarded, nobody penalised (stale, or refused for a reason of ours).
    Ignore,
    /// Invalid: the forwarder's score falls.
    Reject(String),
}

/// The verdict on a message refused for a reason that depends on this node's state:
/// its author pays, an honest relay does not.
pub(super) fn blame(source: &PeerId, author: &PeerId, reason: String) -> Verdict {
    if source == author {
        Verdict::Reject(reason)
    } else {
        tracing::debug!(%source, %author, %reason, "gossip relayed by another peer ignored");
        Verdict::Ignore
    }
}

impl EventLoop {
    /// Logs and announces each peer as its gossip score falls below the graylist
    /// threshold (once, until it recovers or leaves).
    pub(super) fn check_scores(&mut self) {
        let gossipsub = &self.swarm.behaviour().gossipsub;
        let below: Vec<(PeerId, f64)> = self
            .swarm
            .connected_peers()
            .filter_map(|peer| {
                let score = gossipsub.peer_score(peer)?;
                (score < GRAYLIST_THRESHOLD).then_some((*peer, score))
            })
            .collect();
        self.graylisted
            .retain(|peer| below.iter().any(|(p, _)| p == peer));
        for (peer, score) in below {
            if self.graylisted.insert(peer) {
                tracing::warn!(%peer, score, "peer graylisted: its gossip is dropped unread");
                self.emit(NetEvent::Graylisted { peer, score });
            }
        }
    }

    pub(super) fn announce(&mut self) {
        if self.membership.verified_peers().next().is_none() {
            return;
        }
        let announcement = NodeAnnouncement {
            institution_id: self.membership.own().institution_id.clone(),
            sent_at: UnixTime::now(),
            roster_version: self.membership.roster_version(),
            listen_addrs: self
                .listen_addrs
                .iter()
                .take(alliance_protocol::announce::MAX_ANNOUNCED_ADDRS)
                .map(ToString::to_string)
                .collect(),
            agent: self.config.agent.clone(),
        };
        let bytes = announcement.seal(&self.config.key);
        if let Err(e) = self
            .swarm
            .behaviour_mut()
            .gossipsub
            .publish(topics::announce(), bytes)
        {
            tracing::debug!(error = %e, "announcement not published");
        }
    }

    pub(super) async fn on_gossip(
        &mut self,
        source: PeerId,
        id: gossipsub::MessageId,
        message: gossipsub::Message,
    ) {
        let acceptance = match self.validate_gossip(source, &message).await {
            Verdict::Accept => gossipsub::MessageAcceptance::Accept,
            Verdict::Ignore => gossipsub::MessageAcceptance::Ignore,
            Verdict::Reject(reason) => {
                tracing::warn!(%source, %reason, "gossip rejected");
                self.emit(NetEvent::GossipRejected { source, reason });
                gossipsub::MessageAcceptance::Reject
            }
        };
        self.swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(&id, &source, acceptance);
    }

    pub(super) async fn validate_gossip(
        &mut self,
        source: PeerId,
        message: &gossipsub::Message,
    ) -> Verdict {
        if self.membership.verified(&source).is_none() {
            return Verdict::Reject("forwarded by a peer that has not proved membership".into());
        }
        let Some(author) = message.source else {
            return Verdict::Reject("gossip without an author".into());
        };
        let now = UnixTime::now();
        let Some(cert) = self.membership.certificate_of(&author, now).cloned() else {
            if message.topic == topics::catalogue().hash() {
                self.catalogue
                    .count_rejection(crate::catalogue::admission::RejectionKind::NotMember);
            }
            return blame(
                &source,
                &author,
                format!("author {author} is not a current member"),
            );
        };
        if message.topic == topics::roster().hash() {
            // Only the province issues rosters; anyone else republishing one is replaying
            // it. Checked before the roster is even decoded.
            if cert.role != Role::Aggregator {
                return Verdict::Reject(format!(
                    "{} is not the province and may not publish rosters",
                    cert.institution_id
                ));
            }
            return match self.offer_roster(message.data.clone(), Some(source)).await {
                Ok(true) => Verdict::Accept,
                Ok(false) => Verdict::Ignore,
                Err(e) => Verdict::Reject(e.to_string()),
            };
        }
        if message.topic == topics::announce().hash() {
            // The author's certified key must have signed it (the key is already held, so
            // verification skips decompressing it).
            let announcement =
                match NodeAnnouncement::open_from(&message.data, &cert.node_public_key) {
                    Ok(announcement) => announcement,
                    Err(e) => return Verdict::Reject(e.to_string()),
                };
            if cert.institution_id != announcement.institution_id {
                return Verdict::Reject(format!(
                    "announcement speaks for {}, which its author does not own",
                    announcement.institution_id
                ));
            }
            let newer = self
                .seen
                .get(&announcement.institution_id)
                .is_none_or(|s| s.sent_at < announcement.sent_at);
            if !newer {
                return Verdict::Ignore;
            }
            self.seen.insert(
                announcement.institution_id.clone(),
                SeenNode {
                    peer_id: author,
                    sent_at: announcement.sent_at,
                    roster_version: announcement.roster_version,
                    agent: announcement.agent,
                },
            );
            self.publish_state();
            return Verdict::Accept;
        }
        if message.topic == topics::catalogue().hash() {
            return self.validate_catalogue_gossip(
                &source,
                &author,
                &cert.institution_id,
                &message.data,
            );
        }
        if message.topic == topics::tree_heads().hash() {
            // The province publishes its heads, and every member the heads it verified,
            // as a witness: a province showing members different logs is caught when one
            // member's head reaches another. Whoever relays it, the province signed it.
            if let Err(e) = alliance_protocol::transparency::TreeHead::open(
                &message.data,
                self.membership.root(),
            ) {
                return Verdict::Reject(format!("tree head: {e}"));
            }
            self.emit(NetEvent::TreeHead {
                signed: message.data.clone(),
            });
            return Verdict::Accept;
        }
        Verdict::Reject(format!("unknown topic {}", message.topic))
    }
}
