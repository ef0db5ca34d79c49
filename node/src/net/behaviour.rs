//! The node's libp2p behaviours, composed in one place.

use std::time::Duration;

use alliance_protocol::{limits::MAX_GOSSIP_BYTES, rpc::RPC_PROTOCOL};
use libp2p::{
    StreamProtocol, allow_block_list, gossipsub, identify, identity::Keypair, kad,
    request_response, swarm::NetworkBehaviour,
};

use super::codec::RpcCodec;

/// Kademlia under the alliance's private protocol name, so the alliance's DHT never
/// merges with any other network's.
pub const KAD_PROTOCOL: &str = "/alliance/kad/1";
/// Identify protocol version string.
pub const IDENTIFY_PROTOCOL: &str = "/alliance/id/1";

/// All behaviours of a node. (The derive produces no Debug for the swarm types.)
#[allow(missing_debug_implementations)]
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// Peers revoked by the roster are refused at the connection level.
    pub blocked: allow_block_list::Behaviour<allow_block_list::BlockedPeers>,
    pub identify: identify::Behaviour,
    pub kad: kad::Behaviour<kad::store::MemoryStore>,
    pub gossipsub: gossipsub::Behaviour,
    pub rpc: request_response::Behaviour<RpcCodec>,
}

/// Why the behaviours could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BehaviourError {
    #[error("gossipsub config: {0}")]
    Gossipsub(String),
}

/// Gossipsub sized so that an alliance of 3 nodes and one of 300 both work: the mesh
/// targets 6 peers (4..12) as usual, but flood-publishing sends our own messages to every
/// connected subscriber, so a small alliance does not depend on the mesh filling up.
fn gossipsub_config() -> Result<gossipsub::Config, BehaviourError> {
    gossipsub::ConfigBuilder::default()
        .validation_mode(gossipsub::ValidationMode::Strict)
        .validate_messages()
        .max_transmit_size(MAX_GOSSIP_BYTES)
        .heartbeat_interval(Duration::from_secs(1))
        .mesh_n(6)
        .mesh_n_low(4)
        .mesh_n_high(12)
        .mesh_outbound_min(2)
        .flood_publish(true)
        .build()
        .map_err(|e| BehaviourError::Gossipsub(e.to_string()))
}

impl Behaviour {
    /// Builds the behaviours for `key`.
    pub fn new(key: &Keypair, agent: String) -> Result<Self, BehaviourError> {
        let peer_id = key.public().to_peer_id();
        let mut kad_config = kad::Config::new(StreamProtocol::new(KAD_PROTOCOL));
        // Only peers whose membership we verified enter the routing table.
        kad_config.set_kbucket_inserts(kad::BucketInserts::Manual);
        kad_config.set_periodic_bootstrap_interval(Some(Duration::from_secs(60)));
        let mut kad =
            kad::Behaviour::with_config(peer_id, kad::store::MemoryStore::new(peer_id), kad_config);
        kad.set_mode(Some(kad::Mode::Server));
        let gossipsub = gossipsub::Behaviour::new(
            gossipsub::MessageAuthenticity::Signed(key.clone()),
            gossipsub_config()?,
        )
        .map_err(|e| BehaviourError::Gossipsub(e.to_owned()))?;
        let rpc = request_response::Behaviour::new(
            [(
                StreamProtocol::new(RPC_PROTOCOL),
                request_response::ProtocolSupport::Full,
            )],
            request_response::Config::default().with_request_timeout(Duration::from_secs(10)),
        );
        Ok(Behaviour {
            blocked: allow_block_list::Behaviour::default(),
            identify: identify::Behaviour::new(
                identify::Config::new(IDENTIFY_PROTOCOL.to_owned(), key.public())
                    .with_agent_version(agent),
            ),
            kad,
            gossipsub,
            rpc,
        })
    }
}
