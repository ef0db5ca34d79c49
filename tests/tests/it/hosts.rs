//! Faults across real hosts: `alliance` processes in network namespaces joined by veth
//! links (tests/src/hosts.rs), which the scenarios cut, partition and heal.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use alliance_tests::{
    DEADLINE, PASSWORD, hosts::NodeProcess, multihost::Alliance, sample_record, trace,
};

/// The node's administrator's session: its `Cookie` header and CSRF token. (A node on
/// a non-loopback address marks its cookie `Secure`, which a client keeping cookies
/// would not send back over plain HTTP; the harness has no TLS, so it sends it itself.)
async fn admin(node: &NodeProcess) -> (String, String) {
    session_of(node, "admin").await
}

/// `username`'s session at `node`: its `Cookie` header and CSRF token.
async fn session_of(node: &NodeProcess, username: &str) -> (String, String) {
    let answer = reqwest::Client::new()
        .post(format!("{}api/v1/session", node.url))
        .json(&serde_json::json!({ "username": username, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    let cookie = answer
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("alliance_session="))
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_owned();
    let session: serde_json::Value = answer.json().await.unwrap();
    (cookie, session["csrf_token"].as_str().unwrap().to_owned())
}

/// Publishes (or revises) `local_id` at its owner, named `name_zh`, through the API.
async fn publish(node: &NodeProcess, local_id: &str, name_zh: &str) {
    let (cookie, csrf) = admin(node).await;
    let mut record = sample_record(&node.name, local_id, name_zh);
    record.opening_hours = "每天 全天".into();
    let input = alliance_web::instrument_input::InstrumentInput::from_record(&record);
    let answer = reqwest::Client::new()
        .put(format!("{}api/v1/own/instruments/{local_id}", node.url))
        .header(reqwest::header::COOKIE, cookie)
        .header("X-CSRF-Token", csrf)
        .json(&input)
        .send()
        .await
        .unwrap();
    assert!(
        answer.status().is_success(),
        "{}: {}",
        answer.status(),
        answer.text().await.unwrap_or_default()
    );
}

/// The name `node` shows for instrument `id`, if it holds it.
async fn name_at(client: &reqwest::Client, node: &NodeProcess, id: &str) -> Option<String> {
    let answer = client
        .get(format!("{}api/v1/instruments/{id}", node.url))
        .send()
        .await
        .ok()?;
    if !answer.status().is_success() {
        return None;
    }
    let detail: serde_json::Value = answer.json().await.ok()?;
    detail["record"]["name_zh"].as_str().map(str::to_owned)
}

/// Waits until every node in `nodes` shows every `(id, name)` of `expected`.
async fn converge(nodes: &[&NodeProcess], expected: &[(String, String)], within: Duration) {
    let client = reqwest::Client::new();
    let reached = tokio::time::timeout(within, async {
        let mut ticks = tokio::time::interval(Duration::from_millis(500));
        loop {
            ticks.tick().await;
            let mut all = true;
            'nodes: for node in nodes {
                for (id, name) in expected {
                    if name_at(&client, node, id).await.as_deref() != Some(name.as_str()) {
                        all = false;
                        break 'nodes;
                    }
                }
            }
            if all {
                return;
            }
        }
    })
    .await;
    if reached.is_err() {
        let mut seen = String::new();
        for node in nodes {
            for (id, name) in expected {
                let at = name_at(&client, node, id).await;
                if at.as_deref() != Some(name.as_str()) {
                    seen.push_str(&format!("{} shows {id} as {at:?}, not {name}\n", node.name));
                }
            }
        }
        panic!("not converged within {within:?}:\n{seen}");
    }
}

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

/// Records walk-in session `n` (one minute, `n` × 2 minutes after 50 minutes ago) of one
/// of `node`'s own staff on its XPS-1, through the API: the owner issues its receipt.
async fn walk_in(node: &NodeProcess, n: i64) {
    let (cookie, csrf) = admin(node).await;
    let minute = |offset: i64| {
        (chrono::Utc::now() + chrono::Duration::minutes(offset))
            .with_timezone(&chrono_tz::Asia::Shanghai)
            .format("%Y-%m-%dT%H:%M")
            .to_string()
    };
    let answer = reqwest::Client::new()
        .post(format!("{}api/v1/manage/sessions", node.url))
        .header(reqwest::header::COOKIE, cookie)
        .header("X-CSRF-Token", csrf)
        .json(&serde_json::json!({
            "local_id": "XPS-1",
            "user_id": "staff",
            "user_name": "职工",
            "home": node.name,
            "tier": "own_institution",
            "mode": "staff_run",
            "facts": {
                "start": minute(-50 + 2 * n),
                "end": minute(-49 + 2 * n),
                "preparation_minutes": 0,
                "test_minutes": 1,
                "post_processing_minutes": 0,
                "samples": 1,
                "note": "",
            },
        }))
        .send()
        .await
        .unwrap();
    assert!(
        answer.status().is_success(),
        "{}: {}",
        answer.status(),
        answer.text().await.unwrap_or_default()
    );
}

/// `staff` at `node` confirms and rates every receipt waiting for it.
async fn confirm_all(node: &NodeProcess) {
    let (cookie, csrf) = session_of(node, "staff").await;
    let client = reqwest::Client::new();
    let mine: serde_json::Value = client
        .get(format!("{}api/v1/receipts", node.url))
        .header(reqwest::header::COOKIE, &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = mine
        .as_array()
        .or_else(|| mine["items"].as_array())
        .cloned()
        .unwrap_or_default();
    for item in items {
        if !item["confirmed_at"].is_null() {
            continue;
        }
        let receipt = &item["receipt"];
        let answer = client
            .post(format!(
                "{}api/v1/receipts/{}/{}/confirm",
                node.url,
                receipt["owner"].as_str().unwrap(),
                receipt["receipt_id"].as_str().unwrap()
            ))
            .header(reqwest::header::COOKIE, &cookie)
            .header("X-CSRF-Token", &csrf)
            .json(&serde_json::json!({ "rating": 5, "comment": "" }))
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_success(), "confirm: {}", answer.status());
    }
}

/// How many of `node`'s receipts it holds a verified proof of inclusion for.
async fn proven(node: &NodeProcess) -> u64 {
    let (cookie, _) = admin(node).await;
    let view: serde_json::Value = reqwest::Client::new()
        .get(format!("{}api/v1/manage/receipts", node.url))
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    view["log"]["proven"].as_u64().unwrap_or(0)
}

/// Every receipt in the province's log, as `owner/receipt id`, in log order.
async fn logged(province: &NodeProcess) -> Vec<String> {
    use alliance_protocol::receipt::{ReceiptSubmission, UsageReceipt};
    let client = reqwest::Client::new();
    let mut ids = Vec::new();
    let mut from = Some(0u64);
    while let Some(at) = from {
        let Ok(answer) = client
            .get(format!("{}api/v1/log/entries?from={at}", province.url))
            .send()
            .await
        else {
            return ids;
        };
        let page: serde_json::Value = answer.json().await.unwrap_or_default();
        for entry in page["entries"].as_array().cloned().unwrap_or_default() {
            let bytes = hex::decode(entry["submission"].as_str().unwrap()).unwrap();
            let submission = ReceiptSubmission::decode(&bytes).unwrap();
            let signer = UsageReceipt::claimed_signer(&submission.receipt).unwrap();
            let receipt = UsageReceipt::open(&submission.receipt, &signer).unwrap();
            ids.push(format!("{}/{}", receipt.institution_id, receipt.receipt_id));
        }
        from = page["next"].as_u64();
    }
    ids
}

/// `node`'s status (`GET /api/v1/status`); null if it does not answer.
async fn status_of(client: &reqwest::Client, node: &NodeProcess) -> serde_json::Value {
    match client
        .get(format!("{}api/v1/status", node.url))
        .send()
        .await
    {
        Ok(answer) => answer.json().await.unwrap_or_default(),
        Err(_) => serde_json::Value::Null,
    }
}

/// The institutions `node` is connected to (verified members), from its status.
async fn connected(client: &reqwest::Client, node: &NodeProcess) -> Option<Vec<String>> {
    let status: serde_json::Value = client
        .get(format!("{}api/v1/status", node.url))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    Some(
        status["members"]
            .as_array()?
            .iter()
            .filter_map(|m| m["institution_id"].as_str().map(str::to_owned))
            .collect(),
    )
}

/// Waits until `check` holds, asking again every half second, or panics naming `what`.
async fn until<F, Fut>(what: &str, within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let reached = tokio::time::timeout(within, async {
        let mut ticks = tokio::time::interval(Duration::from_millis(500));
        loop {
            ticks.tick().await;
            if check().await {
                return;
            }
        }
    })
    .await;
    assert!(reached.is_ok(), "{what}: not within {within:?}");
}

/// `action` until it succeeds (a province just started refuses until it has heard from
/// its members), or panics with its last refusal.
async fn retried<T>(what: &str, mut action: impl FnMut() -> Result<T, String>) -> T {
    let mut last = String::new();
    let done = tokio::time::timeout(DEADLINE * 2, async {
        let mut ticks = tokio::time::interval(Duration::from_millis(500));
        loop {
            ticks.tick().await;
            match action() {
                Ok(value) => return value,
                Err(e) => last = e,
            }
        }
    })
    .await;
    done.unwrap_or_else(|_| panic!("{what}: still refused: {last}"))
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
    // first four receipts only.
    alliance.province.kill();
    alliance.province.restore(&backup);
    alliance.province.start(&alliance.hosts);
    alliance.province.wait_ready().await;
    // The members see the log went back, raise the alarm, and submit what it lost
    // again: every receipt issued is in the log exactly once.
    let province = &alliance.province;
    until(
        "every receipt is logged again, once",
        DEADLINE * 3,
        || async {
            let mut ids = logged(province).await;
            let count = ids.len();
            ids.sort();
            ids.dedup();
            count == 8 && ids.len() == 8
        },
    )
    .await;
    for node in &alliance.members {
        let (cookie, _) = admin(node).await;
        let status: serde_json::Value = client
            .get(format!("{}api/v1/manage/receipts", node.url))
            .header(reqwest::header::COOKIE, cookie)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            status["log"]["alarm"]["resubmitted"], 1,
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
