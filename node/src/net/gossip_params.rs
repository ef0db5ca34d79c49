//! Gossipsub's parameters: mesh sizes, content-addressed message ids, the topics a peer
//! may subscribe to, and the peer scoring that makes a rejected message cost its sender.
//!
//! Scoring is reduced to what a certified alliance needs. Every peer holds a certificate,
//! so there are no Sybils to out-vote and no reason to reward time in the mesh or first
//! deliveries (those counters mostly measure traffic, and a small alliance has little).
//! What remains is the penalty for invalid messages (P4, squared, per topic) and for
//! protocol misbehaviour (P7). An honest peer stays at 0; a peer whose messages are
//! rejected falls through the gossip, publish and graylist thresholds, and below the last
//! one everything it sends is dropped before validation.

use std::{collections::HashMap, time::Duration};

use alliance_protocol::limits::MAX_GOSSIP_BYTES;
use libp2p::gossipsub::{
    self, Message, MessageId, PeerScoreParams, PeerScoreThresholds, TopicHash, TopicScoreParams,
    WhitelistSubscriptionFilter, score_parameter_decay,
};
use sha2::{Digest, Sha256};

use super::topics;

/// Below this score a peer gets no gossip (IHAVE) from us and its IHAVEs are ignored.
pub const GOSSIP_THRESHOLD: f64 = -10.0;
/// Below this score our own messages are not flood-published to the peer.
pub const PUBLISH_THRESHOLD: f64 = -50.0;
/// Below this score everything the peer sends on gossip is dropped unread.
pub const GRAYLIST_THRESHOLD: f64 = -80.0;
/// Weight of the squared count of invalid messages a peer delivered on a topic: 2 cost
/// -16, 4 cost -64, 5 (-100) graylist the peer. A few refusals an honest peer may earn
/// through a state mismatch (a roster not yet received) do not.
pub const INVALID_MESSAGE_WEIGHT: f64 = -4.0;
/// Counts of invalid messages fall to a tenth in this time.
const INVALID_MESSAGE_MEMORY: Duration = Duration::from_secs(3600);

/// The topics this node uses; subscriptions to any other are ignored.
pub fn all_topics() -> [TopicHash; 4] {
    [
        topics::roster().hash(),
        topics::announce().hash(),
        topics::catalogue().hash(),
        topics::tree_heads().hash(),
    ]
}

/// The id of a gossip message: a hash of its topic and bytes, whoever published it and
/// with whatever sequence number. The same bytes published again (by anyone) are a
/// duplicate and are dropped before validation, within the duplicate cache time (60 s).
/// Payloads that must be re-sent therefore carry a time or a revision.
pub fn message_id(message: &Message) -> MessageId {
    let mut hash = Sha256::new();
    hash.update(message.topic.as_str().as_bytes());
    hash.update([0]);
    hash.update(&message.data);
    MessageId::from(hash.finalize().to_vec())
}

/// Gossipsub sized so that an alliance of 3 nodes and one of 300 both work: the mesh
/// targets 6 peers (4..12) as usual, but flood-publishing sends our own messages to every
/// connected subscriber, so a small alliance does not depend on the mesh filling up.
pub fn config() -> Result<gossipsub::Config, String> {
    gossipsub::ConfigBuilder::default()
        .validation_mode(gossipsub::ValidationMode::Strict)
        .validate_messages()
        .message_id_fn(message_id)
        .max_transmit_size(MAX_GOSSIP_BYTES)
        .heartbeat_interval(Duration::from_secs(1))
        .mesh_n(6)
        .mesh_n_low(4)
        .mesh_n_high(12)
        .mesh_outbound_min(2)
        .flood_publish(true)
        .build()
        .map_err(|e| e.to_string())
}

/// Only the alliance's topics may be subscribed to (a peer cannot make us track others).
pub fn subscription_filter() -> WhitelistSubscriptionFilter {
    WhitelistSubscriptionFilter(all_topics().into_iter().collect())
}

fn topic_params() -> TopicScoreParams {
    TopicScoreParams {
        topic_weight: 1.0,
        time_in_mesh_weight: 0.0,
        first_message_deliveries_weight: 0.0,
        mesh_message_deliveries_weight: 0.0,
        mesh_failure_penalty_weight: 0.0,
        invalid_message_deliveries_weight: INVALID_MESSAGE_WEIGHT,
        invalid_message_deliveries_decay: score_parameter_decay(INVALID_MESSAGE_MEMORY),
        ..TopicScoreParams::default()
    }
}

/// The scoring parameters.
pub fn score_params() -> PeerScoreParams {
    let topics: HashMap<TopicHash, TopicScoreParams> = all_topics()
        .into_iter()
        .map(|topic| (topic, topic_params()))
        .collect();
    PeerScoreParams {
        topics,
        // Not used: the application judges messages, not peers.
        app_specific_weight: 0.0,
        // Members share addresses (a campus NAT, the demo on loopback) and are certified;
        // many peers on one address are not Sybils here.
        ip_colocation_factor_weight: 0.0,
        // A few broken IWANT promises or early re-grafts are tolerated, then they cost.
        behaviour_penalty_weight: -10.0,
        behaviour_penalty_threshold: 6.0,
        behaviour_penalty_decay: score_parameter_decay(Duration::from_secs(600)),
        ..PeerScoreParams::default()
    }
}

/// The thresholds; see the constants.
pub fn thresholds() -> PeerScoreThresholds {
    PeerScoreThresholds {
        gossip_threshold: GOSSIP_THRESHOLD,
        publish_threshold: PUBLISH_THRESHOLD,
        graylist_threshold: GRAYLIST_THRESHOLD,
        // No peer exchange and no positive scores: neither is used.
        accept_px_threshold: 0.0,
        opportunistic_graft_threshold: 0.0,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use libp2p::PeerId;

    #[test]
    fn the_same_bytes_have_one_id_whoever_publishes_them_and_another_topic_another() {
        let message = |source, seq, topic: TopicHash| Message {
            source: Some(source),
            data: b"signed roster bytes".to_vec(),
            sequence_number: Some(seq),
            topic,
        };
        let roster = topics::roster().hash();
        let a = message_id(&message(PeerId::random(), 1, roster.clone()));
        let b = message_id(&message(PeerId::random(), 2, roster));
        assert_eq!(a, b);
        let c = message_id(&message(PeerId::random(), 1, topics::catalogue().hash()));
        assert_ne!(a, c);
    }

    #[test]
    fn parameters_are_valid_and_a_handful_of_rejections_graylists_but_three_do_not() {
        score_params().validate().unwrap();
        thresholds().validate().unwrap();
        config().unwrap();
        let score = |invalid: f64| invalid * invalid * INVALID_MESSAGE_WEIGHT;
        assert!(score(3.0) > PUBLISH_THRESHOLD);
        assert!(score(5.0) < GRAYLIST_THRESHOLD);
    }
}
