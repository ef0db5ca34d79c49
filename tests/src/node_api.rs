//! What the multi-host scenarios do through a node's HTTP API, as a user or an
//! administrator would: sign in, publish, record sessions, confirm receipts, read status
//! and the province's log; and waits that ask again until something holds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{collections::BTreeMap, time::Duration};

use crate::{DEADLINE, PASSWORD, hosts::NodeProcess, sample_record};

/// The node's administrator's session: its `Cookie` header and CSRF token. (A node on
/// a non-loopback address marks its cookie `Secure`, which a client keeping cookies
/// would not send back over plain HTTP; the harness has no TLS, so it sends it itself.)
pub async fn admin(node: &NodeProcess) -> (String, String) {
    session_of(node, "admin").await
}

/// `GET` of one of `node`'s JSON answers under a session's `Cookie` header: `None` if
/// the node did not answer with JSON (it may be down, when a scenario wants it so).
pub async fn get_json(node: &NodeProcess, path: &str, cookie: &str) -> Option<serde_json::Value> {
    reqwest::Client::new()
        .get(format!("{}{path}", node.url))
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()
}

/// `username`'s session at `node`: its `Cookie` header and CSRF token.
pub async fn session_of(node: &NodeProcess, username: &str) -> (String, String) {
    let answer = reqwest::Client::new()
        .post(format!("{}api/v1/session", node.url))
        .json(&serde_json::json!({ "username": username, "password": PASSWORD }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("signing in at {}: {e}\n{}", node.name, node.log_tail()));
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
pub async fn publish(node: &NodeProcess, local_id: &str, name_zh: &str) {
    let mut record = sample_record(&node.name, local_id, name_zh);
    record.opening_hours = "每天 全天".into();
    publish_record(node, &record).await;
}

/// Publishes (or revises) `record` at its owner `node`, through the API.
pub async fn publish_record(node: &NodeProcess, record: &alliance_protocol::InstrumentRecord) {
    let (cookie, csrf) = admin(node).await;
    let local_id = &record.local_id;
    let input = alliance_web::instrument_input::InstrumentInput::from_record(record);
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
pub async fn name_at(client: &reqwest::Client, node: &NodeProcess, id: &str) -> Option<String> {
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
pub async fn converge(nodes: &[&NodeProcess], expected: &[(String, String)], within: Duration) {
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

/// Records walk-in session `n` (one minute, `n` × 2 minutes after 50 minutes ago) of one
/// of `node`'s own staff on its XPS-1, through the API: the owner issues its receipt.
pub async fn walk_in(node: &NodeProcess, n: i64) {
    let start = chrono::Utc::now() + chrono::Duration::minutes(-50 + 2 * n);
    if let Err(e) = walk_in_at(node, start).await {
        panic!("walk-in at {}: {e}", node.name);
    }
}

/// Records a one-minute walk-in session from `start` of one of `node`'s own staff on its
/// XPS-1, through the API: `Err` with the node's answer if it refused.
pub async fn walk_in_at(
    node: &NodeProcess,
    start: chrono::DateTime<chrono::Utc>,
) -> Result<(), String> {
    let (cookie, csrf) = admin(node).await;
    let minute = |offset: i64| {
        (start + chrono::Duration::minutes(offset))
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
                "start": minute(0),
                "end": minute(1),
                "preparation_minutes": 0,
                "test_minutes": 1,
                "post_processing_minutes": 0,
                "samples": 1,
                "note": "",
            },
        }))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if answer.status().is_success() {
        Ok(())
    } else {
        Err(format!(
            "{}: {}",
            answer.status(),
            answer.text().await.unwrap_or_default()
        ))
    }
}

/// `staff` at `node` confirms and rates every receipt waiting for it.
pub async fn confirm_all(node: &NodeProcess) {
    for answer in rate_waiting_receipts(node).await {
        let status = answer.unwrap_or_else(|e| panic!("confirm at {}: {e}", node.name));
        assert!(status.is_success(), "confirm: {status}");
    }
}

/// `staff` at `node` rates every receipt waiting for it 5 stars: each answer's status,
/// or why none came (the node may die first, when a test wants it to).
pub async fn rate_waiting_receipts(
    node: &NodeProcess,
) -> Vec<Result<reqwest::StatusCode, reqwest::Error>> {
    let (cookie, csrf) = session_of(node, "staff").await;
    let client = reqwest::Client::new();
    // The receipts come a page at a time (100 at most).
    let mut items = Vec::new();
    loop {
        let page = get_json(
            node,
            &format!("api/v1/receipts?limit=100&offset={}", items.len()),
            &cookie,
        )
        .await
        .expect("the user's receipts");
        let page = page.as_array().cloned().unwrap_or_default();
        if page.is_empty() {
            break;
        }
        items.extend(page);
    }
    let mut answers = Vec::new();
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
            .await;
        answers.push(answer.map(|a| a.status()));
    }
    answers
}

/// How many of `node`'s receipts it holds a verified proof of inclusion for.
pub async fn proven(node: &NodeProcess) -> u64 {
    let (cookie, _) = admin(node).await;
    let view = get_json(node, "api/v1/manage/receipts", &cookie)
        .await
        .expect("the issued receipts");
    view["log"]["proven"].as_u64().unwrap_or(0)
}

/// Every receipt in the province's log, as `owner/receipt id`, in log order.
pub async fn logged(province: &NodeProcess) -> Vec<String> {
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
pub async fn status_of(client: &reqwest::Client, node: &NodeProcess) -> serde_json::Value {
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
pub async fn connected(client: &reqwest::Client, node: &NodeProcess) -> Option<Vec<String>> {
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
pub async fn until<F, Fut>(what: &str, within: Duration, mut check: F)
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
pub async fn retried<T>(what: &str, mut action: impl FnMut() -> Result<T, String>) -> T {
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

/// A signed-in user at a node: its cookie and CSRF token.
#[derive(Debug, Clone)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

/// Every booking `node`'s users made, as `(owner, booking id) → state`, from each user's
/// own list.
pub async fn homes_view(
    node: &NodeProcess,
    sessions: &[Session],
) -> BTreeMap<(String, String), String> {
    let mut seen = BTreeMap::new();
    for session in sessions {
        let list = get_json(node, "api/v1/bookings", &session.cookie)
            .await
            .expect("a user's bookings");
        for booking in list.as_array().unwrap() {
            let owner = booking["instrument_id"].as_str().unwrap();
            let owner = owner.split('/').next().unwrap().to_owned();
            seen.insert(
                (owner, booking["booking_id"].as_str().unwrap().to_owned()),
                booking["status"].as_str().unwrap().to_owned(),
            );
        }
    }
    seen
}

/// Every booking of `node`'s instruments: `(home, booking id) → (state, start, end)`.
pub async fn owners_view(node: &NodeProcess) -> BTreeMap<(String, String), (String, i64, i64)> {
    let (cookie, _) = admin(node).await;
    let list = get_json(node, "api/v1/manage/bookings", &cookie)
        .await
        .expect("the owner's bookings");
    list.as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                (
                    b["home"].as_str().unwrap().to_owned(),
                    b["booking_id"].as_str().unwrap().to_owned(),
                ),
                (
                    b["status"].as_str().unwrap().to_owned(),
                    b["start"].as_i64().unwrap(),
                    b["end"].as_i64().unwrap(),
                ),
            )
        })
        .collect()
}

/// Where homes and owners disagree: each booking a home shows that its owner shows in
/// another state or not at all, and each the owner shows that the home does not.
pub fn disagreements(
    homes: &BTreeMap<String, BTreeMap<(String, String), String>>,
    owners: &OwnersView,
) -> Vec<String> {
    let mut found = Vec::new();
    for (home, bookings) in homes {
        for ((owner, id), state) in bookings {
            let at_owner = owners[owner].get(&(home.clone(), id.clone()));
            if at_owner.map(|(s, _, _)| s) != Some(state) {
                found.push(format!(
                    "{home} shows {owner}/{id} {state}, {owner} {at_owner:?}"
                ));
            }
        }
    }
    for (owner, bookings) in owners {
        for ((home, id), (state, _, _)) in bookings {
            if !homes[home].contains_key(&(owner.clone(), id.clone())) {
                found.push(format!(
                    "{owner} holds {home}/{id} {state}; {home} forgot it"
                ));
            }
        }
    }
    found
}

/// What each owner holds: owner → (home, booking id) → (state, start, end).
pub type OwnersView = BTreeMap<String, BTreeMap<(String, String), (String, i64, i64)>>;

/// Waits until every home in `members` shows each booking its owners hold in the owner's
/// state (`sessions[n]`: the users of member `n`), or panics with the differences; returns
/// what the owners hold.
pub async fn homes_agree_with_owners(
    members: &[NodeProcess],
    sessions: &[Vec<Session>],
    within: Duration,
) -> OwnersView {
    let mut last = Vec::new();
    let settled = tokio::time::timeout(within, async {
        let mut ticks = tokio::time::interval(Duration::from_secs(2));
        loop {
            ticks.tick().await;
            let mut homes = BTreeMap::new();
            let mut owners = BTreeMap::new();
            for (n, node) in members.iter().enumerate() {
                homes.insert(node.name.clone(), homes_view(node, &sessions[n]).await);
                owners.insert(node.name.clone(), owners_view(node).await);
            }
            last = disagreements(&homes, &owners);
            if last.is_empty() {
                return owners;
            }
        }
    })
    .await;
    settled.unwrap_or_else(|_| {
        panic!(
            "homes and owners still disagree on {}:\n{}",
            last.len(),
            last.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
        )
    })
}

/// Panics if an owner gave a slot twice; returns how many bookings keep a slot.
pub fn assert_no_slot_given_twice(owners: &OwnersView) -> usize {
    let mut kept = 0;
    for (owner, bookings) in owners {
        let mut taken: Vec<(i64, i64, &String)> = bookings
            .iter()
            .filter(|(_, (state, _, _))| matches!(state.as_str(), "held" | "confirmed" | "in_use"))
            .map(|((_, id), (_, start, end))| (*start, *end, id))
            .collect();
        taken.sort();
        kept += taken.len();
        for pair in taken.windows(2) {
            assert!(
                pair[0].1 <= pair[1].0,
                "{owner} gave overlapping slots to {} and {}",
                pair[0].2,
                pair[1].2
            );
        }
    }
    kept
}
