//! The peer-to-peer layer.
//!
//! One task (`event_loop`) owns the libp2p swarm. The rest of the node talks to it through
//! a cloneable [`NetClient`] (commands on a bounded channel, answers on oneshots), reads the
//! current [`MeshState`] from a watch channel, and may subscribe to [`NetEvent`]s.
//!
//! - [`behaviour`]: the composed libp2p behaviours and the connection limits.
//! - [`gossip_params`]: gossipsub's parameters: content ids, peer scoring.
//! - [`ip_limit`]: the inbound connection limit per IP address.
//! - [`quota`]: per-origin hourly quotas on catalogue entries taken from gossip.
//! - [`codec`]: the length-prefixed protobuf codec of `/alliance/rpc/1`.
//! - `event_loop`: connection gating (membership handshake), gossip validation, roster
//!   distribution, discovery.
//! - [`topics`]: gossip topics.
//! - asking another node (or the province) a question and waiting for the answer, and
//!   routing the province's inbound log requests, run in the same task.
//! - catalogue replication (gossip of entries, anti-entropy sync) runs in the same task.

pub mod behaviour;
pub mod codec;
mod event_loop;
pub mod gossip_params;
pub mod ip_limit;
pub mod quota;
pub mod refusal;
pub mod topics;

use std::{collections::BTreeMap, time::Duration};

use alliance_protocol::{InstitutionId, MembershipCertificate, SecretKey, UnixTime};
use libp2p::{Multiaddr, PeerId};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

use crate::{catalogue::Catalogue, membership::Membership, store::Store};

pub use behaviour::PeerLimits;
pub use event_loop::{NetError, ROSTER_KEY};
pub use quota::GossipQuotas;
pub use refusal::Refusal;

/// What the network layer needs to start.
#[derive(Debug, Clone)]
pub struct NetConfig {
    /// The node key; also its libp2p identity.
    pub key: SecretKey,
    /// Addresses to listen on (port 0 allowed).
    pub listen: Vec<Multiaddr>,
    /// Peers to dial at start (with `/p2p/<peer id>`).
    pub bootstrap: Vec<Multiaddr>,
    /// Addresses to advertise as reachable from outside.
    pub external: Vec<Multiaddr>,
    /// How long a connection may sit unused.
    pub idle_timeout: Duration,
    /// How long a new peer has to show a valid certificate.
    pub handshake_grace: Duration,
    /// How often this node gossips its announcement.
    pub announce_interval: Duration,
    /// How often to re-dial bootstrap peers that are not connected and look for members.
    pub redial_interval: Duration,
    /// How often to run catalogue anti-entropy with a random member.
    pub sync_interval: Duration,
    /// Software name and version, for identify and announcements.
    pub agent: String,
    /// How many connections the node takes.
    pub limits: PeerLimits,
    /// How many catalogue entries of one origin an hour are taken from gossip.
    pub quotas: GossipQuotas,
}

/// A connected peer whose membership was verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedPeer {
    pub peer_id: PeerId,
    pub certificate: MembershipCertificate,
}

/// The last announcement seen from an institution's node (directly or through gossip).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenNode {
    pub peer_id: PeerId,
    pub sent_at: UnixTime,
    pub roster_version: u64,
    pub agent: String,
}

/// The network's current state, published on every change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MeshState {
    /// Version of the newest roster held; 0 when none.
    pub roster_version: u64,
    /// Connected, verified members, sorted by institution id.
    pub members: Vec<VerifiedPeer>,
    /// Announcements seen, by institution.
    pub seen: BTreeMap<InstitutionId, SeenNode>,
    /// Addresses the swarm listens on.
    pub listen_addrs: Vec<Multiaddr>,
    /// Certificates of this node's institution with another node's key (see
    /// `Membership::impostors`).
    pub impostors: Vec<MembershipCertificate>,
}

/// Things that happened, for whoever listens (tests, the UI's activity feed).
#[derive(Debug, Clone, PartialEq)]
pub enum NetEvent {
    /// A peer proved its membership.
    MemberVerified {
        peer: PeerId,
        institution: InstitutionId,
    },
    /// A peer failed the membership handshake and was disconnected.
    PeerRefused { peer: PeerId, reason: String },
    /// A verified member's last connection closed.
    MemberLeft { peer: PeerId },
    /// A newer roster was installed.
    RosterInstalled { version: u64 },
    /// A gossip message was rejected.
    GossipRejected { source: PeerId, reason: String },
    /// A connected peer's gossip score fell below the graylist threshold: what it sends
    /// on gossip is dropped unread.
    Graylisted { peer: PeerId, score: f64 },
    /// A catalogue sync with a peer finished; `fresh` entries were news.
    CatalogueSynced { peer: PeerId, fresh: usize },
    /// The province gossiped a tree head of its receipt log (signature verified).
    TreeHead { signed: Vec<u8> },
}

/// Whom to ask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A node of this institution.
    Institution(InstitutionId),
    /// The province's aggregator node.
    Province,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Institution(id) => write!(f, "{id}"),
            Target::Province => f.write_str("the province"),
        }
    }
}

/// Requests to the swarm task.
#[derive(Debug)]
pub(crate) enum Command {
    /// Install (if newer), persist and gossip a signed roster.
    OfferRoster {
        bytes: Vec<u8>,
        reply: oneshot::Sender<Result<bool, NetError>>,
    },
    /// Dial an address.
    Dial {
        addr: Multiaddr,
        reply: oneshot::Sender<Result<(), NetError>>,
    },
    /// A sync page was verified and stored (sent to the network task by a sync's applier).
    SyncPageDone {
        peer: PeerId,
        /// Which sync with that peer.
        run: u64,
        fresh: usize,
        failed: bool,
    },
    /// Start a catalogue sync with every connected member now.
    SyncNow,
    /// Send a signed mail message to a node of `to`.
    SendMail {
        to: InstitutionId,
        bytes: Vec<u8>,
        reply: oneshot::Sender<Result<Vec<u8>, NetError>>,
    },
    /// Send a request to a connected node of `target` and pass on its answer.
    Ask {
        target: Target,
        request: alliance_protocol::rpc::Request,
        reply: oneshot::Sender<Result<alliance_protocol::rpc::Response, NetError>>,
    },
    /// Gossip a signed tree head of the province's log.
    PublishTreeHead { signed: Vec<u8> },
    /// Answer an inbound request (sent to the network task by whoever computed it).
    Respond {
        channel: libp2p::request_response::ResponseChannel<alliance_protocol::rpc::Response>,
        response: alliance_protocol::rpc::Response,
    },
    /// A sync page for `peer` was read off the swarm task; answer it.
    SyncServed {
        peer: PeerId,
        channel: libp2p::request_response::ResponseChannel<alliance_protocol::rpc::Response>,
        response: alliance_protocol::rpc::Response,
    },
    /// The gossip score of every connected peer.
    PeerScores {
        reply: oneshot::Sender<Vec<(PeerId, f64)>>,
    },
}

/// A mail message from a verified member, for this node's mail service: the signed
/// message and where its answer (or refusal) goes.
#[derive(Debug)]
pub struct InboundMail {
    pub from: MembershipCertificate,
    pub message: Vec<u8>,
    pub reply: oneshot::Sender<Result<Vec<u8>, Refusal>>,
}

/// Mail messages waiting for the mail service; more are refused as busy.
pub const MAIL_QUEUE: usize = 1024;

/// A member's request about the receipt log (receipts, tree heads, proofs), for the
/// province's log task.
#[derive(Debug)]
pub struct InboundLog {
    pub from: MembershipCertificate,
    pub request: alliance_protocol::rpc::Request,
    pub reply: oneshot::Sender<alliance_protocol::rpc::Response>,
}

/// Log requests waiting for the province's log task; more are refused as busy.
pub const LOG_QUEUE: usize = 256;

/// Where the network task hands inbound requests that take a service's work.
#[derive(Debug)]
pub struct Inbound {
    pub mail: mpsc::Sender<InboundMail>,
    /// On the province's node only.
    pub log: Option<mpsc::Sender<InboundLog>>,
}

/// A cloneable handle to the swarm task.
#[derive(Debug, Clone)]
pub struct NetClient {
    commands: mpsc::Sender<Command>,
    state: watch::Receiver<MeshState>,
    events: broadcast::Sender<NetEvent>,
    peer_id: PeerId,
}

impl NetClient {
    /// This node's PeerId.
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// The current mesh state.
    pub fn state(&self) -> MeshState {
        self.state.borrow().clone()
    }

    /// A receiver that sees every state change.
    pub fn watch(&self) -> watch::Receiver<MeshState> {
        self.state.clone()
    }

    /// Subscribes to events from now on.
    pub fn events(&self) -> broadcast::Receiver<NetEvent> {
        self.events.subscribe()
    }

    /// Offers a signed roster; `Ok(true)` if it was newer and installed.
    pub async fn offer_roster(&self, bytes: Vec<u8>) -> Result<bool, NetError> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::OfferRoster { bytes, reply }).await?;
        rx.await.map_err(|_| NetError::Stopped)?
    }

    /// Starts a catalogue sync with every connected member.
    pub async fn sync_now(&self) -> Result<(), NetError> {
        self.send(Command::SyncNow).await
    }

    /// Dials a peer address.
    pub async fn dial(&self, addr: Multiaddr) -> Result<(), NetError> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Dial { addr, reply }).await?;
        rx.await.map_err(|_| NetError::Stopped)?
    }

    /// Sends a signed mail message to a connected node of `to` and returns its answer.
    /// [`NetError::Unreachable`] if no node of `to` is connected (nothing was sent),
    /// [`NetError::NoAnswer`] if it did not answer, [`NetError::Refused`] if it refused.
    pub async fn send_mail(&self, to: &InstitutionId, bytes: Vec<u8>) -> Result<Vec<u8>, NetError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::SendMail {
            to: to.clone(),
            bytes,
            reply,
        })
        .await?;
        answer.await.map_err(|_| NetError::Stopped)?
    }

    /// Sends a request to a connected node of `target` and returns its answer (an
    /// error answer too). [`NetError::NotConnected`] if none is connected (nothing was
    /// sent), [`NetError::NoAnswerFrom`] if it did not answer.
    pub async fn ask(
        &self,
        target: Target,
        request: alliance_protocol::rpc::Request,
    ) -> Result<alliance_protocol::rpc::Response, NetError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Ask {
            target,
            request,
            reply,
        })
        .await?;
        answer.await.map_err(|_| NetError::Stopped)?
    }

    /// The gossip score of every connected peer (0 for a well-behaved one; below
    /// [`gossip_params::GRAYLIST_THRESHOLD`] its gossip is dropped unread).
    pub async fn peer_scores(&self) -> Result<Vec<(PeerId, f64)>, NetError> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::PeerScores { reply }).await?;
        rx.await.map_err(|_| NetError::Stopped)
    }

    /// Gossips a signed tree head of the province's log.
    pub async fn publish_tree_head(&self, signed: Vec<u8>) -> Result<(), NetError> {
        self.send(Command::PublishTreeHead { signed }).await
    }

    async fn send(&self, command: Command) -> Result<(), NetError> {
        self.commands
            .send(command)
            .await
            .map_err(|_| NetError::Stopped)
    }
}

/// The running network layer.
#[derive(Debug)]
pub struct Network {
    pub client: NetClient,
    pub task: tokio::task::JoinHandle<()>,
}

/// Builds the swarm, starts listening, dials the bootstrap peers and spawns the swarm task.
/// Returns once every listener has an address.
pub async fn start(
    config: NetConfig,
    membership: Membership,
    store: Store,
    catalogue: Catalogue,
    outgoing: mpsc::Receiver<Vec<u8>>,
    inbound: Inbound,
    cancel: CancellationToken,
) -> Result<Network, NetError> {
    event_loop::start(
        config, membership, store, catalogue, outgoing, inbound, cancel,
    )
    .await
}
