//! The membership-gated mesh: real libp2p nodes on loopback in one process.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use alliance_node::{
    identity,
    net::{NetEvent, behaviour::Behaviour, topics},
};
use alliance_protocol::{
    MembershipCertificate, NodeAnnouncement, Role, SecretKey, UnixTime,
    rpc::{Hello, Request},
};
use alliance_tests::*;
use futures::StreamExt;
use libp2p::{Multiaddr, gossipsub, swarm::SwarmEvent};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_nodes_form_a_verified_mesh_and_a_revoked_member_is_cut_off() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let a = start_member(dir.path(), &province, "dlut").await;
    let b = start_member(dir.path(), &province, "neu").await;
    let c = start_member(dir.path(), &province, "imr").await;
    let nodes = [&province, &a, &b, &c];

    // Members find each other through the province's DHT, not only the province.
    for node in nodes {
        let state = wait_state(node, "full mesh", |s| {
            s.members.len() == 3 && s.roster_version >= 4
        })
        .await;
        let mut expected: Vec<String> = ["dlut", "imr", "lnsti", "neu"]
            .into_iter()
            .filter(|id| *id != node.certificate().institution_id.as_str())
            .map(String::from)
            .collect();
        expected.sort();
        assert_eq!(connected_institutions(&state), expected);
        // Every other member's signed announcement is accepted, through gossip.
        let seen = wait_state(node, "announcements", |s| s.seen.len() == 3).await;
        let announced: Vec<String> = seen.seen.keys().map(ToString::to_string).collect();
        assert_eq!(announced, expected);
    }

    // Revoke imr: every other node drops it.
    let serial = c.certificate().serial;
    let roster = province.province().unwrap().revoke(serial).await.unwrap();
    province.net().offer_roster(roster.encode()).await.unwrap();
    for node in [&province, &a, &b] {
        let state = wait_state(node, "imr dropped", |s| {
            s.members.iter().all(|m| m.certificate.serial != serial)
                && s.roster_version == roster.roster().version
        })
        .await;
        assert_eq!(state.members.len(), 2);
    }
    wait_state(&c, "imr isolated", |s| s.members.is_empty()).await;

    for node in [province, a, b, c] {
        node.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_certified_by_another_root_is_refused() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let mut events = province.net().events();
    // An impostor alliance: its own root, its own certificate, pointed at our province.
    let impostor_dir = dir.path().join("impostor");
    let other = start_province(&impostor_dir, "fake").await;
    other
        .net()
        .dial(bootstrap_of(&province)[0].parse().unwrap())
        .await
        .unwrap();
    let impostor = other.peer_id();
    wait_event(
        &mut events,
        "impostor refused",
        |e| matches!(e, NetEvent::PeerRefused { peer, .. } if *peer == impostor),
    )
    .await;
    wait_state(&other, "impostor disconnected", |s| s.members.is_empty()).await;
    assert!(province.net().state().members.is_empty());
    province.shutdown().await;
    other.shutdown().await;
}

/// A raw libp2p peer that speaks the alliance protocols but holds a certificate from
/// another root: it is disconnected, and the gossip it sends in the meantime is rejected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gossip_from_a_non_member_is_rejected_and_it_is_disconnected() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let member = start_member(dir.path(), &province, "dlut").await;
    wait_state(&member, "member joined", |s| s.members.len() == 1).await;
    let mut events = member.net().events();

    let rogue_key = SecretKey::generate();
    let fake_root = SecretKey::generate();
    let forged_cert = MembershipCertificate {
        institution_id: "dlut".parse().unwrap(),
        name_zh: "冒充".into(),
        name_en: "impersonator".into(),
        region: String::new(),
        node_public_key: rogue_key.public(),
        role: Role::Member,
        serial: 1,
        not_before: UnixTime(0),
        not_after: UnixTime::now().plus_days(1),
    }
    .sign(&fake_root);
    let mut swarm = tcp_swarm(
        identity::keypair(&rogue_key),
        Duration::from_secs(60),
        |key| Behaviour::new(key, "rogue/1".into()).unwrap(),
    );
    swarm
        .behaviour_mut()
        .gossipsub
        .subscribe(&topics::announce())
        .unwrap();
    let target: Multiaddr = bootstrap_of(&member)[0].parse().unwrap();
    swarm.dial(target).unwrap();
    let rogue_peer = *swarm.local_peer_id();
    let member_peer = member.peer_id();

    let mut published = false;
    let rogue = tokio::time::timeout(DEADLINE, async {
        loop {
            match swarm.select_next_some().await {
                SwarmEvent::Behaviour(
                    alliance_node::net::behaviour::BehaviourEvent::Gossipsub(
                        gossipsub::Event::Subscribed { peer_id, topic },
                    ),
                ) if peer_id == member_peer && topic == topics::announce().hash() && !published => {
                    let announcement = NodeAnnouncement {
                        institution_id: "dlut".parse().unwrap(),
                        sent_at: UnixTime::now(),
                        roster_version: 99,
                        listen_addrs: vec![],
                        agent: "rogue/1".into(),
                    };
                    swarm
                        .behaviour_mut()
                        .gossipsub
                        .publish(topics::announce(), announcement.seal(&rogue_key))
                        .unwrap();
                    published = true;
                    // Only now show the forged certificate, so the gossip above arrives
                    // while the member is still waiting for proof of membership.
                    swarm.behaviour_mut().rpc.send_request(
                        &peer_id,
                        Request::Hello(Hello {
                            certificate: forged_cert.encode(),
                            roster_version: 0,
                            head: Vec::new(),
                        }),
                    );
                }
                SwarmEvent::ConnectionClosed {
                    peer_id,
                    num_established: 0,
                    ..
                } if peer_id == member_peer => {
                    return published;
                }
                _ => {}
            }
        }
    })
    .await
    .expect("the member never disconnected the rogue peer");
    assert!(rogue, "the rogue peer never got to publish");

    let (mut gossip_rejected, mut refused) = (false, false);
    while !(gossip_rejected && refused) {
        match wait_event(&mut events, "rogue rejected and refused", |_| true).await {
            NetEvent::GossipRejected { source, .. } if source == rogue_peer => {
                gossip_rejected = true
            }
            NetEvent::PeerRefused { peer, .. } if peer == rogue_peer => refused = true,
            _ => {}
        }
    }
    let state = member.net().state();
    assert!(state.members.iter().all(|m| m.peer_id != rogue_peer));
    assert!(
        state.seen.values().all(|s| s.peer_id != rogue_peer),
        "the rogue's announcement was accepted: {:?}",
        state.seen
    );
    member.shutdown().await;
    province.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_of_ones_own_institution_for_another_key_raises_an_alarm_there() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let dlut = start_member(dir.path(), &province, "dlut").await;
    let neu = start_member(dir.path(), &province, "neu").await;
    wait_state(&dlut, "dlut meets neu", |s| s.members.len() == 2).await;
    assert!(dlut.net().state().impostors.is_empty());

    // The root key misused: a second "dlut" certificate, for a key dlut does not hold.
    let (forged, roster) = province
        .province()
        .unwrap()
        .issue(alliance_node::province::IssueRequest {
            institution_id: "dlut".parse().unwrap(),
            name_zh: "大连理工大学".into(),
            name_en: "Dalian University of Technology".into(),
            region: String::new(),
            node_public_key: SecretKey::generate().public(),
            role: Role::Member,
            valid_days: 30,
            member_since: None,
        })
        .await
        .unwrap();
    province.net().offer_roster(roster.encode()).await.unwrap();
    let state = wait_state(&dlut, "dlut sees the impostor", |s| !s.impostors.is_empty()).await;
    assert_eq!(state.impostors[0].serial, forged.certificate().serial);
    // It is dlut's alarm, on its status; neu has nothing to say about it.
    let status: serde_json::Value = reqwest::get(format!("{}api/v1/status", dlut.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        status["impostors"][0]["serial"],
        forged.certificate().serial
    );
    wait_state(&neu, "neu installs the roster", |s| {
        s.roster_version == roster.roster().version
    })
    .await;
    assert!(neu.net().state().impostors.is_empty());
    neu.shutdown().await;
    dlut.shutdown().await;
    province.shutdown().await;
}

/// The province's root signs a certificate for dlut with another key and hands it out in
/// secret, without the roster that would show it to every member: members refuse it,
/// whatever roster version its holder claims.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_the_province_never_published_is_refused() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let member = start_member(dir.path(), &province, "neu").await;
    wait_state(&member, "member joined", |s| s.members.len() == 1).await;
    let impostor_key = SecretKey::generate();
    let (secret, _unpublished) = province
        .province()
        .unwrap()
        .issue(alliance_node::province::IssueRequest {
            institution_id: "dlut".parse().unwrap(),
            name_zh: "大连理工大学".into(),
            name_en: "Dalian University of Technology".into(),
            region: "辽宁省".into(),
            node_public_key: impostor_key.public(),
            role: Role::Member,
            valid_days: 30,
            member_since: None,
        })
        .await
        .unwrap();
    let target: Multiaddr = bootstrap_of(&member)[0].parse().unwrap();
    let member_peer = member.peer_id();
    let mut events = member.net().events();
    // Claiming the roster it holds is older, then that it is newer (asked for it, it has
    // none to show): refused both times.
    for claimed in [0, 99] {
        let mut swarm = tcp_swarm(
            identity::keypair(&impostor_key),
            Duration::from_secs(60),
            |key| Behaviour::new(key, "impostor/1".into()).unwrap(),
        );
        swarm.dial(target.clone()).unwrap();
        let impostor_peer = *swarm.local_peer_id();
        let hello = Hello {
            certificate: secret.encode(),
            roster_version: claimed,
            head: Vec::new(),
        };
        let driven = tokio::spawn(async move {
            loop {
                match swarm.select_next_some().await {
                    SwarmEvent::ConnectionEstablished { peer_id, .. } if peer_id == member_peer => {
                        swarm
                            .behaviour_mut()
                            .rpc
                            .send_request(&peer_id, Request::Hello(hello.clone()));
                    }
                    SwarmEvent::Behaviour(alliance_node::net::behaviour::BehaviourEvent::Rpc(
                        libp2p::request_response::Event::Message {
                            message: libp2p::request_response::Message::Request { channel, .. },
                            ..
                        },
                    )) => {
                        // "Your roster?" — it has none that lists it.
                        let _ = swarm
                            .behaviour_mut()
                            .rpc
                            .send_response(channel, alliance_protocol::rpc::Response::Roster(None));
                    }
                    _ => {}
                }
            }
        });
        let refused = wait_event(
            &mut events,
            "the impostor is refused",
            |e| matches!(e, NetEvent::PeerRefused { peer, .. } if *peer == impostor_peer),
        )
        .await;
        driven.abort();
        let NetEvent::PeerRefused { reason, .. } = refused else {
            unreachable!()
        };
        assert!(reason.contains("roster"), "claimed {claimed}: {reason}");
        let state = member.net().state();
        assert!(state.members.iter().all(|m| m.peer_id != impostor_peer));
    }
    member.shutdown().await;
    province.shutdown().await;
}
