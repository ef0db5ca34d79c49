//! A soak across real hosts: a province and many members for a long while, with
//! bookings, receipts and catalogue edits going on, and the members split into two halves
//! every few minutes. Measured: resident memory and open files of every node at the
//! start and the end, bookings answered and receipts logged per second; checked: no slot
//! given twice, homes agree with owners, and every receipt issued is in the province's
//! log exactly once.
//!
//! `scripts/soak.sh` runs the long form (30 members, 30 minutes, a partition every 5
//! minutes) and docs/BENCHMARKS.md keeps its figures; the suite runs a short form.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use alliance_tests::{
    DEADLINE, hosts::NodeProcess, multihost::Alliance, node_api::*, sample_record, trace,
};
use chrono::Utc;

/// Users per member who book.
const USERS: usize = 3;

#[derive(Debug, Clone, Copy)]
struct Plan {
    members: usize,
    length: Duration,
    partition_every: Duration,
    partition_for: Duration,
}

/// Resident memory (KiB) and open files of every node, province first.
fn footprints(alliance: &Alliance) -> Vec<(String, u64, usize)> {
    std::iter::once(&alliance.province)
        .chain(&alliance.members)
        .map(|node| {
            let (rss, files) = node.footprint().unwrap_or_default();
            (node.name.clone(), rss, files)
        })
        .collect()
}

/// The member's bookable XPS-1, its name ending with `edition`.
fn instrument(member: &str, edition: &str) -> alliance_protocol::InstrumentRecord {
    let mut record = sample_record(member, "XPS-1", &format!("{member} 能谱仪{edition}"));
    record.opening_hours = "每天 全天".into();
    record.service_modes = vec![alliance_protocol::ServiceMode::StaffRun];
    record
}

fn beijing(t: chrono::DateTime<Utc>) -> String {
    t.with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

async fn soak(plan: Plan) {
    // Receipts are for uses after the members were certified.
    let certified = Utc::now() + chrono::Duration::seconds(10);
    // The network's own timers, not the tests' fast ones: what an institution runs.
    let alliance = Alliance::start_tweaked(plan.members, 0, |config| {
        config.alliance.handshake_grace = Duration::from_secs(5);
        config.network.announce_interval = Duration::from_secs(30);
        config.network.redial_interval = Duration::from_secs(15);
        config.catalogue.sync_interval = Duration::from_secs(60);
        config.booking.retry_interval = Duration::from_secs(10);
        config.http.max_connections_per_address = 1_024;
    })
    .await;
    let members = &alliance.members;
    let client = reqwest::Client::new();
    let names: Vec<String> = members.iter().map(|m| m.name.clone()).collect();
    for node in members {
        alliance.add_user(node, "staff", "researcher");
        for u in 0..USERS {
            alliance.add_user(node, &format!("user{u}"), "researcher");
        }
        publish_record(node, &instrument(&node.name, "")).await;
    }
    let ids: Vec<(String, String)> = names
        .iter()
        .map(|n| (format!("{n}/XPS-1"), format!("{n} 能谱仪")))
        .collect();
    let everyone: Vec<&NodeProcess> = members.iter().collect();
    converge(&everyone, &ids, DEADLINE * 4).await;
    let mut sessions: Vec<Vec<Session>> = Vec::new();
    for node in members {
        let mut at_node = Vec::new();
        for u in 0..USERS {
            let (cookie, csrf) = session_of(node, &format!("user{u}")).await;
            at_node.push(Session { cookie, csrf });
        }
        sessions.push(at_node);
    }
    let at_start = footprints(&alliance);

    // The load: a booking request a second, a receipt every five seconds, a catalogue
    // edit every fifteen, and the members split into two halves (the province with the
    // first) every `partition_every` for `partition_for`.
    let first: Vec<usize> = (1..=plan.members / 2).collect();
    let second: Vec<usize> = (plan.members / 2 + 1..=plan.members).collect();
    let mut with_province = vec![0];
    with_province.extend_from_slice(&first);
    let began = Instant::now();
    let mut issued = vec![0usize; plan.members];
    let mut last_use = vec![certified; plan.members];
    let mut refused_receipts = 0usize;
    let mut bookings = tokio::task::JoinSet::new();
    let mut answers: BTreeMap<String, usize> = BTreeMap::new();
    let mut split_until: Option<Instant> = None;
    let mut next_split = began + plan.partition_every;
    let mut partitions = 0;
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    let mut tick = 0usize;
    while began.elapsed() < plan.length {
        ticks.tick().await;
        tick += 1;
        let home = rand::random_range(0..plan.members);
        let owner = (home + rand::random_range(1..plan.members)) % plan.members;
        let day = rand::random_range(1..60i64);
        let half_hour = rand::random_range(16..40i64);
        let start = (Utc::now() + chrono::Duration::days(day))
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            - chrono::Duration::hours(8)
            + chrono::Duration::minutes(30 * half_hour);
        let session = sessions[home][tick % USERS].clone();
        let request = client
            .post(format!("{}api/v1/bookings", members[home].url))
            .header(reqwest::header::COOKIE, session.cookie)
            .header("X-CSRF-Token", session.csrf)
            .json(&serde_json::json!({
                "booking_id": format!("soak-{tick}"),
                "instrument_id": format!("{}/XPS-1", names[owner]),
                "start": beijing(start),
                "minutes": 60,
                "mode": "staff_run",
                "samples": 1,
                "purpose": "长稳测试",
            }))
            .send();
        bookings.spawn(async move {
            match request.await {
                Ok(answer) => {
                    let status = answer.status().as_u16();
                    let body: serde_json::Value = answer.json().await.unwrap_or_default();
                    let what = body["booking"]["status"]
                        .as_str()
                        .or(body["error"]["field"].as_str())
                        .or(body["error"]["code"].as_str())
                        .unwrap_or_default()
                        .to_owned();
                    format!("{status} {what}")
                }
                Err(_) => "no answer".to_owned(),
            }
        });
        while let Some(done) = bookings.try_join_next() {
            *answers.entry(done.unwrap_or_default()).or_default() += 1;
        }
        if tick.is_multiple_of(5) {
            // A minute's use that ended as this minute began, after the member's last.
            let n = (tick / 5) % plan.members;
            let now = Utc::now();
            let at = now - chrono::Duration::seconds(60 + now.timestamp() % 60);
            if at >= last_use[n] {
                match walk_in_at(&members[n], at).await {
                    Ok(()) => {
                        issued[n] += 1;
                        last_use[n] = at + chrono::Duration::minutes(1);
                        confirm_all(&members[n]).await;
                    }
                    Err(_) => refused_receipts += 1,
                }
            }
        }
        if tick.is_multiple_of(15) {
            let n = (tick / 15) % plan.members;
            let edition = format!(" 第{tick}版");
            publish_record(&members[n], &instrument(&names[n], &edition)).await;
        }
        if split_until.is_none() && Instant::now() >= next_split {
            alliance.hosts.partition(&with_province, &second);
            split_until = Some(Instant::now() + plan.partition_for);
            next_split += plan.partition_every;
            partitions += 1;
        }
        if split_until.is_some_and(|until| Instant::now() >= until) {
            alliance.hosts.heal_partition(&with_province, &second);
            split_until = None;
        }
    }
    if split_until.is_some() {
        alliance.hosts.heal_partition(&with_province, &second);
    }
    while let Some(done) = bookings.join_next().await {
        *answers.entry(done.unwrap_or_default()).or_default() += 1;
    }
    let ran = began.elapsed();
    let at_end = footprints(&alliance);

    // Settled: every receipt issued is logged once, no slot was given twice, and every
    // home shows what its owners hold.
    for (n, node) in members.iter().enumerate() {
        let want = issued[n] as u64;
        until(
            &format!("{}'s {want} receipts are logged", node.name),
            DEADLINE * 6,
            || async { proven(node).await == want },
        )
        .await;
    }
    let mut logged_ids = logged(&alliance.province).await;
    let total: usize = issued.iter().sum();
    let count = logged_ids.len();
    logged_ids.sort();
    logged_ids.dedup();
    assert_eq!(
        (count, logged_ids.len()),
        (total, total),
        "receipts in the log, distinct ones, issued"
    );
    let owners = homes_agree_with_owners(members, &sessions, DEADLINE * 6).await;
    let kept = assert_no_slot_given_twice(&owners);

    // The report: what docs/BENCHMARKS.md records.
    let requested: usize = answers.values().sum();
    let secs = ran.as_secs_f64();
    eprintln!(
        "soak: {} members, {:.0} s, {partitions} partitions",
        plan.members, secs
    );
    eprintln!(
        "soak: {requested} booking requests ({:.2}/s), {kept} keep a slot, answers {answers:?}",
        requested as f64 / secs
    );
    eprintln!(
        "soak: {total} receipts logged ({:.2}/s), {refused_receipts} walk-ins refused, 0 lost, 0 overlaps",
        total as f64 / secs
    );
    eprintln!("soak: node, RSS KiB start → end, open files start → end");
    for ((name, rss0, files0), (_, rss1, files1)) in at_start.iter().zip(&at_end) {
        eprintln!("soak: {name} {rss0} → {rss1}, {files0} → {files1}");
    }
    let sum = |f: &[(String, u64, usize)]| f.iter().map(|(_, r, _)| r).sum::<u64>();
    eprintln!(
        "soak: all nodes RSS {} MiB → {} MiB",
        sum(&at_start) / 1024,
        sum(&at_end) / 1024
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_soak_loses_nothing_and_gives_no_slot_twice() {
    trace();
    soak(Plan {
        members: 6,
        length: Duration::from_secs(150),
        partition_every: Duration::from_secs(30),
        partition_for: Duration::from_secs(15),
    })
    .await;
}

/// The long form: `SOAK_MEMBERS` members (30) for `SOAK_MINUTES` minutes (30), split
/// every 5 minutes for a minute. Run by `scripts/soak.sh`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "takes half an hour; scripts/soak.sh runs it"]
async fn soak_for_half_an_hour() {
    trace();
    let number = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    soak(Plan {
        members: number("SOAK_MEMBERS", 30) as usize,
        length: Duration::from_secs(60 * number("SOAK_MINUTES", 30)),
        partition_every: Duration::from_secs(300),
        partition_for: Duration::from_secs(60),
    })
    .await;
}
