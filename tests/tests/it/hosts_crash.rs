//! Crashes between writes, across real hosts: a member is killed at each crash hook
//! (node/src/crash_hook.rs) and restarted; afterwards the booking and receipt states
//! agree on both sides, and no rating is lost.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use alliance_node::crash_hook::{
    OWN_CONFIRMATION_WRITTEN, RECEIPT_ISSUED, RECEIPT_ISSUING, REQUEST_STORED,
};
use alliance_tests::{
    DEADLINE, hosts::NodeProcess, multihost::Alliance, node_api::*, sample_record, trace,
};
use chrono::{DateTime, Utc};

/// Beijing time as the API takes it.
fn beijing(t: DateTime<Utc>) -> String {
    t.with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

/// Lets `local_id` at `node` be booked from any minute on, through the rules form.
async fn book_by_the_minute(node: &NodeProcess, local_id: &str) {
    let (cookie, csrf) = admin(node).await;
    let mut form: Vec<(&str, &str)> = vec![
        ("csrf", &csrf),
        ("min_lead_minutes", "0"),
        ("max_duration_minutes", "480"),
        ("granularity_minutes", "1"),
        ("cancel_deadline_hours", "24"),
        ("hold_hours", "48"),
        ("horizon_days", "90"),
        ("max_active_per_user", "40"),
        ("max_active_per_home", "40"),
        ("max_holds_per_home", "10"),
        ("late_cancel_hours", "48"),
        ("strikes_before_approval", "3"),
        ("strike_period_days", "90"),
        ("approval_tiers", "outside_academic"),
        ("approval_tiers", "enterprise"),
    ];
    form.push(("new_kind", "maintenance"));
    let answer = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}manage/instruments/{local_id}/rules", node.url))
        .header(reqwest::header::COOKIE, cookie)
        .header(reqwest::header::ORIGIN, node.url.trim_end_matches('/'))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert!(
        answer.status().is_redirection(),
        "rules not saved: {}",
        answer.status()
    );
}

/// `user0` at `home` books half an hour of `instrument` from `start`: the answer's state.
async fn book(home: &NodeProcess, instrument: &str, id: &str, start: DateTime<Utc>) -> String {
    let (cookie, csrf) = session_of(home, "user0").await;
    let answer = reqwest::Client::new()
        .post(format!("{}api/v1/bookings", home.url))
        .header(reqwest::header::COOKIE, cookie)
        .header("X-CSRF-Token", csrf)
        .json(&serde_json::json!({
            "booking_id": id,
            "instrument_id": instrument,
            "start": beijing(start),
            "minutes": 30,
            "mode": "staff_run",
            "samples": 1,
            "purpose": "崩溃测试",
        }))
        .send()
        .await;
    match answer {
        Ok(answer) => {
            let body: serde_json::Value = answer.json().await.unwrap_or_default();
            body["booking"]["status"]
                .as_str()
                .map_or_else(|| format!("no answer: {body}"), str::to_owned)
        }
        Err(_) => "no answer".into(),
    }
}

/// The owner's manager completes booking `id` of `home` (a minute from `start`).
async fn complete(owner: &NodeProcess, home: &str, id: &str, start: DateTime<Utc>) {
    let (cookie, csrf) = admin(owner).await;
    // The node may die before it answers: that is the point. An answer that refuses
    // says why it did not.
    let answer = reqwest::Client::new()
        .post(format!(
            "{}api/v1/manage/bookings/{home}/{id}/complete",
            owner.url
        ))
        .header(reqwest::header::COOKIE, cookie)
        .header("X-CSRF-Token", csrf)
        .json(&serde_json::json!({
            "start": beijing(start),
            "end": beijing(start + chrono::Duration::minutes(1)),
            "preparation_minutes": 0,
            "test_minutes": 1,
            "post_processing_minutes": 0,
            "samples": 1,
            "note": "",
        }))
        .send()
        .await;
    if let Ok(answer) = answer
        && !answer.status().is_success()
    {
        let status = answer.status();
        panic!(
            "completing {id} was refused: {status} {}",
            answer.text().await.unwrap_or_default()
        );
    }
}

/// The state `node` shows for booking `id`: at its owner's desk if `as_owner`, else in
/// `user0`'s list.
async fn state_of(node: &NodeProcess, id: &str, as_owner: bool) -> Option<String> {
    let (path, cookie) = if as_owner {
        ("api/v1/manage/bookings", admin(node).await.0)
    } else {
        ("api/v1/bookings", session_of(node, "user0").await.0)
    };
    let list = get_json(node, path, &cookie).await?;
    list.as_array()?
        .iter()
        .find(|b| b["booking_id"] == id)
        .and_then(|b| b["status"].as_str())
        .map(str::to_owned)
}

/// Whether `user0` at `home` holds the receipt of booking `id`.
async fn home_has_receipt(home: &NodeProcess, id: &str) -> bool {
    let (cookie, _) = session_of(home, "user0").await;
    let list = get_json(home, "api/v1/receipts", &cookie)
        .await
        .unwrap_or_default();
    list.as_array()
        .is_some_and(|l| l.iter().any(|r| r["receipt"]["booking_id"] == id))
}

/// Waits until owner and home show booking `id` in the same state, and the home holds
/// its receipt exactly when the booking is completed; returns that state.
async fn settled(owner: &NodeProcess, home: &NodeProcess, id: &str) -> String {
    let mut seen = (None, None, false);
    let agreed = tokio::time::timeout(DEADLINE * 2, async {
        let mut ticks = tokio::time::interval(Duration::from_millis(500));
        loop {
            ticks.tick().await;
            let at_owner = state_of(owner, id, true).await;
            let at_home = state_of(home, id, false).await;
            let receipt = home_has_receipt(home, id).await;
            let agree = at_owner.is_some()
                && at_owner == at_home
                && receipt == (at_owner.as_deref() == Some("completed"));
            seen = (at_owner.clone(), at_home, receipt);
            if agree {
                return at_owner.unwrap_or_default();
            }
        }
    })
    .await;
    agreed.unwrap_or_else(|_| {
        panic!(
            "{id}: owner shows {:?}, home {:?}, home holds a receipt: {}",
            seen.0, seen.1, seen.2
        )
    })
}

/// Restarts member `member` set to die at `hook`.
async fn arm(alliance: &mut Alliance, member: usize, hook: &str) {
    let node = &mut alliance.members[member];
    node.kill();
    node.start_with_env(&alliance.hosts, &[("ALLIANCE_CRASH_AT", hook)]);
    node.wait_ready().await;
}

/// Waits until member `member` died at `hook`, and starts it again.
async fn restart_after(alliance: &mut Alliance, member: usize, hook: &str) {
    let node = &mut alliance.members[member];
    node.wait_exit().await;
    assert!(
        node.log().contains(&format!("crash hook {hook}")),
        "{} died, but not at {hook}",
        node.name
    );
    node.start(&alliance.hosts);
    node.wait_ready().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_killed_at_each_crash_hook_agrees_with_its_peer_after_restart() {
    trace();
    let mut alliance = Alliance::start(2).await;
    let client = reqwest::Client::new();
    {
        let (owner, home) = (&alliance.members[0], &alliance.members[1]);
        alliance.add_user(owner, "staff", "researcher");
        alliance.add_user(home, "user0", "researcher");
        let mut shown = Vec::new();
        for local_id in ["XPS-1", "XPS-2"] {
            let mut record = sample_record(&owner.name, local_id, "能谱仪");
            record.opening_hours = "每天 全天".into();
            record.service_modes = vec![alliance_protocol::ServiceMode::StaffRun];
            publish_record(owner, &record).await;
            book_by_the_minute(owner, local_id).await;
            shown.push((format!("{}/{local_id}", owner.name), "能谱仪".to_owned()));
        }
        converge(&[home], &shown, DEADLINE * 2).await;
        until("the members meet", DEADLINE * 2, || async {
            connected(&client, home)
                .await
                .is_some_and(|c| c.contains(&owner.name))
        })
        .await;
    }
    let owner_name = alliance.members[0].name.clone();
    let home_name = alliance.members[1].name.clone();

    // Two bookings of the two instruments from the next minute, confirmed at once.
    let now = Utc::now();
    let next_minute = now + chrono::Duration::seconds(60 - now.timestamp() % 60);
    let starts = [next_minute, next_minute];
    for (n, local_id) in ["XPS-1", "XPS-2"].iter().enumerate() {
        let instrument = format!("{owner_name}/{local_id}");
        let state = book(
            &alliance.members[1],
            &instrument,
            &format!("crash-{n}"),
            starts[n],
        )
        .await;
        assert_eq!(state, "confirmed");
    }
    until(
        "the sessions have begun",
        Duration::from_secs(90),
        || async { Utc::now() > next_minute + chrono::Duration::seconds(2) },
    )
    .await;

    // Killed as the completion and its receipt are about to be written: neither is.
    arm(&mut alliance, 0, RECEIPT_ISSUING).await;
    complete(&alliance.members[0], &home_name, "crash-0", starts[0]).await;
    restart_after(&mut alliance, 0, RECEIPT_ISSUING).await;
    let (owner, home) = (&alliance.members[0], &alliance.members[1]);
    assert_eq!(settled(owner, home, "crash-0").await, "confirmed");
    complete(owner, &home_name, "crash-0", starts[0]).await;
    assert_eq!(settled(owner, home, "crash-0").await, "completed");

    // Killed once both are written, before the home was told: it hears after restart.
    arm(&mut alliance, 0, RECEIPT_ISSUED).await;
    complete(&alliance.members[0], &home_name, "crash-1", starts[1]).await;
    restart_after(&mut alliance, 0, RECEIPT_ISSUED).await;
    let (owner, home) = (&alliance.members[0], &alliance.members[1]);
    assert_eq!(settled(owner, home, "crash-1").await, "completed");

    // The home killed between storing a request and sending it: after restart it asks
    // again, and both sides show the owner's answer.
    let later = next_minute + chrono::Duration::hours(2);
    arm(&mut alliance, 1, REQUEST_STORED).await;
    until(
        "the restarted home meets the owner",
        DEADLINE * 2,
        || async {
            connected(&client, &alliance.members[1])
                .await
                .is_some_and(|c| c.contains(&owner_name))
        },
    )
    .await;
    assert_eq!(
        book(
            &alliance.members[1],
            &format!("{owner_name}/XPS-1"),
            "crash-2",
            later
        )
        .await,
        "no answer"
    );
    restart_after(&mut alliance, 1, REQUEST_STORED).await;
    let (owner, home) = (&alliance.members[0], &alliance.members[1]);
    assert_eq!(settled(owner, home, "crash-2").await, "confirmed");

    // The owner's own user rates a receipt and the node dies right after: the rating
    // is there after restart.
    walk_in(&alliance.members[0], 0).await;
    arm(&mut alliance, 0, OWN_CONFIRMATION_WRITTEN).await;
    rate_waiting_receipts(&alliance.members[0]).await;
    restart_after(&mut alliance, 0, OWN_CONFIRMATION_WRITTEN).await;
    let owner = &alliance.members[0];
    let (cookie, _) = session_of(owner, "staff").await;
    let mine = get_json(owner, "api/v1/receipts", &cookie)
        .await
        .expect("the staff's receipts");
    let ratings: Vec<&serde_json::Value> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["rating"])
        .collect();
    assert_eq!(ratings, [&serde_json::json!(5)], "{mine}");
}
