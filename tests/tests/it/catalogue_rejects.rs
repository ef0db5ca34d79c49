//! A certified but misbehaving member, driven by hand over raw libp2p: everything it sends
//! that a node must refuse is refused and counted by kind — a record signed by a
//! non-member, a record about another institution's instrument, a bad signature, an
//! oversized entry, a stale revision replay — and nothing of it enters the catalogue.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use alliance_node::{
    identity,
    net::{behaviour::Behaviour, behaviour::BehaviourEvent, topics},
};
use alliance_protocol::{
    SecretKey,
    rpc::{Hello, Request, Response, SyncResponse},
};
use alliance_tests::*;
use futures::StreamExt;
use libp2p::{Multiaddr, PeerId, gossipsub, request_response, swarm::SwarmEvent};
use tokio::sync::mpsc;

/// What the test asks the rogue to do.
enum Order {
    Publish(Vec<u8>),
}

/// Drives the rogue's swarm: answers the member's hello and sync requests (the sync with
/// `page`), and publishes what it is told once the member has admitted it and subscribed.
async fn run_rogue(
    key: SecretKey,
    hello: Hello,
    target: Multiaddr,
    member: PeerId,
    page: SyncResponse,
    mut orders: mpsc::Receiver<Order>,
    ready: mpsc::Sender<()>,
) {
    let mut swarm = tcp_swarm(identity::keypair(&key), Duration::from_secs(60), |k| {
        Behaviour::new(k, "rogue/1".into()).unwrap()
    });
    swarm
        .behaviour_mut()
        .gossipsub
        .subscribe(&topics::catalogue())
        .unwrap();
    swarm.dial(target).unwrap();
    let (mut admitted, mut subscribed, mut announced) = (false, false, false);
    loop {
        tokio::select! {
            event = swarm.select_next_some() => match event {
                SwarmEvent::ConnectionEstablished { peer_id, .. } if peer_id == member => {
                    swarm
                        .behaviour_mut()
                        .rpc
                        .send_request(&member, Request::Hello(hello.clone()));
                }
                SwarmEvent::Behaviour(BehaviourEvent::Rpc(request_response::Event::Message {
                    message, ..
                })) => match message {
                    request_response::Message::Request { request, channel, .. } => {
                        let answer = match request {
                            Request::Hello(_) => Response::Hello(hello.clone()),
                            Request::Sync(_) => Response::Sync(page.clone()),
                            Request::Roster => Response::Roster(None),
                            _ => Response::error("bad_request", "not here"),
                        };
                        let _ = swarm.behaviour_mut().rpc.send_response(channel, answer);
                    }
                    request_response::Message::Response { response: Response::Hello(_), .. } => {
                        admitted = true;
                    }
                    _ => {}
                },
                SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Subscribed {
                    peer_id, topic,
                })) if peer_id == member && topic == topics::catalogue().hash() => {
                    subscribed = true;
                }
                _ => {}
            },
            order = orders.recv(), if admitted && subscribed => match order {
                Some(Order::Publish(bytes)) => {
                    swarm
                        .behaviour_mut()
                        .gossipsub
                        .publish(topics::catalogue(), bytes)
                        .unwrap();
                }
                None => return,
            },
        }
        if admitted && subscribed && !announced {
            announced = true;
            let _ = ready.send(()).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misbehaving_member_is_refused_and_every_refusal_is_counted() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let member = start_member(dir.path(), &province, "dlut").await;
    wait_state(&member, "member joined", |s| s.members.len() == 1).await;

    // The rogue is a real, certified member: "evil".
    let rogue_key = SecretKey::generate();
    let (cert, _) = rogue::certify(&province, &rogue_key, &[&member]).await;

    let stranger = SecretKey::generate();
    let evil = |local: &str, revision: u64| {
        let mut r = sample_record("evil", local, "液相色谱-质谱联用仪");
        r.revision = revision;
        r
    };
    let not_member = evil("STRANGER", 1).seal(&stranger);
    let mut foreign = sample_record("dlut", "HIJACK", "被冒充的仪器");
    foreign.revision = 99;
    let wrong_owner = foreign.seal(&rogue_key);
    let mut tampered = evil("TAMPERED", 3);
    tampered.name_zh = "AAAA".into();
    let mut bad_signature = tampered.seal(&rogue_key);
    let at = bad_signature.windows(4).position(|w| w == b"AAAA").unwrap();
    bad_signature[at..at + 4].copy_from_slice(b"BBBB");
    let newer = evil("REPLAY", 2).seal(&rogue_key);
    let older = evil("REPLAY", 1).seal(&rogue_key);
    let mut oversized = evil("BIG", 4).seal(&rogue_key);
    oversized.resize(alliance_protocol::limits::MAX_GOSSIP_BYTES + 1, 0);
    // Its sync page carries the oversized entry, and a checkpoint of another origin.
    let forged_checkpoint = alliance_protocol::checkpoint::Checkpoint {
        origin: "dlut".parse().unwrap(),
        revision: 1_000,
        slots: 0,
        digest: [0; 32],
    }
    .seal(&rogue_key);
    let page = SyncResponse {
        entries: vec![oversized],
        next: None,
        checkpoints: vec![forged_checkpoint],
    };

    let (orders, orders_rx) = mpsc::channel(16);
    let (ready_tx, mut ready) = mpsc::channel(1);
    let target: Multiaddr = bootstrap_of(&member)[0].parse().unwrap();
    let rogue = tokio::spawn(run_rogue(
        rogue_key,
        Hello {
            certificate: cert.encode(),
            roster_version: 0,
            head: Vec::new(),
        },
        target,
        member.peer_id(),
        page,
        orders_rx,
        ready_tx,
    ));
    tokio::time::timeout(DEADLINE, ready.recv())
        .await
        .expect("the member never admitted the rogue")
        .unwrap();

    for bytes in [not_member, wrong_owner, bad_signature, newer] {
        orders.send(Order::Publish(bytes)).await.unwrap();
    }
    wait_catalogue(&member, "the genuine newer record arrives", |c| {
        c.instrument("evil/REPLAY")
            .is_some_and(|v| v.record.revision == 2)
    })
    .await;
    let catalogue = member.catalogue().clone();
    let content = catalogue.content_generation();
    let directory = catalogue.key_directory();
    orders.send(Order::Publish(older)).await.unwrap();

    let mut changes = catalogue.changes();
    let counted = tokio::time::timeout(DEADLINE, async {
        loop {
            let s = catalogue.stats();
            if s.not_member >= 1
                && s.wrong_owner >= 1
                && s.bad_signature >= 1
                && s.oversized >= 1
                && s.stale >= 1
            {
                return s;
            }
            changes.changed().await.unwrap();
        }
    })
    .await
    .unwrap_or_else(|_| panic!("not every refusal was counted: {:?}", catalogue.stats()));
    assert!(counted.accepted >= 1);
    // Refusals are counted, but what the catalogue shows did not change: answers cached
    // on it (searches, results) stay valid through a flood of refused or stale gossip.
    // (Who may sign is content too: a membership refresh meanwhile, such as the rogue's
    // connection ending, is a change of its own.)
    assert!(
        catalogue.content_generation() == content || *catalogue.key_directory() != *directory,
        "refused gossip changed the content generation"
    );

    let held: Vec<(String, u64)> = catalogue_of(&member);
    assert_eq!(
        held,
        [("evil/REPLAY".to_owned(), 2)],
        "only the genuine record entered"
    );
    assert!(catalogue.instrument("dlut/HIJACK").is_none());

    drop(orders);
    rogue.abort();
    member.shutdown().await;
    province.shutdown().await;
}
