//! The node's libp2p behaviours, composed in one place.

use std::time::Duration;

use alliance_protocol::rpc::RPC_PROTOCOL;
use libp2p::{
    StreamProtocol, allow_block_list, connection_limits, gossipsub, identify, identity::Keypair,
    kad, request_response, swarm::NetworkBehaviour,
};

use super::{codec::RpcCodec, gossip_params, ip_limit};

/// Kademlia under the alliance's private protocol name, so the alliance's DHT never
/// merges with any other network's.
pub const KAD_PROTOCOL: &str = "/alliance/kad/1";
/// RPC streams open at once on one connection, both ways (libp2p's default is 100): a
/// peer's requests beyond it are dropped unread, so what it can make this node buffer
/// is this many requests of at most `MAX_RPC_REQUEST_BYTES` each. Twice the most any
/// honest node asks at once (a home's booking burst).
pub const RPC_STREAMS_PER_CONNECTION: usize = 32;
/// Identify protocol version string.
pub const IDENTIFY_PROTOCOL: &str = "/alliance/id/1";

/// All behaviours of a node. (The derive produces no Debug for the swarm types.)
#[allow(missing_debug_implementations)]
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// Peers revoked by the roster are refused at the connection level.
    pub blocked: allow_block_list::Behaviour<allow_block_list::BlockedPeers>,
    /// Connections in total, being set up, and per peer.
    pub limits: connection_limits::Behaviour,
    /// Inbound connections per remote IP address.
    pub per_ip: ip_limit::Behaviour,
    pub identify: identify::Behaviour,
    pub kad: kad::Behaviour<kad::store::MemoryStore>,
    pub gossipsub:
        gossipsub::Behaviour<gossipsub::IdentityTransform, gossipsub::WhitelistSubscriptionFilter>,
    pub rpc: request_response::Behaviour<RpcCodec>,
}

/// How many connections a node takes. A connection over a limit is refused when it is
/// set up, before any protocol runs on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerLimits {
    /// Established connections, inbound and outbound.
    pub max_connections: u32,
    /// Inbound connections still in their transport handshake; also the peers at once
    /// that are connected but have not proved membership yet.
    pub max_pending: u32,
    /// Inbound connections (pending or established) from one IP address.
    pub max_per_ip: u32,
    /// Established connections with one peer.
    pub max_per_peer: u32,
}

impl Default for PeerLimits {
    fn default() -> Self {
        PeerLimits {
            max_connections: 1024,
            max_pending: 64,
            max_per_ip: 8,
            max_per_peer: 4,
        }
    }
}

/// Why the behaviours could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BehaviourError {
    #[error("gossipsub config: {0}")]
    Gossipsub(String),
}

impl Behaviour {
    /// Builds the behaviours for `key`, with the default [`PeerLimits`].
    pub fn new(key: &Keypair, agent: String) -> Result<Self, BehaviourError> {
        Behaviour::with_limits(key, agent, PeerLimits::default())
    }

    /// Builds the behaviours for `key`.
    pub fn with_limits(
        key: &Keypair,
        agent: String,
        limits: PeerLimits,
    ) -> Result<Self, BehaviourError> {
        let peer_id = key.public().to_peer_id();
        let mut kad_config = kad::Config::new(StreamProtocol::new(KAD_PROTOCOL));
        // Only peers whose membership we verified enter the routing table.
        kad_config.set_kbucket_inserts(kad::BucketInserts::Manual);
        // The alliance keeps no records in the DHT: records and provider announcements
        // from peers (strangers included, before they prove membership) are only
        // reported, never stored, so no peer can fill this node's memory through them.
        kad_config.set_record_filtering(kad::StoreInserts::FilterBoth);
        kad_config.set_periodic_bootstrap_interval(Some(Duration::from_secs(60)));
        let mut kad =
            kad::Behaviour::with_config(peer_id, kad::store::MemoryStore::new(peer_id), kad_config);
        kad.set_mode(Some(kad::Mode::Server));
        let mut gossipsub = gossipsub::Behaviour::new_with_subscription_filter(
            gossipsub::MessageAuthenticity::Signed(key.clone()),
            gossip_params::config().map_err(BehaviourError::Gossipsub)?,
            gossip_params::subscription_filter(),
        )
        .map_err(|e| BehaviourError::Gossipsub(e.to_owned()))?;
        gossipsub
            .with_peer_score(gossip_params::score_params(), gossip_params::thresholds())
            .map_err(BehaviourError::Gossipsub)?;
        let connection_limits = connection_limits::ConnectionLimits::default()
            .with_max_established(Some(limits.max_connections))
            .with_max_pending_incoming(Some(limits.max_pending))
            .with_max_established_per_peer(Some(limits.max_per_peer));
        let rpc = request_response::Behaviour::new(
            [(
                StreamProtocol::new(RPC_PROTOCOL),
                request_response::ProtocolSupport::Full,
            )],
            request_response::Config::default()
                .with_request_timeout(Duration::from_secs(10))
                .with_max_concurrent_streams(RPC_STREAMS_PER_CONNECTION),
        );
        Ok(Behaviour {
            blocked: allow_block_list::Behaviour::default(),
            limits: connection_limits::Behaviour::new(connection_limits),
            per_ip: ip_limit::Behaviour::new(limits.max_per_ip),
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
