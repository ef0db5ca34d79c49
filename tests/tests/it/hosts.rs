//! Faults across real hosts: `alliance` processes in network namespaces joined by veth
//! links (tests/src/hosts.rs), which the scenarios cut, partition and heal.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use alliance_tests::{DEADLINE, hosts::NodeProcess, multihost::Alliance, node_api::*, trace};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_partition_heals_every_catalogue_converges() {
    trace();
    let alliance = Alliance::start(6).await;
    let members = &alliance.members;
    let mut expected: Vec<(String, String)> = Vec::new();
    for node in members {
        publish(node, "XPS-1", &format!("{} 能谱仪", node.name)).await;
        expected.push((
            format!("{}/XPS-1", node.name),
            format!("{} 能谱仪", node.name),
        ));
    }
    let everyone: Vec<&NodeProcess> = std::iter::once(&alliance.province).chain(members).collect();
    converge(&everyone, &expected, DEADLINE * 2).await;

    // Province and three members on one side, three members on the other.
    let (a, b) = ([0, 1, 2, 3], [4, 5, 6]);
    alliance.hosts.partition(&a, &b);
    for node in members {
        let renamed = format!("{} 能谱仪（分区中修订）", node.name);
        publish(node, "XPS-1", &renamed).await;
        for entry in &mut expected {
            if entry.0 == format!("{}/XPS-1", node.name) {
                entry.1 = renamed.clone();
            }
        }
    }
    for node in &members[3..] {
        publish(node, "NMR-2", &format!("{} 核磁", node.name)).await;
        expected.push((
            format!("{}/NMR-2", node.name),
            format!("{} 核磁", node.name),
        ));
    }
    // Each side sees its own side's edits while cut off from the other.
    let side_a: Vec<&NodeProcess> = everyone[..4].to_vec();
    let own_a: Vec<(String, String)> = expected
        .iter()
        .filter(|(id, _)| {
            members[..3]
                .iter()
                .any(|m| id.starts_with(&format!("{}/", m.name)))
        })
        .cloned()
        .collect();
    converge(&side_a, &own_a, DEADLINE * 2).await;
    let side_b: Vec<&NodeProcess> = everyone[4..].to_vec();
    let own_b: Vec<(String, String)> = expected
        .iter()
        .filter(|entry| !own_a.contains(entry))
        .cloned()
        .collect();
    converge(&side_b, &own_b, DEADLINE * 2).await;
    // ...and not the other side's: the partition is real.
    let client = reqwest::Client::new();
    for node in &side_b {
        for (id, name) in &own_a {
            assert_ne!(
                name_at(&client, node, id).await.as_deref(),
                Some(name.as_str())
            );
        }
    }

    alliance.hosts.heal_partition(&a, &b);
    converge(&everyone, &expected, DEADLINE * 4).await;
}

/// Whether the province's log holds `count` receipts, each once.
async fn logged_once(province: &NodeProcess, count: usize) -> bool {
    let mut ids = logged(province).await;
    let logged = ids.len();
    ids.sort();
    ids.dedup();
    logged == count && ids.len() == count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_province_restored_from_a_backup_reuses_no_serial_and_its_revocations_reach_everyone() {
    trace();
    // The log is checked every two seconds.
    let mut alliance = Alliance::start_tweaked(4, 2, |config| {
        config.receipts.log_check_interval = Duration::from_secs(2);
    })
    .await;
    for node in &alliance.members {
        alliance.add_user(node, "staff", "researcher");
    }
    let client = reqwest::Client::new();
    let names: Vec<String> = alliance.members.iter().map(|m| m.name.clone()).collect();
    for node in &alliance.members {
        let others = names.iter().filter(|n| **n != node.name).count();
        until(
            &format!("{} meets every member", node.name),
            DEADLINE * 2,
            || async {
                connected(&client, node)
                    .await
                    .is_some_and(|c| c.len() > others)
            },
        )
        .await;
    }
    // Each member's instrument reaches the province, and one receipt each is logged.
    for node in &alliance.members {
        publish(node, "XPS-1", &format!("{} 能谱仪", node.name)).await;
    }
    let ids: Vec<(String, String)> = alliance
        .members
        .iter()
        .map(|m| (format!("{}/XPS-1", m.name), format!("{} 能谱仪", m.name)))
        .collect();
    converge(&[&alliance.province], &ids, DEADLINE * 2).await;
    for node in &alliance.members {
        walk_in(node, 0).await;
        confirm_all(node).await;
    }
    for node in &alliance.members {
        until(
            &format!("{}'s first receipt is logged", node.name),
            DEADLINE * 2,
            || async { proven(node).await == 1 },
        )
        .await;
    }
    // A backup of the province, taken while it is stopped.
    let backup = alliance.dir.path().join("province-backup");
    alliance.province.kill();
    alliance.province.snapshot(&backup);
    alliance.province.start(&alliance.hosts);
    alliance.province.wait_ready().await;
    // Two institutions join after the backup. (Serial 1 is the province's own, then
    // the members' in order: dlut's is 2.)
    let first = retried("certify a spare", || alliance.certify_spare(0)).await;
    let second = retried("certify a spare", || alliance.certify_spare(1)).await;
    assert_eq!((first, second), (6, 7));
    let dlut_serial = 2;
    for n in 0..2 {
        alliance.spares[n].start(&alliance.hosts);
        alliance.spares[n].wait_ready().await;
    }
    let dlut = &alliance.members[0];
    until("dlut meets both newcomers", DEADLINE * 2, || async {
        connected(&client, dlut)
            .await
            .is_some_and(|c| c.contains(&"lnu".to_owned()) && c.contains(&"dlmu".to_owned()))
    })
    .await;

    // A second receipt each, logged after the backup.
    for node in &alliance.members {
        walk_in(node, 1).await;
        confirm_all(node).await;
    }
    for node in &alliance.members {
        until(
            &format!("{}'s second receipt is logged", node.name),
            DEADLINE * 2,
            || async { proven(node).await == 2 },
        )
        .await;
    }

    // The province is restored from the backup, which knows serials 1 to 5 and the
    // first four receipts only. One member is away meanwhile: the first, whose second
    // receipt is early in the log the others go on to grow.
    alliance.members[0].kill();
    alliance.province.kill();
    alliance.province.restore(&backup);
    alliance.province.start(&alliance.hosts);
    alliance.province.wait_ready().await;
    // The members there see the log went back, raise the alarm, and submit what it lost
    // again; then each logs a third receipt, so the log grows past the size the absent
    // member verified (eight entries at most) with entries it never saw.
    let province = &alliance.province;
    until(
        "the others' receipts are logged again, once",
        DEADLINE * 3,
        || logged_once(province, 7),
    )
    .await;
    for node in &alliance.members[1..] {
        walk_in(node, 2).await;
        confirm_all(node).await;
    }
    until(
        "the others' third receipts are logged",
        DEADLINE * 2,
        || async { logged(province).await.len() == 10 },
    )
    .await;
    // Back, the absent member finds a larger log that contradicts the one it verified:
    // its receipt lost with the restore is submitted again too.
    alliance.members[0].start(&alliance.hosts);
    alliance.members[0].wait_ready().await;
    let province = &alliance.province;
    until("every receipt is logged again, once", DEADLINE * 3, || {
        logged_once(province, 11)
    })
    .await;
    for node in &alliance.members {
        let (cookie, _) = admin(node).await;
        let status = get_json(node, "api/v1/manage/receipts", &cookie)
            .await
            .expect("the issued receipts");
        // Both of its receipts went again (the province gave the first its place back).
        assert_eq!(
            status["log"]["alarm"]["resubmitted"], 2,
            "{}: {status}",
            node.name
        );
    }
    // As an operator would, wait until the restored province is connected again and
    // holds the members' roster (which names the two newcomers its backup never knew).
    let newest: u64 = status_of(&client, &alliance.members[1]).await["roster_version"]
        .as_u64()
        .unwrap();
    until(
        "the restored province learns the members' roster",
        DEADLINE * 2,
        || async { status_of(&client, province).await["roster_version"].as_u64() == Some(newest) },
    )
    .await;
    // Revoking dlut: every member, newcomers included, cuts dlut off.
    retried("revoke dlut", || alliance.revoke(dlut_serial)).await;
    let others: Vec<&NodeProcess> = alliance.members[1..]
        .iter()
        .chain(&alliance.spares)
        .collect();
    for node in &others {
        until(
            &format!("{} disconnects dlut", node.name),
            DEADLINE,
            || async {
                connected(&client, node)
                    .await
                    .is_some_and(|c| !c.contains(&"dlut".to_owned()))
            },
        )
        .await;
    }
    // No serial is reused: the next certificate comes after those issued before the restore.
    let third = retried("certify again", || alliance.certify_spare(1)).await;
    assert!(third > second, "serial {third} reused after the restore");
}
