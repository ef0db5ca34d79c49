//! A hand-driven peer for tests of hostile behaviour: a raw libp2p swarm that shows a
//! certificate, then publishes and asks whatever the test orders. Its gossipsub numbers
//! messages by author and sequence, as any client may, so it can publish the same bytes
//! again and again; it answers sync requests with an empty page, or the one it is given.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use alliance_node::{
    NodeHandle, identity,
    net::{codec::RpcCodec, topics},
    province::IssueRequest,
};
use alliance_protocol::{
    Role, SecretKey, SignedCertificate, SignedRoster,
    limits::MAX_GOSSIP_BYTES,
    rpc::{Hello, RPC_PROTOCOL, Request, Response, SyncResponse},
};
use futures::StreamExt;
use libp2p::{
    Multiaddr, PeerId, StreamProtocol, gossipsub, request_response,
    swarm::{NetworkBehaviour, SwarmEvent},
};
use tokio::sync::{mpsc, oneshot};

use crate::{DEADLINE, tcp_swarm, wait_state};

#[derive(NetworkBehaviour)]
#[allow(missing_debug_implementations)]
struct RogueBehaviour {
    gossipsub: gossipsub::Behaviour,
    rpc: request_response::Behaviour<RpcCodec>,
}

enum Order {
    Publish {
        topic: gossipsub::IdentTopic,
        bytes: Vec<u8>,
        done: oneshot::Sender<bool>,
    },
    Ask {
        to: PeerId,
        request: Request,
        reply: oneshot::Sender<Option<Response>>,
    },
    ServeSync(SyncResponse),
}

/// The running rogue.
#[derive(Debug)]
pub struct Rogue {
    orders: mpsc::Sender<Order>,
    pub peer_id: PeerId,
    task: tokio::task::JoinHandle<()>,
}

impl Rogue {
    /// Connects to every `(address, peer)` in `targets` with `key`, shows `hello`, and
    /// returns once each target admitted it and subscribed to every topic in `topics`.
    pub async fn start(
        key: &SecretKey,
        hello: Hello,
        targets: Vec<(Multiaddr, PeerId)>,
        topics: Vec<gossipsub::IdentTopic>,
    ) -> Rogue {
        Self::start_serving(key, hello, targets, topics, SyncResponse::default()).await
    }

    /// [`Rogue::start`], answering every sync request with `page` from the first.
    pub async fn start_serving(
        key: &SecretKey,
        hello: Hello,
        targets: Vec<(Multiaddr, PeerId)>,
        topics: Vec<gossipsub::IdentTopic>,
        page: SyncResponse,
    ) -> Rogue {
        let gossip_config = gossipsub::ConfigBuilder::default()
            .validation_mode(gossipsub::ValidationMode::Strict)
            .max_transmit_size(MAX_GOSSIP_BYTES)
            .heartbeat_interval(Duration::from_secs(1))
            .flood_publish(true)
            .build()
            .unwrap();
        let mut swarm = tcp_swarm(identity::keypair(key), Duration::from_secs(120), |k| {
            RogueBehaviour {
                gossipsub: gossipsub::Behaviour::new(
                    gossipsub::MessageAuthenticity::Signed(k.clone()),
                    gossip_config,
                )
                .unwrap(),
                rpc: request_response::Behaviour::new(
                    [(
                        StreamProtocol::new(RPC_PROTOCOL),
                        request_response::ProtocolSupport::Full,
                    )],
                    request_response::Config::default()
                        .with_request_timeout(Duration::from_secs(20)),
                ),
            }
        });
        for topic in &topics {
            swarm.behaviour_mut().gossipsub.subscribe(topic).unwrap();
        }
        for (addr, _) in &targets {
            swarm.dial(addr.clone()).unwrap();
        }
        let peer_id = *swarm.local_peer_id();
        let (orders, orders_rx) = mpsc::channel(1024);
        let (ready_tx, ready) = oneshot::channel();
        let task = tokio::spawn(drive(
            swarm, hello, targets, topics, page, orders_rx, ready_tx,
        ));
        tokio::time::timeout(DEADLINE, ready)
            .await
            .expect("the nodes never admitted the rogue")
            .expect("the rogue stopped");
        Rogue {
            orders,
            peer_id,
            task,
        }
    }

    /// Publishes `bytes` on `topic`; `false` if gossipsub would not (no peer left).
    pub async fn publish(&self, topic: gossipsub::IdentTopic, bytes: Vec<u8>) -> bool {
        let (done, rx) = oneshot::channel();
        if self
            .orders
            .send(Order::Publish { topic, bytes, done })
            .await
            .is_err()
        {
            return false;
        }
        rx.await.unwrap_or(false)
    }

    /// Sends `request` to `to` and returns its answer (`None`: no answer).
    pub async fn ask(&self, to: PeerId, request: Request) -> Option<Response> {
        let (reply, rx) = oneshot::channel();
        self.orders
            .send(Order::Ask { to, request, reply })
            .await
            .ok()?;
        rx.await.ok().flatten()
    }

    /// Answers every sync request from now on with `page`.
    pub async fn serve_sync(&self, page: SyncResponse) {
        let _ = self.orders.send(Order::ServeSync(page)).await;
    }

    /// Stops the rogue.
    pub fn stop(self) {
        self.task.abort();
    }
}

async fn drive(
    mut swarm: libp2p::Swarm<RogueBehaviour>,
    hello: Hello,
    targets: Vec<(Multiaddr, PeerId)>,
    topics: Vec<gossipsub::IdentTopic>,
    mut sync_page: SyncResponse,
    mut orders: mpsc::Receiver<Order>,
    ready: oneshot::Sender<()>,
) {
    use std::collections::{HashMap, HashSet};
    let mut ready = Some(ready);
    let mut admitted: HashSet<PeerId> = HashSet::new();
    let mut subscribed: HashSet<(PeerId, gossipsub::TopicHash)> = HashSet::new();
    let mut asks: HashMap<request_response::OutboundRequestId, oneshot::Sender<Option<Response>>> =
        HashMap::new();
    loop {
        tokio::select! {
            event = swarm.select_next_some() => match event {
                SwarmEvent::ConnectionEstablished { peer_id, num_established, .. }
                    if num_established.get() == 1 =>
                {
                    swarm
                        .behaviour_mut()
                        .rpc
                        .send_request(&peer_id, Request::Hello(hello.clone()));
                }
                SwarmEvent::Behaviour(RogueBehaviourEvent::Rpc(event)) => match event {
                    request_response::Event::Message { peer, message, .. } => match message {
                        request_response::Message::Request { request, channel, .. } => {
                            let answer = match request {
                                Request::Hello(_) => Response::Hello(hello.clone()),
                                Request::Sync(_) => Response::Sync(sync_page.clone()),
                                Request::Roster => Response::Roster(None),
                                _ => Response::error("bad_request", "not here"),
                            };
                            let _ = swarm.behaviour_mut().rpc.send_response(channel, answer);
                        }
                        request_response::Message::Response { request_id, response } => {
                            if let Some(reply) = asks.remove(&request_id) {
                                let _ = reply.send(Some(response));
                            } else if matches!(response, Response::Hello(_)) {
                                admitted.insert(peer);
                            }
                        }
                    },
                    request_response::Event::OutboundFailure { request_id, .. } => {
                        if let Some(reply) = asks.remove(&request_id) {
                            let _ = reply.send(None);
                        }
                    }
                    _ => {}
                },
                SwarmEvent::Behaviour(RogueBehaviourEvent::Gossipsub(
                    gossipsub::Event::Subscribed { peer_id, topic },
                )) => {
                    subscribed.insert((peer_id, topic));
                }
                _ => {}
            },
            order = orders.recv(), if ready.is_none() => match order {
                Some(Order::Publish { topic, bytes, done }) => {
                    let published = swarm.behaviour_mut().gossipsub.publish(topic, bytes);
                    let _ = done.send(published.is_ok());
                }
                Some(Order::Ask { to, request, reply }) => {
                    let id = swarm.behaviour_mut().rpc.send_request(&to, request);
                    asks.insert(id, reply);
                }
                Some(Order::ServeSync(page)) => sync_page = page,
                None => return,
            },
        }
        let all_in = targets.iter().all(|(_, peer)| {
            admitted.contains(peer)
                && topics
                    .iter()
                    .all(|t| subscribed.contains(&(*peer, t.hash())))
        });
        if all_in && let Some(ready) = ready.take() {
            let _ = ready.send(());
        }
    }
}

/// The province certifies a new member `evil` with `key`; every node in `nodes` holds
/// the roster that lists it. Returns its certificate and that roster.
pub async fn certify(
    province: &NodeHandle,
    key: &SecretKey,
    nodes: &[&NodeHandle],
) -> (SignedCertificate, SignedRoster) {
    let (cert, roster) = province
        .province()
        .expect("a province node")
        .issue(IssueRequest {
            institution_id: "evil".parse().unwrap(),
            name_zh: "捣乱单位".into(),
            name_en: "Evil institute".into(),
            region: "辽宁省".into(),
            node_public_key: key.public(),
            role: Role::Member,
            valid_days: 30,
            member_since: None,
        })
        .await
        .unwrap();
    province.net().offer_roster(roster.encode()).await.unwrap();
    let version = roster.roster().version;
    for node in nodes {
        wait_state(node, "the roster listing evil", |s| {
            s.roster_version >= version
        })
        .await;
    }
    (cert, roster)
}

/// `signed` with an unknown protobuf field (number 100, varint `n`) appended: it still
/// decodes as the same message, but its bytes — and so its gossip id — are new.
pub fn padded(signed: &[u8], n: u32) -> Vec<u8> {
    let mut copy = signed.to_vec();
    copy.extend_from_slice(&[0xa0, 0x06]);
    let mut v = n;
    while v >= 0x80 {
        copy.push((v as u8) | 0x80);
        v >>= 7;
    }
    copy.push(v as u8);
    copy
}

/// A certified member flooding gossip as fast as `every` allows, alternating records of
/// its own — genuinely signed, each one new, far past its hourly quota — and padded
/// replays of the province's roster, on every node it is given.
#[derive(Debug)]
pub struct Flood {
    pub peer_id: PeerId,
    published: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Flood {
    /// Certifies the flooder through `province`, connects it to every node in `nodes`
    /// (which should include the province) and starts the flood.
    pub async fn start(province: &NodeHandle, nodes: &[&NodeHandle], every: Duration) -> Flood {
        let key = SecretKey::generate();
        let (cert, roster) = certify(province, &key, nodes).await;
        let targets = nodes
            .iter()
            .map(|n| (crate::bootstrap_of(n)[0].parse().unwrap(), n.peer_id()))
            .collect();
        let rogue = Rogue::start(
            &key,
            Hello {
                certificate: cert.encode(),
                roster_version: roster.roster().version,
                head: Vec::new(),
            },
            targets,
            vec![topics::catalogue(), topics::roster()],
        )
        .await;
        let peer_id = rogue.peer_id;
        let published = Arc::new(AtomicU64::new(0));
        let count = published.clone();
        let signed_roster = roster.encode();
        let task = tokio::spawn(async move {
            let mut pace = tokio::time::interval(every);
            pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            for n in 1u32.. {
                pace.tick().await;
                let (topic, bytes) = if n % 2 == 0 {
                    let mut record = crate::sample_record("evil", &format!("F{n}"), "液相色谱仪");
                    record.revision = u64::from(n);
                    (topics::catalogue(), record.seal(&key))
                } else {
                    (topics::roster(), padded(&signed_roster, n))
                };
                if rogue.publish(topic, bytes).await {
                    count.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        Flood {
            peer_id,
            published,
            task,
        }
    }

    /// Messages gossipsub accepted to send so far.
    pub fn published(&self) -> u64 {
        self.published.load(Ordering::Relaxed)
    }

    pub fn stop(self) {
        self.task.abort();
    }
}
