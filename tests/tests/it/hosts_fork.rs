//! A province that shows one history to half the members and another to the rest,
//! across real hosts: every member raises the alarm.
//!
//! The fork is made as an operator could make one: a copy of the province's data taken
//! at one moment serves half the members, while the original went on with the other
//! half. The second half never talks to the original: it can only learn of the other
//! history from its peers, which is what the witnesses are for.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use alliance_tests::{DEADLINE, hosts::NodeProcess, multihost::Alliance, node_api::*, trace};

/// Whether `node`'s log watch raised the alarm.
async fn alarmed(node: &NodeProcess) -> bool {
    let (cookie, _) = admin(node).await;
    get_json(node, "api/v1/manage/receipts", &cookie)
        .await
        .is_some_and(|view| !view["log"]["alarm"].is_null())
}

/// One more receipt of each of `nodes`, logged (`n` says which walk-in).
async fn one_receipt_each(nodes: &[NodeProcess], n: i64) {
    for node in nodes {
        walk_in(node, n).await;
        confirm_all(node).await;
    }
    for node in nodes {
        until(
            &format!("{}'s receipt {n} is logged", node.name),
            DEADLINE * 2,
            || async { proven(node).await == n as u64 + 1 },
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_province_showing_two_histories_is_caught_by_every_member() {
    trace();
    let mut alliance = Alliance::start_tweaked(4, 0, |config| {
        config.receipts.log_check_interval = Duration::from_secs(2);
    })
    .await;
    let client = reqwest::Client::new();
    let names: Vec<String> = alliance.members.iter().map(|m| m.name.clone()).collect();
    for node in &alliance.members {
        alliance.add_user(node, "staff", "researcher");
        publish(node, "XPS-1", &format!("{} 能谱仪", node.name)).await;
    }
    let ids: Vec<(String, String)> = names
        .iter()
        .map(|n| (format!("{n}/XPS-1"), format!("{n} 能谱仪")))
        .collect();
    converge(&[&alliance.province], &ids, DEADLINE * 2).await;
    for node in &alliance.members {
        until(
            &format!("{} meets every member", node.name),
            DEADLINE * 2,
            || async {
                connected(&client, node)
                    .await
                    .is_some_and(|c| names.iter().all(|n| *n == node.name || c.contains(n)))
            },
        )
        .await;
    }
    one_receipt_each(&alliance.members, 0).await;

    // The copy the fork will start from.
    let copy = alliance.dir.path().join("province-copy");
    alliance.province.kill();
    alliance.province.snapshot(&copy);
    alliance.province.start(&alliance.hosts);
    alliance.province.wait_ready().await;

    // Hosts: the province is 0, members 1 to 4. The first half goes on with the
    // original while the second half is away.
    let first: Vec<usize> = vec![1, 2];
    let second: Vec<usize> = vec![3, 4];
    let province_and = |half: &[usize]| -> Vec<usize> {
        let mut all = vec![0];
        all.extend_from_slice(half);
        all
    };
    alliance.hosts.partition(&second, &province_and(&first));
    one_receipt_each(&alliance.members[..2], 1).await;

    // The copy serves the second half while the first is away: another history.
    // One switch, never a moment when the halves meet: the first half loses the
    // province before the copy starts (it never sees the copy, so never raises the alarm
    // and tells anyone while apart), then the second half gets it.
    alliance.province.kill();
    alliance.hosts.partition(&first, &[0]);
    alliance.province.restore(&copy);
    alliance.province.start(&alliance.hosts);
    alliance.province.wait_ready().await;
    alliance.hosts.heal_partition(&second, &[0]);
    one_receipt_each(&alliance.members[2..], 1).await;
    for node in &alliance.members[2..] {
        assert!(!alarmed(node).await, "{} saw nothing wrong yet", node.name);
    }

    // Everyone meets again: within two minutes every member shows the alarm, the
    // second half only through the heads the first half witnessed.
    alliance
        .hosts
        .heal_partition(&first, &province_and(&second));
    for node in &alliance.members {
        until(
            &format!("{} raises the alarm", node.name),
            Duration::from_secs(120),
            || alarmed(node),
        )
        .await;
    }
}
