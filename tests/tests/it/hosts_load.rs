//! Load across real hosts: a member that floods the province's log with reads, and a
//! thousand bookings at once over links that lose packets.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use alliance_protocol::rpc::{Hello, Request, Response};
use alliance_tests::{
    DEADLINE, hosts::NodeProcess, multihost::Alliance, node_api::*, rogue::Rogue, sample_record,
    trace,
};

/// How the province answered the flood.
#[derive(Debug, Default)]
struct Answers {
    proofs: AtomicU64,
    busy: AtomicU64,
    other: AtomicU64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_flooding_the_log_with_proof_requests_delays_no_one_elses_receipt() {
    trace();
    let alliance = Alliance::start_with(2, 1).await;
    let (dlut, neu) = (&alliance.members[0], &alliance.members[1]);
    for node in [dlut, neu] {
        alliance.add_user(node, "staff", "researcher");
        publish(node, "XPS-1", &format!("{} 能谱仪", node.name)).await;
    }
    let ids: Vec<(String, String)> = [dlut, neu]
        .iter()
        .map(|m| (format!("{}/XPS-1", m.name), format!("{} 能谱仪", m.name)))
        .collect();
    converge(&[&alliance.province], &ids, DEADLINE * 2).await;
    // A log of twenty receipts to ask proofs about.
    for n in 0..20 {
        walk_in(dlut, n).await;
    }
    confirm_all(dlut).await;
    until("dlut's receipts are logged", DEADLINE * 2, || async {
        proven(dlut).await == 20
    })
    .await;

    // The spare institution is certified; a hand-driven peer acts as it.
    retried("certify the flooder", || alliance.certify_spare(0)).await;
    let (key, certificate, _, _) = alliance.spares[0].identity();
    let (_, _, province_addr, province) = alliance.province.identity();
    let hello = Hello {
        certificate,
        roster_version: 0,
        head: Vec::new(),
    };
    let flooder =
        Arc::new(Rogue::start(&key, hello, vec![(province_addr, province)], vec![]).await);

    // 200 requests in flight at every moment, for 60 seconds.
    let answers = Arc::new(Answers::default());
    let flood_ends = Instant::now() + Duration::from_secs(60);
    let mut askers = Vec::new();
    for n in 0..200u64 {
        let (flooder, answers) = (flooder.clone(), answers.clone());
        askers.push(tokio::spawn(async move {
            let mut first = 1 + n % 19;
            while Instant::now() < flood_ends {
                let request = Request::LogConsistency { first, second: 20 };
                let counter = match flooder.ask(province, request).await {
                    Some(Response::LogConsistency(_)) => &answers.proofs,
                    Some(Response::Error(e)) if e.code == "busy" => &answers.busy,
                    _ => &answers.other,
                };
                counter.fetch_add(1, Ordering::Relaxed);
                first = 1 + (first + 7) % 19;
            }
        }));
    }

    // With the flood in full swing, neu's receipt is logged within ten seconds.
    until("the flood is in full swing", DEADLINE, || async {
        answers.proofs.load(Ordering::Relaxed) + answers.busy.load(Ordering::Relaxed) >= 1_000
    })
    .await;
    walk_in(neu, 0).await;
    let confirmed = Instant::now();
    confirm_all(neu).await;
    until(
        "neu's receipt is logged during the flood",
        Duration::from_secs(10),
        || async { proven(neu).await == 1 },
    )
    .await;
    let took = confirmed.elapsed();
    assert!(
        Instant::now() < flood_ends,
        "the flood ended before neu's receipt was logged"
    );
    for asker in askers {
        asker.await.unwrap();
    }
    let (proofs, busy, other) = (
        answers.proofs.load(Ordering::Relaxed),
        answers.busy.load(Ordering::Relaxed),
        answers.other.load(Ordering::Relaxed),
    );
    eprintln!("flood: {proofs} proofs, {busy} busy, {other} other; neu's receipt in {took:?}");
    // The flood was real: the province answered it, at its own pace.
    assert!(proofs > 0 && busy > 0, "{proofs} proofs, {busy} busy");
    Arc::into_inner(flooder).unwrap().stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_bookings_at_once_over_lossy_links_give_no_slot_twice_and_homes_agree() {
    trace();
    const USERS: usize = 4;
    const REQUESTS: usize = 1_000;
    // One client address stands for the many users of a real deployment.
    let alliance = Alliance::start_tweaked(6, 0, |config| {
        config.http.max_connections_per_address = 1_024;
    })
    .await;
    let members = &alliance.members;
    let client = reqwest::Client::new();
    let names: Vec<String> = members.iter().map(|m| m.name.clone()).collect();
    for node in members {
        for u in 0..USERS {
            alliance.add_user(node, &format!("user{u}"), "researcher");
        }
        let mut record = sample_record(&node.name, "XPS-1", &format!("{} 能谱仪", node.name));
        record.opening_hours = "每天 全天".into();
        record.service_modes = vec![alliance_protocol::ServiceMode::StaffRun];
        publish_record(node, &record).await;
    }
    let ids: Vec<(String, String)> = names
        .iter()
        .map(|n| (format!("{n}/XPS-1"), format!("{n} 能谱仪")))
        .collect();
    let everyone: Vec<&NodeProcess> = members.iter().collect();
    converge(&everyone, &ids, DEADLINE * 2).await;
    for node in members {
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
    let mut sessions: Vec<Vec<Session>> = Vec::new();
    for node in members {
        let mut at_node = Vec::new();
        for u in 0..USERS {
            let (cookie, csrf) = session_of(node, &format!("user{u}")).await;
            at_node.push(Session { cookie, csrf });
        }
        sessions.push(at_node);
    }

    // Every link drops 5 % of its packets; a thousand requests leave at once. Each asks
    // for an hour starting on one of 24 half hours tomorrow, at one of five other owners.
    for host in 0..=members.len() {
        alliance.hosts.lose(host, 5);
    }
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1))
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let mut asked = Vec::new();
    for k in 0..REQUESTS {
        let home = k % members.len();
        let owner = (home + 1 + (k / members.len()) % (members.len() - 1)) % members.len();
        let user = (k / 30) % USERS;
        let start = tomorrow.and_hms_opt(8, 0, 0).unwrap()
            + chrono::Duration::minutes(30 * ((k * 7) % 24) as i64);
        let body = serde_json::json!({
            "booking_id": format!("load-{k}"),
            "instrument_id": format!("{}/XPS-1", names[owner]),
            "start": start.format("%Y-%m-%dT%H:%M").to_string(),
            "minutes": 60,
            "mode": "staff_run",
            "samples": 1,
            "purpose": "负载测试",
        });
        let session = &sessions[home][user];
        let request = client
            .post(format!("{}api/v1/bookings", members[home].url))
            .header(reqwest::header::COOKIE, &session.cookie)
            .header("X-CSRF-Token", &session.csrf)
            .json(&body)
            .send();
        asked.push(async move {
            let Ok(answer) = request.await else {
                return "no answer".to_owned();
            };
            let status = answer.status().as_u16();
            let body: serde_json::Value = answer.json().await.unwrap_or_default();
            let code = body["error"]["code"]
                .as_str()
                .or(body["code"].as_str())
                .or(body["booking"]["status"].as_str())
                .unwrap_or_default()
                .to_owned();
            format!("{status} {code}")
        });
    }
    let statuses = futures::future::join_all(asked).await;
    let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
    for status in statuses {
        *by_status.entry(status).or_default() += 1;
    }
    eprintln!("answers: {by_status:?}");
    let answered: usize = by_status
        .iter()
        .filter(|(status, _)| status.starts_with("200"))
        .map(|(_, n)| n)
        .sum();
    // A burst past what an owner takes at once waits at the home, not dropped.
    assert!(
        answered >= REQUESTS * 9 / 10,
        "requests are answered: {by_status:?}"
    );

    // The links heal; whatever is still in flight settles. Then each home shows every
    // booking its owner holds, in the owner's state, and no owner gave a slot twice.
    for host in 0..=members.len() {
        alliance.hosts.heal_loss(host);
    }
    let owners = homes_agree_with_owners(members, &sessions, DEADLINE * 6).await;
    let confirmed = assert_no_slot_given_twice(&owners);
    eprintln!("{confirmed} bookings keep their slot");
    assert!(confirmed > 0, "no booking was confirmed");
}
