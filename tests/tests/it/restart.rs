//! A node keeps its identity, accounts and roster across a restart.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use alliance_node::Node;
use alliance_tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_accounts_and_roster_survive_a_restart() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let config = certified_member(dir.path(), &province, "neu", bootstrap_of(&province)).await;

    let first = Node::start(config.clone()).await.unwrap();
    let peer = first.peer_id();
    let state = wait_state(&first, "joined", |s| {
        s.members.len() == 1 && s.roster_version > 0
    })
    .await;
    first.shutdown().await;

    let second = Node::start(config).await.unwrap();
    assert_eq!(second.peer_id(), peer, "the node key must persist");
    assert!(
        second.net().state().roster_version >= state.roster_version,
        "the roster must be reloaded from disk before any peer is met"
    );
    second.accounts().login("admin", PASSWORD).await.unwrap();
    wait_state(&second, "rejoined", |s| s.members.len() == 1).await;
    second.shutdown().await;
    province.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_reconnect_after_the_province_restarts() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let province_config = province.config().clone();
    let mut config = certified_member(dir.path(), &province, "dlut", bootstrap_of(&province)).await;
    config.network.redial_interval = std::time::Duration::from_millis(500);
    let member = Node::start(config).await.unwrap();
    wait_state(&member, "joined", |s| s.members.len() == 1).await;

    // Restart the province on the same address.
    let addr = bootstrap_of(&province)[0].clone();
    province.shutdown().await;
    wait_state(&member, "province gone", |s| s.members.is_empty()).await;
    let mut again = province_config;
    let listen = addr.split("/p2p/").next().unwrap().to_owned();
    again.network.listen = vec![listen];
    let province = Node::start(again).await.unwrap();
    wait_state(&member, "reconnected", |s| s.members.len() == 1).await;
    member.shutdown().await;
    province.shutdown().await;
}
