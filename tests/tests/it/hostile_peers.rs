//! A node on a public address against hostile peers, with real nodes on loopback: a
//! certified member that replays the roster or floods records is graylisted while an
//! honest edit still reaches every member within a second; records past an origin's
//! hourly quota are refused; cancels of unknown bookings stay under a fixed cap; one
//! address gets no more connections than its limit, and one connection no more open
//! request streams than its limit.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use alliance_node::{
    NodeHandle,
    net::{NetEvent, behaviour::KAD_PROTOCOL, gossip_params::GRAYLIST_THRESHOLD, topics},
};
use alliance_protocol::{
    SecretKey, UnixTime,
    booking::BookingCancel,
    rpc::{Hello, Request, Response},
};
use alliance_tests::{
    rogue::{Rogue, certify, padded},
    *,
};
use futures::StreamExt;
use libp2p::{Multiaddr, PeerId, swarm::SwarmEvent};

/// An honest edit must reach every other member this fast, whatever the rogue does.
const EDIT_DEADLINE: Duration = Duration::from_secs(1);
/// The rogue must be graylisted this fast.
const GRAYLIST_DEADLINE: Duration = Duration::from_secs(10);

fn target(node: &NodeHandle) -> (Multiaddr, PeerId) {
    (bootstrap_of(node)[0].parse().unwrap(), node.peer_id())
}

/// The province and two members, each connected to the other two.
async fn alliance(
    dir: &std::path::Path,
    tweak: impl Fn(&mut alliance_node::Config) + Copy,
) -> [NodeHandle; 3] {
    let province = start_province_with(dir, "lnsti", tweak).await;
    let dlut = start_member_with(dir, &province, "dlut", tweak).await;
    let neu = start_member_with(dir, &province, "neu", tweak).await;
    for node in [&province, &dlut, &neu] {
        wait_state(node, "a full mesh", |s| s.members.len() == 2).await;
    }
    [province, dlut, neu]
}

/// `neu` saves a record and it must be on `others` within [`EDIT_DEADLINE`].
async fn honest_edit_arrives(neu: &NodeHandle, others: &[&NodeHandle], local_id: &str) {
    neu.catalogue()
        .save_record(sample_record("neu", local_id, "扫描电子显微镜"))
        .await
        .unwrap();
    let saved = Instant::now();
    let id = format!("neu/{local_id}");
    for node in others {
        let catalogue = node.catalogue().clone();
        let mut changes = catalogue.changes();
        let left = EDIT_DEADLINE.saturating_sub(saved.elapsed());
        let arrived = tokio::time::timeout(left, async {
            while !catalogue.has_instrument(&id) {
                changes.changed().await.unwrap();
            }
        })
        .await;
        assert!(
            arrived.is_ok(),
            "the honest edit did not reach {} within {EDIT_DEADLINE:?}",
            node.certificate().institution_id
        );
    }
}

/// Waits until `node` reports `peer` graylisted, then checks its score and that no
/// honest peer of `node` fell as low.
async fn graylisted(
    node: &NodeHandle,
    events: &mut tokio::sync::broadcast::Receiver<NetEvent>,
    peer: PeerId,
) {
    let seen = tokio::time::timeout(
        GRAYLIST_DEADLINE,
        wait_event(
            events,
            "the rogue graylisted",
            |e| matches!(e, NetEvent::Graylisted { peer: p, .. } if *p == peer),
        ),
    )
    .await;
    assert!(
        seen.is_ok(),
        "{} did not graylist the rogue within {GRAYLIST_DEADLINE:?}; scores {:?}",
        node.certificate().institution_id,
        node.net().peer_scores().await.unwrap()
    );
    let scores = node.net().peer_scores().await.unwrap();
    for (p, score) in scores {
        if p == peer {
            assert!(score < GRAYLIST_THRESHOLD, "rogue score {score}");
        } else {
            assert!(score > GRAYLIST_THRESHOLD, "an honest peer scored {score}");
        }
    }
}

/// A certified member replays the province's roster as fast as it can (padded so that
/// the copies do not look alike, and also unchanged): only the province may author a
/// roster, so every copy is refused before it is decoded, the rogue's score falls
/// through the graylist threshold, and gossip keeps flowing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_replaying_the_roster_is_graylisted_and_honest_edits_still_arrive() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let [province, dlut, neu] = alliance(dir.path(), |_| {}).await;
    let rogue_key = SecretKey::generate();
    let (cert, roster) = certify(&province, &rogue_key, &[&dlut, &neu]).await;
    let mut province_events = province.net().events();
    let mut dlut_events = dlut.net().events();
    let rogue = Rogue::start(
        &rogue_key,
        Hello {
            certificate: cert.encode(),
            roster_version: roster.roster().version,
            head: Vec::new(),
        },
        vec![target(&province), target(&dlut)],
        vec![topics::roster()],
    )
    .await;
    let rogue_peer = rogue.peer_id;

    let signed = roster.encode();
    let flood = tokio::spawn(async move {
        let mut pace = tokio::time::interval(Duration::from_millis(10));
        for n in 0u32..3_000 {
            pace.tick().await;
            // Half the copies padded with an unknown field so their bytes are new.
            let copy = if n % 2 == 0 {
                padded(&signed, n)
            } else {
                signed.clone()
            };
            rogue.publish(topics::roster(), copy).await;
        }
        rogue
    });

    honest_edit_arrives(&neu, &[&province, &dlut], "SEM-1").await;
    graylisted(&province, &mut province_events, rogue_peer).await;
    graylisted(&dlut, &mut dlut_events, rogue_peer).await;
    // Once graylisted the rogue costs nothing, and edits still flow.
    honest_edit_arrives(&neu, &[&province, &dlut], "SEM-2").await;
    assert_eq!(
        dlut.net().state().roster_version,
        roster.roster().version,
        "nothing of the replay was installed"
    );

    flood.abort();
    for node in [province, dlut, neu] {
        node.shutdown().await;
    }
}

/// A certified member publishes far more of its own, genuinely signed, records than its
/// hourly quota: the excess is refused and counted, the rogue is graylisted, and an
/// honest edit still reaches every member within a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_flooding_records_past_its_quota_is_refused_and_graylisted() {
    trace();
    const QUOTA: u32 = 20;
    const FLOOD: u64 = 300;
    let dir = tempfile::tempdir().unwrap();
    let [province, dlut, neu] = alliance(dir.path(), |c| {
        c.catalogue.gossip_records_per_hour = QUOTA;
    })
    .await;
    let rogue_key = SecretKey::generate();
    let (cert, roster) = certify(&province, &rogue_key, &[&dlut, &neu]).await;
    let mut province_events = province.net().events();
    let mut dlut_events = dlut.net().events();
    let rogue = Rogue::start(
        &rogue_key,
        Hello {
            certificate: cert.encode(),
            roster_version: roster.roster().version,
            head: Vec::new(),
        },
        vec![target(&province), target(&dlut)],
        vec![topics::catalogue()],
    )
    .await;
    let rogue_peer = rogue.peer_id;

    let records: Vec<Vec<u8>> = (1..=FLOOD)
        .map(|n| {
            let mut record = sample_record("evil", &format!("F{n}"), "液相色谱仪");
            record.revision = n;
            record.seal(&rogue_key)
        })
        .collect();
    let flood = tokio::spawn(async move {
        let mut pace = tokio::time::interval(Duration::from_millis(10));
        for bytes in records {
            pace.tick().await;
            rogue.publish(topics::catalogue(), bytes).await;
        }
        rogue
    });

    honest_edit_arrives(&neu, &[&province, &dlut], "SEM-1").await;
    graylisted(&province, &mut province_events, rogue_peer).await;
    graylisted(&dlut, &mut dlut_events, rogue_peer).await;
    honest_edit_arrives(&neu, &[&province, &dlut], "SEM-2").await;

    for node in [&province, &dlut] {
        let stats = node.catalogue().stats();
        assert!(stats.over_quota >= 1, "{stats:?}");
        let evil = node
            .catalogue()
            .records()
            .iter()
            .filter(|r| r.id.starts_with("evil/"))
            .count();
        // Each node took at most its quota from gossip; anti-entropy between the two
        // may have brought the other's.
        assert!(
            evil <= 2 * QUOTA as usize,
            "{evil} of the rogue's records held"
        );
    }

    flood.abort();
    for node in [province, dlut, neu] {
        node.shutdown().await;
    }
}

/// A member sends an owner 200 cancels of bookings that do not exist: the owner
/// remembers at most its cap of them for that member; a cancel naming an instrument the
/// owner does not have is refused outright.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancels_of_unknown_bookings_stay_under_a_fixed_cap_at_the_owner() {
    trace();
    const CAP: u32 = 16;
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let owner = start_member_with(dir.path(), &province, "dlut", |c| {
        c.booking.remembered_cancels_per_home = CAP;
    })
    .await;
    wait_state(&owner, "dlut joined", |s| s.members.len() == 1).await;
    owner
        .catalogue()
        .save_record(sample_record("dlut", "XRD-1", "X射线衍射仪"))
        .await
        .unwrap();
    let rogue_key = SecretKey::generate();
    let (cert, roster) = certify(&province, &rogue_key, &[&owner]).await;
    let rogue = Rogue::start(
        &rogue_key,
        Hello {
            certificate: cert.encode(),
            roster_version: roster.roster().version,
            head: Vec::new(),
        },
        vec![target(&owner)],
        vec![],
    )
    .await;
    let cancel = |booking_id: String, local_id: &str| {
        BookingCancel {
            booking_id,
            institution_id: "dlut".parse().unwrap(),
            local_id: local_id.into(),
            user_id: "x".into(),
            reason: String::new(),
            sent_at: UnixTime::now(),
        }
        .seal(&rogue_key)
    };
    let evil = "evil".parse().unwrap();
    let mut remembered = 0;
    for round in 0..4 {
        let answers = futures::future::join_all((0..50).map(|n| {
            rogue.ask(
                owner.peer_id(),
                Request::Mail(cancel(format!("ghost-{round}-{n}"), "XRD-1")),
            )
        }))
        .await;
        remembered += answers
            .iter()
            .filter(|a| matches!(a, Some(Response::Mail(_))))
            .count();
        assert!(owner.bookings().ledger().remembered_cancels(&evil) <= CAP as usize);
    }
    assert!(
        remembered >= 100,
        "most cancels were answered: {remembered}"
    );
    assert_eq!(
        owner.bookings().ledger().remembered_cancels(&evil),
        CAP as usize
    );
    let refused = rogue
        .ask(
            owner.peer_id(),
            Request::Mail(cancel("ghost-x".into(), "NO-SUCH-1")),
        )
        .await;
    assert!(
        matches!(&refused, Some(Response::Error(e)) if e.code == "unknown_instrument"),
        "{refused:?}"
    );

    rogue.stop();
    owner.shutdown().await;
    province.shutdown().await;
}

/// Plain hosts dial a node from one address: past `max_connections_per_ip` their
/// connections are refused as they are set up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_gets_no_more_connections_than_its_limit() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let node = start_province_with(dir.path(), "lnsti", |c| {
        c.network.max_connections_per_ip = 2;
        // The hosts never prove membership; keep them connected meanwhile.
        c.alliance.handshake_grace = Duration::from_secs(120);
    })
    .await;
    let addr: Multiaddr = bootstrap_of(&node)[0].parse().unwrap();
    let mut hosts = Vec::new();
    let mut outcomes = Vec::new();
    for _ in 0..4 {
        let mut host = tcp_swarm(
            libp2p::identity::Keypair::generate_ed25519(),
            Duration::from_secs(120),
            |_| libp2p::swarm::dummy::Behaviour,
        );
        host.dial(addr.clone()).unwrap();
        let connected = tokio::time::timeout(DEADLINE, async {
            loop {
                match host.select_next_some().await {
                    SwarmEvent::ConnectionEstablished { .. } => return true,
                    SwarmEvent::OutgoingConnectionError { .. } => return false,
                    _ => {}
                }
            }
        })
        .await
        .expect("the dial neither succeeded nor failed");
        outcomes.push(connected);
        // Keep every connection open while the next host dials.
        hosts.push(tokio::spawn(async move {
            loop {
                host.select_next_some().await;
            }
        }));
    }
    assert_eq!(outcomes, [true, true, false, false]);
    for host in hosts {
        host.abort();
    }
    node.shutdown().await;
}

/// What the stranger below runs: the DHT, and the rpc protocol only so that the node's
/// handshake waits for an answer instead of dropping it at once.
#[derive(libp2p::swarm::NetworkBehaviour)]
#[allow(missing_debug_implementations)]
struct Stranger {
    kad: libp2p::kad::Behaviour<libp2p::kad::store::MemoryStore>,
    rpc: libp2p::request_response::Behaviour<alliance_node::net::codec::RpcCodec>,
}

/// A stranger, during the handshake's grace (it holds the node's hello unanswered),
/// stores a record in the node's DHT and asks for it back: the node keeps no
/// records from peers, so the lookup finds nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_cannot_store_records_in_a_nodes_dht() {
    use libp2p::{StreamProtocol, kad, request_response};
    trace();
    let dir = tempfile::tempdir().unwrap();
    let node = start_province(dir.path(), "lnsti").await;
    let (addr, peer) = target(&node);
    let mut stranger = tcp_swarm(
        libp2p::identity::Keypair::generate_ed25519(),
        Duration::from_secs(10),
        |k| {
            let me = k.public().to_peer_id();
            let config = kad::Config::new(StreamProtocol::new(KAD_PROTOCOL));
            Stranger {
                kad: kad::Behaviour::with_config(me, kad::store::MemoryStore::new(me), config),
                rpc: request_response::Behaviour::new(
                    [(
                        StreamProtocol::new(alliance_protocol::rpc::RPC_PROTOCOL),
                        request_response::ProtocolSupport::Full,
                    )],
                    request_response::Config::default(),
                ),
            }
        },
    );
    stranger
        .behaviour_mut()
        .kad
        .set_mode(Some(kad::Mode::Client));
    stranger.behaviour_mut().kad.add_address(&peer, addr);
    let key = kad::RecordKey::new(&"evil");
    stranger
        .behaviour_mut()
        .kad
        .put_record(
            kad::Record::new(key.clone(), vec![7; 8_000]),
            kad::Quorum::One,
        )
        .unwrap();

    let mut held_hellos = Vec::new();
    let found = tokio::time::timeout(DEADLINE, async {
        let mut asked = false;
        loop {
            let event = match stranger.select_next_some().await {
                SwarmEvent::Behaviour(StrangerEvent::Rpc(request_response::Event::Message {
                    message: request_response::Message::Request { channel, .. },
                    ..
                })) => {
                    held_hellos.push(channel);
                    continue;
                }
                SwarmEvent::Behaviour(StrangerEvent::Kad(event)) => event,
                _ => continue,
            };
            let kad::Event::OutboundQueryProgressed { result, step, .. } = event else {
                continue;
            };
            match result {
                kad::QueryResult::PutRecord(put) => {
                    assert!(put.is_ok(), "the node did not answer the put: {put:?}");
                    // Forget the local copy, so the lookup can only be answered remotely.
                    stranger.behaviour_mut().kad.remove_record(&key);
                    stranger.behaviour_mut().kad.get_record(key.clone());
                    asked = true;
                }
                kad::QueryResult::GetRecord(Ok(kad::GetRecordOk::FoundRecord(_))) => {
                    return true;
                }
                kad::QueryResult::GetRecord(_) if asked && step.last => return false,
                _ => {}
            }
        }
    })
    .await
    .expect("the lookup did not finish");
    assert!(!found, "the node kept and served the stranger's record");
    node.shutdown().await;
}

/// A request of the peer below: one that stalls after the first byte of its length (the
/// node waits for the rest), or a real one.
#[derive(Debug, Clone)]
enum Probe {
    Stall,
    Real(Request),
}

/// The codec of a peer that holds streams open on the node: [`Probe::Stall`] sends one
/// byte of a two-byte length and then nothing; everything else is the real codec.
#[derive(Debug, Clone, Default)]
struct StallingCodec;

impl libp2p::request_response::Codec for StallingCodec {
    type Protocol = libp2p::StreamProtocol;
    type Request = Probe;
    type Response = Response;

    async fn read_request<T>(&mut self, p: &Self::Protocol, io: &mut T) -> std::io::Result<Probe>
    where
        T: futures::AsyncRead + Unpin + Send,
    {
        let mut real = alliance_node::net::codec::RpcCodec;
        libp2p::request_response::Codec::read_request(&mut real, p, io)
            .await
            .map(Probe::Real)
    }

    async fn read_response<T>(
        &mut self,
        p: &Self::Protocol,
        io: &mut T,
    ) -> std::io::Result<Response>
    where
        T: futures::AsyncRead + Unpin + Send,
    {
        let mut real = alliance_node::net::codec::RpcCodec;
        libp2p::request_response::Codec::read_response(&mut real, p, io).await
    }

    async fn write_request<T>(
        &mut self,
        p: &Self::Protocol,
        io: &mut T,
        request: Probe,
    ) -> std::io::Result<()>
    where
        T: futures::AsyncWrite + Unpin + Send,
    {
        use futures::AsyncWriteExt;
        match request {
            Probe::Stall => {
                io.write_all(&[0x80]).await?;
                io.flush().await?;
                futures::future::pending().await
            }
            Probe::Real(request) => {
                let mut real = alliance_node::net::codec::RpcCodec;
                libp2p::request_response::Codec::write_request(&mut real, p, io, request).await
            }
        }
    }

    async fn write_response<T>(
        &mut self,
        p: &Self::Protocol,
        io: &mut T,
        response: Response,
    ) -> std::io::Result<()>
    where
        T: futures::AsyncWrite + Unpin + Send,
    {
        let mut real = alliance_node::net::codec::RpcCodec;
        libp2p::request_response::Codec::write_response(&mut real, p, io, response).await
    }
}

/// A peer holding 40 streams open on one connection, each stalled mid-request: the node
/// keeps at most [`RPC_STREAMS_PER_CONNECTION`] and drops further ones unread, so what one
/// connection can make it buffer is bounded (libp2p's default would take 100). Its next
/// real request is dropped too, while an honest connection is answered as usual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_holding_streams_open_gets_no_more_than_the_limit_per_connection() {
    use alliance_node::net::behaviour::RPC_STREAMS_PER_CONNECTION;
    use libp2p::{StreamProtocol, request_response};
    trace();
    let dir = tempfile::tempdir().unwrap();
    let node = start_province_with(dir.path(), "lnsti", |c| {
        // The peer never proves membership; keep it connected meanwhile.
        c.alliance.handshake_grace = Duration::from_secs(120);
    })
    .await;
    let (addr, peer) = target(&node);
    let mut holder = tcp_swarm(
        libp2p::identity::Keypair::generate_ed25519(),
        Duration::from_secs(120),
        |_| {
            request_response::Behaviour::with_codec(
                StallingCodec,
                [(
                    StreamProtocol::new(alliance_protocol::rpc::RPC_PROTOCOL),
                    request_response::ProtocolSupport::Full,
                )],
                request_response::Config::default()
                    .with_request_timeout(Duration::from_secs(120))
                    .with_max_concurrent_streams(1_000),
            )
        },
    );
    holder.add_peer_address(peer, addr);
    let stalls = RPC_STREAMS_PER_CONNECTION + 8;
    for _ in 0..stalls {
        holder.behaviour_mut().send_request(&peer, Probe::Stall);
    }

    // A real request on the same connection, asked again whenever it is answered (the
    // node may not have taken every stalled stream yet), until one is dropped unread.
    let mut held_hellos = Vec::new();
    let mut answered = 0;
    let mut real = holder
        .behaviour_mut()
        .send_request(&peer, Probe::Real(Request::Roster));
    let failure = tokio::time::timeout(DEADLINE, async {
        loop {
            let request_response::Event::<Probe, Response>::Message { message, .. } =
                (match holder.select_next_some().await {
                    SwarmEvent::Behaviour(request_response::Event::OutboundFailure {
                        request_id,
                        error,
                        ..
                    }) if request_id == real => return error,
                    SwarmEvent::Behaviour(event) => event,
                    _ => continue,
                })
            else {
                continue;
            };
            match message {
                // The node's own hello: held unanswered, as a stranger would.
                request_response::Message::Request { channel, .. } => held_hellos.push(channel),
                request_response::Message::Response { request_id, .. } if request_id == real => {
                    answered += 1;
                    real = holder
                        .behaviour_mut()
                        .send_request(&peer, Probe::Real(Request::Roster));
                }
                request_response::Message::Response { .. } => {}
            }
        }
    })
    .await
    .expect("the node kept answering on a connection holding more streams than its limit");
    tracing::info!(answered, %failure, "real request dropped");
    assert!(
        matches!(
            failure,
            request_response::OutboundFailure::Io(_)
                | request_response::OutboundFailure::UnsupportedProtocols
        ),
        "{failure}"
    );

    // An honest connection is untouched: another member's node is still answered.
    let dlut = start_member(dir.path(), &node, "dlut").await;
    wait_state(&dlut, "connected to the province", |s| s.members.len() == 1).await;
    dlut.shutdown().await;
    node.shutdown().await;
}
