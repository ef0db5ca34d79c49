//! Catalogue replication between real nodes on loopback: gossip, anti-entropy from any
//! peer, partitions, and the revision counter after a restore from backup.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use alliance_node::{Node, NodeHandle};
use alliance_tests::*;

async fn save(node: &NodeHandle, local_id: &str, name: &str) -> u64 {
    let institution = node.config().node.institution_id.to_string();
    node.catalogue()
        .save_record(sample_record(&institution, local_id, name))
        .await
        .unwrap()
        .revision
}

async fn wait_same(nodes: &[&NodeHandle], want: &[(String, u64)], what: &str) {
    for node in nodes {
        let label = format!("{what} on {}", node.config().node.institution_id);
        wait_catalogue(node, &label, |_| catalogue_of(node) == want).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_nodes_converge_after_edits_on_three_of_them() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let mut members = Vec::new();
    for id in ["dlut", "neu", "imr", "lnu"] {
        members.push(start_member(dir.path(), &province, id).await);
    }
    for member in &members {
        wait_state(member, "mesh", |s| s.members.len() == 4).await;
    }

    for (i, member) in members.iter().take(3).enumerate() {
        for n in 0..5 {
            save(
                member,
                &format!("I{i}-{n}"),
                &format!("液相色谱-质谱联用仪 {n}"),
            )
            .await;
        }
    }
    // An update and a deletion, too.
    save(&members[0], "I0-1", "气相色谱-质谱联用仪").await;
    members[1].catalogue().delete_record("I1-4").await.unwrap();

    // What the three editors hold of their own institutions is the truth.
    let mut want = Vec::new();
    for member in members.iter().take(3) {
        let own = format!("{}/", member.config().node.institution_id);
        want.extend(
            catalogue_of(member)
                .into_iter()
                .filter(|(id, _)| id.starts_with(&own)),
        );
    }
    want.sort();
    assert_eq!(want.len(), 14, "15 records, one deleted: {want:?}");
    let mut all: Vec<&NodeHandle> = members.iter().collect();
    all.push(&province);
    wait_same(&all, &want, "all five converge").await;
    let updated = members[3].catalogue().instrument("dlut/I0-1").unwrap();
    assert_eq!(updated.record.name_zh, "气相色谱-质谱联用仪");
    assert!(members[3].catalogue().instrument("neu/I1-4").is_none());

    for member in members {
        member.shutdown().await;
    }
    province.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_joiner_catches_up_from_a_peer_while_the_origin_is_offline() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let origin = start_member(dir.path(), &province, "dlut").await;
    let relay = start_member(dir.path(), &province, "neu").await;
    for n in 0..12 {
        save(&origin, &format!("R{n}"), "电感耦合等离子体质谱仪").await;
    }
    let want = catalogue_of(&origin);
    wait_same(
        &[&relay, &province],
        &want,
        "replicated before the origin leaves",
    )
    .await;
    origin.shutdown().await;

    // The late joiner knows only the relay.
    let config = certified_member(dir.path(), &province, "imr", bootstrap_of(&relay)).await;
    let late = Node::start(config).await.unwrap();
    wait_same(&[&late], &want, "late joiner caught up").await;
    assert!(
        late.net()
            .state()
            .members
            .iter()
            .all(|m| m.certificate.institution_id.as_str() != "dlut"),
        "the origin was offline"
    );
    late.shutdown().await;
    relay.shutdown().await;
    province.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_sides_of_a_healed_partition_converge() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let west = start_member(dir.path(), &province, "dlut").await;
    // The other side: two members that know only each other.
    let east1 = Node::start(certified_member(dir.path(), &province, "neu", vec![]).await)
        .await
        .unwrap();
    let east2 =
        Node::start(certified_member(dir.path(), &province, "imr", bootstrap_of(&east1)).await)
            .await
            .unwrap();
    wait_state(&east2, "east side joined", |s| s.members.len() == 1).await;

    for n in 0..4 {
        save(&west, &format!("W{n}"), "扫描电子显微镜").await;
        save(&east1, &format!("E{n}"), "透射电子显微镜").await;
    }
    save(&east2, "E-imr", "X射线衍射仪").await;
    wait_catalogue(&east2, "east side shares", |c| c.records().len() == 5).await;
    assert!(
        catalogue_of(&east2)
            .iter()
            .all(|(id, _)| !id.starts_with("dlut/")),
        "the partition leaked"
    );

    // Heal: one east node reaches the province.
    let province_addr = bootstrap_of(&province)[0].parse().unwrap();
    east1.net().dial(province_addr).await.unwrap();
    let mut want = catalogue_of(&west);
    want.extend(catalogue_of(&east2));
    want.sort();
    assert_eq!(want.len(), 9);
    wait_same(&[&province, &west, &east1, &east2], &want, "healed").await;

    for node in [west, east1, east2, province] {
        node.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_restored_from_an_old_backup_never_reuses_a_revision() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let config = certified_member(dir.path(), &province, "dlut", bootstrap_of(&province)).await;
    let data = config.store_path();
    let backup = dir.path().join("dlut-backup");

    let member = Node::start(config.clone()).await.unwrap();
    save(&member, "A", "核磁共振波谱仪").await;
    member.shutdown().await;
    copy_dir(&data, &backup);

    let member = Node::start(config.clone()).await.unwrap();
    for n in 0..3 {
        save(&member, &format!("B{n}"), "核磁共振波谱仪").await;
    }
    let issued = member.catalogue().own_revision();
    assert!(issued >= 4, "four records at least: {issued}");
    wait_catalogue(&province, "province holds every revision", |c| {
        c.records().len() == 4 && c.revision_of(&"dlut".parse().unwrap()) == issued
    })
    .await;
    member.shutdown().await;

    // Restore the old backup (it knows only revision 1) and edit again.
    std::fs::rename(&data, dir.path().join("dlut-newer")).unwrap();
    copy_dir(&backup, &data);
    let restored = Node::start(config).await.unwrap();
    let revision = save(&restored, "C", "核磁共振波谱仪").await;
    assert!(
        revision > issued,
        "revision {revision} reused after a restore (issued up to {issued})"
    );
    assert_eq!(
        catalogue_of(&restored).len(),
        5,
        "own records came back from the peer"
    );
    restored.shutdown().await;
    province.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_restored_while_its_peers_are_away_never_reuses_a_revision() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let province_config = province.config().clone();
    let province_addr = bootstrap_of(&province)[0].clone();
    let mut config = certified_member(dir.path(), &province, "dlut", bootstrap_of(&province)).await;
    config.network.redial_interval = std::time::Duration::from_millis(500);
    let data = config.store_path();
    let backup = dir.path().join("dlut-backup");

    let member = Node::start(config.clone()).await.unwrap();
    save(&member, "A", "核磁共振波谱仪").await;
    member.shutdown().await;
    copy_dir(&data, &backup);
    let member = Node::start(config.clone()).await.unwrap();
    for n in 0..3 {
        save(&member, &format!("B{n}"), "核磁共振波谱仪").await;
    }
    let issued = member.catalogue().own_revision();
    let dlut: alliance_protocol::InstitutionId = "dlut".parse().unwrap();
    wait_catalogue(&province, "province holds every revision", |c| {
        c.records().len() == 4 && c.revision_of(&dlut) == issued
    })
    .await;
    member.shutdown().await;
    province.shutdown().await;

    // Restored with no peer to hand its newer entries back: the edit waits for one, then
    // goes on past the clock instead of reissuing revision 2.
    std::fs::rename(&data, dir.path().join("dlut-newer")).unwrap();
    copy_dir(&backup, &data);
    let restored = Node::start(config).await.unwrap();
    let revision = save(&restored, "C", "核磁共振波谱仪").await;
    assert!(
        revision > issued,
        "revision {revision} reused after a restore (issued up to {issued})"
    );

    // The province comes back: each side gets what it lacks, no revision names two
    // entries, and the province's watermark crosses the skipped revisions through the
    // origin's checkpoint.
    let mut again = province_config;
    again.network.listen = vec![province_addr.split("/p2p/").next().unwrap().to_owned()];
    let province = Node::start(again).await.unwrap();
    wait_catalogue(&restored, "own records handed back", |_| {
        catalogue_of(&restored).len() == 5
    })
    .await;
    wait_catalogue(&province, "the new record reaches the province", |_| {
        catalogue_of(&province) == catalogue_of(&restored)
    })
    .await;
    let revisions: std::collections::BTreeSet<u64> =
        catalogue_of(&province).iter().map(|(_, r)| *r).collect();
    assert_eq!(revisions.len(), 5, "{:?}", catalogue_of(&province));
    wait_catalogue(&province, "the watermark crosses the gap", |c| {
        c.sync_request(None, 1)
            .have
            .iter()
            .any(|h| h.origin == dlut && h.revision >= revision)
    })
    .await;
    restored.shutdown().await;
    province.shutdown().await;
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_members_records_disappear_from_search() {
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let dlut = start_member(dir.path(), &province, "dlut").await;
    let neu = start_member(dir.path(), &province, "neu").await;
    save(&dlut, "MS-1", "液相色谱-质谱联用仪").await;
    save(&neu, "MS-2", "气相色谱-质谱联用仪").await;
    wait_catalogue(&neu, "both records on neu", |c| c.records().len() == 2).await;
    let query = alliance_node::catalogue::SearchRequest {
        query: alliance_node::catalogue::search::IndexQuery {
            text: "质谱".into(),
            ..Default::default()
        },
        free_between: None,
        offset: 0,
        limit: 10,
    };
    assert_eq!(neu.catalogue().search(&query).unwrap().total, 2);

    let serial = dlut.certificate().serial;
    let roster = province.province().unwrap().revoke(serial).await.unwrap();
    province.net().offer_roster(roster.encode()).await.unwrap();
    let version = roster.roster().version;
    wait_state(&neu, "revocation reaches neu", |s| {
        s.roster_version >= version
    })
    .await;
    wait_catalogue(&neu, "dlut's record hidden", |c| c.records().len() == 1).await;
    let results = neu.catalogue().search(&query).unwrap();
    assert_eq!(results.total, 1);
    assert_eq!(results.items[0].record.id(), "neu/MS-2");
    assert!(neu.catalogue().instrument("dlut/MS-1").is_none());

    for node in [neu, dlut, province] {
        node.shutdown().await;
    }
}

/// A certified member hands a new node an old version of one of dlut's records, with
/// dlut's genuine checkpoint and everything else: the new node's watermark stays where
/// it was, so its next sync, with an honest peer, brings the newest version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_withholding_a_newer_version_cannot_make_a_new_node_skip_it() {
    use alliance_protocol::rpc::{Hello, Request, Response, SyncRequest};
    trace();
    let dir = tempfile::tempdir().unwrap();
    let province = start_province(dir.path(), "lnsti").await;
    let dlut = start_member(dir.path(), &province, "dlut").await;
    let neu = start_member(dir.path(), &province, "neu").await;
    let origin: alliance_protocol::InstitutionId = "dlut".parse().unwrap();
    save(&dlut, "XPS-1", "能谱仪").await;
    let old_version = dlut.catalogue().signed_records(&origin).unwrap().remove(0);
    save(&dlut, "XPS-1", "X射线光电子能谱仪").await;
    save(&dlut, "NMR-1", "核磁共振波谱仪").await;
    let newest = catalogue_of(&dlut);
    wait_catalogue(&neu, "neu holds dlut's newest", |_| {
        catalogue_of(&neu) == newest
    })
    .await;

    // The rogue takes an honest page from neu and swaps XPS-1 back to its old version.
    let rogue_key = alliance_protocol::SecretKey::generate();
    let (cert, roster) = rogue::certify(&province, &rogue_key, &[&dlut, &neu]).await;
    let hello = Hello {
        certificate: cert.encode(),
        roster_version: 0,
        head: Vec::new(),
    };
    let neu_addr: libp2p::Multiaddr = bootstrap_of(&neu)[0].parse().unwrap();
    let asker = rogue::Rogue::start(
        &rogue_key,
        hello.clone(),
        vec![(neu_addr.clone(), neu.peer_id())],
        vec![],
    )
    .await;
    // Once neu relays dlut's checkpoint of everything it did (dlut signs one whenever
    // it serves a page and has moved since): a sync of neu's with dlut brings it (a few
    // rounds, for a sync that was already running when the last edit landed).
    let dlut_revision = dlut.catalogue().own_revision();
    let mut neu_events = neu.net().events();
    let mut page = None;
    for _ in 0..5 {
        let request = Request::Sync(SyncRequest {
            have: vec![],
            after: None,
            limit: 1_000,
        });
        let Some(Response::Sync(answer)) = asker.ask(neu.peer_id(), request).await else {
            panic!("neu served no page");
        };
        let newest_checkpoint = answer.checkpoints.iter().any(|c| {
            alliance_protocol::checkpoint::UnverifiedCheckpoint::decode_stored(c)
                .is_ok_and(|c| c.origin == origin && c.revision == dlut_revision)
        });
        if newest_checkpoint {
            page = Some(answer);
            break;
        }
        neu.net().sync_now().await.unwrap();
        wait_event(&mut neu_events, "neu's sync with dlut", |e| {
            matches!(e, alliance_node::net::NetEvent::CatalogueSynced { peer, .. } if *peer == dlut.peer_id())
        })
        .await;
    }
    let mut page = page.expect("neu never relayed dlut's newest checkpoint");
    asker.stop();
    let newest_bytes = dlut.catalogue().signed_records(&origin).unwrap();
    let xps = newest_bytes
        .iter()
        .find(|b| {
            alliance_protocol::UnverifiedEntry::decode_stored(b)
                .is_ok_and(|e| e.slot() == "i/XPS-1")
        })
        .unwrap()
        .clone();
    let swapped = page.entries.iter().position(|e| *e == xps).unwrap();
    page.entries[swapped] = old_version;
    assert!(
        !page.checkpoints.is_empty(),
        "the page carries dlut's checkpoint"
    );

    // A new node whose first peer is the rogue.
    let config = certified_member(dir.path(), &province, "imr", vec![]).await;
    let fresh = alliance_node::Node::start(config).await.unwrap();
    // It holds a roster (as from its setup), so it knows whose signatures to take.
    fresh.net().offer_roster(roster.encode()).await.unwrap();
    let mut events = fresh.net().events();
    let fresh_addr: libp2p::Multiaddr = bootstrap_of(&fresh)[0].parse().unwrap();
    let rogue = rogue::Rogue::start_serving(
        &rogue_key,
        hello,
        vec![(fresh_addr, fresh.peer_id())],
        vec![],
        page,
    )
    .await;
    wait_event(&mut events, "the sync with the rogue", |e| {
        matches!(e, alliance_node::net::NetEvent::CatalogueSynced { peer, .. } if *peer == rogue.peer_id)
    })
    .await;
    let taken = catalogue_of(&fresh);
    assert_eq!(
        taken.len(),
        newest.len(),
        "the rogue's page was taken: {taken:?}"
    );
    assert_ne!(taken, newest, "the rogue's old version was taken");

    // One sync with an honest peer brings the newest version.
    fresh.net().dial(neu_addr).await.unwrap();
    wait_event(&mut events, "the sync with neu", |e| {
        matches!(e, alliance_node::net::NetEvent::CatalogueSynced { peer, .. } if *peer == neu.peer_id())
    })
    .await;
    assert_eq!(catalogue_of(&fresh), newest);
    rogue.stop();
    for node in [fresh, neu, dlut, province] {
        node.shutdown().await;
    }
}
