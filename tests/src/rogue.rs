//! A hand-driven peer for tests of hostile behaviour: a raw libp2p swarm that shows a
//! certificate, then publishes and asks whatever the test orders. Its gossipsub numbers
//! messages by author and sequence, as any client may, so it can publish the same bytes
//! again and again; it answers sync requests with an empty page.

use std::time::Duration;

use alliance_node::{identity, net::codec::RpcCodec};
use alliance_protocol::{
    SecretKey,
    limits::MAX_GOSSIP_BYTES,
    rpc::{Hello, RPC_PROTOCOL, Request, Response, SyncResponse},
};
use futures::StreamExt;
use libp2p::{
    Multiaddr, PeerId, StreamProtocol, SwarmBuilder, gossipsub, noise, request_response,
    swarm::{NetworkBehaviour, SwarmEvent},
    tcp, yamux,
};
use tokio::sync::{mpsc, oneshot};

use crate::DEADLINE;

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
        let gossip_config = gossipsub::ConfigBuilder::default()
            .validation_mode(gossipsub::ValidationMode::Strict)
            .max_transmit_size(MAX_GOSSIP_BYTES)
            .heartbeat_interval(Duration::from_secs(1))
            .flood_publish(true)
            .build()
            .unwrap();
        let mut swarm = SwarmBuilder::with_existing_identity(identity::keypair(key))
            .with_tokio()
            .with_tcp(
                tcp::Config::default().nodelay(true),
                noise::Config::new,
                yamux::Config::default,
            )
            .unwrap()
            .with_behaviour(|k| RogueBehaviour {
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
            })
            .unwrap()
            .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(120)))
            .build();
        for topic in &topics {
            swarm.behaviour_mut().gossipsub.subscribe(topic).unwrap();
        }
        for (addr, _) in &targets {
            swarm.dial(addr.clone()).unwrap();
        }
        let peer_id = *swarm.local_peer_id();
        let (orders, orders_rx) = mpsc::channel(1024);
        let (ready_tx, ready) = oneshot::channel();
        let task = tokio::spawn(drive(swarm, hello, targets, topics, orders_rx, ready_tx));
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
                                Request::Sync(_) => Response::Sync(SyncResponse {
                                    entries: vec![],
                                    complete: vec![],
                                    next: None,
                                }),
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
