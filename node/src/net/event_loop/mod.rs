//! The task that owns the swarm.
//!
//! Membership gating: when a peer connects, both sides send a `Hello` with their
//! root-signed certificate. A peer whose certificate does not verify is refused at once; one
//! that shows nothing is disconnected when its grace period ends. Only verified peers enter
//! the DHT routing table, are served rosters, or have their gossip forwarded.
//!
//! - `handshake.rs`: admission, refusal, roster installation; `rpc.rs`: routing every
//!   request and answer of the rpc protocol.
//! - `gossip.rs`: announcements and the validation of every gossip message.
//! - `catalogue.rs`: catalogue gossip (with per-origin quotas) and anti-entropy sync.
//! - `entry_writer.rs`: stores entries accepted from gossip, off this task.
//! - `mail.rs`: mail out to other members' nodes and in to the mail service.
//! - `sync_pipeline.rs`: one sync's pages, verified and stored in order.
//! - `discovery.rs`: re-dialling bootstrap peers, DHT lookups, what a lookup may dial.

use std::{
    collections::{HashMap, HashSet},
    time::Duration,
};

use alliance_protocol::{UnixTime, rpc::Request};
use futures::StreamExt;
use libp2p::{
    Multiaddr, PeerId, Swarm, SwarmBuilder, gossipsub, identify, kad, noise,
    request_response::OutboundRequestId, swarm::SwarmEvent, tcp, yamux,
};
use tokio::{
    sync::{broadcast, mpsc, watch},
    time::Instant,
};
use tokio_util::sync::CancellationToken;

mod ask;
mod catalogue;
mod discovery;
mod entry_writer;
mod gossip;
mod handshake;
mod mail;
mod rpc;
mod sync_pipeline;

use super::{
    Command, MeshState, NetClient, NetConfig, NetEvent, Network, SeenNode, VerifiedPeer,
    behaviour::{Behaviour, BehaviourEvent},
    topics,
};
use crate::{
    catalogue::Catalogue, identity, membership::Membership, net::quota::OriginQuotas, store::Store,
};

/// Store key of the newest roster held.
pub const ROSTER_KEY: &[u8] = b"current";

/// Errors of the network layer.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("cannot build the p2p transport: {0}")]
    Transport(String),
    #[error("cannot listen on {addr}: {reason}")]
    Listen { addr: Multiaddr, reason: String },
    #[error("no listen address came up within {0:?}")]
    ListenTimeout(Duration),
    #[error("cannot dial {addr}: {reason}")]
    Dial { addr: Multiaddr, reason: String },
    #[error("roster refused: {0}")]
    Roster(String),
    #[error("storage: {0}")]
    Store(String),
    #[error("the network task has stopped")]
    Stopped,
    #[error("no node of {0} is reachable")]
    Unreachable(alliance_protocol::InstitutionId),
    #[error("{0} did not answer (the request may have arrived)")]
    NoAnswer(alliance_protocol::InstitutionId),
    #[error("refused: {0}")]
    Refused(super::Refusal),
    #[error("no node of {0} is connected")]
    NotConnected(String),
    #[error("{0} did not answer (the request may have arrived)")]
    NoAnswerFrom(String),
}

const COMMAND_QUEUE: usize = 64;
const EVENT_QUEUE: usize = 256;
const TICK: Duration = Duration::from_millis(250);
/// How often quotas forget origins that sent nothing for an hour.
const QUOTA_PRUNE: Duration = Duration::from_secs(600);

pub(super) async fn start(
    config: NetConfig,
    membership: Membership,
    store: Store,
    catalogue: Catalogue,
    outgoing: mpsc::Receiver<Vec<u8>>,
    inbound: super::Inbound,
    cancel: CancellationToken,
) -> Result<Network, NetError> {
    let keypair = identity::keypair(&config.key);
    let peer_id = keypair.public().to_peer_id();
    let agent = config.agent.clone();
    let limits = config.limits;
    let mut swarm = SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| NetError::Transport(e.to_string()))?
        .with_quic()
        .with_behaviour(|key| {
            Behaviour::with_limits(key, agent, limits)
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
        })
        .map_err(|e| NetError::Transport(e.to_string()))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(config.idle_timeout))
        .build();

    for topic in [
        topics::roster(),
        topics::announce(),
        topics::catalogue(),
        topics::tree_heads(),
    ] {
        swarm
            .behaviour_mut()
            .gossipsub
            .subscribe(&topic)
            .map_err(|e| NetError::Transport(e.to_string()))?;
    }
    for addr in &config.external {
        swarm.add_external_address(addr.clone());
    }
    let mut listeners = HashSet::new();
    for addr in &config.listen {
        let id = swarm
            .listen_on(addr.clone())
            .map_err(|e| NetError::Listen {
                addr: addr.clone(),
                reason: e.to_string(),
            })?;
        listeners.insert(id);
    }
    let mut listen_addrs = Vec::new();
    let deadline = Duration::from_secs(10);
    tokio::time::timeout(deadline, async {
        while !listeners.is_empty() {
            match swarm.select_next_some().await {
                SwarmEvent::NewListenAddr {
                    listener_id,
                    address,
                } => {
                    listeners.remove(&listener_id);
                    listen_addrs.push(address);
                }
                SwarmEvent::ListenerError { error, .. } => {
                    tracing::warn!(%error, "listener error while starting");
                }
                _ => {}
            }
        }
    })
    .await
    .map_err(|_| NetError::ListenTimeout(deadline))?;
    for addr in &config.bootstrap {
        if let Err(e) = swarm.dial(addr.clone()) {
            tracing::warn!(%addr, error = %e, "cannot dial bootstrap peer");
        }
    }

    let (commands_tx, commands) = mpsc::channel(COMMAND_QUEUE);
    let initial = MeshState {
        roster_version: membership.roster_version(),
        listen_addrs: listen_addrs.clone(),
        ..MeshState::default()
    };
    let (state_tx, state_rx) = watch::channel(initial);
    let (events, _) = broadcast::channel(EVENT_QUEUE);
    let client = NetClient {
        commands: commands_tx.clone(),
        state: state_rx,
        events: events.clone(),
        peer_id,
    };
    let (entries, entry_writer) = entry_writer::start(catalogue.clone());
    let event_loop = EventLoop {
        quotas: OriginQuotas::new(config.quotas),
        own_quota: OriginQuotas::for_own_entries(config.quotas),
        quotas_pruned: Instant::now(),
        entries,
        entry_writer,
        serving: HashSet::new(),
        refusing: HashMap::new(),
        graylisted: HashSet::new(),
        swarm,
        commands,
        membership,
        store,
        config,
        pending: HashMap::new(),
        hello_requests: HashSet::new(),
        identify_addrs: HashMap::new(),
        seen: Default::default(),
        listen_addrs,
        state: state_tx,
        events,
        discovery_running: false,
        catalogue,
        outgoing,
        own_commands: commands_tx,
        syncs: HashMap::new(),
        sync_runs: 0,
        sync_requests: HashMap::new(),
        sync_after_roster: HashSet::new(),
        witnessed_head: Vec::new(),
        admit_after_roster: HashMap::new(),
        mail: inbound.mail,
        mail_requests: HashMap::new(),
        log_requests: inbound.log,
        asks: HashMap::new(),
    };
    event_loop.refresh_directory();
    let span = tracing::info_span!("net", peer = %peer_id);
    let task = tokio::spawn(tracing::Instrument::instrument(
        event_loop.run(cancel),
        span,
    ));
    Ok(Network { client, task })
}

struct EventLoop {
    swarm: Swarm<Behaviour>,
    commands: mpsc::Receiver<Command>,
    membership: Membership,
    store: Store,
    config: NetConfig,
    /// Connected peers that have not proved membership yet, with their deadline.
    pending: HashMap<PeerId, Instant>,
    /// Peers whose hello was refused (reason logged), to cut off at the next tick.
    refusing: HashMap<PeerId, String>,
    /// Our outstanding Hello requests.
    hello_requests: HashSet<OutboundRequestId>,
    /// Listen addresses peers told us through identify.
    identify_addrs: HashMap<PeerId, Vec<Multiaddr>>,
    seen: std::collections::BTreeMap<alliance_protocol::InstitutionId, SeenNode>,
    listen_addrs: Vec<Multiaddr>,
    state: watch::Sender<MeshState>,
    events: broadcast::Sender<NetEvent>,
    discovery_running: bool,
    catalogue: Catalogue,
    /// Own catalogue entries waiting to be gossiped.
    outgoing: mpsc::Receiver<Vec<u8>>,
    /// For tasks this loop spawns to report back.
    own_commands: mpsc::Sender<Command>,
    /// The catalogue sync running with each peer.
    syncs: HashMap<PeerId, sync_pipeline::SyncRun>,
    /// Syncs started so far (numbers the runs).
    sync_runs: u64,
    sync_requests: HashMap<OutboundRequestId, PeerId>,
    /// Peers to sync with once the roster they announced has arrived.
    sync_after_roster: HashSet<PeerId>,
    /// The newest tree head this node published (the province's own, or one a member
    /// verified): shown in every hello, so a node that joins later cross-checks it.
    witnessed_head: Vec<u8>,
    /// Hellos waiting for the newer roster asked of their sender (it may list them).
    admit_after_roster: HashMap<PeerId, alliance_protocol::rpc::Hello>,
    /// Where mail from members goes (the mail service).
    mail: mpsc::Sender<super::InboundMail>,
    /// Mail of ours waiting for the recipient's answer.
    mail_requests: HashMap<OutboundRequestId, mail::PendingMail>,
    /// Where members' log requests go (the province's log task; none on a member).
    log_requests: Option<mpsc::Sender<super::InboundLog>>,
    /// Other questions of ours waiting for an answer.
    asks: HashMap<OutboundRequestId, ask::PendingAsk>,
    /// What each origin took of its gossip quota here.
    quotas: OriginQuotas,
    /// What this node gossiped of its own entries (paced at half the quota).
    own_quota: OriginQuotas,
    quotas_pruned: Instant,
    /// Entries accepted from gossip, on their way to the store.
    entries: mpsc::Sender<alliance_protocol::Entry>,
    entry_writer: tokio::task::JoinHandle<()>,
    /// Peers whose sync page is being read.
    serving: HashSet<PeerId>,
    /// Connected peers whose gossip score is below the graylist threshold.
    graylisted: HashSet<PeerId>,
}

impl EventLoop {
    async fn run(mut self, cancel: CancellationToken) {
        let mut tick = tokio::time::interval(TICK);
        let mut announce = tokio::time::interval(self.config.announce_interval);
        let mut redial = tokio::time::interval(self.config.redial_interval);
        redial.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut anti_entropy = tokio::time::interval(self.config.sync_interval);
        anti_entropy.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = cancel.cancelled() => break,
                event = self.swarm.select_next_some() => self.on_swarm_event(event).await,
                command = self.commands.recv() => match command {
                    Some(command) => self.on_command(command).await,
                    None => break,
                },
                _ = tick.tick() => self.on_tick(),
                _ = announce.tick() => self.announce(),
                _ = redial.tick() => self.redial(),
                _ = anti_entropy.tick() => self.sync_with_random_member(),
                Some(bytes) = self.outgoing.recv() => self.publish_entry(bytes),
            }
        }
        let EventLoop {
            entries,
            entry_writer,
            ..
        } = self;
        // The writer stores what it was given, then stops.
        drop(entries);
        if let Err(e) = entry_writer.await {
            tracing::error!(error = %e, "catalogue writer failed");
        }
        tracing::debug!("network task stopped");
    }

    fn emit(&self, event: NetEvent) {
        // No receiver is fine: events are informational.
        let _ = self.events.send(event);
    }

    fn publish_state(&self) {
        self.refresh_directory();
        let mut members: Vec<VerifiedPeer> = self
            .membership
            .verified_peers()
            .map(|(peer, cert)| VerifiedPeer {
                peer_id: *peer,
                certificate: cert.clone(),
            })
            .collect();
        members.sort_by(|a, b| {
            a.certificate
                .institution_id
                .cmp(&b.certificate.institution_id)
                .then(a.peer_id.cmp(&b.peer_id))
        });
        let impostors = self.membership.impostors();
        if !impostors.is_empty() && impostors != self.state.borrow().impostors {
            tracing::error!(
                serials = ?impostors.iter().map(|c| c.serial).collect::<Vec<_>>(),
                "a certificate names this institution with another node's key: unless this institution moved to a new node, the root key has been misused"
            );
        }
        let state = MeshState {
            roster_version: self.membership.roster_version(),
            members,
            seen: self.seen.clone(),
            listen_addrs: self.listen_addrs.clone(),
            impostors,
        };
        self.state.send_if_modified(|current| {
            let changed = *current != state;
            *current = state;
            changed
        });
    }

    async fn on_command(&mut self, command: Command) {
        match command {
            Command::OfferRoster { bytes, reply } => {
                let result = self.offer_roster(bytes, None).await;
                let _ = reply.send(result);
            }
            Command::SyncPageDone {
                peer,
                run,
                fresh,
                failed,
            } => self.on_sync_page_done(peer, run, fresh, failed),
            Command::SendMail { to, bytes, reply } => self.send_mail(&to, bytes, reply),
            Command::Respond { channel, response } => self.respond(channel, response),
            Command::SyncServed {
                peer,
                channel,
                response,
            } => {
                self.serving.remove(&peer);
                self.respond(channel, response);
            }
            Command::PeerScores { reply } => {
                let gossipsub = &self.swarm.behaviour().gossipsub;
                let scores = self
                    .swarm
                    .connected_peers()
                    .filter_map(|peer| gossipsub.peer_score(peer).map(|score| (*peer, score)))
                    .collect();
                let _ = reply.send(scores);
            }
            Command::Ask {
                target,
                request,
                reply,
            } => self.ask(&target, request, reply),
            Command::PublishTreeHead { signed } => {
                self.witnessed_head = signed.clone();
                if let Err(e) = self
                    .swarm
                    .behaviour_mut()
                    .gossipsub
                    .publish(topics::tree_heads(), signed)
                {
                    tracing::debug!(error = %e, "tree head not published");
                }
            }
            Command::SyncNow => {
                let peers: Vec<PeerId> =
                    self.membership.verified_peers().map(|(p, _)| *p).collect();
                for peer in peers {
                    self.start_sync(peer);
                }
            }
            Command::Dial { addr, reply } => {
                let result = self.swarm.dial(addr.clone()).map_err(|e| NetError::Dial {
                    addr,
                    reason: e.to_string(),
                });
                let _ = reply.send(result);
            }
        }
    }

    fn on_tick(&mut self) {
        let now = Instant::now();
        let expired: Vec<PeerId> = self
            .pending
            .iter()
            .filter(|(_, deadline)| **deadline <= now)
            .map(|(peer, _)| *peer)
            .collect();
        for peer in expired {
            if self.refusing.contains_key(&peer) {
                self.cut_off(peer);
            } else {
                self.refuse(
                    peer,
                    "no valid membership certificate within the grace period".into(),
                );
            }
        }
        self.check_scores();
        if now.duration_since(self.quotas_pruned) >= QUOTA_PRUNE {
            self.quotas_pruned = now;
            self.quotas.prune();
            self.own_quota.prune();
        }
        // Certificates expire while connected, too.
        let wall = UnixTime::now();
        let lapsed: Vec<PeerId> = self
            .membership
            .verified_peers()
            .filter(|(_, cert)| cert.check_window(wall).is_err())
            .map(|(peer, _)| *peer)
            .collect();
        for peer in lapsed {
            self.membership.remove(&peer);
            self.refuse(peer, "membership certificate expired".into());
        }
    }

    async fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::ConnectionEstablished {
                peer_id,
                num_established,
                ..
            } if num_established.get() == 1 => {
                if self.pending.len() >= self.config.limits.max_pending as usize {
                    self.refuse(
                        peer_id,
                        "too many peers are proving their membership at once".into(),
                    );
                    return;
                }
                tracing::debug!(peer = %peer_id, "connected; starting membership handshake");
                self.pending
                    .insert(peer_id, Instant::now() + self.config.handshake_grace);
                let hello = self.hello();
                let id = self
                    .swarm
                    .behaviour_mut()
                    .rpc
                    .send_request(&peer_id, Request::Hello(hello));
                self.hello_requests.insert(id);
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } => {
                self.pending.remove(&peer_id);
                self.refusing.remove(&peer_id);
                self.identify_addrs.remove(&peer_id);
                self.syncs.remove(&peer_id);
                self.sync_after_roster.remove(&peer_id);
                self.admit_after_roster.remove(&peer_id);
                self.sync_requests.retain(|_, peer| *peer != peer_id);
                if self.membership.remove(&peer_id).is_some() {
                    tracing::info!(peer = %peer_id, "member disconnected");
                    self.emit(NetEvent::MemberLeft { peer: peer_id });
                    self.publish_state();
                }
            }
            SwarmEvent::NewListenAddr { address, .. } => {
                self.listen_addrs.push(address);
                self.publish_state();
            }
            SwarmEvent::Behaviour(event) => self.on_behaviour_event(event).await,
            _ => {}
        }
    }

    async fn on_behaviour_event(&mut self, event: BehaviourEvent) {
        match event {
            BehaviourEvent::Rpc(event) => self.on_rpc(event).await,
            BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            }) => {
                self.on_gossip(propagation_source, message_id, message)
                    .await
            }
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
                self.on_identified(peer_id, info.listen_addrs);
            }
            BehaviourEvent::Kad(kad::Event::OutboundQueryProgressed {
                result: kad::QueryResult::GetClosestPeers(result),
                step,
                ..
            }) => self.on_closest_peers(result, step.last),
            _ => {}
        }
    }
}
