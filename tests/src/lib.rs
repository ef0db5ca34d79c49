//! Helpers for the alliance's multi-node tests: a province and members started in one
//! process on loopback port 0, and waits on state changes and events with deadlines —
//! never fixed ports, never sleeps.

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod browser;
pub mod fixtures;
pub mod hosts;
pub mod http;
pub mod mail_catcher;
pub mod multihost;
pub mod node_api;
pub mod rogue;
pub mod webhook_catcher;

use std::{path::Path, time::Duration};

use alliance_node::{
    Node, NodeHandle,
    catalogue::Catalogue,
    init::{self, InitOptions},
    net::{MeshState, NetEvent},
};
use alliance_protocol::{InstrumentRecord, PublicKey, Role, armor};
use tokio::sync::{broadcast, watch};

/// Default deadline for anything a test waits for.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// The password of every test account.
pub const PASSWORD: &str = "test-password-123";

/// Logs to the test output when `RUST_LOG` is set.
pub fn trace() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

fn options(
    dir: &Path,
    id: &str,
    role: Role,
    root: Option<PublicKey>,
    bootstrap: Vec<String>,
) -> InitOptions {
    InitOptions {
        role,
        institution_id: id.parse().unwrap(),
        name_zh: format!("{id} 测试单位"),
        name_en: format!("{id} test institution"),
        region: "辽宁省".into(),
        data_dir: dir.join(id),
        root_public_key: root,
        p2p_listen: vec!["/ip4/127.0.0.1/tcp/0".into()],
        bootstrap,
        http_listen: ([127, 0, 0, 1], 0).into(),
        admin_username: "admin".into(),
        admin_password: PASSWORD.into(),
    }
}

/// A swarm over TCP (noise, yamux) with `key`, whose behaviour `make` builds from the
/// key, closing connections idle for `idle`: how every hand-driven peer of the tests is
/// made.
pub fn tcp_swarm<B: libp2p::swarm::NetworkBehaviour>(
    key: libp2p::identity::Keypair,
    idle: Duration,
    make: impl FnOnce(&libp2p::identity::Keypair) -> B,
) -> libp2p::Swarm<B> {
    libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(
            libp2p::tcp::Config::default().nodelay(true),
            libp2p::noise::Config::new,
            libp2p::yamux::Config::default,
        )
        .expect("a TCP transport")
        .with_behaviour(make)
        .expect("the behaviour")
        .with_swarm_config(|c| c.with_idle_connection_timeout(idle))
        .build()
}

/// Sets up and starts a province node in `dir/<id>`.
pub async fn start_province(dir: &Path, id: &str) -> NodeHandle {
    start_province_with(dir, id, |_| {}).await
}

/// Like [`start_province`], with `adjust` applied to the config first.
pub async fn start_province_with(
    dir: &Path,
    id: &str,
    adjust: impl FnOnce(&mut alliance_node::Config),
) -> NodeHandle {
    let done = init::init(options(dir, id, Role::Aggregator, None, vec![]))
        .await
        .unwrap();
    let mut config = done.config;
    fast_timers(&mut config);
    adjust(&mut config);
    Node::start(config).await.unwrap()
}

/// The TCP addresses of a node, for bootstrapping others.
pub fn bootstrap_of(node: &NodeHandle) -> Vec<String> {
    node.p2p_addrs()
        .into_iter()
        .map(|a| a.to_string())
        .filter(|a| a.contains("/tcp/"))
        .collect()
}

/// Sets up a member in `dir/<id>`, has `province` certify it (publishing the new roster),
/// and returns its config, not yet started.
pub async fn certified_member(
    dir: &Path,
    province: &NodeHandle,
    id: &str,
    bootstrap: Vec<String>,
) -> alliance_node::Config {
    let root = province.config().alliance.root_public_key;
    let done = init::init(options(dir, id, Role::Member, Some(root), bootstrap))
        .await
        .unwrap();
    let authority = province.province().expect("province node");
    let (cert, roster) = authority
        .issue(alliance_node::province::IssueRequest {
            institution_id: id.parse().unwrap(),
            name_zh: format!("{id} 测试单位"),
            name_en: format!("{id} test institution"),
            region: "辽宁省".into(),
            node_public_key: done.node_public_key,
            role: Role::Member,
            valid_days: 30,
            member_since: None,
        })
        .await
        .unwrap();
    std::fs::write(
        done.config.certificate_path(),
        armor::encode(armor::CERTIFICATE_LABEL, &cert.encode()),
    )
    .unwrap();
    province.net().offer_roster(roster.encode()).await.unwrap();
    let mut config = done.config;
    fast_timers(&mut config);
    config
}

/// Shorter handshake grace and announcement interval, so tests see them happen quickly.
pub fn fast_timers(config: &mut alliance_node::Config) {
    config.alliance.handshake_grace = Duration::from_secs(2);
    config.network.announce_interval = Duration::from_millis(500);
    config.network.redial_interval = Duration::from_secs(1);
    config.catalogue.sync_interval = Duration::from_secs(2);
    config.catalogue.revision_wait = Duration::from_secs(3);
    config.booking.retry_interval = Duration::from_millis(500);
    // Tests book days ahead of whenever they run: a public holiday then must not refuse
    // them (holidays have tests of their own).
    config.booking.close_on_public_holidays = false;
}

/// A valid record of `institution` (category 0102, mass spectrometers).
pub fn sample_record(institution: &str, local_id: &str, name_zh: &str) -> InstrumentRecord {
    let mut record = InstrumentRecord::new(
        institution.parse().unwrap(),
        local_id.into(),
        name_zh.into(),
    );
    record.name_en = format!("Instrument {local_id}");
    record.classification_code = "0102".into();
    record.location.city = "沈阳市".into();
    record.original_value_fen = 50_000_000;
    record
}

/// What a node's catalogue shows: (id, revision) of every visible record, sorted.
pub fn catalogue_of(node: &NodeHandle) -> Vec<(String, u64)> {
    node.catalogue()
        .records()
        .iter()
        .map(|r| (r.id.clone(), r.revision))
        .collect()
}

/// Waits until `predicate` holds for the node's catalogue.
pub async fn wait_catalogue(
    node: &NodeHandle,
    what: &str,
    mut predicate: impl FnMut(&Catalogue) -> bool,
) {
    let catalogue = node.catalogue().clone();
    let mut changes = catalogue.changes();
    let reached = tokio::time::timeout(DEADLINE, async {
        loop {
            if predicate(&catalogue) {
                return;
            }
            if changes.changed().await.is_err() {
                panic!("{what}: catalogue closed");
            }
        }
    })
    .await;
    if reached.is_err() {
        panic!(
            "{what}: not reached within {DEADLINE:?}; catalogue: {:?}",
            catalogue_of(node)
        );
    }
}

/// Sets up, certifies and starts a member bootstrapped from the province.
pub async fn start_member(dir: &Path, province: &NodeHandle, id: &str) -> NodeHandle {
    start_member_with(dir, province, id, |_| {}).await
}

/// [`start_member`], with `tweak` applied to its config before it starts.
pub async fn start_member_with(
    dir: &Path,
    province: &NodeHandle,
    id: &str,
    tweak: impl FnOnce(&mut alliance_node::Config),
) -> NodeHandle {
    let mut config = certified_member(dir, province, id, bootstrap_of(province)).await;
    tweak(&mut config);
    Node::start(config).await.unwrap()
}

/// Waits until the node's mesh state satisfies `predicate`.
pub async fn wait_state(
    node: &NodeHandle,
    what: &str,
    predicate: impl FnMut(&MeshState) -> bool,
) -> MeshState {
    let mut rx: watch::Receiver<MeshState> = node.net().watch();
    match tokio::time::timeout(DEADLINE, rx.wait_for(predicate)).await {
        Ok(Ok(state)) => state.clone(),
        Ok(Err(_)) => panic!("{what}: network task ended"),
        Err(_) => panic!(
            "{what}: not reached within {DEADLINE:?}; state: {:#?}",
            node.net().state()
        ),
    }
}

/// Waits for an event matching `predicate` on a receiver subscribed earlier.
pub async fn wait_event(
    rx: &mut broadcast::Receiver<NetEvent>,
    what: &str,
    mut predicate: impl FnMut(&NetEvent) -> bool,
) -> NetEvent {
    let found = tokio::time::timeout(DEADLINE, async {
        loop {
            match rx.recv().await {
                Ok(event) if predicate(&event) => return event,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => panic!("{what}: events closed"),
            }
        }
    })
    .await;
    found.unwrap_or_else(|_| panic!("{what}: no such event within {DEADLINE:?}"))
}

/// The institutions a node is connected to, sorted.
pub fn connected_institutions(state: &MeshState) -> Vec<String> {
    state
        .members
        .iter()
        .map(|m| m.certificate.institution_id.to_string())
        .collect()
}

/// Waits until `predicate` holds for the node's receipts (checked on every change).
pub async fn wait_receipts(
    node: &NodeHandle,
    what: &str,
    mut predicate: impl FnMut(&alliance_node::receipts::Receipts) -> bool,
) {
    let receipts = node.receipts().clone();
    let mut changes = receipts.changes();
    let reached = tokio::time::timeout(DEADLINE, async {
        loop {
            if predicate(&receipts) {
                return;
            }
            if changes.changed().await.is_err() {
                panic!("{what}: receipts closed");
            }
        }
    })
    .await;
    if reached.is_err() {
        panic!(
            "{what}: not reached within {DEADLINE:?}; waiting {:?}, proven {:?}",
            receipts.waiting(),
            receipts.proven()
        );
    }
}
