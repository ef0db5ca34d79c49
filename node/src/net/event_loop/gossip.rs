//! Gossip: this node's announcements, and the validation every received message gets
//! exactly once — accept, ignore (stale) or reject (penalises the sender).

use alliance_protocol::{NodeAnnouncement, UnixTime};
use libp2p::{PeerId, gossipsub};

use super::EventLoop;
use crate::net::{NetEvent, SeenNode, topics};

impl EventLoop {
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
        let verdict = self.validate_gossip(source, &message).await;
        let acceptance = match &verdict {
            Ok(true) => gossipsub::MessageAcceptance::Accept,
            Ok(false) => gossipsub::MessageAcceptance::Ignore,
            Err(reason) => {
                tracing::warn!(%source, %reason, "gossip rejected");
                self.emit(NetEvent::GossipRejected {
                    source,
                    reason: reason.clone(),
                });
                gossipsub::MessageAcceptance::Reject
            }
        };
        self.swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(&id, &source, acceptance);
    }

    /// `Ok(true)` accept and forward, `Ok(false)` ignore (stale), `Err` reject (penalise).
    pub(super) async fn validate_gossip(
        &mut self,
        source: PeerId,
        message: &gossipsub::Message,
    ) -> Result<bool, String> {
        if self.membership.verified(&source).is_none() {
            return Err("forwarded by a peer that has not proved membership".into());
        }
        let author = message
            .source
            .ok_or_else(|| "gossip without an author".to_owned())?;
        let now = UnixTime::now();
        if !self.membership.is_member(&author, now) {
            if message.topic == topics::catalogue().hash() {
                self.catalogue
                    .count_rejection(crate::catalogue::admission::RejectionKind::NotMember);
            }
            return Err(format!("author {author} is not a current member"));
        }
        if message.topic == topics::roster().hash() {
            return match self.offer_roster(message.data.clone(), Some(source)).await {
                Ok(installed) => Ok(installed),
                Err(e) => Err(e.to_string()),
            };
        }
        if message.topic == topics::announce().hash() {
            // The author's certified key must have signed it (the key is already held, so
            // verification skips decompressing it).
            let cert = self
                .membership
                .certificate_of(&author, now)
                .ok_or_else(|| format!("author {author} is not a current member"))?;
            let announcement = NodeAnnouncement::open_from(&message.data, &cert.node_public_key)
                .map_err(|e| e.to_string())?;
            if cert.institution_id != announcement.institution_id {
                return Err(format!(
                    "announcement speaks for {}, which its author does not own",
                    announcement.institution_id
                ));
            }
            let newer = self
                .seen
                .get(&announcement.institution_id)
                .is_none_or(|s| s.sent_at < announcement.sent_at);
            if newer {
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
            }
            return Ok(newer);
        }
        if message.topic == topics::catalogue().hash() {
            let institution = self
                .membership
                .certificate_of(&author, now)
                .map(|c| c.institution_id.clone())
                .ok_or_else(|| format!("author {author} is not a current member"))?;
            return self.validate_catalogue_gossip(&institution, &message.data);
        }
        if message.topic == topics::tree_heads().hash() {
            let cert = self
                .membership
                .certificate_of(&author, now)
                .ok_or_else(|| format!("author {author} is not a current member"))?;
            if cert.role != alliance_protocol::Role::Aggregator {
                return Err(format!("{} is not the province", cert.institution_id));
            }
            alliance_protocol::transparency::TreeHead::open(&message.data, self.membership.root())
                .map_err(|e| format!("tree head: {e}"))?;
            self.emit(NetEvent::TreeHead {
                signed: message.data.clone(),
            });
            return Ok(true);
        }
        Err(format!("unknown topic {}", message.topic))
    }
}
